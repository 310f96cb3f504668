"""Example domain objects with every field set, for round-trip tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.domain.checklists import ChecklistStep
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind, IncidentStatus, Severity
from bot.domain.triage import Answer, ExampleSet, TriageAnswers, YesNoUnknown

# Microseconds and a non-UTC offset, to show both survive the trip (and come back as UTC).
IST = timezone(timedelta(hours=5, minutes=30))
T0 = datetime(2026, 11, 22, 14, 3, 7, 123456, tzinfo=IST)
T0_UTC = datetime(2026, 11, 22, 8, 33, 7, 123456, tzinfo=UTC)


def steps() -> list[ChecklistStep]:
    return [
        ChecklistStep(0, "First checks", "Compare eval scores with yesterday"),
        ChecklistStep(
            1, "First checks", "Check the prompt registry", checked_by="U2", checked_at=T0
        ),
        ChecklistStep(2, "Safe fallbacks", "Roll back the prompt", action="rollback:prompt"),
    ]


def answers() -> TriageAnswers:
    return TriageAnswers(
        failure_layer=IncidentKind.RETRIEVAL,
        recent_change=Answer(YesNoUnknown.YES, "index rebuilt at 09:00"),
        rollback_available=Answer(YesNoUnknown.NO),
        human_review_needed=Answer(YesNoUnknown.UNKNOWN, "ask legal"),
        examples_destination=ExampleSet.MONITORING,
        answered_by="U3",
        answered_at=T0 + timedelta(minutes=5),
    )


def incident(incident_id: str = "inc-1", channel_id: str | None = "C1") -> Incident:
    return Incident(
        id=incident_id,
        kind=IncidentKind.QUALITY,
        title="Answers degraded – ünïcode",
        severity=Severity.SEV2,
        opened_by="U1",
        commander="U2",
        opened_at=T0,
        runbook_key="quality",
        runbook_version="3",
        service="support-bot",
        status=IncidentStatus.RESOLVED,
        channel_id=channel_id,
        channel_name=f"inc-20261122-answers-degraded-{incident_id}",
        header_ts="1795366987.000100",
        questions_ts="1795366988.000200",
        checklist_ts=["1795366989.000300", "1795366990.000400"],
        steps=steps(),
        answers=answers(),
        resolved_at=T0 + timedelta(hours=2),
        summary="Rolled back the index.",
    )


def bare_incident(incident_id: str = "inc-2") -> Incident:
    """Every optional field empty."""
    return Incident(
        id=incident_id,
        kind=IncidentKind.COST,
        title="Token spend doubled",
        severity=Severity.SEV4,
        opened_by="U1",
        commander="U1",
        opened_at=T0,
        runbook_key=None,
        runbook_version=None,
    )
