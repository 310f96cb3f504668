"""PagerDuty events are dated by their own `occurred_at`, so the timeline reads in the order
things happened in PagerDuty, whenever (and in whatever order) the webhooks arrive. An
acknowledgement used to be dated on receipt while the resolution used PagerDuty's time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.domain.alerts import AlertStatus
from bot.domain.incidents import Incident
from bot.domain.timeline import EventType
from bot.stage import Stage
from tests.e2e.conftest import StageFactory
from tests.e2e.test_alert_sources import (
    PD_NEW,
    alerts_of,
    fixture,
    only_incident,
    pagerduty_signed,
    post,
    sources_stage,
)

TRIGGERED_AT = datetime(2020, 4, 9, 15, 16, 27, 493000, tzinfo=UTC)
ACKNOWLEDGED_AT = datetime(2020, 4, 9, 15, 20, 2, 201000, tzinfo=UTC)
RESOLVED_AT = datetime(2020, 4, 9, 16, 2, 45, 877000, tzinfo=UTC)
REOPENED_AT = datetime(2020, 4, 9, 17, 30, 0, tzinfo=UTC)


async def test_a_late_acknowledgement_keeps_its_place_and_does_not_reopen(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        # Delivered out of order: the acknowledgement arrives after the resolution.
        for name in ("triggered", "resolved", "acknowledged"):
            body = fixture(f"pagerduty-{name}.json")
            response = await post(stage, "pagerduty", body, pagerduty_signed(body, PD_NEW))
            assert response.status_code == 200, response.text

        incident = await only_incident(stage)
        assert await heard(stage, incident) == [
            (TRIGGERED_AT, "firing"),
            (ACKNOWLEDGED_AT, "acknowledged"),
            (RESOLVED_AT, "resolved"),
        ]
        [alert] = await alerts_of(stage, incident)
        assert alert.status is AlertStatus.RESOLVED and alert.resolved_at == RESOLVED_AT

        # Reopened after its resolution: that one does change the alert, at its own time.
        body = reopened(REOPENED_AT)
        response = await post(stage, "pagerduty", body, pagerduty_signed(body, PD_NEW))
        assert response.json()["joined"] == [incident.id], response.text
        [alert] = await alerts_of(stage, incident)
        assert alert.status is AlertStatus.FIRING and alert.resolved_at is None
        assert (await heard(stage, incident))[-1] == (REOPENED_AT, "firing")


async def heard(stage: Stage, incident: Incident) -> list[tuple[datetime, str]]:
    """The alert's events on the timeline, in the timeline's order: (when, status)."""
    async with stage.runtime.deps.uow() as uow:
        events = await uow.timeline.for_incident(incident.id)
    alert_events = (EventType.ALERT_FIRING, EventType.ALERT_RESOLVED)
    return [(e.at, e.data["status"]) for e in events if e.type in alert_events]


def reopened(at: datetime) -> bytes:
    """PagerDuty's `incident.reopened` for the same incident, shaped as the other events."""
    body = json.loads(fixture("pagerduty-resolved.json"))
    event = body["event"]
    event["id"], event["event_type"] = "01DEN9REOPENED0000000000000", "incident.reopened"
    event["occurred_at"] = at.isoformat().replace("+00:00", "Z")
    event["data"]["status"] = "triggered"
    return json.dumps(body).encode()


async def test_a_late_trigger_does_not_undo_a_newer_acknowledgement(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        # PagerDuty delivered the acknowledgement first; the trigger (older) comes after it.
        for name in ("acknowledged", "triggered"):
            body = fixture(f"pagerduty-{name}.json")
            response = await post(stage, "pagerduty", body, pagerduty_signed(body, PD_NEW))
            assert response.status_code == 200, response.text

        incident = await only_incident(stage)
        [alert] = await alerts_of(stage, incident)
        assert alert.status is AlertStatus.ACKNOWLEDGED
        assert await heard(stage, incident) == [
            (TRIGGERED_AT, "firing"),
            (ACKNOWLEDGED_AT, "acknowledged"),
        ]
