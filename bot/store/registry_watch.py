"""How a process hears that another one changed the registry: a poll of the version row.

`check` reads the version row and rebuilds the snapshot when it moved (one single-row read
when nothing changed). The process that writes rebuilds at once (after its commit); the poll
sees writes of other processes, e.g. the CLI on the same SQLite file, or another replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

POLL_EVERY_SECONDS = 1.0

Check = Callable[[], Awaitable[None]]


class RegistryWatch:
    def __init__(
        self, check: Check, database_url: str, *, poll_every: float = POLL_EVERY_SECONDS
    ) -> None:
        self._check = check
        self._poll_every = poll_every
        self.listening = False
        self.polls = 0  # version reads made by polling, for tests and metrics

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            await asyncio.sleep(self._poll_every)
            self.polls += 1
            try:
                await self._check()
            except Exception:  # an edge: a failed poll must not end the polling
                log.exception("Could not check the registry's version; trying again")
