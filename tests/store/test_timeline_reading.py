"""The timeline's bulk read (raw columns, one JSON decode, the collector paused) gives back
exactly what was appended, on every backend."""

from __future__ import annotations

import gc
from datetime import UTC, timedelta

from bot.domain.timeline import EventType, TimelineEvent
from bot.ports import UnitOfWorkFactory
from tests.store.examples import T0, T0_UTC

# Every kind of JSON value, nested, with text a naive join or split would trip on.
DATAS: list[dict[str, object]] = [
    {},
    {"s": "plain", "i": -7, "big": 2**53 + 1, "f": 0.1, "t": True, "n": None},
    {"list": [1, "two", [3.5, None], {"k": False}], "empty": {}, "none": []},
    {"tricky": '],[{"x": 1}, "\\u00e9 \\n', "unicode": "→ “quoted” 🔥 é", "": "empty key"},
    {"nested": {"a": {"b": {"c": [[], [{}]]}}}},
]


def event(at_offset: timedelta, text: str, data: dict[str, object]) -> TimelineEvent:
    return TimelineEvent(
        incident_id="inc-1",
        at=T0 + at_offset,
        type=EventType.ALERT_FIRING,
        actor="alert:grafana",
        text=text,
        data=data,
    )


async def test_data_of_every_json_kind_comes_back_equal(uow_factory: UnitOfWorkFactory) -> None:
    appended = [event(timedelta(seconds=i), f"event {i}", d) for i, d in enumerate(DATAS)]
    async with uow_factory() as uow:
        for e in appended:
            await uow.timeline.append(e)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.timeline.for_incident("inc-1")
    assert stored == appended
    assert [e.data for e in stored] == DATAS
    assert len({id(e.data) for e in stored}) == len(stored)  # no dict shared between events


async def test_microseconds_and_offsets_come_back_as_utc(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.timeline.append(event(timedelta(microseconds=1), "later by 1 µs", {}))
        await uow.timeline.append(event(timedelta(), "first", {}))
        await uow.timeline.append(event(timedelta(hours=-9), "previous day in UTC", {}))
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.timeline.for_incident("inc-1")
    assert [e.text for e in stored] == ["previous day in UTC", "first", "later by 1 µs"]
    assert [e.at for e in stored] == [
        T0_UTC - timedelta(hours=9),
        T0_UTC,
        T0_UTC + timedelta(microseconds=1),
    ]
    assert all(e.at.tzinfo is UTC for e in stored)
    assert stored[2].at.microsecond == T0_UTC.microsecond + 1


async def test_ties_keep_insertion_order_among_many(uow_factory: UnitOfWorkFactory) -> None:
    # Enough rows that an unstable sort or a reordered decode would show.
    async with uow_factory() as uow:
        for i in range(300):
            await uow.timeline.append(event(timedelta(seconds=(i * 7) % 3), f"#{i}", {"i": i}))
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.timeline.for_incident("inc-1")
    expected = sorted(range(300), key=lambda i: (i * 7) % 3)
    assert [e.text for e in stored] == [f"#{i}" for i in expected]
    assert [e.data["i"] for e in stored] == expected


async def test_the_collector_is_left_as_it_was(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.timeline.append(event(timedelta(), "one", {"k": [1]}))
        await uow.commit()
    assert gc.isenabled()
    async with uow_factory() as uow:
        assert len(await uow.timeline.for_incident("inc-1")) == 1
        assert await uow.timeline.for_incident("inc-2") == []
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    gc.disable()
    try:
        async with uow_factory() as uow:
            await uow.timeline.for_incident("inc-1")
        assert not gc.isenabled()
    finally:
        gc.enable()
