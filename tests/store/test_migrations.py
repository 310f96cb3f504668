from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from bot.store.database import create_engine
from bot.store.migrations import (
    alembic_config,
    current_revision,
    head_revision,
    migrating,
    upgrade_database,
)
from bot.store.models import Base


async def test_upgrade_reaches_head_and_matches_the_models(database_url: str) -> None:
    assert await current_revision(database_url) is None
    await upgrade_database(database_url)
    assert await current_revision(database_url) == head_revision()

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_upgrade_is_repeatable_and_concurrent(database_url: str) -> None:
    await asyncio.gather(upgrade_database(database_url), upgrade_database(database_url))
    await upgrade_database(database_url)
    assert await current_revision(database_url) == head_revision()


async def test_downgrade_to_base_removes_every_table(migrated_url: str) -> None:
    def downgrade(connection: Connection) -> list[str]:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        return inspect(connection).get_table_names()

    async with migrating(migrated_url) as connection:
        assert await connection.run_sync(downgrade) == ["alembic_version"]
    await upgrade_database(migrated_url)
    assert await current_revision(migrated_url) == head_revision()
