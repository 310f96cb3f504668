"""Pending Slack work: each incident's steps in order, one claimer at a time, leases that
expire, against the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.pending_work import LEASE, NewWork, Step
from bot.ports import UnitOfWorkFactory
from bot.store.database import create_engine, session_factory
from bot.store.uow import SqlUnitOfWorkFactory
from tests.store.examples import T0

SECOND = timedelta(seconds=1)


def work(incident_id: str, n: int, step: Step = Step.HEADER) -> NewWork:
    return NewWork(f"{incident_id}:{n}", incident_id, step, {"n": n})


async def add(uow_factory: UnitOfWorkFactory, *rows: NewWork) -> None:
    async with uow_factory() as uow:
        await uow.pending_work.add(rows, T0)
        await uow.commit()


async def claim_keys(
    uow_factory: UnitOfWorkFactory, at: datetime = T0, incident_id: str | None = None
) -> list[str]:
    async with uow_factory() as uow:
        claimed = await uow.pending_work.claim(at, incident_id=incident_id)
        await uow.commit()
    return [w.key for w in claimed]


async def test_each_incident_runs_its_steps_in_order(uow_factory: UnitOfWorkFactory) -> None:
    await add(uow_factory, work("a", 1), work("a", 2), work("b", 1))
    async with uow_factory() as uow:
        claimed = await uow.pending_work.claim(T0)
        await uow.commit()
    assert [w.key for w in claimed] == ["a:1", "b:1"]  # one step per incident
    assert claimed[0].attempts == 1 and not claimed[0].tried_before
    assert claimed[0].payload == {"n": 1} and claimed[0].due_at.tzinfo is UTC
    assert await claim_keys(uow_factory) == []  # held, and a:2 waits for a:1
    async with uow_factory() as uow:
        await uow.pending_work.done("a:1", T0)
        await uow.commit()
    assert await claim_keys(uow_factory) == ["a:2"]
    assert await claim_keys(uow_factory, incident_id="b") == []  # b:1 still leased


async def test_a_failed_step_waits_for_its_backoff_and_holds_back_the_rest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await add(uow_factory, work("a", 1), work("a", 2))
    assert await claim_keys(uow_factory) == ["a:1"]
    async with uow_factory() as uow:
        await uow.pending_work.failed("a:1", "internal_error", T0 + 10 * SECOND)
        await uow.commit()
    assert await claim_keys(uow_factory, T0 + 9 * SECOND) == []
    async with uow_factory() as uow:
        [again] = await uow.pending_work.claim(T0 + 10 * SECOND)
        [pending, _] = await uow.pending_work.pending("a")
    assert again.key == "a:1" and again.attempts == 2 and again.tried_before
    assert pending.last_error == "internal_error"


async def test_a_lease_left_by_a_stopped_process_expires(uow_factory: UnitOfWorkFactory) -> None:
    await add(uow_factory, work("a", 1))
    assert await claim_keys(uow_factory) == ["a:1"]
    assert await claim_keys(uow_factory, T0 + LEASE - SECOND) == []
    assert await claim_keys(uow_factory, T0 + LEASE) == ["a:1"]


async def test_claims_of_one_incident_and_done_work_is_no_longer_pending(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await add(uow_factory, work("a", 1), work("b", 1))
    assert await claim_keys(uow_factory, incident_id="b") == ["b:1"]
    async with uow_factory() as uow:
        await uow.pending_work.done("b:1", T0)
        await uow.commit()
        assert await uow.pending_work.pending("b") == []
        assert [w.key for w in await uow.pending_work.pending("a")] == ["a:1"]


# Not on SQLite: it has one writer at a time, so the second claim would wait for the first.
@pytest.mark.parametrize(
    "uow_factory", ["fake", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_an_open_claim_hides_the_work_from_others(uow_factory: UnitOfWorkFactory) -> None:
    await add(uow_factory, work("a", 1))
    async with uow_factory() as first, uow_factory() as second:
        assert [w.key for w in await first.pending_work.claim(T0)] == ["a:1"]
        assert await second.pending_work.claim(T0) == []  # skipped, not waited for
        await first.commit()


async def test_two_processes_never_claim_the_same_work(
    engine: AsyncEngine, migrated_url: str
) -> None:
    """Two engines, as two replicas would have, drain the work of many incidents together,
    each step done as soon as it is claimed."""
    incidents, steps = 15, 3
    async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
        for i in range(incidents):
            await uow.pending_work.add([work(f"inc-{i:02}", n) for n in range(steps)], T0)
        await uow.commit()

    other = create_engine(migrated_url)
    try:

        async def drain(factory: SqlUnitOfWorkFactory) -> list[str]:
            keys: list[str] = []
            while True:
                async with factory() as uow:
                    batch = await uow.pending_work.claim(T0, limit=2)
                    await asyncio.sleep(0)  # let the other replica run mid-transaction
                    await uow.commit()
                if not batch:
                    return keys
                for claimed in batch:
                    async with factory() as uow:
                        await uow.pending_work.done(claimed.key, T0)
                        await uow.commit()
                keys += [w.key for w in batch]

        workers = [SqlUnitOfWorkFactory(session_factory(e)) for e in (engine, other, engine)]
        claimed = await asyncio.gather(*(drain(f) for f in workers))
    finally:
        await other.dispose()

    everything = sorted(k for keys in claimed for k in keys)
    assert everything == sorted(f"inc-{i:02}:{n}" for i in range(incidents) for n in range(steps))
