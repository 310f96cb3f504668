"""Alerts for services steadyhand.yml does not declare, in the sources' real payload shapes:
each undeclared service (or, naming none, each alert) gets its own incident, and more alerts
for it join that one. They used to share one grouping key, so a Kubernetes crash loop, two
Grafana alerts and a PagerDuty incident about four different services landed in one incident."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.domain.kinds import IncidentKind
from bot.stage import Stage
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import incident_channels, incident_of
from tests.e2e.registry_stage import CONFIG, TOKEN
from tests.e2e.test_alert_sources import (
    ALERT_TOKEN,
    PD_NEW,
    alerts_of,
    bearer,
    fixture,
    only_incident,
    pagerduty_signed,
    post,
)

PAGERDUTY = "\nalerts:\n  pagerduty_secret_env: PAGERDUTY_SECRET\n"  # no rules: labels decide


@asynccontextmanager
async def undeclared_stage(make_stage: StageFactory, tmp_path: Path) -> AsyncIterator[Stage]:
    config = tmp_path / "steadyhand.yml"
    config.write_text(CONFIG + PAGERDUTY)  # declares support-bot and search only
    env = {
        "STEADYHAND_CONFIG": str(config),
        "STEADYHAND_API_TOKENS": TOKEN,
        "STEADYHAND_ALERT_TOKENS": ALERT_TOKEN,
        "PAGERDUTY_SECRET": PD_NEW,
    }
    async with make_stage(env=env) as stage:
        yield stage


def grafana(services: list[str | None]) -> bytes:
    """Grafana's own example notification, its two alerts labelled with these services."""
    body = json.loads(fixture("grafana-firing.json"))
    for alert, service in zip(body["alerts"], services, strict=True):
        alert["labels"].pop("team")
        if service is not None:
            alert["labels"]["service"] = service
    return json.dumps(body).encode()


def another_crash_loop() -> bytes:
    """The same deployment's next pod crash-looping: another alert, the same service."""
    body = json.loads(fixture("alertmanager-crashloop.json"))
    alert = body["alerts"][0]
    alert["labels"]["pod"] = "payments-api-7d9f8c6b5-k81mz"
    alert["fingerprint"] = "b91e07c3d2a64f58"
    return json.dumps(body).encode()


async def incidents_by_alert(stage: Stage) -> dict[str, str]:
    """Alert name → the incident its alert joined."""
    found: dict[str, str] = {}
    for channel in incident_channels(stage.sandbox):
        incident = await incident_of(stage, channel)
        for alert in await alerts_of(stage, incident):
            found[alert.name] = incident.id
    return found


async def test_different_undeclared_services_open_different_incidents(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with undeclared_stage(make_stage, tmp_path) as stage:
        crash_loop = fixture("alertmanager-crashloop.json")
        assert (await post(stage, "alertmanager", crash_loop, bearer())).status_code == 200
        two = grafana(["recommender", None])  # the second names no service at all
        assert (await post(stage, "grafana", two, bearer())).status_code == 200
        triggered = fixture("pagerduty-triggered.json")  # service "API Service"
        signed = pagerduty_signed(triggered, PD_NEW)
        assert (await post(stage, "pagerduty", triggered, signed)).status_code == 200

        opened = await incidents_by_alert(stage)
        assert len(incident_channels(stage.sandbox)) == 4
        assert len(set(opened.values())) == 4, opened
        for channel in incident_channels(stage.sandbox):
            assert (await incident_of(stage, channel)).kind is IncidentKind.UNKNOWN

        # More alerts for the same undeclared services join their incidents.
        again = await post(stage, "alertmanager", another_crash_loop(), bearer())
        assert again.json()["opened"] == [] and again.json()["joined"] == [
            opened["KubePodCrashLooping"]
        ]
        recommender = json.loads(grafana(["recommender", "recommender"]))
        recommender["alerts"] = recommender["alerts"][1:]  # High CPU usage, now on recommender
        recommender["alerts"][0]["fingerprint"] = "recommender-cpu"
        more = await post(stage, "grafana", json.dumps(recommender).encode(), bearer())
        assert more.json()["opened"] == [], more.text
        assert more.json()["joined"] == [opened["High memory usage"]]
        assert len(incident_channels(stage.sandbox)) == 4


async def test_the_same_undeclared_service_from_two_sources_is_one_incident(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with undeclared_stage(make_stage, tmp_path) as stage:
        crash_loop = fixture("alertmanager-crashloop.json")
        assert (await post(stage, "alertmanager", crash_loop, bearer())).status_code == 200
        on_grafana = grafana(["payments-api", "payments-api"])
        response = await post(stage, "grafana", on_grafana, bearer())
        assert response.json()["opened"] == [] and len(response.json()["joined"]) == 1
        incident = await only_incident(stage)
        names = {a.name for a in await alerts_of(stage, incident)}
        assert names == {"KubePodCrashLooping", "High memory usage", "High CPU usage"}
