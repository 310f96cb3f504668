"""The Slack edge's database check: trusted for a second while the database answers, asked
again at once after an outage is seen, one check at a time."""

from __future__ import annotations

import asyncio

import pytest

from bot.ports import DatabaseUnavailable
from bot.web.faults import ReachabilityWatch


class Checks:
    def __init__(self) -> None:
        self.asked = 0
        self.down = False
        self.gate: asyncio.Event | None = None

    async def __call__(self) -> None:
        self.asked += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise DatabaseUnavailable("the database is unreachable (test)")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_passed_check_is_trusted_for_a_second_then_asked_again() -> None:
    checks, clock = Checks(), Clock()
    watch = ReachabilityWatch(checks, trust_for=1.0, monotonic=clock)
    await watch.check()
    clock.now += 0.9
    await watch.check()
    assert checks.asked == 1
    clock.now += 0.2
    await watch.check()
    assert checks.asked == 2


async def test_an_outage_seen_elsewhere_makes_the_next_request_ask() -> None:
    checks, clock = Checks(), Clock()
    watch = ReachabilityWatch(checks, monotonic=clock)
    await watch.check()
    checks.down = True
    watch.outage_seen()
    with pytest.raises(DatabaseUnavailable):
        await watch.check()
    with pytest.raises(DatabaseUnavailable):  # a failed check is never trusted
        await watch.check()
    assert checks.asked == 3
    checks.down = False
    await watch.check()
    await watch.check()
    assert checks.asked == 4


async def test_requests_arriving_together_share_one_check() -> None:
    checks = Checks()
    checks.gate = asyncio.Event()
    watch = ReachabilityWatch(checks, monotonic=Clock())
    waiting = [asyncio.create_task(watch.check()) for _ in range(20)]
    await asyncio.sleep(0)
    checks.gate.set()
    await asyncio.gather(*waiting)
    assert checks.asked == 1


async def test_requests_queued_behind_a_failing_check_share_its_answer() -> None:
    # A database that takes packets and answers none makes each check wait out its time limit;
    # asked in turn, the last of twenty queued requests would wait twenty of them.
    checks = Checks()
    checks.down, checks.gate = True, asyncio.Event()
    watch = ReachabilityWatch(checks, monotonic=Clock())
    waiting = [asyncio.create_task(watch.check()) for _ in range(20)]
    await asyncio.sleep(0)
    checks.gate.set()
    answers = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(a, DatabaseUnavailable) for a in answers), answers
    assert checks.asked == 1
    checks.down = False
    await watch.check()  # a request that comes later asks again: the outage may be over
    assert checks.asked == 2
