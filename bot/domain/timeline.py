"""The append-only record of what happened in an incident; the post-mortem is built from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    OPENED = "incident.opened"
    CHANNEL_CREATED = "channel.created"
    STEP_CHECKED = "checklist.step_checked"
    STEP_UNCHECKED = "checklist.step_unchecked"
    QUESTIONS_ASKED = "triage.asked"
    QUESTIONS_ANSWERED = "triage.answered"
    REMINDER_SENT = "triage.reminder_sent"
    RUNBOOK_SWITCH_OFFERED = "runbook.switch_offered"
    RUNBOOK_SWITCHED = "runbook.switched"
    RUNBOOK_KEPT = "runbook.kept"
    STATUS_UPDATE = "status.update"
    COMMANDER_CHANGED = "commander.changed"
    RESOLVED = "incident.resolved"
    CHANGE_RECORDED = "change.recorded"
    ACTION_REQUESTED = "action.requested"
    ACTION_APPROVED = "action.approved"
    ACTION_REJECTED = "action.rejected"
    ACTION_EXPIRED = "action.expired"
    ACTION_APPLIED = "action.applied"
    ACTION_FAILED = "action.failed"
    ACTION_VERIFIED = "action.verified"  # data: passed, score, summary
    ALERT_FIRING = "alert.firing"  # data: source, fingerprint, grouping, starts_at, …
    ALERT_RESOLVED = "alert.resolved"
    ALERTS_ALL_RESOLVED = "alert.all_resolved"
    AUTO_ACTION = "alert.auto_action"  # data: outcome requested | dry_run | rate_limited | failed
    POSTMORTEM_POSTED = "postmortem.posted"  # data: file_id, filename
    REVIEW_REMINDED = "postmortem.review_reminded"
    NOTE_ADDED = "note.added"
    EXAMPLE_ADDED = "example.added"  # data: example_id, number, set (None: not sorted)
    EXAMPLE_SORTED = "example.sorted"  # data: example_id, number, set, previous
    FOLLOW_UP_ADDED = "follow_up.added"  # data: follow_up_id, number, owner
    SLACK_WORK_DROPPED = "slack.work_dropped"  # data: step, error; Slack refused it for good
    # Never recorded: pinned messages live in their own table, as removing the reaction
    # removes them. The post-mortem's timeline shows them under this type.
    MESSAGE_PINNED = "message.pinned"


@dataclass(frozen=True)
class TimelineEvent:
    incident_id: str
    at: datetime  # when it happened (UTC), not when it was recorded
    type: EventType
    actor: str  # a Slack user ID, or "steadyhand" for the bot itself
    text: str  # one human-readable line
    data: dict[str, Any] = field(default_factory=dict)  # structured detail, JSON-serialisable


BOT_ACTOR = "steadyhand"
