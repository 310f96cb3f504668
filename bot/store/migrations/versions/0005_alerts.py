"""Alerts, their grouping into incidents, the storm summary messages, automatic-action marks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("service", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("starts_at", UtcDateTime, nullable=True),
        sa.Column("first_seen", UtcDateTime, nullable=False),
        sa.Column("last_seen", UtcDateTime, nullable=False),
        sa.Column("resolved_at", UtcDateTime, nullable=True),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.Column("firing_streak", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("threshold", sa.Text(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("source", "fingerprint", name="pk_alerts"),
    )
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id"])
    op.create_table(
        "alert_groups",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.String(), nullable=True),
        sa.Column("last_alert_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_alert_groups"),
    )
    op.create_table(
        "alert_summaries",
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("stale_since", UtcDateTime, nullable=True),
        sa.Column("all_resolved_told", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name="pk_alert_summaries"),
    )
    op.create_index("ix_alert_summaries_stale_since", "alert_summaries", ["stale_since"])
    op.create_table(
        "auto_action_marks",
        sa.Column("service", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("last_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("service", "target", name="pk_auto_action_marks"),
    )


def downgrade() -> None:
    op.drop_table("auto_action_marks")
    op.drop_index("ix_alert_summaries_stale_since", table_name="alert_summaries")
    op.drop_table("alert_summaries")
    op.drop_table("alert_groups")
    op.drop_index("ix_alerts_incident_id", table_name="alerts")
    op.drop_table("alerts")
