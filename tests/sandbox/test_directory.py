"""SlackDirectory against the sandbox's Web API over HTTP: members, the cache, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import ManualClock
from bot.ports import ChatError
from bot.sandbox import SlackSandbox
from bot.sandbox.seed import ALICE, BOB, CAROL, MANAGERS_GROUP, ONCALL_GROUP
from bot.slack.directory import SlackDirectory
from tests.support.slack_specs import ConformanceRecorder

LOOKUP = "usergroups.users.list"


@pytest.fixture
def bot_clock() -> ManualClock:
    # The directory's clock; the sandbox keeps its own (`clock` in tests/sandbox/conftest.py).
    return ManualClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))


@pytest.fixture
def directory(client: AsyncWebClient, bot_clock: ManualClock) -> SlackDirectory:
    return SlackDirectory(client, bot_clock, ttl=timedelta(seconds=60))


async def test_members_of_each_group(
    directory: SlackDirectory, sandbox: SlackSandbox, conformance: ConformanceRecorder
) -> None:
    assert await directory.group_members(ONCALL_GROUP) == {ALICE, BOB}
    assert await directory.group_members(MANAGERS_GROUP) == {CAROL}
    assert sandbox.calls_to(LOOKUP) == [{"usergroup": ONCALL_GROUP}, {"usergroup": MANAGERS_GROUP}]
    assert conformance.checked == 2


async def test_cached_within_the_ttl_and_asked_again_after_it(
    directory: SlackDirectory, sandbox: SlackSandbox, bot_clock: ManualClock
) -> None:
    await directory.group_members(ONCALL_GROUP)
    sandbox.workspace.usergroups[ONCALL_GROUP].members.append(CAROL)  # the rota changes

    bot_clock.advance(timedelta(seconds=59))
    assert await directory.group_members(ONCALL_GROUP) == {ALICE, BOB}
    assert len(sandbox.calls_to(LOOKUP)) == 1

    bot_clock.advance(timedelta(seconds=1))
    assert await directory.group_members(ONCALL_GROUP) == {ALICE, BOB, CAROL}
    assert len(sandbox.calls_to(LOOKUP)) == 2


async def test_unknown_group_is_a_chat_error_with_slacks_code(
    directory: SlackDirectory, sandbox: SlackSandbox
) -> None:
    with pytest.raises(ChatError, match="no_such_subteam"):
        await directory.group_members("S_NOBODY")
    with pytest.raises(ChatError, match="no_such_subteam"):
        await directory.group_members("S_NOBODY")  # failures are not cached

    assert [call.error for call in sandbox.calls] == ["no_such_subteam", "no_such_subteam"]


async def test_a_refused_lookup_is_not_cached(
    directory: SlackDirectory, sandbox: SlackSandbox
) -> None:
    sandbox.fail_next(LOOKUP, "plan_upgrade_required")
    with pytest.raises(ChatError, match="plan_upgrade_required"):
        await directory.group_members(ONCALL_GROUP)

    assert await directory.group_members(ONCALL_GROUP) == {ALICE, BOB}
