"""The work listeners hand over after acking, run by a few workers that give way to acks.

Slack wants an ack within 3 s and Bolt answers as soon as a listener acks. The work that
follows (database, Web API calls) goes to a queue served by a fixed number of workers, and a
worker starts its next job only when no Slack request is waiting for its ack, or after
`YIELD_AT_MOST` seconds: during a burst the acks go first and the work follows right behind,
never more than that late. An ack is what Slack times out on; the work is what people watch,
and a second's delay there is not noticed.

It also knows when everything acked is done, for a clean shutdown and for tests.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
Job = Callable[[], Awaitable[None]]

YIELD_AT_MOST = 2.0  # seconds a job waits for a quiet moment before it starts anyway
# A moment counts as quiet once no ack has been awaited for this long: between two requests of
# a burst the count touches zero for a moment without the burst being over.
QUIET_AFTER = 0.01

log = logging.getLogger(__name__)


class Background:
    def __init__(self, workers: int = 4) -> None:
        self._workers = workers
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy = 0  # listeners running plus jobs queued or running
        self._idle = asyncio.Event()
        self._idle.set()
        self._waiting_acks = 0  # Slack requests received and not yet answered
        self._arrivals = 0  # Slack requests received, ever: tells a new burst from the old
        self._quiet = asyncio.Event()
        self._quiet.set()

    @property
    def busy(self) -> int:
        """Listeners running and jobs queued or running."""
        return self._busy

    @asynccontextmanager
    async def answering_slack(self) -> AsyncIterator[None]:
        """Around the handling of one Slack request, until its ack is sent."""
        self._waiting_acks += 1
        self._arrivals += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._waiting_acks -= 1
            if self._waiting_acks == 0:
                arrivals = self._arrivals
                asyncio.get_running_loop().call_later(QUIET_AFTER, self._still_quiet, arrivals)

    def track(self, listener: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Count a listener as busy while it runs (it may submit jobs before returning)."""

        # functools.wraps keeps the signature visible: Bolt injects arguments by name.
        @functools.wraps(listener)
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> R:
            self._begin()
            try:
                return await listener(*args, **kwargs)
            finally:
                self._end()

        return tracked

    def submit(self, job: Job) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._work()) for _ in range(self._workers)]
        self._begin()
        self._queue.put_nowait(job)

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            with suppress(TimeoutError):
                async with asyncio.timeout(YIELD_AT_MOST):
                    await self._quiet.wait()
            try:
                await job()
            except Exception:  # the job wrapper is an edge: log it and keep the worker alive
                log.exception("Background work failed")
            finally:
                self._end()

    def _still_quiet(self, arrivals: int) -> None:
        if self._arrivals == arrivals:
            self._quiet.set()

    def _begin(self) -> None:
        self._busy += 1
        self._idle.clear()

    def _end(self) -> None:
        self._busy -= 1
        if self._busy == 0:
            self._idle.set()
