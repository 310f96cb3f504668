"""The ORM tables. Rows never leave bot/store: the repositories translate them to domain objects.

Enum-valued fields are stored as their string values, so adding a kind or an event type needs no
migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out on every backend. SQLite keeps no offset, so it stores naive UTC
    text, which also sorts and compares correctly there."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads it as a class attribute
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[dict[str, Any]]: JSON(),
    }


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str]
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str]
    status: Mapped[str]
    service: Mapped[str | None]
    opened_by: Mapped[str]
    commander: Mapped[str]
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    summary: Mapped[str | None] = mapped_column(Text)
    runbook_key: Mapped[str | None]
    runbook_version: Mapped[str | None]
    channel_id: Mapped[str | None] = mapped_column(unique=True)
    channel_name: Mapped[str | None]
    header_ts: Mapped[str | None]
    questions_ts: Mapped[str | None]
    checklist_ts: Mapped[list[str]]


class ChecklistStepRow(Base):
    __tablename__ = "checklist_steps"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    section: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    action: Mapped[str | None]
    checked_by: Mapped[str | None]
    checked_at: Mapped[datetime | None]


class TriageAnswersRow(Base):
    __tablename__ = "triage_answers"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    failure_layer: Mapped[str]
    recent_change_choice: Mapped[str]
    recent_change_detail: Mapped[str] = mapped_column(Text)
    rollback_available_choice: Mapped[str]
    rollback_available_detail: Mapped[str] = mapped_column(Text)
    human_review_needed_choice: Mapped[str]
    human_review_needed_detail: Mapped[str] = mapped_column(Text)
    examples_destination: Mapped[str]
    answered_by: Mapped[str]
    answered_at: Mapped[datetime]


class TimelineEventRow(Base):
    __tablename__ = "timeline_events"
    # Serves for_incident: one incident's events in the order they happened.
    __table_args__ = (Index("ix_timeline_events_incident_id_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_id: Mapped[str]
    at: Mapped[datetime]
    type: Mapped[str]
    actor: Mapped[str]
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]


class ReminderRow(Base):
    __tablename__ = "reminders"

    id: Mapped[str] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(index=True)
    kind: Mapped[str]
    due_at: Mapped[datetime] = mapped_column(index=True)
    fired_at: Mapped[datetime | None]


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime]


class ChangeRow(Base):
    __tablename__ = "changes"
    # Serves "what changed last" per service and component, newest first.
    __table_args__ = (Index("ix_changes_service_component_at", "service", "component", "at"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    service: Mapped[str]
    component: Mapped[str]
    from_version: Mapped[str | None]
    to_version: Mapped[str]
    actor: Mapped[str]
    at: Mapped[datetime]
    source: Mapped[str | None] = mapped_column(Text)
    eval_score: Mapped[float | None]
    recorded_at: Mapped[datetime]


class KnownGoodRow(Base):
    __tablename__ = "known_good"

    service: Mapped[str] = mapped_column(primary_key=True)
    component: Mapped[str] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(primary_key=True)
    marked_by: Mapped[str]
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class FlagStateRow(Base):
    __tablename__ = "flag_states"

    service: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str]
    value: Mapped[int]  # a boolean is stored as 0/1, a percentage as 0-100
    updated_by: Mapped[str | None]
    updated_at: Mapped[datetime | None]


class ActionRequestRow(Base):
    __tablename__ = "action_requests"
    # Serves the expiry job: pending requests by expiry time.
    __table_args__ = (Index("ix_action_requests_status_expires_at", "status", "expires_at"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(index=True)
    channel_id: Mapped[str]
    service: Mapped[str]
    kind: Mapped[str]
    moves: Mapped[list[dict[str, Any]]]
    risk: Mapped[str]
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str]
    requested_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Every change of status is `UPDATE … WHERE status IN (…)`: the database lets one win.
    status: Mapped[str]
    decided_by: Mapped[str | None]
    decided_at: Mapped[datetime | None]
    message_ts: Mapped[str | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int]
    verification: Mapped[str | None] = mapped_column(Text)
    applying_since: Mapped[datetime | None]  # a request stuck applying after this is cut off


class RegisteredServiceRow(Base):
    """A service registered over the API; those in steadyhand.yml are never stored."""

    __tablename__ = "registered_services"

    name: Mapped[str] = mapped_column(primary_key=True)
    components: Mapped[dict[str, Any]]  # component → first version
    flags: Mapped[dict[str, Any]]  # declared flags only: name → {kind, default}
    environment: Mapped[str]
    registered_by: Mapped[str]
    registered_at: Mapped[datetime]
    updated_by: Mapped[str]
    updated_at: Mapped[datetime]


class AlertRow(Base):
    """One alert, by its source's fingerprint: which incident it joined and how often it came."""

    __tablename__ = "alerts"

    source: Mapped[str] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Text, primary_key=True)
    incident_id: Mapped[str] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    service: Mapped[str | None]
    kind: Mapped[str]
    severity: Mapped[str]
    status: Mapped[str]
    starts_at: Mapped[datetime | None]  # the monitor's own time: time to detect starts here
    first_seen: Mapped[datetime]  # when we first heard of it
    last_seen: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    notifications: Mapped[int]
    firing_streak: Mapped[int]  # consecutive firing notifications, for automatic actions
    value: Mapped[str | None] = mapped_column(Text)
    threshold: Mapped[str | None] = mapped_column(Text)
    links: Mapped[list[str]]
    status_at: Mapped[datetime | None]  # the source's time of the newest event applied
    # Notifications since the status last changed that only repeated it, first and last.
    repeats: Mapped[int] = mapped_column(server_default=sql_text("0"))
    repeated_from: Mapped[datetime | None]
    repeated_until: Mapped[datetime | None]


class AlertGroupRow(Base):
    """Alerts for one service and kind join one incident while it is open and they keep coming
    within the window. The row is locked while a notification decides, so two processes given
    the same new alert open one incident."""

    __tablename__ = "alert_groups"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    incident_id: Mapped[str | None]
    last_alert_at: Mapped[datetime | None]


class AlertSummaryRow(Base):
    """The one message per incident that an alert storm updates, and whether it is behind."""

    __tablename__ = "alert_summaries"

    incident_id: Mapped[str] = mapped_column(primary_key=True)
    message_ts: Mapped[str | None]
    stale_since: Mapped[datetime | None] = mapped_column(index=True)  # None: up to date
    all_resolved_told: Mapped[bool]


class AutoActionMarkRow(Base):
    """When an automatic action last ran on a service's target: flapping alerts wait."""

    __tablename__ = "auto_action_marks"

    service: Mapped[str] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(primary_key=True)
    last_at: Mapped[datetime]


class PinRow(Base):
    """One person's pin reaction on a message of an incident's channel; the message is kept as
    it was when first pinned, so the post-mortem needs no Slack call."""

    __tablename__ = "pins"

    incident_id: Mapped[str] = mapped_column(primary_key=True)
    message_ts: Mapped[str] = mapped_column(primary_key=True)
    pinned_by: Mapped[str] = mapped_column(primary_key=True)
    channel_id: Mapped[str]
    author: Mapped[str]
    text: Mapped[str] = mapped_column(Text)
    pinned_at: Mapped[datetime]


class FailedExampleRow(Base):
    __tablename__ = "failed_examples"
    # The number is what people type (`/incident example #3 blocking`): one per incident.
    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    incident_id: Mapped[str]
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str]
    added_at: Mapped[datetime]
    example_set: Mapped[str | None]  # an ExampleSet value; None until sorted
    sorted_by: Mapped[str | None]
    sorted_at: Mapped[datetime | None]
    card_ts: Mapped[str | None]  # its message in the incident channel


class FollowUpRow(Base):
    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: Mapped[str] = mapped_column(primary_key=True)
    incident_id: Mapped[str]
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str]
    added_by: Mapped[str]
    added_at: Mapped[datetime]


class PendingWorkRow(Base):
    """Slack work an incident still owes; `seq` orders each incident's rows."""

    __tablename__ = "pending_work"
    # Serves claim: the undone rows, and each incident's earlier undone rows.
    __table_args__ = (Index("ix_pending_work_incident_id_done_at", "incident_id", "done_at"),)

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(unique=True)
    incident_id: Mapped[str]
    step: Mapped[str]
    payload: Mapped[dict[str, Any]]
    attempts: Mapped[int]
    due_at: Mapped[datetime] = mapped_column(index=True)
    leased_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class RegistryVersionRow(Base):
    """One row (id 1): bumped by every commit that changes the registry (store/uow.py)."""

    __tablename__ = "registry_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
