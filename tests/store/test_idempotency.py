from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import UnitOfWorkFactory
from bot.store.database import create_engine, session_factory
from bot.store.uow import SqlUnitOfWorkFactory
from tests.store.examples import T0, incident


async def test_first_claim_wins(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("slack:retry:1", T0) is True
        assert await uow.idempotency.claim("slack:retry:1", T0) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("slack:retry:1", T0) is False
        assert await uow.idempotency.claim("slack:retry:2", T0) is True


async def test_a_repeat_does_not_spoil_the_transaction(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("k", T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.idempotency.claim("k", T0)
        await uow.incidents.add(incident())  # the transaction is still usable
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.incidents.get("inc-1") == incident()


async def test_a_rolled_back_claim_frees_the_key(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("k", T0)
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("k", T0)


async def test_concurrent_claims_from_two_processes_one_wins(
    engine: AsyncEngine, migrated_url: str
) -> None:
    other = create_engine(migrated_url)
    try:
        factories = [SqlUnitOfWorkFactory(session_factory(e)) for e in (engine, other)]

        async def claim(factory: SqlUnitOfWorkFactory, key: str) -> bool:
            async with factory() as uow:
                won = await uow.idempotency.claim(key, T0)
                await asyncio.sleep(0)  # hold the claim while the other process tries
                await uow.commit()
                return won

        keys = [f"alert:{n}" for n in range(25)]
        results = await asyncio.gather(
            *(claim(factory, key) for key in keys for factory in factories)
        )
    finally:
        await other.dispose()

    per_key = [results[i : i + 2] for i in range(0, len(results), 2)]
    assert all(sorted(pair) == [False, True] for pair in per_key), per_key


async def test_a_key_claimed_long_enough_ago_can_be_claimed_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    window = timedelta(seconds=30)
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("body:abc", T0, window)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.idempotency.claim("body:abc", T0 + timedelta(seconds=29), window)
        assert not await uow.idempotency.claim("body:abc", T0 + timedelta(hours=1))  # no window
        assert await uow.idempotency.claim("body:abc", T0 + timedelta(seconds=31), window)
        await uow.commit()
    async with uow_factory() as uow:  # the new claim starts a new window
        assert not await uow.idempotency.claim("body:abc", T0 + timedelta(seconds=40), window)
