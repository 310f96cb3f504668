"""The work listeners hand over after acking, run by a few workers.

Slack wants an ack within 3 s and Bolt answers as soon as a listener acks. The work that
follows (database, Web API calls) goes to a queue served by a fixed number of workers, so
that a burst of requests cannot crowd the event loop with half-done work while new requests
wait for their acks: acks come first, the work follows as fast as the workers go.

It also knows when everything acked is done, for a clean shutdown and for tests.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
Job = Callable[[], Awaitable[None]]

log = logging.getLogger(__name__)


class Background:
    def __init__(self, workers: int = 4) -> None:
        self._workers = workers
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy = 0  # listeners running plus jobs queued or running
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def busy(self) -> int:
        return self._busy

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
            try:
                await job()
            except Exception:  # the job wrapper is an edge: log it and keep the worker alive
                log.exception("Background work failed")
            finally:
                self._end()

    def _begin(self) -> None:
        self._busy += 1
        self._idle.clear()

    def _end(self) -> None:
        self._busy -= 1
        if self._busy == 0:
            self._idle.set()
