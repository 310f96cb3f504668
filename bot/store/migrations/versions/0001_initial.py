"""Initial schema: incidents, checklist steps, triage answers, timeline, reminders,
idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The models' UtcDateTime, as the database sees it; migrations never import app types.
UtcDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("service", sa.String(), nullable=True),
        sa.Column("opened_by", sa.String(), nullable=False),
        sa.Column("commander", sa.String(), nullable=False),
        sa.Column("opened_at", UtcDateTime, nullable=False),
        sa.Column("resolved_at", UtcDateTime, nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("runbook_key", sa.String(), nullable=True),
        sa.Column("runbook_version", sa.String(), nullable=True),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("channel_name", sa.String(), nullable=True),
        sa.Column("header_ts", sa.String(), nullable=True),
        sa.Column("questions_ts", sa.String(), nullable=True),
        sa.Column("checklist_ts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("channel_id", name="uq_incidents_channel_id"),
    )
    op.create_table(
        "checklist_steps",
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("section", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("action", sa.String(), nullable=True),
        sa.Column("checked_by", sa.String(), nullable=True),
        sa.Column("checked_at", UtcDateTime, nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_checklist_steps_incident_id_incidents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "position", name="pk_checklist_steps"),
    )
    op.create_table(
        "triage_answers",
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("failure_layer", sa.String(), nullable=False),
        sa.Column("recent_change_choice", sa.String(), nullable=False),
        sa.Column("recent_change_detail", sa.Text(), nullable=False),
        sa.Column("rollback_available_choice", sa.String(), nullable=False),
        sa.Column("rollback_available_detail", sa.Text(), nullable=False),
        sa.Column("human_review_needed_choice", sa.String(), nullable=False),
        sa.Column("human_review_needed_detail", sa.Text(), nullable=False),
        sa.Column("examples_destination", sa.String(), nullable=False),
        sa.Column("answered_by", sa.String(), nullable=False),
        sa.Column("answered_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_triage_answers_incident_id_incidents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", name="pk_triage_answers"),
    )
    op.create_table(
        "timeline_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_timeline_events"),
    )
    op.create_index("ix_timeline_events_incident_id_at", "timeline_events", ["incident_id", "at"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("fired_at", UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
    )
    op.create_index("ix_reminders_due_at", "reminders", ["due_at"])
    op.create_index("ix_reminders_incident_id", "reminders", ["incident_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_reminders_incident_id", table_name="reminders")
    op.drop_index("ix_reminders_due_at", table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("ix_timeline_events_incident_id_at", table_name="timeline_events")
    op.drop_table("timeline_events")
    op.drop_table("triage_answers")
    op.drop_table("checklist_steps")
    op.drop_table("incidents")
