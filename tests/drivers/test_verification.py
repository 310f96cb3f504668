"""HttpVerifier against a real health endpoint and a real eval service on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain.actions import Action, ActionKind, ActionRequest, Risk, VersionMove
from bot.domain.drivers import VerificationSpec
from bot.domain.registry import Component
from bot.drivers.verification import HttpVerifier
from bot.sandbox import serve_app

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
REQUEST = ActionRequest(
    id="req-1",
    incident_id="inc-7",
    channel_id="C1",
    action=Action(
        ActionKind.ROLLBACK, "support-bot", (VersionMove(Component.PROMPT, "v13", "v12"),)
    ),
    risk=Risk.HIGH,
    reason="v13 leaks refund codes",
    requested_by="U1",
    requested_at=NOW,
    expires_at=NOW + timedelta(minutes=15),
    decided_by="U2",
    attempts=1,
)


@dataclass
class Checks:
    """Answers every request with `status` and `body` (JSON-encoded unless it is a str)."""

    base_url: str = ""
    status: int = 200
    body: object = ""
    hang: bool = False
    received: list[tuple[str, bytes]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: Request) -> Response:
        self.received.append((request.method, await request.body()))
        if self.hang:
            await self.release.wait()
        content = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return Response(content, status_code=self.status)


@pytest.fixture
async def checks() -> AsyncIterator[Checks]:
    checks = Checks()
    app = Starlette(routes=[Route("/check", checks.handle, methods=["GET", "POST"])])
    async with serve_app(app) as base_url:
        checks.base_url = base_url
        yield checks
        checks.release.set()  # let a hanging handler finish so the server can stop


@pytest.fixture
async def verifier() -> AsyncIterator[HttpVerifier]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield HttpVerifier(lambda: client)


def http_check(checks: Checks) -> VerificationSpec:
    return VerificationSpec("http", f"{checks.base_url}/check")


def eval_check(checks: Checks, threshold: float | None = 0.85) -> VerificationSpec:
    return VerificationSpec("eval", f"{checks.base_url}/check", threshold=threshold)


async def test_http_passes_on_a_2xx(checks: Checks, verifier: HttpVerifier) -> None:
    result = await verifier.verify(http_check(checks), REQUEST)

    assert result.passed
    assert result.summary == f"HTTP 200 from {checks.base_url}/check"
    assert checks.received == [("GET", b"")]


async def test_http_fails_on_a_5xx_with_the_answer(checks: Checks, verifier: HttpVerifier) -> None:
    checks.status, checks.body = 500, "upstream model unavailable"

    result = await verifier.verify(http_check(checks), REQUEST)

    assert not result.passed
    assert result.summary == f"HTTP 500 from {checks.base_url}/check: upstream model unavailable"


async def test_eval_posts_the_action_and_passes_at_the_threshold(
    checks: Checks, verifier: HttpVerifier
) -> None:
    checks.body = {"score": 0.91, "detail": "refund leak eval: 91/100 clean"}

    result = await verifier.verify(eval_check(checks), REQUEST)

    assert result.passed
    assert result.score == 0.91
    assert result.summary == "eval score 0.91 ≥ 0.85: refund leak eval: 91/100 clean"
    [(method, body)] = checks.received
    assert method == "POST"
    assert json.loads(body)["moves"] == [{"component": "prompt", "from": "v13", "to": "v12"}]


async def test_eval_passes_on_a_score_equal_to_the_threshold(
    checks: Checks, verifier: HttpVerifier
) -> None:
    checks.body = {"score": 0.85}

    result = await verifier.verify(eval_check(checks), REQUEST)

    assert result.passed
    assert result.summary == "eval score 0.85 ≥ 0.85"


async def test_eval_fails_below_the_threshold(checks: Checks, verifier: HttpVerifier) -> None:
    checks.body = {"score": 0.62}

    result = await verifier.verify(eval_check(checks), REQUEST)

    assert not result.passed
    assert result.score == 0.62
    assert result.summary == "eval score 0.62 < 0.85"


async def test_eval_fails_on_an_answer_that_is_not_json(
    checks: Checks, verifier: HttpVerifier
) -> None:
    checks.body = "<html>login required</html>"

    result = await verifier.verify(eval_check(checks), REQUEST)

    assert not result.passed
    assert result.score is None
    assert result.summary == (
        f"eval answer from {checks.base_url}/check is not JSON: <html>login required</html>"
    )


@pytest.mark.parametrize(
    "body",
    [{"detail": "ok"}, {"score": "0.9"}, {"score": True}, {"score": 1.5}, [0.9]],
    ids=["missing", "a string", "a bool", "above 1", "not an object"],
)
async def test_eval_fails_without_a_numeric_score(
    checks: Checks, verifier: HttpVerifier, body: object
) -> None:
    checks.body = body

    result = await verifier.verify(eval_check(checks), REQUEST)

    assert not result.passed
    assert result.summary.startswith(
        f"eval answer from {checks.base_url}/check has no numeric score between 0 and 1: "
    )


async def test_eval_fails_on_a_non_2xx(checks: Checks, verifier: HttpVerifier) -> None:
    checks.status, checks.body = 502, {"score": 1.0}

    result = await verifier.verify(eval_check(checks), REQUEST)

    assert not result.passed
    assert result.summary.startswith(f"HTTP 502 from {checks.base_url}/check")


async def test_eval_without_a_threshold_fails_without_calling(
    checks: Checks, verifier: HttpVerifier
) -> None:
    result = await verifier.verify(eval_check(checks, threshold=None), REQUEST)

    assert not result.passed
    assert "no threshold" in result.summary
    assert checks.received == []


async def test_a_check_that_never_answers_times_out(checks: Checks, verifier: HttpVerifier) -> None:
    checks.hang = True
    spec = VerificationSpec("eval", f"{checks.base_url}/check", 0.85, timeout_seconds=0.2)

    result = await verifier.verify(spec, REQUEST)

    assert not result.passed
    assert result.summary == f"timed out after 0.2 s waiting for {checks.base_url}/check"


async def test_a_closed_port_fails_with_the_connection_error(verifier: HttpVerifier) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/health"

    result = await verifier.verify(VerificationSpec("http", url), REQUEST)

    assert not result.passed
    assert result.summary.startswith(f"could not reach {url}: ConnectError")


async def test_an_unknown_kind_fails(verifier: HttpVerifier) -> None:
    result = await verifier.verify(VerificationSpec("smoke", "http://127.0.0.1:9"), REQUEST)

    assert not result.passed
    assert result.summary == "unknown verification kind 'smoke' (expected http or eval)"
