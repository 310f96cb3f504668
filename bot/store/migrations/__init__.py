"""Schema migrations, run by Alembic from this package; no alembic.ini needed at runtime.

Add a migration (development only): `alembic -c bot/store/alembic.ini revision --autogenerate
-m "what changed" -x url=sqlite:///./steadyhand.db`, then read and fix what it wrote.
"""

from __future__ import annotations

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
ADVISORY_LOCK_KEY = 0x5754_4459  # "STDY"


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
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                await _upgrade_sqlite(connection)
            else:
                async with connection.begin():
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                    await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()


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


async def _upgrade_sqlite(connection: AsyncConnection) -> None:
    # SQLite alters a table by copying it; with foreign keys on, dropping the old copy would
    # cascade-delete the rows that refer to it. The pragma only takes effect outside a
    # transaction, so switch it off first, then check the keys before committing.
    # BEGIN IMMEDIATE makes the whole upgrade one transaction and queues other upgraders.
    await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    await connection.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        await connection.run_sync(_upgrade)
        broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
        if broken:
            raise RuntimeError(f"the migration left rows with dangling foreign keys: {broken}")
    except BaseException:
        await connection.rollback()
        raise
    await connection.commit()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
