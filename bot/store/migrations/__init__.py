"""Schema migrations, run by Alembic from this package; no alembic.ini needed at runtime.

Add a migration (development only): `alembic -c bot/store/alembic.ini revision --autogenerate
-m "what changed" -x url=sqlite:///./steadyhand.db`, then read and fix what it wrote.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.database import create_engine

MIGRATIONS_DIR = Path(__file__).parent
# Replicas starting together on PostgreSQL take turns; any constant shared by all of them works.
ADVISORY_LOCK_KEY = 0x5354_4459  # "STDY"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


async def upgrade_database(url: str) -> None:
    """Bring the schema to the newest revision; safe to call from several processes at once."""
    async with migrating(url) as connection:
        await connection.run_sync(_upgrade)


async def current_revision(url: str) -> str | None:
    """The schema's revision, or None for a database never migrated."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


@asynccontextmanager
async def migrating(url: str) -> AsyncIterator[AsyncConnection]:
    """A connection to migrate on, in one transaction that only one process holds at a time;
    committed when the block ends, rolled back if it raises."""
    engine = create_engine(url, statement_timeout=None)  # a migration may take its time
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # SQLite alters a table by copying it; with foreign keys on, dropping the old
                # copy would cascade-delete the rows that refer to it. The pragma only works
                # outside a transaction, so it goes first, and the keys are checked at the end.
                # BEGIN IMMEDIATE takes the write lock now, so other upgraders queue.
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
            try:
                yield connection
                if connection.dialect.name == "sqlite":
                    broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration left dangling foreign keys: {broken}")
            except BaseException:
                await connection.rollback()
                raise
            await connection.commit()
    finally:
        await engine.dispose()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
