from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import UnitOfWorkFactory
from bot.store.database import create_engine, session_factory
from bot.store.migrations import upgrade_database
from bot.store.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeUnitOfWorkFactory
from tests.support.databases import fresh_database

SQL_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=SQL_KINDS)
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """An empty database; the test migrates it (or not)."""
    async with fresh_database(request.param) as url:
        yield url


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    await upgrade_database(database_url)
    return database_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(params=["fake", *SQL_KINDS])
async def uow_factory(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    """The contract under test, against the fakes and against each real database."""
    if request.param == "fake":
        yield FakeUnitOfWorkFactory()
        return
    async with fresh_database(request.param) as url:
        await upgrade_database(url)
        engine = create_engine(url)
        try:
            yield SqlUnitOfWorkFactory(session_factory(engine))
        finally:
            await engine.dispose()
