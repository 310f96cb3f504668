"""Scripted incidents for post-mortem tests: one per kind, with fixed times, built directly as
the services would record them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.checklists import ChecklistStep
from bot.domain.findings import (
    ChannelMessage,
    FailedExample,
    FollowUp,
    PinnedMessage,
)
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind, IncidentStatus, Severity
from bot.domain.postmortem import Findings
from bot.domain.registry import Change, Component
from bot.domain.timeline import BOT_ACTOR, EventType, TimelineEvent
from bot.domain.triage import Answer, ExampleSet, TriageAnswers, YesNoUnknown

OPENED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ALICE, BOB, CAROL = "U_ALICE", "U_BOB", "U_CAROL"
SERVICE = "support-bot"

# Per kind: the component whose change caused it, its versions, the eval score of the bad one,
# and the alert that caught it (name, value, threshold).
SCENARIOS: dict[IncidentKind, tuple[Component, str, str, float | None, str, str, str]] = {
    IncidentKind.QUALITY: (Component.PROMPT, "v12", "v13", 0.71, "EvalPassRateLow", "0.62", "0.85"),
    IncidentKind.RETRIEVAL: (
        Component.RETRIEVAL_INDEX,
        "kb-2026-11-01",
        "kb-2026-11-21",
        0.80,
        "RetrievalHitRateLow",
        "0.41",
        "0.70",
    ),
    IncidentKind.TOOL: (
        Component.OUTPUT_SCHEMA,
        "refunds-v3",
        "refunds-v4",
        None,
        "ToolCallErrors",
        "12%",
        "2%",
    ),
    IncidentKind.POLICY: (
        Component.MODEL,
        "gpt-4o-2024-08-06",
        "gpt-4o-2024-11-20",
        0.88,
        "GuardrailBlocksHigh",
        "9.5%",
        "3%",
    ),
    IncidentKind.COST: (
        Component.ROUTING,
        "r41",
        "r42",
        None,
        "CostPerRequestHigh",
        "$0.031",
        "$0.010",
    ),
    IncidentKind.LATENCY: (Component.CHUNKING, "c7", "c8", 0.90, "P95LatencyHigh", "8.4s", "3s"),
}


@dataclass
class Script:
    incident: Incident
    events: list[TimelineEvent] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)

    def add(
        self, minutes: float, type: EventType, actor: str, text: str, **data: Any
    ) -> TimelineEvent:
        event = TimelineEvent(
            self.incident.id, OPENED + timedelta(minutes=minutes), type, actor, text, data
        )
        self.events.append(event)
        return event


def bare_incident(kind: IncidentKind = IncidentKind.QUALITY, **fields: Any) -> Incident:
    values: dict[str, Any] = {
        "id": f"inc-{kind.value}",
        "kind": kind,
        "title": "Answers cite the retired refund policy",
        "severity": Severity.SEV2,
        "opened_by": ALICE,
        "commander": ALICE,
        "opened_at": OPENED,
        "runbook_key": None,
        "runbook_version": None,
        "service": SERVICE,
    }
    return Incident(**(values | fields))


def scripted(kind: IncidentKind) -> Script:
    """A change 2 h before opening, its alert 10 min before, opened by the alert, worked,
    rolled back (approved by Carol, verified), handed over and resolved 75 min after opening.
    An unclassified incident has no runbook, no answers and no rollback."""
    classified = kind is not IncidentKind.UNKNOWN
    component, good, bad, score, alert, value, threshold = SCENARIOS.get(
        kind, SCENARIOS[IncidentKind.QUALITY]
    )
    incident = bare_incident(
        kind,
        opened_by=BOT_ACTOR,
        runbook_key=kind.value if classified else None,
        runbook_version="3" if classified else None,
        status=IncidentStatus.RESOLVED,
        resolved_at=OPENED + timedelta(minutes=75),
        summary=f"{component.value} {bad} rolled back to {good}",
        commander=BOB,
    )
    script = Script(incident)
    deployed = OPENED - timedelta(hours=2)
    script.changes = [
        Change(
            "c-old", SERVICE, component, None, good, "github-actions", deployed - timedelta(days=3)
        ),
        Change(
            "c-bad",
            SERVICE,
            component,
            good,
            bad,
            "github-actions",
            deployed,
            "https://ci.example.com/run/42",
            score,
        ),
        Change(
            "c-other",
            SERVICE,
            Component.MEMORY,
            "m1",
            "m2",
            "U_DAVE",
            deployed + timedelta(minutes=5),
        ),
    ]
    starts = OPENED - timedelta(minutes=10)
    alert_data = {
        "source": "alertmanager",
        "fingerprint": "fp1",
        "starts_at": starts.isoformat(),
        "value": value,
        "threshold": threshold,
        "grouping": "new incident",
    }
    script.add(
        -10,
        EventType.ALERT_FIRING,
        "alert:alertmanager",
        f"Alert {alert} firing: {kind.value} is off",
        **alert_data,
    )
    script.add(
        0, EventType.OPENED, BOT_ACTOR, f"Opened {kind.label.lower()} incident", kind=kind.value
    )
    script.add(0, EventType.CHANNEL_CREATED, BOT_ACTOR, "Created #inc-20261122-answers")
    script.add(0, EventType.QUESTIONS_ASKED, BOT_ACTOR, "Asked the five questions")
    script.add(
        5,
        EventType.ALERT_FIRING,
        "alert:alertmanager",
        f"Alert {alert} firing again (#2): {kind.value} is off",
        **(alert_data | {"value": "worse"}),
    )
    if classified:
        incident.steps = [
            ChecklistStep(
                0,
                "First checks",
                "Name what changed in the last 24 h",
                None,
                ALICE,
                OPENED + timedelta(minutes=4),
            ),
            ChecklistStep(1, "First checks", "Read 20 failing `traces` *now*", None),
            ChecklistStep(
                2,
                "Safe fallbacks",
                "Roll back to the known-good version",
                "rollback",
                BOB,
                OPENED + timedelta(minutes=21),
            ),
        ]
        script.add(
            4,
            EventType.STEP_CHECKED,
            ALICE,
            "Checked “Name what changed in the last 24 h”",
            position=0,
        )
        incident.answers = TriageAnswers(
            kind,
            Answer(YesNoUnknown.YES, f"{component.value} {bad} shipped at 07:00"),
            Answer(YesNoUnknown.YES, f"{component.value} can go back to {good}"),
            Answer(YesNoUnknown.NO),
            ExampleSet.BLOCKING,
            BOB,
            OPENED + timedelta(minutes=12),
        )
        script.add(12, EventType.QUESTIONS_ANSWERED, BOB, "Answered the five questions")
        add_findings(script, kind)
        action = {
            "request_id": "r1",
            "action": "rollback",
            "service": SERVICE,
            "moves": [{"component": component.value, "before": bad, "after": good}],
            "risk": "high",
            "reason": f"undo {component.value} {good} → {bad}",
            "requested_by": ALICE,
        }
        what = f"roll back {SERVICE} {component.value} {bad} → {good}"
        script.add(18, EventType.ACTION_REQUESTED, ALICE, f"asked to {what}", **action)
        script.add(20, EventType.ACTION_APPROVED, CAROL, f"approved: {what}", **action)
        script.add(
            21,
            EventType.ACTION_APPLIED,
            BOT_ACTOR,
            f"applied: {what}",
            **action,
            outcome="stored by Steadyhand",
        )
        script.add(
            22,
            EventType.ACTION_VERIFIED,
            BOT_ACTOR,
            f"verified {what}",
            **action,
            passed=True,
            score=0.91,
            summary="eval score 0.91 ≥ 0.85",
        )
        script.add(
            21,
            EventType.STEP_CHECKED,
            BOB,
            "Checked “Roll back to the known-good version”",
            position=2,
        )
    script.add(30, EventType.STATUS_UPDATE, ALICE, "Rolled back; <@U_BOB> watching the | dashboard")
    script.add(
        31, EventType.COMMANDER_CHANGED, ALICE, "Command passed", previous=ALICE, current=BOB
    )
    script.add(
        40, EventType.ALERT_RESOLVED, "alert:alertmanager", f"Alert {alert} resolved", **alert_data
    )
    script.add(
        75, EventType.RESOLVED, BOB, f"Resolved: {incident.summary}", summary=incident.summary
    )
    return script


def add_findings(script: Script, kind: IncidentKind) -> None:
    """A note, a message two people pinned, two failed examples (one sorted) and a follow-up,
    recorded as the services record them."""
    at = OPENED + timedelta(minutes=6)
    pinned = ChannelMessage(
        "C_INC", f"{at.timestamp():.6f}", CAROL, f"{kind.value}: 3 of 20 traces fail"
    )
    script.add(8, EventType.NOTE_ADDED, ALICE, "Refund questions fail; others look fine")
    first = FailedExample(
        "x1",
        script.incident.id,
        1,
        "“What is the refund window?” → 14 days (the 2023 policy)",
        ALICE,
        OPENED + timedelta(minutes=9),
    )
    first.sort_into(ExampleSet.BLOCKING, BOB, OPENED + timedelta(minutes=13))
    second = FailedExample(
        "x2",
        script.incident.id,
        2,
        "https://traces.example.com/t/8841",
        BOB,
        OPENED + timedelta(minutes=10),
    )
    script.add(9, EventType.EXAMPLE_ADDED, ALICE, "Failed example #1: refund window", number=1)
    script.add(10, EventType.EXAMPLE_ADDED, BOB, "Failed example #2: a trace", number=2)
    script.add(13, EventType.EXAMPLE_SORTED, BOB, "Failed example #1 sorted into blocking set")
    follow_up = FollowUp(
        "f1",
        script.incident.id,
        1,
        "Add refund questions to the blocking eval set",
        CAROL,
        BOB,
        OPENED + timedelta(minutes=70),
    )
    script.add(70, EventType.FOLLOW_UP_ADDED, BOB, "Follow-up #1 for <@U_CAROL>", number=1)
    script.findings = Findings(
        (PinnedMessage(pinned, (BOB, CAROL)),), (first, second), (follow_up,)
    )
