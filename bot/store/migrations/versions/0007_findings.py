"""Pinned messages, failed examples and follow-ups: what responders keep for the post-mortem.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pins",
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("message_ts", sa.String(), nullable=False),
        sa.Column("pinned_by", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("pinned_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "message_ts", "pinned_by", name=op.f("pk_pins")),
    )
    op.create_table(
        "failed_examples",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("added_at", UtcDateTime, nullable=False),
        sa.Column("example_set", sa.String(), nullable=True),
        sa.Column("sorted_by", sa.String(), nullable=True),
        sa.Column("sorted_at", UtcDateTime, nullable=True),
        sa.Column("card_ts", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_examples")),
        sa.UniqueConstraint("incident_id", "number", name=op.f("uq_failed_examples_incident_id")),
    )
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("added_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("incident_id", "number", name=op.f("uq_follow_ups_incident_id")),
    )


def downgrade() -> None:
    op.drop_table("follow_ups")
    op.drop_table("failed_examples")
    op.drop_table("pins")
