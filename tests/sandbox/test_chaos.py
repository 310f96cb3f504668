"""Chaos mode: a seeded random share of every Web API call fails with 429, 500 or no answer."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from bot.sandbox import SlackSandbox
from bot.sandbox.failures import Chaos

CALLS = 300


async def post_many(sandbox: SlackSandbox, channel: str, count: int) -> list[str]:
    """Post `count` numbered messages as the bot with a plain HTTP client; each outcome: the
    status code, or "no answer" when the connection dropped."""
    outcomes = []
    async with httpx.AsyncClient(base_url=sandbox.api_url, timeout=5.0) as client:
        for n in range(count):
            try:
                answer = await client.post(
                    "chat.postMessage",
                    data={"channel": channel, "text": f"message {n}"},
                    headers={"Authorization": f"Bearer {sandbox.bot_token}"},
                )
            except httpx.TransportError:
                outcomes.append("no answer")
                continue
            if answer.status_code == 429:
                assert answer.headers["Retry-After"] == "1"
            outcomes.append(str(answer.status_code))
    return outcomes


async def test_a_seeded_share_of_calls_fails_every_way() -> None:
    sandbox = SlackSandbox()
    channel = sandbox.add_channel("chaos").id
    sandbox.unleash_chaos(Chaos(seed=7, share=0.2, held_share=0.0))
    async with sandbox.serve():
        outcomes = Counter(await post_many(sandbox, channel, CALLS))

    failed = CALLS - outcomes["200"]
    assert 0.1 * CALLS < failed < 0.3 * CALLS
    assert outcomes["429"] and outcomes["500"] and outcomes["no answer"]
    # Some timeouts came after Slack had posted: more messages than answers that said so.
    posted = len(sandbox.messages(channel))
    assert outcomes["200"] < posted < outcomes["200"] + outcomes["no answer"] + 1
    assert sandbox.chaos is not None
    assert sum(sandbox.chaos.drawn.values()) == failed


async def test_the_same_seed_fails_the_same_calls() -> None:
    runs = []
    for _ in range(2):
        sandbox = SlackSandbox()
        channel = sandbox.add_channel("chaos").id
        sandbox.unleash_chaos(Chaos(seed=3, held_share=0.0))
        async with sandbox.serve():
            runs.append(await post_many(sandbox, channel, 60))
    assert runs[0] == runs[1]
    assert set(runs[0]) != {"200"}


async def test_a_held_call_outlasts_the_client_timeout() -> None:
    sandbox = SlackSandbox()
    channel = sandbox.add_channel("chaos").id
    # Every call times out, held past the client's 5 s… here 0.5 s against a 0.2 s client.
    sandbox.unleash_chaos(
        Chaos(share=1.0, ratelimited=0, server_error=0, held_share=1.0, hold_seconds=0.5)
    )
    async with (
        sandbox.serve(),
        httpx.AsyncClient(base_url=sandbox.api_url, timeout=0.2) as client,
    ):
        with pytest.raises(httpx.ReadTimeout):
            await client.post(
                "chat.postMessage",
                data={"channel": channel, "text": "hello"},
                headers={"Authorization": f"Bearer {sandbox.bot_token}"},
            )


async def test_calm_slack_answers_every_call() -> None:
    sandbox = SlackSandbox()
    channel = sandbox.add_channel("chaos").id
    sandbox.unleash_chaos(Chaos(share=1.0)).enabled = False
    async with sandbox.serve():
        assert set(await post_many(sandbox, channel, 20)) == {"200"}


def test_shares_are_checked() -> None:
    with pytest.raises(ValueError, match="share"):
        Chaos(share=1.5)


async def test_a_timeout_after_the_call_did_the_work() -> None:
    sandbox = SlackSandbox()
    channel = sandbox.add_channel("chaos").id
    sandbox.unleash_chaos(
        Chaos(share=1.0, ratelimited=0, server_error=0, performed_share=1.0, held_share=0.0)
    )
    async with sandbox.serve():
        outcomes = await post_many(sandbox, channel, 5)

    # No caller heard back, yet every message is there: a retry would post it twice.
    assert outcomes == ["no answer"] * 5
    assert [m["text"] for m in sandbox.messages(channel)] == [f"message {n}" for n in range(5)]


async def test_a_timeout_before_the_call_did_nothing() -> None:
    sandbox = SlackSandbox()
    channel = sandbox.add_channel("chaos").id
    sandbox.unleash_chaos(
        Chaos(share=1.0, ratelimited=0, server_error=0, performed_share=0.0, held_share=0.0)
    )
    async with sandbox.serve():
        outcomes = await post_many(sandbox, channel, 5)

    assert outcomes == ["no answer"] * 5
    assert sandbox.messages(channel) == []
    assert [call.error for call in sandbox.calls] == ["timeout"] * 5
