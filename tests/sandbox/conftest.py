"""Fixtures for testing the sandbox itself: a served sandbox and slack_sdk pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import SlackSandbox
from tests.sandbox.fakes import FakeClock
from tests.support.slack_specs import ConformanceRecorder, conforming


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[SlackSandbox]:
    sandbox = SlackSandbox("xoxb-sandbox", clock=clock)
    async with sandbox.serve():
        yield sandbox


@pytest.fixture
def client(sandbox: SlackSandbox) -> AsyncWebClient:
    return AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)


@pytest.fixture
def conformance(sandbox: SlackSandbox) -> Iterator[ConformanceRecorder]:
    """Fails the test if any call it made breaks Slack's published specs."""
    with conforming(sandbox) as recorder:
        yield recorder
