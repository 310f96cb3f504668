from __future__ import annotations

from datetime import UTC, timedelta

from bot.domain.timeline import BOT_ACTOR, EventType, TimelineEvent
from bot.ports import UnitOfWorkFactory
from tests.store.examples import T0


def event(minutes: int, text: str, incident_id: str = "inc-1") -> TimelineEvent:
    return TimelineEvent(
        incident_id=incident_id,
        at=T0 + timedelta(minutes=minutes),
        type=EventType.STATUS_UPDATE,
        actor="U1",
        text=text,
    )


async def test_events_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    opened = TimelineEvent(
        incident_id="inc-1",
        at=T0,
        type=EventType.OPENED,
        actor=BOT_ACTOR,
        text="Incident opened",
        data={"kind": "quality", "steps": [1, 2], "nested": {"ok": True, "none": None}},
    )
    async with uow_factory() as uow:
        await uow.timeline.append(opened)
        await uow.commit()
        [stored] = await uow.timeline.for_incident("inc-1")
    assert stored == opened
    assert stored.at.tzinfo is UTC


async def test_ordered_by_when_it_happened_then_by_insertion(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.timeline.append(event(10, "b"))
        await uow.timeline.append(event(0, "a, recorded late"))
        await uow.timeline.append(event(10, "c, same time as b"))
        await uow.timeline.append(event(5, "other incident", incident_id="inc-2"))
        await uow.commit()

    async with uow_factory() as uow:
        texts = [e.text for e in await uow.timeline.for_incident("inc-1")]
        assert texts == ["a, recorded late", "b", "c, same time as b"]
        assert await uow.timeline.for_incident("inc-3") == []


async def test_uncommitted_events_are_dropped(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.timeline.append(event(0, "never committed"))
    async with uow_factory() as uow:
        assert await uow.timeline.for_incident("inc-1") == []
