"""Schema migrations, run by Alembic from this package; no alembic.ini needed at runtime.

Add a migration (development only): `alembic -c bot/store/alembic.ini revision --autogenerate
-m "what changed" -x url=sqlite:///./steadyhand.db`, then read and fix what it wrote, and set
HEAD_REVISION to its revision id.

Alembic (with Mako and Pygments) takes longer to import than the rest of start-up takes to
run, and almost every start finds the schema up to date. So this module does not import it:
it reads the schema's revision with SQLAlchemy, compares it with HEAD_REVISION, and only a
database behind that brings in Alembic (`bot.store.migrations.alembic_upgrade`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.database import create_engine

MIGRATIONS_DIR = Path(__file__).parent
# The newest revision in versions/; tests/store/test_migrations.py holds it to Alembic's head.
HEAD_REVISION = "0010"
VERSION_TABLE = "alembic_version"  # Alembic's own name for it
# Replicas starting together on PostgreSQL take turns; any constant shared by all of them works.
ADVISORY_LOCK_KEY = 0x5354_4459  # "STDY"


async def upgrade_database(url: str) -> None:
    """Bring the schema to the newest revision; safe to call from several processes at once."""
    if await current_revision(url) == HEAD_REVISION:
        return
    # Imported only now (see the module's docstring). Alembic reads the revision again under
    # the migration lock, so a replica that migrated meanwhile leaves it nothing to do.
    from bot.store.migrations.alembic_upgrade import upgrade_to_head

    async with migrating(url) as connection:
        await connection.run_sync(upgrade_to_head)


async def current_revision(url: str) -> str | None:
    """The schema's revision, or None for a database never migrated."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_revision_of)
    finally:
        await engine.dispose()


def _revision_of(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    revisions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    found = list(revisions)
    # Several rows would mean branches, which this history has none of: not a revision we know,
    # so an upgrade hands it to Alembic.
    return found[0] if len(found) == 1 else None


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
