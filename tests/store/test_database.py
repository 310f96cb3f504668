from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.domain.errors import ConfigError
from bot.ports import DatabaseUnavailable
from bot.store.database import (
    POOL_TIMEOUT_SECONDS,
    SQLITE_BUSY_TIMEOUT_MS,
    check_reachable,
    check_writable,
    create_engine,
    normalize_url,
    session_factory,
)
from bot.store.faults import unavailable
from bot.store.migrations import upgrade_database
from bot.store.uow import SqlUnitOfWorkFactory
from tests.support.databases import fresh_database
from tests.support.processes import free_port


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./steadyhand.db", "sqlite+aiosqlite:///./steadyhand.db"),
        ("sqlite+aiosqlite:////var/lib/sh.db", "sqlite+aiosqlite:////var/lib/sh.db"),
        ("postgres://u:p@db:5432/sh", "postgresql+asyncpg://u:p@db:5432/sh"),
        ("postgresql://u@db/sh", "postgresql+asyncpg://u@db/sh"),
        ("postgresql+asyncpg://u@db/sh", "postgresql+asyncpg://u@db/sh"),
        ("postgres://u@db/sh?sslmode=require", "postgresql+asyncpg://u@db/sh?ssl=require"),
    ],
)
def test_urls_are_normalised_to_async_drivers(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:secret@db/sh",
        "postgresql+psycopg2://u:secret@db/sh",
        "not a url secret",
    ],
)
def test_unsupported_urls_name_the_setting_and_hide_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalize_url(url)
    assert caught.value.setting == "DATABASE_URL"
    assert "secret" not in str(caught.value)


async def test_sqlite_connections_are_set_up_for_concurrency() -> None:
    async with fresh_database("sqlite") as url:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                pragmas = {
                    name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                    for name in ("journal_mode", "busy_timeout", "foreign_keys")
                }
        finally:
            await engine.dispose()
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 10_000, "foreign_keys": 1}


# Outages: every way the drivers say "not there now" is named DatabaseUnavailable, with a
# reason fit for a caller; bugs stay what they are.


async def test_a_refused_postgres_connection_is_named_an_outage() -> None:
    # Nothing listens on a port just freed: connections are refused, as with the server down.
    url = f"postgresql+asyncpg://steadyhand@127.0.0.1:{free_port()}/steadyhand"
    engine = create_engine(url)
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
                await uow.registry.changes()
        with pytest.raises(DatabaseUnavailable):
            await check_reachable(engine)
    finally:
        await engine.dispose()
    assert "unreachable (ConnectionRefusedError)" in str(caught.value)
    assert "127.0.0.1" not in str(caught.value)  # the server's address stays in the log
    assert caught.value.retry_after > 0


async def test_a_sqlite_file_held_locked_fails_the_write_check_and_nothing_else() -> None:
    async with fresh_database("sqlite") as url:
        await upgrade_database(url)
        engine = create_engine(url)
        holder = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        try:
            await check_writable(engine)
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(DatabaseUnavailable) as caught:
                await check_writable(engine)
            await check_reachable(engine)  # reads still work in WAL mode
            holder.execute("ROLLBACK")
            await check_writable(engine)
            async with engine.connect() as connection:  # the probe's short wait was undone
                busy = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        finally:
            holder.close()
            await engine.dispose()
    assert "locked" in str(caught.value)
    assert busy == SQLITE_BUSY_TIMEOUT_MS


@pytest.mark.postgres
async def test_a_read_only_postgres_fails_the_write_check() -> None:
    async with fresh_database("postgres") as url:
        name = make_url(url).database
        engine = create_engine(url)
        try:
            await check_writable(engine)
            async with engine.connect() as connection:
                await connection.exec_driver_sql(
                    f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'
                )
                await connection.commit()
            await engine.dispose()  # new connections read the new default, as on a standby
            with pytest.raises(DatabaseUnavailable) as caught:
                await check_writable(engine)
        finally:
            await engine.dispose()
    assert "read-only" in str(caught.value)


async def test_a_bug_is_not_an_outage(database_url: str) -> None:
    engine = create_engine(database_url)  # not migrated: the tables do not exist
    try:
        with pytest.raises(DBAPIError) as caught:
            async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
                await uow.registry.changes()
    finally:
        await engine.dispose()
    assert unavailable(caught.value) is None
    assert unavailable(OSError("a file the runbooks loader could not read")) is None


def test_the_pool_answers_back_pressure_within_seconds() -> None:
    engine = create_engine("postgresql+asyncpg://u@127.0.0.1:1/sh")  # never connected
    assert engine.pool.timeout() == POOL_TIMEOUT_SECONDS <= 5  # type: ignore[attr-defined]
    assert unavailable(PoolTimeout("QueuePool limit of size 10 overflow 10 reached")) is not None
