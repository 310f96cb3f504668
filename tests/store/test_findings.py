"""FindingsRepo: pins, failed examples and follow-ups, on the fakes and on each database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.findings import ChannelMessage, FailedExample, FollowUp, Pin, pinned_messages
from bot.domain.triage import ExampleSet
from bot.ports import UnitOfWorkFactory
from bot.store.database import create_engine, session_factory
from bot.store.uow import SqlUnitOfWorkFactory
from tests.store.examples import incident

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SAID = ChannelMessage("C_INC", "1795338123.000200", "U_BOB", "refunds fail in the EU")


async def test_a_pin_per_person_and_message_and_unpinning_removes_only_that_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        assert await uow.findings.pin(Pin("inc-1", SAID, "U_ALICE", T0))
        assert not await uow.findings.pin(Pin("inc-1", SAID, "U_ALICE", T0))  # already
        assert await uow.findings.pin(Pin("inc-1", SAID, "U_CAROL", T0 + timedelta(seconds=1)))
        assert await uow.findings.pin(Pin("inc-2", SAID, "U_ALICE", T0))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.findings.unpin("inc-1", SAID.ts, "U_ALICE")
        assert not await uow.findings.unpin("inc-1", SAID.ts, "U_ALICE")
        await uow.commit()
    async with uow_factory() as uow:
        [left] = pinned_messages(await uow.findings.pins("inc-1"))
    assert left.message == SAID and left.pinned_by == ("U_CAROL",)
    assert left.posted_at == datetime.fromtimestamp(1795338123.0002, UTC)


async def test_examples_are_numbered_per_incident_and_keep_their_set(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        one = await uow.findings.add_example(FailedExample("a", "inc-1", 0, "one", "U_A", T0))
        two = await uow.findings.add_example(FailedExample("b", "inc-1", 0, "two", "U_A", T0))
        other = await uow.findings.add_example(FailedExample("c", "inc-2", 0, "x", "U_A", T0))
        await uow.commit()
    assert (one.number, two.number, other.number) == (1, 2, 1)

    two.sort_into(ExampleSet.BACKLOG, "U_B", T0 + timedelta(minutes=1))
    two.card_ts = "1795338123.000300"
    async with uow_factory() as uow:
        await uow.findings.save_example(two)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.findings.example("inc-1", 2)
        by_id = await uow.findings.example_by_id("b")
        listed = await uow.findings.examples("inc-1")
        assert await uow.findings.example("inc-1", 3) is None
    assert found == by_id == two
    assert [x.id for x in listed] == ["a", "b"] and listed[0].set is None


async def test_follow_ups_are_numbered_and_listed_in_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        for n in range(3):
            await uow.findings.add_follow_up(
                FollowUp(f"f{n}", "inc-1", 0, f"do {n}", "U_C", "U_B", T0 + timedelta(minutes=n))
            )
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.findings.follow_ups("inc-1")
    assert [(f.number, f.text, f.owner) for f in listed] == [
        (1, "do 0", "U_C"),
        (2, "do 1", "U_C"),
        (3, "do 2", "U_C"),
    ]
    assert listed[0].added_at == T0


async def test_examples_added_at_once_by_two_processes_get_distinct_numbers(
    engine: AsyncEngine, migrated_url: str
) -> None:
    other = create_engine(migrated_url)
    try:
        factories = [SqlUnitOfWorkFactory(session_factory(e)) for e in (engine, other)]
        async with factories[0]() as uow:
            await uow.incidents.add(incident("inc-1"))
            await uow.commit()

        async def add(factory: SqlUnitOfWorkFactory, n: int) -> int:
            async with factory() as uow:
                example = FailedExample(f"x{n}", "inc-1", 0, f"example {n}", "U_A", T0)
                added = await uow.findings.add_example(example)
                await asyncio.sleep(0)  # hold the row while the other process adds its own
                await uow.commit()
                return added.number

        numbers = await asyncio.gather(*(add(factories[n % 2], n) for n in range(10)))
    finally:
        await other.dispose()
    assert sorted(numbers) == list(range(1, 11))
