"""The worker queue behind the listeners: acks first, nothing lost, failures contained."""

from __future__ import annotations

import asyncio

import pytest

from bot.slack.background import YIELD_AT_MOST, Background


async def test_work_waits_while_a_slack_request_awaits_its_ack() -> None:
    background = Background(workers=2)
    ran: list[str] = []

    async def job() -> None:
        ran.append("job")

    async with background.answering_slack():
        background.submit(job)
        # Far less than YIELD_AT_MOST: the job must still be waiting.
        await asyncio.sleep(YIELD_AT_MOST / 20)
        assert ran == []
        ran.append("ack")
    await background.wait_idle()
    assert ran == ["ack", "job"]
    await background.stop()


async def test_idle_only_when_listeners_and_jobs_are_done() -> None:
    background = Background(workers=1)
    release = asyncio.Event()
    done: list[int] = []

    async def job() -> None:
        await release.wait()
        done.append(1)

    @background.track
    async def listener() -> None:
        background.submit(job)

    await listener()
    idle = asyncio.create_task(background.wait_idle())
    await asyncio.sleep(0)
    assert not idle.done() and background.busy == 1
    release.set()
    await idle
    assert done == [1] and background.busy == 0
    await background.stop()


async def test_a_failing_job_is_logged_and_the_worker_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    background = Background(workers=1)
    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    async def fine() -> None:
        ran.append("fine")

    background.submit(broken)
    background.submit(fine)
    await background.wait_idle()
    assert ran == ["fine"]
    assert "Background work failed" in caplog.text and "boom" in caplog.text
    await background.stop()
