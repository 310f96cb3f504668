"""Engines and sessions, built on demand from DATABASE_URL; nothing connects at import."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from bot.domain.errors import ConfigError
from bot.ports import DatabaseUnavailable
from bot.store.faults import RETRY_AFTER_UNREACHABLE, unavailable

SQLITE = "sqlite+aiosqlite"
POSTGRES = "postgresql+asyncpg"
_DRIVERS = {
    "sqlite": SQLITE,
    SQLITE: SQLITE,
    "postgres": POSTGRES,
    "postgresql": POSTGRES,
    POSTGRES: POSTGRES,
}
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_PROBE_BUSY_TIMEOUT_MS = 1_000
POOL_SIZE = 10
POOL_OVERFLOW = 10
POOL_TIMEOUT_SECONDS = 3
CONNECT_TIMEOUT_SECONDS = 5
# How long one statement (a pooled connection's ping included) may wait for the server. The
# longest lock wait an alert storm causes is well under it; a server that takes every packet
# and answers none (a partition, a dead host behind a dropping firewall) would otherwise hold
# the request, and the connection, forever. Migrations are exempt: they may take long.
STATEMENT_TIMEOUT_SECONDS = 10
# The health check and the check in front of Slack's acks answer within this, whatever the
# pool and the server do: Slack gives up on an ack after 3 s.
PROBE_TIMEOUT_SECONDS = 4
WAL_SWITCH_ATTEMPTS = 100
EXAMPLES = "sqlite:///./steadyhand.db or postgresql://user:password@host:5432/steadyhand"


def normalize_url(url: str) -> URL:
    """The async-driver form of a DATABASE_URL, e.g. `postgres://…` → `postgresql+asyncpg://…`."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The URL may hold a password: never echo it.
        raise ConfigError("DATABASE_URL", f"not a database URL; use e.g. {EXAMPLES}") from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ConfigError(
            "DATABASE_URL",
            f"unsupported scheme `{parsed.drivername}://`; Steadyhand stores to SQLite or "
            f"PostgreSQL, e.g. {EXAMPLES}",
        )
    parsed = parsed.set(drivername=driver)
    if driver == POSTGRES and "sslmode" in parsed.query:
        # Hosted PostgreSQL URLs carry libpq's `sslmode`; asyncpg calls the same setting `ssl`.
        query = dict(parsed.query)
        query["ssl"] = query.pop("sslmode")
        parsed = parsed.set(query=query)
    return parsed


def create_engine(
    url: str, *, statement_timeout: float | None = STATEMENT_TIMEOUT_SECONDS
) -> AsyncEngine:
    """The engine for `url`; `statement_timeout` None lets statements run as long as they take
    (migrations)."""
    parsed = normalize_url(url)
    if parsed.drivername == SQLITE:
        return _sqlite_engine(parsed)
    engine = _create_async_engine(
        parsed,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        # Back-pressure: when every connection is in use a request waits this long, then is
        # answered 503 with Retry-After (SQLAlchemy's 30 s outlasts every sender's timeout).
        pool_timeout=POOL_TIMEOUT_SECONDS,
        pool_pre_ping=True,  # survive database restarts and idle-connection reapers
        pool_recycle=1800,
        # asyncpg waits 60 s for a server that does not answer, and for ever for a statement;
        # a request should not.
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS, "command_timeout": statement_timeout},
    )
    event.listen(engine.sync_engine, "handle_error", _drop_a_connection_that_timed_out)
    return engine


def _drop_a_connection_that_timed_out(context: ExceptionContext) -> None:
    # A statement that timed out leaves the connection waiting on a server that may never
    # answer: thrown away (with the pool's older ones), not handed to the next request.
    if isinstance(context.original_exception, TimeoutError):
        context.is_disconnect = True


async def check_reachable(engine: AsyncEngine) -> None:
    """Raise DatabaseUnavailable unless the database answers a query now (within
    PROBE_TIMEOUT_SECONDS)."""
    async with _outages_named(), engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")


async def check_writable(engine: AsyncEngine) -> None:
    """Raise DatabaseUnavailable unless the database would take a write now.

    PostgreSQL: it answers and is not read-only (a standby after a failover answers reads
    only). SQLite: `BEGIN IMMEDIATE` then `ROLLBACK` takes and gives back the write lock every
    write needs, which a file another process holds locked, or cannot write, refuses; it
    writes nothing (no probe table, no WAL growth, no fsync). A full disk is not seen until a
    write needs a new page.
    """
    async with _outages_named(), engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            await _take_sqlite_write_lock(connection)
            return
        setting = await connection.exec_driver_sql("SHOW transaction_read_only")
        if setting.scalar() == "on":
            raise DatabaseUnavailable(
                "the database is read-only (a standby?); writes cannot be stored"
            )


async def _take_sqlite_write_lock(connection: AsyncConnection) -> None:
    # Briefly, so that a health check answers fast; requests keep the long busy timeout.
    await connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_PROBE_BUSY_TIMEOUT_MS}")
    try:
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
        await connection.exec_driver_sql("ROLLBACK")
    finally:
        await connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


@asynccontextmanager
async def _outages_named() -> AsyncIterator[None]:
    # The time limit is the probe's own, on top of the pool's and the driver's: those bound
    # each wait, this the sum (a full pool, then a connect, then a statement).
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            yield
    except TimeoutError:
        raise DatabaseUnavailable(
            f"the database did not answer within {PROBE_TIMEOUT_SECONDS} s; retry shortly",
            RETRY_AFTER_UNREACHABLE,
        ) from None
    except Exception as exc:
        outage = unavailable(exc)
        if outage is None:
            raise
        raise outage from exc


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Repositories hand out domain objects, never rows, so nothing needs refreshing after commit.
    return async_sessionmaker(engine, expire_on_commit=False)


def _sqlite_engine(url: URL) -> AsyncEngine:
    engine = _create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # WAL lets readers run while one writer writes; the busy timeout makes a second
            # writer wait for the lock instead of failing with "database is locked".
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
        finally:
            cursor.close()

    return engine


def _switch_to_wal(cursor: Any) -> None:
    # Two processes opening a new database at once both switch it to WAL; SQLite may answer one
    # "database is locked" at once, without waiting on the busy timeout. A short retry settles it.
    for attempt in range(WAL_SWITCH_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_SWITCH_ATTEMPTS - 1:
                raise
            time.sleep(0.02)  # in aiosqlite's own thread, not on the event loop
