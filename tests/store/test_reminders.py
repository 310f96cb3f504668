from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.reminders import Reminder, ReminderKind
from bot.ports import UnitOfWorkFactory
from bot.store.database import create_engine, session_factory
from bot.store.uow import SqlUnitOfWorkFactory
from tests.store.examples import T0


def reminder(n: int, minutes: int, incident_id: str = "inc-1") -> Reminder:
    return Reminder(
        id=f"rem-{n:03}",
        incident_id=incident_id,
        kind=ReminderKind.FIVE_QUESTIONS,
        due_at=T0 + timedelta(minutes=minutes),
    )


async def test_due_reminders_are_claimed_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.reminders.add(reminder(2, 15))
        await uow.reminders.add(reminder(1, 10))
        await uow.reminders.add(reminder(3, 60))
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.reminders.claim_due(T0 + timedelta(minutes=9)) == []
        claimed = await uow.reminders.claim_due(T0 + timedelta(minutes=15))
        await uow.commit()
    assert claimed == [reminder(1, 10), reminder(2, 15)]
    assert all(r.due_at.tzinfo is UTC for r in claimed)

    async with uow_factory() as uow:
        assert await uow.reminders.claim_due(T0 + timedelta(minutes=30)) == []
        assert await uow.reminders.claim_due(T0 + timedelta(hours=2)) == [reminder(3, 60)]


async def test_claims_respect_the_limit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for n in range(5):
            await uow.reminders.add(reminder(n, n))
        await uow.commit()
        first = await uow.reminders.claim_due(T0 + timedelta(hours=1), limit=2)
        rest = await uow.reminders.claim_due(T0 + timedelta(hours=1), limit=10)
    assert [r.id for r in first] == ["rem-000", "rem-001"]
    assert [r.id for r in rest] == ["rem-002", "rem-003", "rem-004"]


async def test_a_rolled_back_claim_is_claimed_again(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.reminders.add(reminder(1, 0))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.reminders.claim_due(T0) == [reminder(1, 0)]
    async with uow_factory() as uow:
        assert await uow.reminders.claim_due(T0) == [reminder(1, 0)]


# Not on SQLite: it has one writer at a time, so the second claim would wait for the first.
@pytest.mark.parametrize(
    "uow_factory", ["fake", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_an_open_claim_hides_the_reminder_from_others(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.reminders.add(reminder(1, 0))
        await uow.commit()
    async with uow_factory() as first, uow_factory() as second:
        assert await first.reminders.claim_due(T0) == [reminder(1, 0)]
        assert await second.reminders.claim_due(T0) == []  # skipped, not waited for
        await first.commit()
    async with uow_factory() as third:
        assert await third.reminders.claim_due(T0) == []


async def test_cancel_drops_pending_reminders_of_one_incident(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.reminders.add(reminder(1, 0))
        await uow.reminders.add(reminder(2, 0, incident_id="inc-2"))
        await uow.commit()
        await uow.reminders.cancel_for("inc-1")
        await uow.commit()
        assert await uow.reminders.claim_due(T0) == [reminder(2, 0, incident_id="inc-2")]


async def test_two_processes_never_claim_the_same_reminder(
    engine: AsyncEngine, migrated_url: str
) -> None:
    """Two engines, as two replicas would have, drain the due reminders together."""
    count = 40
    async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
        for n in range(count):
            await uow.reminders.add(reminder(n, 0))
        await uow.commit()

    other = create_engine(migrated_url)
    try:

        async def drain(factory: SqlUnitOfWorkFactory) -> list[str]:
            ids: list[str] = []
            while True:
                async with factory() as uow:
                    batch = await uow.reminders.claim_due(T0, limit=3)
                    await asyncio.sleep(0)  # let the other replica run mid-transaction
                    await uow.commit()
                if not batch:
                    return ids
                ids += [r.id for r in batch]

        workers = [SqlUnitOfWorkFactory(session_factory(e)) for e in (engine, other, engine)]
        claimed = await asyncio.gather(*(drain(f) for f in workers))
    finally:
        await other.dispose()

    everything = [i for ids in claimed for i in ids]
    assert sorted(everything) == [f"rem-{n:03}" for n in range(count)]  # each exactly once
