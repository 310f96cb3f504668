"""Durable reminders: rows with a due time, claimed by one periodic job, fired once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReminderKind(StrEnum):
    FIVE_QUESTIONS = "five_questions"
    POSTMORTEM_REVIEW = "postmortem_review"  # the commander's review of the draft is due


@dataclass(frozen=True)
class Reminder:
    id: str
    incident_id: str
    kind: ReminderKind
    due_at: datetime
