"""Empty, throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database.

`fresh_database` yields a URL with no schema; run `bot.store.migrations.upgrade_database` on it.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.store.database import normalize_url

POSTGRES_URL_VARIABLE = "STEADYHAND_TEST_POSTGRES_URL"
KINDS = ("sqlite", "postgres")


@asynccontextmanager
async def fresh_database(kind: str) -> AsyncIterator[str]:
    """Yield the URL of an empty database of `kind` ("sqlite" or "postgres"), dropped after.

    PostgreSQL needs STEADYHAND_TEST_POSTGRES_URL, a database to connect to while creating
    the fresh one (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test); the test is
    skipped when it is unset.
    """
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="steadyhand-test-") as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'steadyhand.db'}"
    elif kind == "postgres":
        async with _fresh_postgres() as url:
            yield url
    else:
        raise ValueError(f"unknown database kind {kind!r}; expected one of {KINDS}")


@asynccontextmanager
async def _fresh_postgres() -> AsyncIterator[str]:
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(
            f"{POSTGRES_URL_VARIABLE} is not set; set it to a PostgreSQL URL, e.g. "
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test, to run PostgreSQL tests"
        )
    admin_url = normalize_url(server)
    name = f"steadyhand_t_{secrets.token_hex(6)}"
    # CREATE/DROP DATABASE refuse to run inside a transaction.
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()
