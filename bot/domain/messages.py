"""What the bot says, as plain values. `bot.slack.blocks` turns each into Block Kit.

Services decide *what* to say; only the Slack adapter knows *how* it looks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.actions import ActionRequest
from bot.domain.alerts import TrackedAlert
from bot.domain.checklists import ChecklistStep
from bot.domain.drivers import VerificationResult
from bot.domain.findings import FailedExample, FollowUp
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.registry import Change, Running
from bot.domain.runbooks import Runbook
from bot.domain.triage import ExampleSet
from bot.domain.triage_context import TriageContext


@dataclass(frozen=True)
class IncidentHeader:
    """The incident's first message: kind, severity, status, commander, service, runbook."""

    incident: Incident
    runbook: Runbook | None
    runbook_problem: str | None = None  # why there is no checklist, when there is none


@dataclass(frozen=True)
class ChecklistPage:
    incident_id: str
    page: int  # 1-based
    pages: int
    steps: tuple[ChecklistStep, ...]


@dataclass(frozen=True)
class FiveQuestions:
    """The questions, with the Answer button; once answered, the answers."""

    incident: Incident
    context: TriageContext | None = None  # what the registry knows for questions 2 and 3


@dataclass(frozen=True)
class RunbookSwitchOffer:
    incident_id: str
    current: IncidentKind
    suggested: IncidentKind


@dataclass(frozen=True)
class ClassifyOffer:
    """Under the header of an incident of no known kind: one button per kind, each switching
    the incident to that kind's runbook."""

    incident_id: str


@dataclass(frozen=True)
class TriageReminder:
    incident: Incident
    minutes: int


@dataclass(frozen=True)
class StatusUpdate:
    incident: Incident
    author: str
    text: str
    at: datetime
    for_stakeholders: bool = False  # the copy outside the incident channel links back


@dataclass(frozen=True)
class CommanderChanged:
    previous: str
    current: str
    by: str


@dataclass(frozen=True)
class IncidentResolved:
    incident: Incident
    by: str


@dataclass(frozen=True)
class PostmortemReviewDue:
    """To the commander, some days after resolution: review the draft post-mortem."""

    incident: Incident
    since_resolved: timedelta


@dataclass(frozen=True)
class StatusReport:
    incident: Incident
    now: datetime


@dataclass(frozen=True)
class Notice:
    """A short line of text: confirmations and errors."""

    text: str
    is_error: bool = False


@dataclass(frozen=True)
class RunningReport:
    """`/incident running`: what a service runs now."""

    running: Running


@dataclass(frozen=True)
class ChangesReport:
    """`/incident changes`: recent changes, newest first."""

    service: str | None  # None: every service
    since: timedelta
    changes: tuple[Change, ...]
    offers_rollback: bool = False  # in an incident channel: a Roll back button per change


@dataclass(frozen=True)
class ExampleCard:
    """A failed example in the incident channel, with one button per set to sort it into;
    updated in place when sorted."""

    example: FailedExample
    suggested: ExampleSet | None = None  # what question 5 answered, while unsorted


@dataclass(frozen=True)
class ExampleList:
    """`/incident examples`: the incident's failed examples by set."""

    incident_id: str
    examples: tuple[FailedExample, ...]


@dataclass(frozen=True)
class FollowUpAdded:
    follow_up: FollowUp


@dataclass(frozen=True)
class FollowUpList:
    """`/incident followups`: the incident's follow-ups and their owners."""

    follow_ups: tuple[FollowUp, ...]


@dataclass(frozen=True)
class ActionCard:
    """An action request as it stands now: waiting for approval (with Approve and Reject),
    applying, applied, failed (with Retry), rejected or expired. Updated in place."""

    request: ActionRequest
    approvers: tuple[str, ...] = ()  # user and group IDs to mention while it waits


@dataclass(frozen=True)
class VerificationReport:
    """After an applied action: the service's check, pass or fail with its number."""

    request: ActionRequest
    result: VerificationResult
    escalation: str | None = None  # the runbook's Escalation section, when it fails


@dataclass(frozen=True)
class AlertSummary:
    """The incident's alerts, in one message that an alert storm updates in place."""

    alerts: tuple[TrackedAlert, ...]
    page: str | None = None  # the user group or user paged when the alert opened the incident
    service_unknown: str | None = None  # an alert named a service nobody declared


@dataclass(frozen=True)
class AllAlertsResolved:
    incident_id: str
    count: int
    resolved_by_policy: bool = False


@dataclass(frozen=True)
class Help:
    pass


Message = (
    IncidentHeader
    | ChecklistPage
    | FiveQuestions
    | RunbookSwitchOffer
    | ClassifyOffer
    | TriageReminder
    | StatusUpdate
    | CommanderChanged
    | IncidentResolved
    | PostmortemReviewDue
    | StatusReport
    | Notice
    | RunningReport
    | ChangesReport
    | ActionCard
    | VerificationReport
    | ExampleCard
    | ExampleList
    | FollowUpAdded
    | FollowUpList
    | AlertSummary
    | AllAlertsResolved
    | Help
)


@dataclass(frozen=True)
class OpenIncidentModal:
    kinds: tuple[IncidentKind, ...]
    severities: tuple[Severity, ...]
    services: tuple[str, ...]
    origin_channel: str  # where /incident open was typed, for errors


@dataclass(frozen=True)
class FiveQuestionsModal:
    incident: Incident
    context: TriageContext | None = None  # pre-fills questions 2 and 3 while unanswered


Modal = OpenIncidentModal | FiveQuestionsModal
