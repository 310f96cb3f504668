"""Listener work still running after the ack.

Bolt answers Slack as soon as a listener acks and lets the listener go on. Shutting down (or a
test asserting) must wait for that work, or a half-opened incident is lost mid-way.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class InFlight:
    def __init__(self) -> None:
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def running(self) -> int:
        return self._running

    def track(self, listener: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        # functools.wraps keeps the signature visible: Bolt injects arguments by name.
        @functools.wraps(listener)
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> R:
            self._running += 1
            self._idle.clear()
            try:
                return await listener(*args, **kwargs)
            finally:
                self._running -= 1
                if self._running == 0:
                    self._idle.set()

        return tracked

    async def wait_idle(self) -> None:
        await self._idle.wait()
