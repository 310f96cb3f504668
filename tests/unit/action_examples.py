"""Action cards and verification reports in every state, alert summaries, failed examples and
follow-ups, for the Block Kit conformance tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.actions import (
    Action,
    ActionKind,
    ActionRequest,
    FlagMove,
    RequestStatus,
    Risk,
    VersionMove,
)
from bot.domain.alerts import AlertSource, AlertStatus, TrackedAlert
from bot.domain.drivers import VerificationResult
from bot.domain.findings import FailedExample, FollowUp
from bot.domain.messages import (
    ActionCard,
    AlertSummary,
    AllAlertsResolved,
    ExampleCard,
    ExampleList,
    FollowUpAdded,
    FollowUpList,
    Message,
    VerificationReport,
)
from bot.domain.registry import Component, FlagKind
from bot.domain.triage import ExampleSet

ASKED = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def make_request(**changes: object) -> ActionRequest:
    request = ActionRequest(
        id="req-1",
        incident_id="inc-7",
        channel_id="C0INC",
        action=Action(
            ActionKind.ROLLBACK,
            "support-bot",
            (VersionMove(Component.PROMPT, "v13", "v12"),),
        ),
        risk=Risk.HIGH,
        reason="refusals stopped after the prompt change <script>",
        requested_by="U0ALICE",
        requested_at=ASKED,
        expires_at=ASKED + timedelta(minutes=15),
    )
    return replace(request, **changes)  # type: ignore[arg-type]


def example_action_messages() -> dict[str, Message]:
    flags = Action(
        ActionKind.FLAG,
        "support-bot",
        (FlagMove("new-retriever", FlagKind.PERCENTAGE, 50, 0),),
    )
    restore = Action(
        ActionKind.RESTORE,
        "support-bot",
        tuple(VersionMove(c, "v2", "v1") for c in Component),
    )
    applied = make_request(
        status=RequestStatus.APPLIED,
        decided_by="U0BOB",
        outcome="stored by Steadyhand, served over OFREP",
        verification="passed: eval score 0.91 ≥ 0.85",
    )
    return {
        "action, pending": ActionCard(make_request(), ("S0MANAGERS", "U0CAROL")),
        "action, pending, no approvers": ActionCard(make_request()),
        "action, applying, low risk": ActionCard(
            make_request(status=RequestStatus.APPLYING, risk=Risk.LOW, decided_by="U0ALICE")
        ),
        "action, applied": ActionCard(applied),
        "action, failed": ActionCard(
            make_request(
                status=RequestStatus.FAILED,
                action=flags,
                outcome="timed out: no answer within 5 s " + "x" * 4000,
                attempts=2,
            )
        ),
        "action, rejected": ActionCard(
            make_request(status=RequestStatus.REJECTED, decided_by="U0BOB")
        ),
        "action, expired": ActionCard(make_request(status=RequestStatus.EXPIRED, action=restore)),
        "verified": VerificationReport(applied, VerificationResult(True, "HTTP 200 from x", None)),
        "verification failed": VerificationReport(
            applied,
            VerificationResult(False, "eval score 0.62 < 0.85 " + "y" * 4000, 0.62),
            "Page the model owner <@U0CAROL> & the on-call manager",
        ),
    }


def example_alert_messages() -> dict[str, Message]:
    def tracked(n: int, status: AlertStatus) -> TrackedAlert:
        return TrackedAlert(
            source=AlertSource.ALERTMANAGER,
            fingerprint=f"fp{n}",
            incident_id="inc-7",
            name=f"EvalScoreDrop{n} <b>",
            summary="Eval pass rate fell & stayed low " + "z" * (n * 100),
            service="support-bot",
            kind="quality",
            severity="sev2",
            status=status,
            starts_at=ASKED - timedelta(minutes=n),
            first_seen=ASKED,
            last_seen=ASKED + timedelta(minutes=n),
            resolved_at=ASKED + timedelta(hours=1) if status is AlertStatus.RESOLVED else None,
            notifications=n + 1,
            value="0.62" if n % 2 else None,
            threshold="0.85",
            links=("https://grafana.example.com/d/1?a=1&b=2", "javascript:alert(1)"),
        )

    many = tuple(
        tracked(n, AlertStatus.FIRING if n % 3 else AlertStatus.RESOLVED) for n in range(30)
    )
    return {
        "alerts, one": AlertSummary((tracked(1, AlertStatus.FIRING),), "S0ONCALL"),
        "alerts, storm": AlertSummary(many, "U0ALICE"),
        "alerts, unknown service": AlertSummary(
            (tracked(2, AlertStatus.ACKNOWLEDGED),), None, "billing-bot"
        ),
        "alerts, none": AlertSummary(()),
        "alerts resolved": AllAlertsResolved("inc-7", 3),
        "alert resolved, by policy": AllAlertsResolved("inc-7", 1, resolved_by_policy=True),
    }


def example_finding_messages() -> dict[str, Message]:
    added = ASKED + timedelta(minutes=3)
    unsorted = FailedExample(
        "x1", "inc-1", 1, "“Refund window?” → 30 days <https://t.example.com/1|trace>", "U_A", added
    )
    sorted_one = replace(unsorted, id="x2", number=2)
    sorted_one.sort_into(ExampleSet.MONITORING, "U_B", added + timedelta(minutes=1))
    many = tuple(
        replace(unsorted, id=f"x{n}", number=n, text="a long failing answer " * 40)
        for n in range(1, 120)
    )
    follow_up = FollowUp(
        "f1", "inc-1", 1, "Gate prompts on the refund eval & <more>", "U_C", "U_B", added
    )
    return {
        "example, unsorted": ExampleCard(unsorted),
        "example, unsorted with question 5's answer": ExampleCard(unsorted, ExampleSet.BLOCKING),
        "example, sorted": ExampleCard(sorted_one, ExampleSet.BLOCKING),
        "examples, none": ExampleList("inc-1", ()),
        "examples, by set": ExampleList("inc-1", (unsorted, sorted_one)),
        "examples, too many for one message": ExampleList("inc-1", many),
        "follow-up added": FollowUpAdded(follow_up),
        "follow-ups, none": FollowUpList(()),
        "follow-ups": FollowUpList((follow_up, replace(follow_up, number=2))),
    }
