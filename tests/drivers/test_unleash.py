"""The Unleash driver against a real unleash-server (from npm, on PostgreSQL), read back through
Unleash's admin API and the client API that SDKs poll.

One server serves the whole session; each test uses its own service name, so its features
(`<service>.<flag>`) are its own.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from bot.domain.actions import (
    Action,
    ActionKind,
    ActionRequest,
    FlagMove,
    RequestStatus,
    Risk,
    VersionMove,
)
from bot.domain.drivers import UnleashDriverSpec
from bot.domain.registry import Component, FlagKind
from bot.drivers.unleash import UnleashDriver
from tests.support.unleash import ENVIRONMENT, Admin, UnleashServer

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)

Fn = TypeVar("Fn", bound=Callable[..., Any])


def against_unleash(test: Fn) -> Fn:
    """Marks a test that needs the real server (and so PostgreSQL)."""
    marked: Fn = pytest.mark.unleash(pytest.mark.postgres(test))
    return marked


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
def service() -> str:
    return f"svc-{secrets.token_hex(4)}"


@pytest.fixture
def admin(unleash: UnleashServer, http: httpx.AsyncClient) -> Admin:
    return Admin(unleash, http)


def driver_for(
    url: str, http: httpx.AsyncClient, token: str, timeout: float = 5.0
) -> UnleashDriver:
    spec = UnleashDriverSpec(url, token, environment=ENVIRONMENT, timeout_seconds=timeout)
    return UnleashDriver(spec, http)


@pytest.fixture
def driver(unleash: UnleashServer, http: httpx.AsyncClient) -> UnleashDriver:
    return driver_for(unleash.url, http, unleash.admin_token)


def request_for(
    service: str, *moves: FlagMove | VersionMove, kind: ActionKind = ActionKind.FLAG
) -> ActionRequest:
    return ActionRequest(
        id="req-1",
        incident_id="inc-7",
        channel_id="C1",
        action=Action(kind, service, moves),
        risk=Risk.LOW,
        reason="the new retriever returns stale policies",
        requested_by="U1",
        requested_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
        status=RequestStatus.APPLYING,
        decided_by="U1",
        decided_at=NOW,
        attempts=1,
    )


def boolean(flag: str, after: bool) -> FlagMove:
    return FlagMove(flag, FlagKind.BOOLEAN, not after, after)


def percentage(flag: str, before: int, after: int) -> FlagMove:
    return FlagMove(flag, FlagKind.PERCENTAGE, before, after)


def rollouts(environment: dict[str, Any]) -> list[str]:
    return [s["parameters"]["rollout"] for s in environment["strategies"]]


@against_unleash
async def test_on_enables_the_feature_in_the_environment(
    admin: Admin, driver: UnleashDriver, service: str
) -> None:
    name = f"{service}.new-retriever"
    await admin.create_feature(name)

    result = await driver.apply(request_for(service, boolean("new-retriever", True)))

    assert result.applied, result.detail
    assert result.detail == f"Unleash production: `{name}` on"
    assert (await admin.environment(name))["enabled"] is True
    assert (await admin.client_feature(name))["enabled"] is True


@against_unleash
async def test_off_disables_the_feature(admin: Admin, driver: UnleashDriver, service: str) -> None:
    name = f"{service}.new-retriever"
    await admin.create_feature(name, on=True)

    result = await driver.apply(request_for(service, boolean("new-retriever", False)))

    assert result.applied, result.detail
    assert (await admin.environment(name))["enabled"] is False
    assert (await admin.client_feature(name))["enabled"] is False


@against_unleash
async def test_a_percentage_updates_the_existing_rollout_strategy(
    admin: Admin, driver: UnleashDriver, service: str
) -> None:
    name = f"{service}.new-ranker"
    await admin.create_feature(name, rollout=25, on=True)

    result = await driver.apply(request_for(service, percentage("new-ranker", 25, 60)))

    assert result.applied, result.detail
    assert result.detail == f"Unleash production: `{name}` 60%"
    environment = await admin.environment(name)
    assert environment["enabled"] is True
    assert rollouts(environment) == ["60"]
    client = await admin.client_feature(name)
    assert client["enabled"] is True
    assert [s["parameters"]["rollout"] for s in client["strategies"]] == ["60"]


@against_unleash
async def test_a_percentage_adds_a_rollout_strategy_and_enables_a_feature_without_one(
    admin: Admin, driver: UnleashDriver, service: str
) -> None:
    name = f"{service}.new-ranker"
    await admin.create_feature(name)

    result = await driver.apply(request_for(service, percentage("new-ranker", 0, 40)))

    assert result.applied, result.detail
    environment = await admin.environment(name)
    assert environment["enabled"] is True
    assert [s["name"] for s in environment["strategies"]] == ["flexibleRollout"]
    assert rollouts(environment) == ["40"]


@against_unleash
async def test_zero_percent_disables_the_feature_and_sets_the_rollout_to_zero(
    admin: Admin, driver: UnleashDriver, service: str
) -> None:
    name = f"{service}.new-ranker"
    await admin.create_feature(name, rollout=60, on=True)

    result = await driver.apply(request_for(service, percentage("new-ranker", 60, 0)))

    assert result.applied, result.detail
    environment = await admin.environment(name)
    assert environment["enabled"] is False
    assert rollouts(environment) == ["0"]


@against_unleash
async def test_the_kill_switch_on_enables_its_feature(
    admin: Admin, driver: UnleashDriver, service: str
) -> None:
    name = f"{service}.kill_switch"
    await admin.create_feature(name)
    move = FlagMove("kill_switch", FlagKind.KILL_SWITCH, False, True)

    result = await driver.apply(request_for(service, move, kind=ActionKind.KILL_SWITCH))

    assert result.applied, result.detail
    assert (await admin.client_feature(name))["enabled"] is True


@against_unleash
async def test_a_missing_feature_fails_with_unleashs_text(
    driver: UnleashDriver, service: str
) -> None:
    result = await driver.apply(request_for(service, boolean("never-created", True)))

    assert not result.applied
    assert not result.timed_out
    name = f"{service}.never-created"
    assert result.detail.startswith(f"Unleash has no feature `{name}` in project `default`")
    assert f'HTTP 404: There\'s no feature named "{name}" in project "default".' in result.detail


@against_unleash
async def test_a_failure_names_the_moves_already_made(
    admin: Admin, driver: UnleashDriver, service: str
) -> None:
    await admin.create_feature(f"{service}.first")
    moves = (boolean("first", True), boolean("second", True))

    result = await driver.apply(request_for(service, *moves))

    assert not result.applied
    assert result.detail.startswith(f"Unleash has no feature `{service}.second`")
    assert result.detail.endswith(f"; already set: `{service}.first` on")


@against_unleash
async def test_a_bad_token_fails_with_unleashs_401_text(
    admin: Admin, unleash: UnleashServer, http: httpx.AsyncClient, service: str
) -> None:
    await admin.create_feature(f"{service}.new-retriever")
    driver = driver_for(unleash.url, http, "*:*.not-a-token")

    result = await driver.apply(request_for(service, boolean("new-retriever", True)))

    assert not result.applied
    assert result.detail == "Unleash refused (HTTP 401: You must log in to use Unleash.)"
    assert (await admin.environment(f"{service}.new-retriever"))["enabled"] is False


async def test_a_closed_port_fails_with_the_connection_error(http: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"

    result = await driver_for(url, http, "token").apply(request_for("svc", boolean("a", True)))

    assert not result.applied
    assert not result.timed_out
    assert result.detail.startswith(f"could not reach Unleash at {url}: ConnectError")


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers."""
    release = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        release.set()
        server.close()
        await server.wait_closed()


async def test_an_unleash_that_never_answers_times_out(http: httpx.AsyncClient) -> None:
    async with silent_server() as url:
        driver = driver_for(url, http, "token", timeout=0.2)
        result = await driver.apply(request_for("svc", boolean("a", True)))

    assert not result.applied
    assert result.timed_out
    assert result.detail == "Unleash did not answer within 0.2 s while setting `svc.a`"


async def test_version_moves_are_refused_without_calling_unleash(http: httpx.AsyncClient) -> None:
    move = VersionMove(Component.PROMPT, "v13", "v12")
    request = request_for("svc", move, kind=ActionKind.ROLLBACK)

    result = await driver_for("http://unleash.invalid", http, "token").apply(request)

    assert not result.applied
    assert result.detail.startswith("Unleash drives flags only; ")


async def test_a_percentage_outside_0_to_100_is_refused_without_calling_unleash(
    http: httpx.AsyncClient,
) -> None:
    request = request_for("svc", percentage("ranker", 20, 120))

    result = await driver_for("http://unleash.invalid", http, "token").apply(request)

    assert not result.applied
    assert result.detail == "`svc.ranker`: a rollout is 0-100 %, not 120."
