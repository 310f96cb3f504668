"""Action requests: rollbacks and flag flips on their way through approval to a driver.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "action_requests",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("service", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("moves", sa.JSON(), nullable=False),
        sa.Column("risk", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", UtcDateTime, nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("verification", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_action_requests"),
    )
    op.create_index(
        "ix_action_requests_incident_id", "action_requests", ["incident_id"], unique=False
    )
    op.create_index(
        "ix_action_requests_status_expires_at", "action_requests", ["status", "expires_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_action_requests_status_expires_at", table_name="action_requests")
    op.drop_index("ix_action_requests_incident_id", table_name="action_requests")
    op.drop_table("action_requests")
