"""How a process hears that another one changed the registry: PostgreSQL `LISTEN/NOTIFY`, with a
poll of the version row as the fallback.

`check` reads the version row and rebuilds the snapshot when it moved (one single-row read
when nothing changed). On PostgreSQL a dedicated connection (outside the pool) listens on
`CHANNEL`; every notification, and every reconnect (to catch up on what was missed while
deaf), runs `check`. A heartbeat on that connection tells a dead one from a quiet one. While it
is not listening, `check` runs every `poll_every` seconds and the listener reconnects on its
own. SQLite has no notifications: the process that writes rebuilds at once (after its
commit), and the poll sees writes of other processes on the same file, e.g. the CLI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.store.database import CONNECT_TIMEOUT_SECONDS, normalize_url
from bot.store.registry_version import CHANNEL

log = logging.getLogger(__name__)

POLL_EVERY_SECONDS = 1.0
HEARTBEAT_EVERY_SECONDS = 5.0
HEARTBEAT_TIMEOUT_SECONDS = 3.0
RECONNECT_EVERY_SECONDS = 1.0

Check = Callable[[], Awaitable[None]]
# What a lost, refused or silent server looks like, through SQLAlchemy and from asyncpg itself.
_CONNECTION_FAILURES = (
    OSError,
    TimeoutError,
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class RegistryWatch:
    def __init__(
        self,
        check: Check,
        database_url: str,
        *,
        poll_every: float = POLL_EVERY_SECONDS,
        heartbeat_every: float = HEARTBEAT_EVERY_SECONDS,
        reconnect_every: float = RECONNECT_EVERY_SECONDS,
    ) -> None:
        url = normalize_url(database_url)
        self._check = check
        self._listen_url: URL | None = None if url.get_backend_name() == "sqlite" else url
        self._poll_every = poll_every
        self._heartbeat_every = heartbeat_every
        self._reconnect_every = reconnect_every
        self._woken = asyncio.Event()
        self.listening = False  # a LISTEN connection is up; polling pauses meanwhile
        self.notifications = 0  # heard since start, for tests and metrics
        self.polls = 0  # version reads made by polling, for tests and metrics

    async def run(self) -> None:
        """Until cancelled."""
        if self._listen_url is None:
            await self._poll()
            return
        async with asyncio.TaskGroup() as group:
            group.create_task(self._poll())
            group.create_task(self._listen(self._listen_url))

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_every)
            if not self.listening:
                self.polls += 1
                try:
                    await self._check()
                except Exception:  # an edge: a failed poll must not end the polling
                    log.exception("Could not check the registry's version; trying again")

    async def _listen(self, url: URL) -> None:
        while True:
            try:
                await self._listen_once(url)
            except _CONNECTION_FAILURES as exc:
                if self.listening:
                    log.warning(
                        "Registry LISTEN connection lost (%s); polling until it is back", exc
                    )
            except Exception:  # an edge: whatever else broke listening, poll and listen again
                log.exception("Registry LISTEN failed; polling until it is back")
            self.listening = False
            await asyncio.sleep(self._reconnect_every)

    async def _listen_once(self, url: URL) -> None:
        engine = create_async_engine(
            url, poolclass=NullPool, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS}
        )
        try:
            async with engine.connect() as connection:
                raw = await connection.get_raw_connection()
                listener: Any = raw.driver_connection  # asyncpg's Connection
                lost = asyncio.Event()

                def on_lost(_connection: object) -> None:
                    lost.set()
                    self._woken.set()

                listener.add_termination_listener(on_lost)
                await listener.add_listener(CHANNEL, self._on_notify)
                self.listening = True
                log.info("Listening for registry changes on %s", CHANNEL)
                await self._check()  # whatever changed while not listening
                while not lost.is_set():
                    await self._wait_for_news()
                    if lost.is_set():
                        break
                    if not self._woken.is_set():  # quiet for a while: is it still there?
                        await listener.fetchval("SELECT 1", timeout=HEARTBEAT_TIMEOUT_SECONDS)
                        continue
                    self._woken.clear()
                    await self._check()
                raise ConnectionError("the server closed the connection")
        finally:
            await engine.dispose()

    async def _wait_for_news(self) -> None:
        try:
            async with asyncio.timeout(self._heartbeat_every):
                await self._woken.wait()
        except TimeoutError:
            pass

    def _on_notify(self, _connection: object, _pid: int, _channel: str, _payload: str) -> None:
        self.notifications += 1
        self._woken.set()
