"""The registry: changes, known-good versions, flag states.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("service", sa.String(), nullable=False),
        sa.Column("component", sa.String(), nullable=False),
        sa.Column("from_version", sa.String(), nullable=True),
        sa.Column("to_version", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("eval_score", sa.Double(), nullable=True),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
    )
    op.create_index("ix_changes_service_component_at", "changes", ["service", "component", "at"])
    op.create_table(
        "known_good",
        sa.Column("service", sa.String(), nullable=False),
        sa.Column("component", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("marked_by", sa.String(), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("service", "component", "version", name="pk_known_good"),
    )
    op.create_table(
        "flag_states",
        sa.Column("service", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("service", "name", name="pk_flag_states"),
    )


def downgrade() -> None:
    op.drop_table("flag_states")
    op.drop_table("known_good")
    op.drop_index("ix_changes_service_component_at", table_name="changes")
    op.drop_table("changes")
