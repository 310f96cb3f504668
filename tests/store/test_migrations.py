from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from bot.domain.alerts import AlertSource
from bot.store.database import create_engine, session_factory
from bot.store.migrations import HEAD_REVISION, current_revision, migrating, upgrade_database
from bot.store.migrations.alembic_upgrade import alembic_config, alembic_head
from bot.store.models import Base
from bot.store.uow import SqlUnitOfWorkFactory


def test_the_head_revision_start_up_compares_with_is_alembics() -> None:
    # Start-up skips Alembic when the schema is at HEAD_REVISION: a new migration that leaves
    # it behind would never run.
    assert alembic_head() == HEAD_REVISION


async def test_upgrade_reaches_head_and_matches_the_models(database_url: str) -> None:
    assert await current_revision(database_url) is None
    await upgrade_database(database_url)
    assert await current_revision(database_url) == HEAD_REVISION
    assert await differences_from_the_models(database_url) == []


async def test_upgrade_from_an_older_revision_reaches_head(database_url: str) -> None:
    older = "0007"

    def upgrade_to_older(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, older)

    async with migrating(database_url) as connection:
        await connection.run_sync(upgrade_to_older)
    assert await current_revision(database_url) == older
    await upgrade_database(database_url)
    assert await current_revision(database_url) == HEAD_REVISION
    assert await differences_from_the_models(database_url) == []


async def differences_from_the_models(url: str) -> list[object]:
    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(differences)
    finally:
        await engine.dispose()


async def test_upgrade_is_repeatable_and_concurrent(database_url: str) -> None:
    await asyncio.gather(upgrade_database(database_url), upgrade_database(database_url))
    await upgrade_database(database_url)
    assert await current_revision(database_url) == HEAD_REVISION


async def test_downgrade_to_base_removes_every_table(migrated_url: str) -> None:
    def downgrade(connection: Connection) -> list[str]:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        return inspect(connection).get_table_names()

    async with migrating(migrated_url) as connection:
        assert await connection.run_sync(downgrade) == ["alembic_version"]
    await upgrade_database(migrated_url)
    assert await current_revision(migrated_url) == HEAD_REVISION


async def test_alerts_kept_before_repeats_were_counted_upgrade_with_none(
    database_url: str,
) -> None:
    def to_0009_with_an_alert(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
        connection.exec_driver_sql(
            "INSERT INTO alerts (source, fingerprint, incident_id, name, summary, kind, "
            "severity, status, first_seen, last_seen, notifications, firing_streak, links) "
            "VALUES ('generic', 'fp', 'inc-1', 'EvalDrop', 'bad', 'quality', 'sev2', 'firing', "
            "'2026-11-22 09:00:00.000000', '2026-11-22 09:05:00.000000', 4, 4, '[]')"
        )

    async with migrating(database_url) as connection:
        await connection.run_sync(to_0009_with_an_alert)
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    try:
        async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
            alert = await uow.alerts.get(AlertSource.GENERIC, "fp")
    finally:
        await engine.dispose()
    assert alert is not None and alert.notifications == 4
    assert (alert.repeats, alert.repeat_run, alert.status_at) == (0, None, None)
