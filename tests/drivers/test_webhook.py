"""The webhook driver against a real receiver on loopback that checks every signature."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.domain.actions import (
    Action,
    ActionKind,
    ActionRequest,
    FlagMove,
    RequestStatus,
    Risk,
    VersionMove,
)
from bot.domain.drivers import WebhookDriverSpec
from bot.domain.registry import Component, FlagKind
from bot.drivers.payload import action_payload
from bot.drivers.webhook import WebhookDriver, sign, verify_signature
from bot.sandbox import serve_app

SECRET = "s3cret"
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


def rollback_request(attempts: int = 1) -> ActionRequest:
    return ActionRequest(
        id="req-1",
        incident_id="inc-7",
        channel_id="C1",
        action=Action(
            ActionKind.ROLLBACK,
            "support-bot",
            (VersionMove(Component.PROMPT, "v13", "v12"),),
        ),
        risk=Risk.HIGH,
        reason="v13 leaks refund codes",
        requested_by="U1",
        requested_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
        status=RequestStatus.APPLYING,
        decided_by="U2",
        decided_at=NOW,
        attempts=attempts,
    )


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Refuses unsigned or stale requests with 401, then answers from `script` in order
    (and 200 "applied" once it runs out); `hang` makes it never answer."""

    url: str = ""
    script: list[tuple[int, str]] = field(default_factory=list)
    hang: bool = False
    deliveries: list[Delivery] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.deliveries.append(Delivery(dict(request.headers), body))
        signed = verify_signature(
            SECRET,
            request.headers.get("x-steadyhand-timestamp", ""),
            body,
            request.headers.get("x-steadyhand-signature", ""),
            now=time.time(),
        )
        if not signed:
            return PlainTextResponse("bad or stale signature", status_code=401)
        if self.hang:
            await self.release.wait()
        status, text = self.script.pop(0) if self.script else (200, "applied")
        return PlainTextResponse(text, status_code=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    async with serve_app(app) as base_url:
        receiver.url = f"{base_url}/hook"
        yield receiver
        receiver.release.set()  # let a hanging handler finish so the server can stop


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


class Sleeps:
    """Records the backoff instead of waiting it out."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def driver_for(
    url: str,
    http: httpx.AsyncClient,
    sleeps: Sleeps,
    timeout_seconds: float = 5.0,
    max_attempts: int = 3,
) -> WebhookDriver:
    spec = WebhookDriverSpec(url, SECRET, timeout_seconds, max_attempts)
    return WebhookDriver(spec, http, sleep=sleeps)


async def test_a_2xx_answer_means_applied(receiver: Receiver, http: httpx.AsyncClient) -> None:
    receiver.script = [(200, "rolled back support-bot prompt to v12")]

    result = await driver_for(receiver.url, http, Sleeps()).apply(rollback_request())

    assert result.applied
    assert result.detail == "rolled back support-bot prompt to v12"
    [delivery] = receiver.deliveries
    assert delivery.headers["idempotency-key"] == "req-1:1"
    assert delivery.headers["user-agent"] == "steadyhand"
    assert delivery.headers["content-type"] == "application/json"
    assert json.loads(delivery.body) == {
        "request_id": "req-1",
        "incident_id": "inc-7",
        "service": "support-bot",
        "action": "rollback",
        "moves": [{"component": "prompt", "from": "v13", "to": "v12"}],
        "reason": "v13 leaks refund codes",
        "requested_by": "U1",
        "approved_by": "U2",
        "attempt": 1,
    }


async def test_an_empty_2xx_answer_is_reported_by_its_status(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.script = [(204, "")]

    result = await driver_for(receiver.url, http, Sleeps()).apply(rollback_request())

    assert result.applied
    assert result.detail == "HTTP 204"


async def test_a_4xx_fails_at_once_with_the_receivers_own_text(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.script = [(409, "prompt v12 was deleted\nlast week")]
    sleeps = Sleeps()

    result = await driver_for(receiver.url, http, sleeps).apply(rollback_request())

    assert not result.applied
    assert not result.timed_out
    assert result.detail == "HTTP 409: prompt v12 was deleted last week"
    assert len(receiver.deliveries) == 1
    assert sleeps.seconds == []


async def test_a_long_refusal_is_cut_to_an_excerpt(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.script = [(422, "x" * 5000)]

    result = await driver_for(receiver.url, http, Sleeps()).apply(rollback_request())

    assert not result.applied
    assert result.detail.startswith("HTTP 422: xxx")
    assert result.detail.endswith("…")
    assert len(result.detail) < 320


async def test_a_5xx_is_retried_with_the_same_idempotency_key(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.script = [(500, "database restarting"), (200, "done")]
    sleeps = Sleeps()

    result = await driver_for(receiver.url, http, sleeps).apply(rollback_request())

    assert result.applied
    assert result.detail == "done"
    assert [d.headers["idempotency-key"] for d in receiver.deliveries] == ["req-1:1", "req-1:1"]
    assert receiver.deliveries[0].body == receiver.deliveries[1].body
    assert sleeps.seconds == [0.2]


async def test_a_receiver_that_keeps_failing_fails_after_max_attempts(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.script = [(503, "overloaded")] * 5
    sleeps = Sleeps()

    result = await driver_for(receiver.url, http, sleeps, max_attempts=4).apply(rollback_request())

    assert not result.applied
    assert not result.timed_out
    assert result.detail == "HTTP 503: overloaded (gave up after 4 attempts)"
    assert len(receiver.deliveries) == 4
    assert sleeps.seconds == [0.2, 0.4, 0.8]


async def test_a_receiver_that_never_answers_times_out(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.hang = True
    driver = driver_for(receiver.url, http, Sleeps(), timeout_seconds=0.2, max_attempts=2)

    result = await driver.apply(rollback_request())

    assert not result.applied
    assert result.timed_out
    assert result.detail == "no answer within 0.2 s (gave up after 2 attempts)"
    assert len(receiver.deliveries) == 2


async def test_a_closed_port_fails_with_the_connection_error(http: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()

    result = await driver_for(f"http://127.0.0.1:{port}/hook", http, sleeps).apply(
        rollback_request()
    )

    assert not result.applied
    assert not result.timed_out
    assert result.detail.startswith("could not reach the webhook: ConnectError")
    assert result.detail.endswith("(gave up after 3 attempts)")
    assert sleeps.seconds == [0.2, 0.4]


async def test_a_receiver_refuses_a_stale_signature(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    an_hour_ago = time.time() - 3600
    driver = WebhookDriver(
        WebhookDriverSpec(receiver.url, SECRET), http, sleep=Sleeps(), clock=lambda: an_hour_ago
    )

    result = await driver.apply(rollback_request())

    assert not result.applied
    assert result.detail == "HTTP 401: bad or stale signature"


async def test_a_receiver_refuses_a_signature_made_with_another_secret(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    driver = WebhookDriver(WebhookDriverSpec(receiver.url, "not the secret"), http, Sleeps())

    result = await driver.apply(rollback_request())

    assert result.detail == "HTTP 401: bad or stale signature"


def test_verify_signature_accepts_the_signature_over_timestamp_and_body() -> None:
    body = b'{"request_id":"req-1"}'
    header = sign(SECRET, "1700000000", body)

    assert header.startswith("v1=")
    assert verify_signature(SECRET, "1700000000", body, header, now=1700000100)


@pytest.mark.parametrize(
    ("timestamp", "body", "header", "now"),
    [
        ("1700000000", b'{"request_id":"req-2"}', None, 1700000000),  # body changed
        ("1700000001", b'{"request_id":"req-1"}', None, 1700000000),  # timestamp changed
        ("1700000000", b'{"request_id":"req-1"}', None, 1700000301),  # stale
        ("1700000000", b'{"request_id":"req-1"}', None, 1699999699),  # from the future
        ("1700000000", b'{"request_id":"req-1"}', "v1=" + "0" * 64, 1700000000),  # forged
        ("1700000000", b'{"request_id":"req-1"}', "", 1700000000),  # missing
        ("yesterday", b'{"request_id":"req-1"}', None, 1700000000),  # not a timestamp
    ],
)
def test_verify_signature_refuses_forged_and_stale_requests(
    timestamp: str, body: bytes, header: str | None, now: float
) -> None:
    signed = sign(SECRET, "1700000000", b'{"request_id":"req-1"}')

    assert not verify_signature(
        SECRET, timestamp, body, signed if header is None else header, now=now
    )


def test_the_payload_carries_flag_moves_with_their_kind_and_values() -> None:
    request = rollback_request(attempts=2)
    request.action = Action(
        ActionKind.FLAG,
        "support-bot",
        (
            FlagMove("refunds", FlagKind.BOOLEAN, True, False),
            FlagMove("new_router", FlagKind.PERCENTAGE, 50, 0),
        ),
    )

    payload = action_payload(request)

    assert payload["action"] == "flag"
    assert payload["attempt"] == 2
    assert payload["moves"] == [
        {"flag": "refunds", "kind": "boolean", "from": True, "to": False},
        {"flag": "new_router", "kind": "percentage", "from": 50, "to": 0},
    ]
