"""A real Prometheus Alertmanager delivers to the running bot: a firing alert opens one incident
with the right runbook, more alerts for the same service and kind join it, resolving is
recorded.

Alertmanager runs on the wall clock and the bot on the test's ManualClock, so the tests wait
for Alertmanager's deliveries by polling what the bot stored, never by timing them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.domain.alerts import AlertStatus, TrackedAlert
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.timeline import EventType
from bot.slack.ids import ACTION_TOGGLE_STEP
from bot.stage import Stage
from tests.e2e.conftest import START, StageFactory
from tests.e2e.helpers import (
    JSON,
    incident_channels,
    incident_of,
    step_positions,
    text_of,
    with_action,
)
from tests.e2e.registry_stage import CONFIG
from tests.support.alertmanager import AlertmanagerServer, running_alertmanager

pytestmark = pytest.mark.alertmanager

ALERT_TOKEN = "alertmanager-webhook-token-0123"  # STEADYHAND_ALERT_TOKENS, not the API's
WAIT_SECONDS = 20
POLL_SECONDS = 0.05
ALERTS = """
alerts:
  rules:
    - match: {alertname: EvalScoreDrop}
      service: support-bot
      kind: quality
"""
# Before the stage's clock (and the wall clock, whatever the machine's date), to a whole second
# as Alertmanager echoes it: the first notification is dated by it, for time to detect.
EVAL_STARTS = min(START, datetime.now(UTC).replace(microsecond=0)) - timedelta(minutes=4)
EVAL = {
    "labels": {"alertname": "EvalScoreDrop", "service": "support-bot", "severity": "warning"},
    "annotations": {
        "summary": "support-bot eval score fell to 0.62",
        "value": "0.62",
        "threshold": "0.85",
    },
    "startsAt": EVAL_STARTS.isoformat(),
    "generatorURL": "http://prometheus.example/graph?g0.expr=eval_score",
}
# Another alertname, so another Alertmanager group; its labels name the same service and kind.
# No startsAt: Alertmanager dates it by the wall clock, likely ahead of the stage's clock.
HALLUCINATIONS = {
    "labels": {
        "alertname": "HallucinationRate",
        "service": "support-bot",
        "ai_incident_kind": "quality",
    },
    "annotations": {"summary": "support-bot unsupported claims above 3%"},
}

Found = TypeVar("Found")


@asynccontextmanager
async def alertmanager_stage(
    make_stage: StageFactory, tmp_path: Path, *, repeat_interval: str = "1h"
) -> AsyncIterator[tuple[Stage, AlertmanagerServer]]:
    """The bot, and an Alertmanager sending every group to its /alerts/alertmanager."""
    config = tmp_path / "steadyhand.yml"
    config.write_text(CONFIG + ALERTS)
    work_dir = tmp_path / "alertmanager"
    work_dir.mkdir()
    env = {"STEADYHAND_CONFIG": str(config), "STEADYHAND_ALERT_TOKENS": ALERT_TOKEN}
    async with make_stage(env=env) as stage:
        url = f"{stage.base_url}/alerts/alertmanager"
        with running_alertmanager(
            url, ALERT_TOKEN, work_dir, repeat_interval=repeat_interval
        ) as alertmanager:
            yield stage, alertmanager


async def test_alertmanager_opens_one_incident_groups_alerts_and_records_resolving(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alertmanager_stage(make_stage, tmp_path) as (stage, alertmanager):
        await alertmanager.post_alerts([EVAL])
        incident = await until(lambda: opened_incident(stage), "the incident opened")
        [channel] = incident_channels(stage.sandbox)
        assert incident.kind is IncidentKind.QUALITY and incident.service == "support-bot"
        assert incident.runbook_key == "quality" and incident.opened_by == "steadyhand"
        messages = stage.sandbox.messages(channel.id)
        pages = with_action(messages, ACTION_TOGGLE_STEP)
        assert [p for page in pages for p in step_positions(page)] == list(
            range(len(incident.steps))
        )
        assert "Name what changed" in "".join(text_of(page) for page in pages)
        assert "value `0.62` (threshold `0.85`)" in text_of(summary_message(stage, channel.id))

        # Another alert for the same service and kind, in another Alertmanager group, and
        # Prometheus sending the first one again: one incident, no message per alert.
        posted = len(stage.sandbox.messages(channel.id))
        await alertmanager.post_alerts([HALLUCINATIONS, EVAL])
        alerts = await until(lambda: alerts_of(stage, incident.id, count=2), "the second alert")
        assert {a.name for a in alerts} == {"EvalScoreDrop", "HallucinationRate"}
        assert {(a.service, a.kind) for a in alerts} == {("support-bot", "quality")}
        assert len(incident_channels(stage.sandbox)) == 1
        assert len(stage.sandbox.messages(channel.id)) == posted
        await stage.run_due_work()
        summary = text_of(summary_message(stage, channel.id))
        assert "2 firing, 0 resolved" in summary and "2 notifications" in summary
        assert "HallucinationRate" in summary

        firing = await events(stage, incident.id, EventType.ALERT_FIRING)
        assert [e.data["grouping"] for e in firing] == ["new incident", "same service and kind"]
        assert {e.data["source"] for e in firing} == {"alertmanager"}
        assert firing[0].at == EVAL_STARTS  # the monitor's startsAt: time to detect
        # A startsAt ahead of the bot's clock is not believed: dated when it was heard.
        second_starts = datetime.fromisoformat(firing[1].data["starts_at"])
        assert firing[1].at == min(second_starts, stage.clock.now())

        await alertmanager.resolve([EVAL, HALLUCINATIONS])
        await until(lambda: all_resolved(stage, incident.id), "both resolutions")
        await stage.run_due_work()
        resolved = await events(stage, incident.id, EventType.ALERT_RESOLVED)
        assert sorted(e.data["fingerprint"] for e in resolved) == sorted(
            a.fingerprint for a in alerts
        )
        assert len(await events(stage, incident.id, EventType.ALERTS_ALL_RESOLVED)) == 1
        texts = [text_of(m) for m in stage.sandbox.messages(channel.id)]
        assert any("All 2 alerts are resolved" in t and "/incident resolve" in t for t in texts)
        assert "0 firing, 2 resolved" in text_of(summary_message(stage, channel.id))
        assert (await incident_of(stage, channel)).is_open  # suggested, not done
        assert len(incident_channels(stage.sandbox)) == 1


async def test_an_alertmanager_repeat_counts_as_a_notification(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alertmanager_stage(make_stage, tmp_path, repeat_interval="2s") as (
        stage,
        alertmanager,
    ):
        await alertmanager.post_alerts([EVAL])
        incident = await until(lambda: opened_incident(stage), "the incident opened")
        # Alertmanager repeats the unchanged group with the very same bytes; on the bot's clock
        # a production repeat_interval (4 h by default) has passed, so it is no retry.
        stage.clock.advance(timedelta(hours=1))
        log = tmp_path / "alertmanager" / "alertmanager.log"
        await until(lambda: delivered(log, times=2), "Alertmanager's repeat")

        alerts = await alerts_of(stage, incident.id, count=1)
        assert alerts is not None
        assert alerts[0].notifications == 2 and alerts[0].firing_streak == 2
        assert alerts[0].repeats == 1  # a repeat is counted on the alert, not a new event
        firing = await events(stage, incident.id, EventType.ALERT_FIRING)
        assert [e.data["grouping"] for e in firing] == ["new incident"]
        assert len(incident_channels(stage.sandbox)) == 1
        await stage.run_due_work()
        [channel] = incident_channels(stage.sandbox)
        summary = text_of(summary_message(stage, channel.id))
        assert "1 firing, 0 resolved" in summary and "×2" in summary


# Waiting for Alertmanager, which delivers on its own schedule.


async def until(probe: Callable[[], Awaitable[Found | None]], what: str) -> Found:
    deadline = time.monotonic() + WAIT_SECONDS
    while not (found := await probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT_SECONDS} s")
        await asyncio.sleep(POLL_SECONDS)
    return found


async def opened_incident(stage: Stage) -> Incident | None:
    """The alert's incident once its opening is over: the summary is posted and stored."""
    channels = incident_channels(stage.sandbox)
    if len(channels) != 1 or not summary_messages(stage, channels[0].id):
        return None
    incident = await incident_of(stage, channels[0])
    async with stage.runtime.deps.uow() as uow:
        ts, _ = await uow.alerts.summary(incident.id)
    return incident if ts is not None else None


async def alerts_of(stage: Stage, incident_id: str, *, count: int) -> list[TrackedAlert] | None:
    async with stage.runtime.deps.uow() as uow:
        alerts = await uow.alerts.for_incident(incident_id)
    return alerts if len(alerts) == count else None


async def all_resolved(stage: Stage, incident_id: str) -> bool:
    async with stage.runtime.deps.uow() as uow:
        alerts = await uow.alerts.for_incident(incident_id)
    return bool(alerts) and all(a.status is AlertStatus.RESOLVED for a in alerts)


async def delivered(log: Path, *, times: int) -> bool:
    """Alertmanager logged `times` successful webhook deliveries (at debug level, as the
    harness runs it); each was answered after the bot stored it."""
    text = await asyncio.to_thread(log.read_text, errors="replace")
    return text.count('msg="Notify success"') >= times


async def events(stage: Stage, incident_id: str, kind: EventType) -> list[Any]:
    async with stage.runtime.deps.uow() as uow:
        return [e for e in await uow.timeline.for_incident(incident_id) if e.type is kind]


def summary_messages(stage: Stage, channel_id: str) -> list[JSON]:
    return [
        m for m in stage.sandbox.messages(channel_id) if ":rotating_light: *Alerts*" in text_of(m)
    ]


def summary_message(stage: Stage, channel_id: str) -> JSON:
    [summary] = summary_messages(stage, channel_id)  # updated in place, never posted twice
    return summary
