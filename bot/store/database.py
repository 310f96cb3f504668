"""Engines and sessions, built on demand from DATABASE_URL; nothing connects at import."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from bot.domain.errors import ConfigError

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


def create_engine(url: str) -> AsyncEngine:
    parsed = normalize_url(url)
    if parsed.drivername == SQLITE:
        return _sqlite_engine(parsed)
    return _create_async_engine(
        parsed,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,  # survive database restarts and idle-connection reapers
        pool_recycle=1800,
    )


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
