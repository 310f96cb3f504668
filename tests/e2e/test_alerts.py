"""Alert webhooks open incidents through the real bot: grouping, de-duplication, the storm
summary, resolution, automatic actions and bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.domain.alerts import AlertSource
from bot.domain.kinds import IncidentKind
from bot.domain.timeline import EventType
from bot.sandbox.seed import ALICE, BOB
from bot.services.registry import running
from bot.stage import Stage
from tests.e2e.action_stage import CONFIG, card, cards
from tests.e2e.conftest import START, StageFactory
from tests.e2e.helpers import incident_channels, incident_of, text_of
from tests.e2e.registry_stage import AUTH, TOKEN

ALERTS = """
alerts:
  page: S_ONCALL
  group_window: 30m
  rules:
    - match: {alertname: EvalScoreDrop}
      service: support-bot
      kind: quality
  auto_actions:
    - service: support-bot
      match: {alertname: RefusalRateDrop}
      action: rollback prompt
      after: 2
      min_interval: 30m
"""


@asynccontextmanager
async def alert_stage(
    make_stage: StageFactory, tmp_path: Path, extra: str = ""
) -> AsyncIterator[Stage]:
    path = tmp_path / "steadyhand.yml"
    path.write_text(CONFIG.replace("{approvers}", "[S_MANAGERS]") + ALERTS + extra)
    async with make_stage(
        env={"STEADYHAND_CONFIG": str(path), "STEADYHAND_API_TOKENS": TOKEN}
    ) as stage:
        yield stage


def generic(fingerprint: str, **fields: Any) -> dict[str, Any]:
    return {
        "service": "support-bot",
        "summary": f"{fingerprint} is bad",
        "fingerprint": fingerprint,
        "name": fields.pop("name", "EvalScoreDrop"),
        "starts_at": (START - timedelta(minutes=4)).isoformat(),
        **fields,
    }


async def send(
    stage: Stage, payload: Any, source: str = "generic", headers: dict[str, str] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stage.base_url) as client:
        response = await client.post(
            f"/alerts/{source}",
            content=payload if isinstance(payload, bytes) else json.dumps(payload).encode(),
            headers={**AUTH, "Content-Type": "application/json", **(headers or {})},
        )
    await stage.settle()
    return response


async def timeline(stage: Stage, incident_id: str) -> list[Any]:
    async with stage.runtime.deps.uow() as uow:
        return await uow.timeline.for_incident(incident_id)


async def test_an_alert_opens_an_incident_and_repeats_join_it(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        first = await send(stage, generic("eval-drop", value=0.62, threshold=0.85))
        assert first.status_code == 200, first.text
        assert len(first.json()["opened"]) == 1
        [channel] = incident_channels(stage.sandbox)
        incident = await incident_of(stage, channel)
        assert incident.kind is IncidentKind.QUALITY and incident.service == "support-bot"
        assert incident.runbook_key == "quality" and incident.steps  # the checklist
        assert incident.opened_by == "steadyhand"
        assert {ALICE, BOB} <= set(channel.members)  # the paged group, invited
        messages = stage.sandbox.messages(channel.id)
        summary = next(m for m in messages if ":rotating_light: *Alerts*" in text_of(m))
        assert "<!subteam^S_ONCALL>" in text_of(summary) and "value `0.62`" in text_of(summary)

        # The same alert again, a sender's retry of the same delivery, and another alert for
        # the same service and kind: one incident, and no message per alert.
        posted = len(stage.sandbox.messages(channel.id))
        again = generic("eval-drop", id="delivery-2")
        assert (await send(stage, again)).json()["joined"] == [incident.id]
        assert (await send(stage, again)).json()["duplicate"] is True
        other = generic(
            "hallucination-rate",
            kind="quality",
            name="HallucinationRate",
            starts_at=START.isoformat(),
        )
        assert (await send(stage, other)).json()["joined"] == [incident.id]
        assert len(incident_channels(stage.sandbox)) == 1
        assert len(stage.sandbox.messages(channel.id)) == posted
        await stage.run_due_work()
        summary = stage.sandbox.message(channel.id, summary["ts"]).to_slack(
            stage.sandbox.workspace.team
        )
        assert "2 firing" in text_of(summary) and "3 notifications" in text_of(summary)

        # The repeat changed nothing: counted on the alert, not a timeline event.
        events = await timeline(stage, incident.id)
        firing = [e for e in events if e.type is EventType.ALERT_FIRING]
        assert [e.data["grouping"] for e in firing] == ["new incident", "same service and kind"]
        async with stage.runtime.deps.uow() as uow:
            repeated = await uow.alerts.get(AlertSource.GENERIC, "eval-drop")
        assert repeated is not None and (repeated.notifications, repeated.repeats) == (2, 1)
        # The first notification is dated when the monitor saw it start: time to detect.
        assert firing[0].at == START - timedelta(minutes=4)
        assert firing[0].at < incident.opened_at


async def test_resolved_alerts_are_recorded_and_suggest_resolving(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        await send(stage, generic("eval-drop"))
        await send(stage, generic("eval-drop", status="resolved", id="r1"))
        await stage.run_due_work()
        [channel] = incident_channels(stage.sandbox)
        incident = await incident_of(stage, channel)
        assert incident.is_open  # the bot suggests; it does not resolve by itself
        texts = [text_of(m) for m in stage.sandbox.messages(channel.id)]
        assert any("The alert is resolved" in t and "/incident resolve" in t for t in texts)
        kinds = [e.type for e in await timeline(stage, incident.id)]
        assert EventType.ALERT_RESOLVED in kinds and EventType.ALERTS_ALL_RESOLVED in kinds


async def test_an_unknown_service_opens_an_incident_to_classify(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        response = await send(stage, generic("mystery", service="billing-bot", name="Odd"))
        assert response.status_code == 200 and len(response.json()["opened"]) == 1
        [channel] = incident_channels(stage.sandbox)
        incident = await incident_of(stage, channel)
        assert incident.kind is IncidentKind.UNKNOWN and incident.service is None
        assert any("billing-bot" in text_of(m) for m in stage.sandbox.messages(channel.id))


async def test_a_firing_alert_asks_for_its_automatic_rollback_once(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        deps = stage.runtime.deps
        from bot.services import registry

        await registry.mark_known_good(deps, "support-bot", "prompt", "v12", "ci", "evals")
        await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
        refusals = generic("refusals", name="RefusalRateDrop", kind="policy")
        for n in range(4):
            await send(stage, {**refusals, "id": f"d{n}"})
        [channel] = incident_channels(stage.sandbox)
        incident = await incident_of(stage, channel)
        assert len(cards(stage, incident)) == 1  # asked at the 2nd firing only
        asked = card(stage, incident)
        assert "Approval needed" in text_of(asked) and "prompt v13 → v12" in text_of(asked)
        assert "automatic: alert RefusalRateDrop fired 2 time(s)" in text_of(asked)
        assert (await running(deps, "support-bot")).versions["prompt"] == "v13"  # high risk
        autos = [e for e in await timeline(stage, incident.id) if e.type is EventType.AUTO_ACTION]
        assert [e.data["outcome"] for e in autos] == ["requested"]


async def test_bad_alert_requests_are_refused_and_store_nothing(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        assert (
            await send(stage, generic("x"), headers={"Authorization": "Bearer nope"})
        ).status_code == 401
        assert (await send(stage, b"{not json")).status_code == 400
        assert (await send(stage, {"alerts": "many"})).status_code == 400
        assert (await send(stage, generic("x"), source="nagios")).status_code == 404
        assert (await send(stage, b"x" * (5 * 1024 * 1024))).status_code == 413
        unsigned = await send(stage, {"event": {}}, source="pagerduty")
        assert unsigned.status_code == 503  # no PagerDuty secret configured: never open
        assert incident_channels(stage.sandbox) == []


async def test_the_same_bytes_later_are_a_repeat_not_a_retry(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    """Alertmanager repeats an unchanged group with the very same bytes: a repeat counts."""
    async with alert_stage(make_stage, tmp_path) as stage:
        body = generic("eval-drop")  # no delivery id: the bytes are the key
        assert len((await send(stage, body)).json()["opened"]) == 1
        assert (await send(stage, body)).json()["duplicate"] is True  # a retry
        stage.clock.advance(timedelta(seconds=31))
        repeat = (await send(stage, body)).json()
        assert repeat["duplicate"] is False and len(repeat["joined"]) == 1
        async with stage.runtime.deps.uow() as uow:
            [alert] = await uow.alerts.for_incident(repeat["joined"][0])
        assert alert.notifications == 2
