"""The real bot over HTTP against the sandbox Slack, on SQLite and on PostgreSQL.

Every Web API call and every payload the bot sends is checked against Slack's published
specifications; a test fails if anything it made the bot send breaks them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.sandbox import SlackSandbox
from bot.stage import BOT_TOKEN, Stage, sandbox_stage
from tests.support.databases import fresh_database
from tests.support.slack_specs import conforming

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "runbooks"
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

StageFactory = Callable[..., AbstractAsyncContextManager[Stage]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    async with fresh_database(request.param) as url:
        yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sandbox(clock: ManualClock) -> SlackSandbox:
    # On the test's clock, as in sandbox_stage: message timestamps are story time.
    return SlackSandbox(BOT_TOKEN, clock=lambda: clock.now().timestamp())


@pytest.fixture
def make_stage(database_url: str, clock: ManualClock, sandbox: SlackSandbox) -> StageFactory:
    """Start (or restart) the bot on this test's database, sandbox and clock."""

    @asynccontextmanager
    async def make(
        runbooks_dir: Path = RUNBOOKS, env: dict[str, str] | None = None
    ) -> AsyncIterator[Stage]:
        with conforming(sandbox):
            async with sandbox_stage(
                database_url, clock, runbooks_dir=runbooks_dir, env=env, sandbox=sandbox
            ) as stage:
                yield stage

    return make


@pytest.fixture
async def stage(make_stage: StageFactory) -> AsyncIterator[Stage]:
    async with make_stage() as running:
        yield running
