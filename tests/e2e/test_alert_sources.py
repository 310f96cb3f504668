"""Each alert source through the real endpoint: Grafana's HMAC signature (timestamped), or a
bearer token without a secret; PagerDuty's V3 signatures, rotated secrets and events that are
not about an incident; Alertmanager's bearer token; a delivery sent twice; and Slack
rate-limiting the summary's update."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx

from bot.domain.alerts import AlertStatus, TrackedAlert
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.timeline import EventType, TimelineEvent
from bot.stage import Stage
from tests.e2e.conftest import ROOT, StageFactory
from tests.e2e.helpers import JSON, incident_channels, incident_of, text_of
from tests.e2e.registry_stage import CONFIG, TOKEN

FIXTURES = ROOT / "tests" / "fixtures" / "alerts"
ALERT_TOKEN = "alert-webhook-token-0123456789"  # STEADYHAND_ALERT_TOKENS, not the API's
GRAFANA_SECRET = "grafana-hmac-secret"
TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp"
PD_OLD, PD_NEW = "pagerduty-secret-old", "pagerduty-secret-new"
RULES = """
alerts:
  rules:
    - match: {team: blue}
      service: support-bot
      kind: latency
    - match: {service: API Service}
      service: support-bot
      kind: tool
    - match: {alertname: RetrievalEmpty}
      kind: retrieval
"""
SIGNED = """
  grafana_secret_env: GRAFANA_SECRET
  grafana_timestamp_header: X-Grafana-Alerting-Signature-Timestamp
  pagerduty_secret_env: PAGERDUTY_SECRET
"""
SECRETS = {"GRAFANA_SECRET": GRAFANA_SECRET, "PAGERDUTY_SECRET": f"{PD_OLD}, {PD_NEW}"}


@asynccontextmanager
async def sources_stage(
    make_stage: StageFactory, tmp_path: Path, *, signed: bool = True
) -> AsyncIterator[Stage]:
    config = tmp_path / "steadyhand.yml"
    config.write_text(CONFIG + RULES + (SIGNED if signed else ""))
    env = {
        "STEADYHAND_CONFIG": str(config),
        "STEADYHAND_API_TOKENS": TOKEN,
        "STEADYHAND_ALERT_TOKENS": ALERT_TOKEN,
        **(SECRETS if signed else {}),
    }
    async with make_stage(env=env) as stage:
        yield stage


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def post(
    stage: Stage, source: str, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stage.base_url) as client:
        response = await client.post(
            f"/alerts/{source}",
            content=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
    await stage.settle()
    return response


def bearer(token: str = ALERT_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def grafana_signed(body: bytes, stamp: int, secret: str = GRAFANA_SECRET) -> dict[str, str]:
    """What Grafana sends with a timestamp header: the HMAC of `<timestamp>:<body>`."""
    return {
        "X-Grafana-Alerting-Signature": hmac_hex(secret, f"{stamp}:".encode() + body),
        TIMESTAMP_HEADER: str(stamp),
    }


def pagerduty_signed(body: bytes, *secrets: str) -> dict[str, str]:
    """PagerDuty signs with each of its current secrets while one is being rotated."""
    return {"X-PagerDuty-Signature": ",".join(f"v1={hmac_hex(s, body)}" for s in secrets)}


async def test_grafana_signed_with_a_timestamp_opens_an_incident(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        body = fixture("grafana-firing.json")
        now = int(stage.clock.now().timestamp())
        forged = grafana_signed(body, now, secret="someone-elses-secret")
        stale = grafana_signed(body, now - 10 * 60)
        body_only = {"X-Grafana-Alerting-Signature": hmac_hex(GRAFANA_SECRET, body)}
        tampered = grafana_signed(body, now)
        refused = [
            await post(stage, "grafana", body, forged),
            await post(stage, "grafana", body, stale),  # a replay, ten minutes later
            await post(stage, "grafana", body, body_only),  # the timestamp is not optional
            await post(stage, "grafana", body.replace(b"us-1", b"us-2"), tampered),
            await post(stage, "grafana", body, bearer()),  # a secret is set: no token instead
        ]
        assert [r.status_code for r in refused] == [401] * 5
        assert incident_channels(stage.sandbox) == []

        response = await post(stage, "grafana", body, grafana_signed(body, now + 30))
        assert response.status_code == 200, response.text
        assert response.json()["alerts"] == 2 and len(response.json()["opened"]) == 1
        incident = await only_incident(stage)
        assert incident.kind is IncidentKind.LATENCY and incident.service == "support-bot"
        alerts = await alerts_of(stage, incident)
        assert {a.name for a in alerts} == {"High memory usage", "High CPU usage"}
        assert {a.value for a in alerts} == {"B=44.23943737541908, C=1"}


async def test_grafana_without_a_secret_takes_the_bearer_token(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path, signed=False) as stage:
        body = fixture("grafana-firing.json")
        now = int(stage.clock.now().timestamp())
        assert (await post(stage, "grafana", body, grafana_signed(body, now))).status_code == 401
        assert (await post(stage, "grafana", body, bearer(TOKEN))).status_code == 401  # API's
        response = await post(stage, "grafana", body, bearer())
        assert response.status_code == 200, response.text
        assert len(response.json()["opened"]) == 1
        assert (await only_incident(stage)).kind is IncidentKind.LATENCY


async def test_a_pagerduty_incident_is_followed_from_trigger_to_resolution(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        annotated = fixture("pagerduty-annotated.json")
        note = await post(stage, "pagerduty", annotated, pagerduty_signed(annotated, PD_NEW))
        assert note.status_code == 200, note.text
        assert note.json() | {"duplicate": False} == {
            "duplicate": False,
            "alerts": 0,
            "opened": [],
            "joined": [],
            "ignored": 0,
            "pending": [],
        }
        assert incident_channels(stage.sandbox) == []

        triggered = fixture("pagerduty-triggered.json")
        forged = pagerduty_signed(triggered, "not-our-secret")
        assert (await post(stage, "pagerduty", triggered, forged)).status_code == 401
        assert (await post(stage, "pagerduty", triggered, bearer())).status_code == 401
        tampered = pagerduty_signed(triggered, PD_NEW)
        changed = triggered.replace(b"A little bump", b"A large bump")
        assert (await post(stage, "pagerduty", changed, tampered)).status_code == 401
        assert incident_channels(stage.sandbox) == []

        opened = await post(stage, "pagerduty", triggered, pagerduty_signed(triggered, PD_NEW))
        assert opened.status_code == 200, opened.text
        assert len(opened.json()["opened"]) == 1
        incident = await only_incident(stage)
        assert incident.kind is IncidentKind.TOOL and incident.service == "support-bot"
        assert incident.title == "A little bump in the road"

        # PagerDuty rotating its secret signs with both; we still know the old one too.
        acknowledged = fixture("pagerduty-acknowledged.json")
        both = pagerduty_signed(acknowledged, "pagerduty-secret-next", PD_OLD)
        response = await post(stage, "pagerduty", acknowledged, both)
        assert response.status_code == 200 and response.json()["joined"] == [incident.id]
        [alert] = await alerts_of(stage, incident)
        assert alert.status is AlertStatus.ACKNOWLEDGED and alert.notifications == 2
        [_, heard] = await timeline(stage, incident, EventType.ALERT_FIRING)
        assert heard.data["status"] == "acknowledged" and heard.data["grouping"] == "same alert"

        resolved = fixture("pagerduty-resolved.json")
        response = await post(stage, "pagerduty", resolved, pagerduty_signed(resolved, PD_OLD))
        assert response.status_code == 200 and response.json()["joined"] == [incident.id]
        [alert] = await alerts_of(stage, incident)
        assert alert.status is AlertStatus.RESOLVED
        [event] = await timeline(stage, incident, EventType.ALERT_RESOLVED)
        assert event.data["source"] == "pagerduty" and event.data["fingerprint"] == "PGR0VU2"
        await stage.run_due_work()
        assert any(
            "The alert is resolved" in text_of(m) and "/incident resolve" in text_of(m)
            for m in stage.sandbox.messages(str(incident.channel_id))
        )
        assert len(incident_channels(stage.sandbox)) == 1


async def test_a_pagerduty_acknowledgement_reads_as_one_on_the_timeline(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        for name in ("pagerduty-triggered.json", "pagerduty-acknowledged.json"):
            body = fixture(name)
            assert (await post(stage, "pagerduty", body, pagerduty_signed(body, PD_NEW))).is_success
        [_, heard] = await timeline(stage, await only_incident(stage), EventType.ALERT_FIRING)
        assert "acknowledged" in heard.text and "firing" not in heard.text, heard.text


async def test_alertmanager_takes_its_bearer_token_and_a_delivery_counts_once(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        body = fixture("alertmanager-firing.json")
        for wrong in ({}, bearer("not-the-alert-token-0123"), bearer(TOKEN)):
            assert (await post(stage, "alertmanager", body, wrong)).status_code == 401
        assert incident_channels(stage.sandbox) == []

        first = await post(stage, "alertmanager", body, bearer())
        assert first.status_code == 200, first.text
        assert len(first.json()["opened"]) == 2  # a quality and a retrieval incident
        kinds = {(await incident_of(stage, c)).kind for c in incident_channels(stage.sandbox)}
        assert kinds == {IncidentKind.QUALITY, IncidentKind.RETRIEVAL}
        await stage.run_due_work()
        calls = len(stage.sandbox.calls)

        # Alertmanager retrying the same delivery (its answer was lost): nothing new at all.
        again = await post(stage, "alertmanager", body, bearer())
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert again.json()["opened"] == [] and again.json()["joined"] == []
        await stage.run_due_work()
        assert len(incident_channels(stage.sandbox)) == 2
        assert [c.method for c in stage.sandbox.calls[calls:]] == []
        for channel in incident_channels(stage.sandbox):
            incident = await incident_of(stage, channel)
            assert all(a.notifications == 1 for a in await alerts_of(stage, incident))
            assert len(await timeline(stage, incident, EventType.ALERT_FIRING)) == 1


async def test_a_rate_limited_summary_update_is_retried_until_it_lands(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        firing = fixture("alertmanager-firing.json")
        assert (await post(stage, "alertmanager", firing, bearer())).status_code == 200
        await stage.run_due_work()
        incident = await incident_by_kind(stage, IncidentKind.QUALITY)
        channel = str(incident.channel_id)

        # slack_sdk waits out Retry-After and tries again within the same tick.
        resolved = fixture("alertmanager-resolved.json")
        assert (await post(stage, "alertmanager", resolved, bearer())).status_code == 200
        stage.sandbox.fail_next("chat.update", "ratelimited", retry_after=1)
        calls = len(stage.sandbox.calls)
        await stage.run_due_work()
        assert updates(stage, calls) == ["ratelimited", None]
        assert "0 firing, 1 resolved" in text_of(summary_message(stage, channel))
        assert any("The alert is resolved" in text_of(m) for m in stage.sandbox.messages(channel))

        # Limited past the client's three retries: left stale, and updated on the next tick.
        assert (await post(stage, "alertmanager", resolved, bearer())).json()["duplicate"]
        stage.clock.advance(timedelta(minutes=1))  # the same bytes later: a repeat, not a retry
        repeat = await post(stage, "alertmanager", resolved, bearer())
        assert repeat.json()["joined"] == [incident.id]
        stage.sandbox.fail_next("chat.update", "ratelimited", times=4, retry_after=0)
        calls = len(stage.sandbox.calls)
        await stage.run_due_work()
        assert updates(stage, calls) == ["ratelimited"] * 4
        assert "2 notifications" in text_of(summary_message(stage, channel))
        calls = len(stage.sandbox.calls)
        await stage.run_due_work()
        assert updates(stage, calls) == [None]
        assert "3 notifications" in text_of(summary_message(stage, channel))


# Reading what the bot stored and posted.


async def only_incident(stage: Stage) -> Incident:
    [channel] = incident_channels(stage.sandbox)
    return await incident_of(stage, channel)


async def incident_by_kind(stage: Stage, kind: IncidentKind) -> Incident:
    incidents = [await incident_of(stage, c) for c in incident_channels(stage.sandbox)]
    [found] = [i for i in incidents if i.kind is kind]
    return found


async def alerts_of(stage: Stage, incident: Incident) -> list[TrackedAlert]:
    async with stage.runtime.deps.uow() as uow:
        return await uow.alerts.for_incident(incident.id)


async def timeline(stage: Stage, incident: Incident, kind: EventType) -> list[TimelineEvent]:
    async with stage.runtime.deps.uow() as uow:
        return [e for e in await uow.timeline.for_incident(incident.id) if e.type is kind]


def updates(stage: Stage, since: int) -> list[str | None]:
    """The outcome (an error, or None) of each chat.update since the `since`-th call."""
    return [c.error for c in stage.sandbox.calls[since:] if c.method == "chat.update"]


def summary_message(stage: Stage, channel_id: str) -> JSON:
    [summary] = [
        m for m in stage.sandbox.messages(channel_id) if ":rotating_light: *Alerts*" in text_of(m)
    ]
    return summary
