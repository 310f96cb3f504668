"""PagerDuty events are dated by their own `occurred_at`, so the timeline reads in the order
things happened in PagerDuty, whenever (and in whatever order) the webhooks arrive. An
acknowledgement used to be dated on receipt while the resolution used PagerDuty's time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.domain.alerts import AlertStatus
from bot.domain.timeline import EventType
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

TRIGGERED_AT = datetime(2020, 4, 9, 15, 16, 27, tzinfo=UTC)  # the incident's created_at
ACKNOWLEDGED_AT = datetime(2020, 4, 9, 15, 20, 2, 201000, tzinfo=UTC)
RESOLVED_AT = datetime(2020, 4, 9, 16, 2, 45, 877000, tzinfo=UTC)


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
        async with stage.runtime.deps.uow() as uow:
            events = await uow.timeline.for_incident(incident.id)
        heard = [
            (e.at, e.data["status"])
            for e in events
            if e.type in (EventType.ALERT_FIRING, EventType.ALERT_RESOLVED)
        ]
        assert heard == [
            (TRIGGERED_AT, "firing"),
            (ACKNOWLEDGED_AT, "acknowledged"),
            (RESOLVED_AT, "resolved"),
        ]
        [alert] = await alerts_of(stage, incident)
        assert alert.status is AlertStatus.RESOLVED and alert.resolved_at == RESOLVED_AT
