"""The Incident entity and the rules that belong to it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.checklists import ChecklistStep
from bot.domain.errors import Conflict, UsageError
from bot.domain.kinds import IncidentKind, IncidentStatus, Severity
from bot.domain.triage import TriageAnswers

MAX_TITLE = 150
CHANNEL_NAME_MAX = 80  # Slack's limit


@dataclass
class Incident:
    id: str
    kind: IncidentKind
    title: str
    severity: Severity
    opened_by: str
    commander: str
    opened_at: datetime
    runbook_key: str | None
    runbook_version: str | None
    service: str | None = None
    status: IncidentStatus = IncidentStatus.INVESTIGATING
    channel_id: str | None = None
    channel_name: str | None = None
    header_ts: str | None = None
    questions_ts: str | None = None
    checklist_ts: list[str] = field(default_factory=list)  # one message per checklist page
    steps: list[ChecklistStep] = field(default_factory=list)
    answers: TriageAnswers | None = None
    resolved_at: datetime | None = None
    summary: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED

    def ensure_open(self) -> None:
        if not self.is_open:
            raise Conflict("This incident is resolved; open a new one if the problem is back.")

    def elapsed(self, now: datetime) -> timedelta:
        return (self.resolved_at or now) - self.opened_at

    def step(self, position: int) -> ChecklistStep:
        if not 0 <= position < len(self.steps):
            raise UsageError(f"This incident's checklist has no step {position + 1}.")
        return self.steps[position]

    def resolve(self, at: datetime, summary: str | None) -> None:
        self.ensure_open()
        self.status = IncidentStatus.RESOLVED
        self.resolved_at = at
        self.summary = summary or None


def validate_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise UsageError(
            "An incident needs a title, e.g. `/incident open quality answers degraded`."
        )
    if len(title) > MAX_TITLE:
        raise UsageError(f"The title is {len(title)} characters; keep it under {MAX_TITLE}.")
    return title


def channel_name(opened_at: datetime, title: str, attempt: int = 1) -> str:
    """`inc-20261122-answers-degraded`, within Slack's rules: lowercase letters, digits,
    hyphens and underscores, at most 80 characters. Attempt 2 onwards gets `-2`, `-3` …"""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_]+", "-", ascii_title.lower()).strip("-_")
    stem = f"inc-{opened_at:%Y%m%d}" + (f"-{slug}" if slug else "")
    suffix = f"-{attempt}" if attempt > 1 else ""
    return stem[: CHANNEL_NAME_MAX - len(suffix)].rstrip("-_") + suffix
