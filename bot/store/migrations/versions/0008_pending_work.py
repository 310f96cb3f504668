"""Pending Slack work: the opening steps and messages an incident still owes Slack.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pending_work",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("leased_until", UtcDateTime, nullable=True),
        sa.Column("done_at", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_pending_work")),
        sa.UniqueConstraint("key", name=op.f("uq_pending_work_key")),
    )
    op.create_index("ix_pending_work_due_at", "pending_work", ["due_at"])
    op.create_index(
        "ix_pending_work_incident_id_done_at", "pending_work", ["incident_id", "done_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_pending_work_incident_id_done_at", table_name="pending_work")
    op.drop_index("ix_pending_work_due_at", table_name="pending_work")
    op.drop_table("pending_work")
