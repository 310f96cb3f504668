"""The monitors: alert notifications in each source's real payload shape, sent and retried
as the monitor would (a 5xx, a 429 or no answer again with backoff; a 4xx is a rejection)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from bot.sandbox.alertmanager import FiringAlert, alertmanager_body
from bot.sandbox.chaos.shared import Sent

ALERT_TOKEN = "chaos-alert-token-0123456789"
PAGERDUTY_SECRET = "chaos-pagerduty-secret"
# Alertmanager's webhook retries with backoff until the notification is delivered.
ALERT_TIMEOUT_S = 15.0
ALERT_RETRY_FOR_S = 120.0


@dataclass(frozen=True)
class AlertDelivery:
    source: str  # the path under /alerts/
    body: bytes
    alerts: tuple[str, ...]  # "source:fingerprint" of each alert it carries
    group: str  # "service/kind": alerts of one group belong in one incident
    headers: dict[str, str]


@dataclass(frozen=True)
class _Monitored:
    name: str
    service: str
    team: str
    component: str


# Alertmanager, Grafana and the generic format each own some alert groups; PagerDuty one.
_ALERTMANAGER = (
    [_Monitored(n, "support-bot", "assistants", "prompt") for n in ("RefusalRateHigh", "EvalDrop")]
    + [_Monitored("AnswerLengthAnomaly", "support-bot", "assistants", "prompt")]
    + [_Monitored(n, "search", "search", "index") for n in ("RecallDrop", "EmptyResults")]
    + [_Monitored("IndexStale", "search", "search", "index")]
)
_GRAFANA = [
    _Monitored(n, "agents", "agents", "tools")
    for n in ("ToolErrorRateHigh", "ToolTimeouts", "ToolSchemaRejects")
]
_GENERIC = ["token-spend", "cache-misses", "retries-cost"]
_PAGERDUTY = ["PCHAOS1", "PCHAOS2", "PCHAOS3", "PCHAOS4"]
GROUP_OF_TEAM = {"assistants": "support-bot/quality", "search": "search/retrieval"}


def alert_deliveries(count: int, seed: int, rng: random.Random) -> list[AlertDelivery]:
    """`count` deliveries across the four sources, every body different."""
    now = datetime.now(UTC)
    stamp = f"{seed}-{int(now.timestamp())}"
    started = (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    makers: list[Callable[[int], AlertDelivery]] = [
        lambda n: _alertmanager(rng, n, started, stamp, "assistants"),
        lambda n: _alertmanager(rng, n, started, stamp, "search"),
        lambda n: _grafana(rng, n, started, stamp),
        lambda n: _pagerduty(rng, n, stamp),
        lambda n: _generic(rng, n, stamp),
    ]
    return [makers[rng.randrange(len(makers))](n) for n in range(count)]


def _bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"}


def _alertmanager(rng: random.Random, n: int, started: str, stamp: str, team: str) -> AlertDelivery:
    group = [a for a in _ALERTMANAGER if a.team == team]
    alerts = [
        FiringAlert(a.name, a.service, a.team, a.component, started, _fingerprint(stamp, a.name))
        for a in rng.sample(group, rng.randint(1, len(group)))
    ]
    keys = tuple(f"alertmanager:{a.fingerprint}" for a in alerts)
    body = alertmanager_body(alerts, n)
    return AlertDelivery("alertmanager", body, keys, GROUP_OF_TEAM[team], _bearer())


def _grafana(rng: random.Random, n: int, started: str, stamp: str) -> AlertDelivery:
    alerts = rng.sample(_GRAFANA, rng.randint(1, len(_GRAFANA)))
    body = {
        "receiver": "steadyhand",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": a.name, "team": a.team, "service": a.service},
                "annotations": {"summary": f"{a.name} on {a.service}"},
                "startsAt": started,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://grafana.example/alerting/grafana/chaos/view",
                "fingerprint": _fingerprint(stamp, a.name),
                "silenceURL": "https://grafana.example/alerting/silence/new",
                "dashboardURL": "",
                "panelURL": "",
                "values": {"B": 0.4 + n / 10_000, "C": 1},
            }
            for a in alerts
        ],
        "groupLabels": {},
        "commonLabels": {"team": "agents", "service": "agents"},
        "commonAnnotations": {},
        "externalURL": "https://grafana.example/",
        "version": "1",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "title": f"[FIRING:{len(alerts)}] (agents)",
        "state": "alerting",
        "message": f"Notification {n}",
    }
    keys = tuple(f"grafana:{_fingerprint(stamp, a.name)}" for a in alerts)
    return AlertDelivery("grafana", json.dumps(body).encode(), keys, "agents/tool", _bearer())


def _pagerduty(rng: random.Random, n: int, stamp: str) -> AlertDelivery:
    incident = f"{rng.choice(_PAGERDUTY)}{stamp.replace('-', '')}"
    event = rng.choice(["incident.triggered", "incident.unacknowledged", "incident.reopened"])
    service = {"id": "PAGENTS", "summary": "agents", "type": "service_reference"}
    body = {
        "event": {
            "id": f"EV{stamp.replace('-', '')}{n:05d}",
            "event_type": event,
            "resource_type": "incident",
            "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "agent": None,
            "client": None,
            "data": {
                "id": incident,
                "type": "incident",
                "self": f"https://api.pagerduty.com/incidents/{incident}",
                "html_url": f"https://acme.pagerduty.com/incidents/{incident}",
                "number": n,
                "status": "triggered",
                "incident_key": hashlib.sha1(incident.encode()).hexdigest(),
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "title": f"Agent latency p95 over 8 s ({incident[:7]})",
                "service": service,
                "urgency": "high",
            },
        }
    }
    raw = json.dumps(body).encode()
    signature = hmac.new(PAGERDUTY_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-PagerDuty-Signature": f"v1={signature}"}
    return AlertDelivery("pagerduty", raw, (f"pagerduty:{incident}",), "agents/latency", headers)


def _generic(rng: random.Random, n: int, stamp: str) -> AlertDelivery:
    names = rng.sample(_GENERIC, rng.randint(1, len(_GENERIC)))
    body = {
        "id": f"cost-check-{stamp}-{n}",
        "alerts": [
            {
                "service": "support-bot",
                "kind": "cost",
                "severity": "sev3",
                "summary": f"{name} is over budget",
                "value": f"${400 + n}",
                "threshold": "$140",
                "fingerprint": _fingerprint(stamp, name),
                "status": "firing",
            }
            for name in names
        ],
    }
    keys = tuple(f"generic:{_fingerprint(stamp, name)}" for name in names)
    return AlertDelivery("generic", json.dumps(body).encode(), keys, "support-bot/cost", _bearer())


def _fingerprint(stamp: str, name: str) -> str:
    return f"{name.lower()}-{stamp}"


async def send_alert(
    client: httpx.AsyncClient, base_url: str, delivery: AlertDelivery, sent: Sent
) -> None:
    sent.deliveries += 1
    deadline = time.monotonic() + ALERT_RETRY_FOR_S
    backoff = 0.5
    while True:
        try:
            answer = await client.post(
                f"{base_url}/alerts/{delivery.source}",
                content=delivery.body,
                headers=delivery.headers,
            )
            status = answer.status_code
        except httpx.TransportError:
            status = 0  # no answer: refused while the bot is down, or timed out
        if 200 <= status < 300:
            sent.accepted_deliveries += 1
            for key in delivery.alerts:
                sent.accepted_alerts[key] = delivery.group
            return
        if 400 <= status < 500 and status != 429:
            sent.rejected[status] += 1
            return
        if time.monotonic() + backoff > deadline:
            sent.gave_up += 1
            return
        sent.alert_retries += 1
        await asyncio.sleep(backoff * (1 + random.random() / 2))
        backoff = min(backoff * 2, 5.0)
