"""The Alertmanager harness: a real Alertmanager delivers webhooks to a receiver of ours."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.sandbox import serve_app
from tests.support.alertmanager import running_alertmanager

pytestmark = pytest.mark.alertmanager

TOKEN = "steadyhand-test-webhook-token"
WAIT_SECONDS = 20
ALERT = {
    "labels": {"alertname": "HighErrorRate", "service": "checkout", "severity": "page"},
    "annotations": {"summary": "checkout 5xx above 5%", "runbook": "checkout-errors"},
    "generatorURL": "http://prometheus.example/graph?g0.expr=up",
}


class Receiver:
    """A webhook receiver that records what it is sent."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str | None, dict[str, Any]]] = []  # (Authorization, body)
        self.app = Starlette(routes=[Route("/alerts", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        self.deliveries.append((request.headers.get("authorization"), await request.json()))
        return Response(status_code=200)

    def bodies(self, status: str) -> list[dict[str, Any]]:
        return [body for _, body in self.deliveries if body["status"] == status]


async def test_a_fired_alert_is_delivered_and_its_resolution_too(tmp_path: Path) -> None:
    receiver = Receiver()
    async with serve_app(receiver.app) as receiver_url:
        with running_alertmanager(f"{receiver_url}/alerts", TOKEN, tmp_path) as alertmanager:
            await alertmanager.post_alerts([ALERT])
            await _until(lambda: receiver.bodies("firing"))
            await alertmanager.resolve([ALERT])
            await _until(lambda: receiver.bodies("resolved"))

    (firing,) = receiver.bodies("firing")
    assert firing["version"] == "4"
    assert firing["receiver"] == "steadyhand"
    assert firing["groupLabels"] == {"alertname": "HighErrorRate", "service": "checkout"}
    assert firing["groupKey"] == '{}:{alertname="HighErrorRate", service="checkout"}'
    (alert,) = firing["alerts"]
    assert alert["status"] == "firing"
    assert alert["labels"] == ALERT["labels"]
    assert alert["annotations"] == ALERT["annotations"]
    assert alert["generatorURL"] == ALERT["generatorURL"]
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"  # still firing
    (resolved,) = receiver.bodies("resolved")
    assert resolved["groupKey"] == firing["groupKey"]
    assert resolved["alerts"][0]["status"] == "resolved"
    assert resolved["alerts"][0]["fingerprint"] == alert["fingerprint"]
    assert {header for header, _ in receiver.deliveries} == {f"Bearer {TOKEN}"}


async def _until(condition: Callable[[], object]) -> None:
    """Poll `condition` until it is truthy; Alertmanager delivers on its own schedule."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not delivered within {WAIT_SECONDS} s")
        await asyncio.sleep(0.05)
