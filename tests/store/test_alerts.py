"""The AlertRepo contract against the fakes and each real database; and on PostgreSQL, that two
bot processes given the same alert at once open one incident, and that the summary and
automatic-action claims go to one process each."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.domain.alert_rules import AlertRule, AlertSettings
from bot.domain.alerts import (
    Alert,
    AlertGroup,
    AlertSource,
    AlertStatus,
    Notification,
    Repeats,
    TrackedAlert,
)
from bot.domain.kinds import IncidentKind, IncidentStatus
from bot.domain.registry import Catalog, Component, ServiceSpec, built_in_flags
from bot.domain.timeline import EventType
from bot.ports import UnitOfWorkFactory
from bot.runbooks.loader import load_library
from bot.services.alerting import Ingested, ingest_notification
from bot.services.deps import Deps, Policy
from bot.store.alerts import SqlAlertRepo
from bot.store.database import create_engine, session_factory
from bot.store.idempotency import SqlIdempotencyRepo
from bot.store.models import IncidentRow
from bot.store.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.fake_chat import FakeChat
from tests.store.examples import T0, T0_UTC, incident
from tests.unit.test_services import ROOT

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
HOUR = timedelta(hours=1)


def tracked(fingerprint: str = "fp-1", **fields: object) -> TrackedAlert:
    """Every field set; times in a non-UTC zone, with microseconds."""
    base = TrackedAlert(
        source=AlertSource.GRAFANA,
        fingerprint=fingerprint,
        incident_id="inc-1",
        name="EvalScoreDrop",
        summary="Eval score 0.62 < 0.85 – ünïcode <script>",
        service="support-bot",
        kind="quality",
        severity="sev2",
        status=AlertStatus.RESOLVED,
        starts_at=T0 - timedelta(minutes=4),
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=9),
        resolved_at=T0 + timedelta(minutes=10),
        notifications=7,
        firing_streak=0,
        value="0.62",
        threshold="0.85",
        links=("https://grafana.example.com/d/1", "https://runbooks.example.com/eval"),
        status_at=T0 + timedelta(minutes=10),
        repeats=3,
        repeated_from=T0 + timedelta(minutes=1),
        repeated_until=T0 + timedelta(minutes=9),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def bare(fingerprint: str = "fp-2", **fields: object) -> TrackedAlert:
    """Every optional field empty."""
    empty: dict[str, object] = {
        "source": AlertSource.ALERTMANAGER,
        "service": None,
        "kind": "unknown",
        "status": AlertStatus.FIRING,
        "starts_at": None,
        "resolved_at": None,
        "notifications": 1,
        "firing_streak": 1,
        "value": None,
        "threshold": None,
        "links": (),
        "status_at": None,
        "repeats": 0,
        "repeated_from": None,
        "repeated_until": None,
    }
    return tracked(fingerprint, **{**empty, **fields})


async def save(uow_factory: UnitOfWorkFactory, *alerts: TrackedAlert) -> None:
    async with uow_factory() as uow:
        for alert in alerts:
            await uow.alerts.save(alert)
        await uow.commit()


async def test_an_alert_comes_back_as_it_went_in(uow_factory: UnitOfWorkFactory) -> None:
    full, empty = tracked(), bare()
    await save(uow_factory, full, empty)
    async with uow_factory() as uow:
        got = await uow.alerts.get(AlertSource.GRAFANA, "fp-1")
        assert await uow.alerts.get(AlertSource.ALERTMANAGER, "fp-2") == empty
        # The fingerprint is unique per source only.
        assert await uow.alerts.get(AlertSource.ALERTMANAGER, "fp-1") is None
    assert got == full
    assert got is not None and isinstance(got.links, tuple)


@pytest.mark.parametrize(
    "uow_factory",
    [
        "fake",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
    indirect=True,
)
async def test_alert_and_group_times_come_back_in_utc(uow_factory: UnitOfWorkFactory) -> None:
    await save(uow_factory, tracked())
    async with uow_factory() as uow:
        await uow.alerts.lock_group("g")
        await uow.alerts.set_group(AlertGroup("g", "inc-1", T0))
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.alerts.get(AlertSource.GRAFANA, "fp-1")
        group = await uow.alerts.lock_group("g")
    assert got is not None and got.first_seen == T0_UTC
    times = (got.starts_at, got.first_seen, got.last_seen, got.resolved_at, group.last_alert_at)
    assert [at is not None and at.tzinfo is UTC for at in times] == [True] * 5


async def test_saving_again_updates_the_alert(uow_factory: UnitOfWorkFactory) -> None:
    await save(uow_factory, bare())
    moved = bare(incident_id="inc-9", notifications=3, firing_streak=3, links=("https://x",))
    await save(uow_factory, moved)
    async with uow_factory() as uow:
        assert await uow.alerts.get(AlertSource.ALERTMANAGER, "fp-2") == moved
        assert await uow.alerts.for_incident("inc-1") == []


async def test_alerts_are_read_in_one_go_those_that_exist(uow_factory: UnitOfWorkFactory) -> None:
    full, empty = tracked(), bare()
    await save(uow_factory, full, empty)
    async with uow_factory() as uow:
        found = await uow.alerts.get_many(
            [
                (AlertSource.ALERTMANAGER, "fp-2"),
                (AlertSource.GRAFANA, "fp-1"),
                (AlertSource.ALERTMANAGER, "fp-1"),  # unique per source only: not there
            ],
            for_update=True,
        )
        assert await uow.alerts.get_many([]) == {}
    assert found == {(AlertSource.GRAFANA, "fp-1"): full, (AlertSource.ALERTMANAGER, "fp-2"): empty}


def repeat_of(alert: TrackedAlert, **fields: object) -> Alert:
    base = Alert(
        alert.source,
        alert.fingerprint,
        alert.status,
        alert.name,
        "still bad",
        value="0.5",
        threshold="0.85",
        links=("https://new.example.com",),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


async def test_a_repeat_adds_up_as_hearing_it_does(uow_factory: UnitOfWorkFactory) -> None:
    firing = bare(firing_streak=2, status_at=T0)
    await save(uow_factory, firing)
    expected = replace(firing)
    first, second = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    later = T0 + timedelta(seconds=30)
    for at, alert in ((first, repeat_of(firing, occurred_at=later)), (second, repeat_of(firing))):
        expected.hear(alert, at)
        async with uow_factory() as uow:
            got = await uow.alerts.repeat(Repeats.one(alert, at), "inc-1")
            await uow.commit()
        assert got == expected
    assert (got.notifications, got.repeats, got.firing_streak) == (3, 2, 4)
    assert (got.repeated_from, got.repeated_until, got.status_at) == (first, second, later)
    async with uow_factory() as uow:
        assert await uow.alerts.get(AlertSource.ALERTMANAGER, "fp-2") == expected


async def test_repeats_taken_together_add_up_as_one_by_one(uow_factory: UnitOfWorkFactory) -> None:
    firing = bare(firing_streak=2)
    await save(uow_factory, firing)
    times = [T0 + timedelta(minutes=n) for n in (1, 2, 3)]
    alerts = [repeat_of(firing, summary=f"#{n}", occurred_at=t) for n, t in enumerate(times)]
    expected = replace(firing)
    together = Repeats.one(alerts[0], times[0])
    for alert, at in zip(alerts, times, strict=True):
        expected.hear(alert, at)
    for alert, at in zip(alerts[1:], times[1:], strict=True):
        together = together.then(alert, at)
    async with uow_factory() as uow:
        got = await uow.alerts.repeat(together, "inc-1")
        await uow.commit()
    assert got == expected and (got.repeats, got.summary, got.status_at) == (3, "#2", times[2])


async def test_several_keys_are_claimed_at_once_each_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.idempotency.claim("k2", T0)
        assert await uow.idempotency.claim_many(["k1", "k2", "k3"], T0) == {"k1", "k3"}
        assert await uow.idempotency.claim_many([], T0) == set()
        await uow.commit()
    async with uow_factory() as uow:
        later = T0 + HOUR
        assert await uow.idempotency.claim_many(["k1", "k4"], later, HOUR / 2) == {"k1", "k4"}
        assert await uow.idempotency.claim_many(["k1", "k2"], later) == set()


async def test_a_repeat_of_an_alert_that_changed_writes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    firing = bare()
    await save(uow_factory, firing)
    at = T0 + HOUR
    async with uow_factory() as uow:
        resolved = repeat_of(firing, status=AlertStatus.RESOLVED)
        assert await uow.alerts.repeat(Repeats.one(resolved, at), "inc-1") is None
        assert await uow.alerts.repeat(Repeats.one(repeat_of(firing), at), "inc-9") is None
        unknown = repeat_of(firing, fingerprint="nobody")
        assert await uow.alerts.repeat(Repeats.one(unknown, at), "inc-1") is None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.alerts.get(AlertSource.ALERTMANAGER, "fp-2") == firing


async def test_an_uncommitted_alert_is_lost(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.alerts.save(tracked())
    async with uow_factory() as uow:
        assert await uow.alerts.get(AlertSource.GRAFANA, "fp-1") is None


async def test_an_incidents_alerts_come_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    await save(
        uow_factory,
        tracked("c", first_seen=T0 + HOUR),
        tracked("b"),
        tracked("a"),  # the same moment as b: by fingerprint
        tracked("z", incident_id="inc-2"),
    )
    async with uow_factory() as uow:
        assert [a.fingerprint for a in await uow.alerts.for_incident("inc-1")] == ["a", "b", "c"]
        assert await uow.alerts.for_incident("inc-3") == []


async def test_a_group_is_created_empty_and_remembers_its_incident(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        assert await uow.alerts.lock_group("support-bot|quality") == AlertGroup(
            "support-bot|quality", None, None
        )
        await uow.alerts.set_group(AlertGroup("support-bot|quality", "inc-1", T0))
        await uow.commit()
    async with uow_factory() as uow:
        group = await uow.alerts.lock_group("support-bot|quality")
        assert group == AlertGroup("support-bot|quality", "inc-1", T0_UTC)
        assert await uow.alerts.lock_group("?|unknown") == AlertGroup("?|unknown", None, None)


async def test_stale_summaries_are_claimed_once_oldest_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        assert await uow.alerts.summary("inc-1") == (None, False)
        await uow.alerts.mark_summary_stale("inc-2", T0 + HOUR)
        await uow.alerts.mark_summary_stale("inc-1", T0 + 2 * HOUR)
        await uow.alerts.mark_summary_stale("inc-3", T0 + 3 * HOUR)
        await uow.alerts.mark_summary_stale("inc-1", T0)  # earlier: kept as is
        await uow.commit()
    async with uow_factory() as uow:
        # Readers of inc-1 have waited since T0 + 2h, not T0: the first moment is kept.
        assert await uow.alerts.claim_stale_summaries(limit=2) == ["inc-2", "inc-1"]
        assert await uow.alerts.claim_stale_summaries() == ["inc-3"]
        assert await uow.alerts.claim_stale_summaries() == []
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.alerts.claim_stale_summaries() == []
        assert await uow.alerts.summary("inc-1") == (None, False)


async def test_an_uncommitted_summary_claim_is_lost(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.alerts.mark_summary_stale("inc-1", T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.alerts.claim_stale_summaries() == ["inc-1"]
    async with uow_factory() as uow:
        assert await uow.alerts.claim_stale_summaries() == ["inc-1"]


async def test_a_saved_summary_keeps_its_message_and_what_was_told(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.alerts.save_summary("inc-1", "1795366987.000100", all_resolved_told=False)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.alerts.summary("inc-1") == ("1795366987.000100", False)
        assert await uow.alerts.claim_stale_summaries() == []  # saved up to date
        await uow.alerts.mark_summary_stale("inc-1", T0)
        await uow.alerts.save_summary("inc-1", "1795366987.000100", all_resolved_told=True)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.alerts.summary("inc-1") == ("1795366987.000100", True)
        # Saving does not clear the mark: what came in meanwhile is still shown next tick.
        assert await uow.alerts.claim_stale_summaries() == ["inc-1"]
        await uow.alerts.mark_summary_stale("inc-1", T0 + HOUR)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.alerts.summary("inc-1") == ("1795366987.000100", True)


async def test_an_automatic_action_mark_waits_out_its_interval(
    uow_factory: UnitOfWorkFactory,
) -> None:
    wait = timedelta(minutes=30)
    async with uow_factory() as uow:
        assert await uow.alerts.claim_auto_action("support-bot", "prompt", T0, wait)
        assert not await uow.alerts.claim_auto_action("support-bot", "prompt", T0, wait)
        assert await uow.alerts.claim_auto_action("support-bot", "kill_switch", T0, wait)
        assert await uow.alerts.claim_auto_action("search", "prompt", T0, wait)
        await uow.commit()
    async with uow_factory() as uow:
        almost = T0 + wait - timedelta(microseconds=1)
        assert not await uow.alerts.claim_auto_action("support-bot", "prompt", almost, wait)
        assert await uow.alerts.claim_auto_action("support-bot", "prompt", T0 + wait, wait)
        # The mark moved to T0 + 30m: the next one waits from there.
        assert not await uow.alerts.claim_auto_action("support-bot", "prompt", T0 + HOUR, HOUR)
        await uow.commit()


async def test_an_uncommitted_mark_is_lost(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.alerts.claim_auto_action("support-bot", "prompt", T0, HOUR)
    async with uow_factory() as uow:
        assert await uow.alerts.claim_auto_action("support-bot", "prompt", T0, HOUR)


# Concurrency, on PostgreSQL: two bot processes are two engines on one database.


async def two_factories(
    engine: AsyncEngine, url: str
) -> tuple[AsyncEngine, list[SqlUnitOfWorkFactory]]:
    other = create_engine(url)
    return other, [SqlUnitOfWorkFactory(session_factory(e)) for e in (engine, other)]


@POSTGRES_ONLY
async def test_two_processes_never_claim_the_same_summary(
    engine: AsyncEngine, migrated_url: str
) -> None:
    count = 40
    other, factories = await two_factories(engine, migrated_url)
    try:
        async with factories[0]() as uow:
            for n in range(count):
                await uow.alerts.mark_summary_stale(f"inc-{n:02}", T0 + timedelta(seconds=n % 7))
            await uow.commit()

        async def drain(factory: SqlUnitOfWorkFactory) -> list[str]:
            ids: list[str] = []
            while True:
                async with factory() as uow:
                    batch = await uow.alerts.claim_stale_summaries(limit=3)
                    await asyncio.sleep(0)  # let the other process run mid-transaction
                    await uow.commit()
                if not batch:
                    return ids
                ids += batch

        workers = [factories[0], factories[1], factories[0], factories[1]]
        claimed = await asyncio.gather(*(drain(f) for f in workers))
    finally:
        await other.dispose()
    everything = [i for ids in claimed for i in ids]
    assert sorted(everything) == [f"inc-{n:02}" for n in range(count)]  # each exactly once


@POSTGRES_ONLY
async def test_an_open_summary_claim_is_skipped_not_waited_for(
    engine: AsyncEngine, migrated_url: str
) -> None:
    other, (mine, theirs) = await two_factories(engine, migrated_url)
    try:
        async with mine() as uow:
            await uow.alerts.mark_summary_stale("inc-1", T0)
            await uow.alerts.mark_summary_stale("inc-2", T0 + HOUR)
            await uow.commit()
        async with mine() as first, theirs() as second:
            assert await first.alerts.claim_stale_summaries(limit=1) == ["inc-1"]
            rest = await asyncio.wait_for(second.alerts.claim_stale_summaries(), timeout=5)
            assert rest == ["inc-2"]
            await first.commit()
            await second.commit()
        async with theirs() as third:
            assert await third.alerts.claim_stale_summaries() == []
    finally:
        await other.dispose()


@POSTGRES_ONLY
@pytest.mark.parametrize("marked_before", [False, True])
@pytest.mark.parametrize("callers", [2, 10])
async def test_concurrent_automatic_action_claims_let_one_win(
    engine: AsyncEngine, migrated_url: str, callers: int, marked_before: bool
) -> None:
    other, factories = await two_factories(engine, migrated_url)
    try:
        if marked_before:  # long ago: every caller finds it free
            async with factories[0]() as uow:
                assert await uow.alerts.claim_auto_action("support-bot", "prompt", T0, HOUR)
                await uow.commit()
        everyone_in = asyncio.Barrier(callers)

        async def claim(n: int) -> bool:
            async with factories[n % 2]() as uow:
                await uow.alerts.summary("inc-1")  # a connection, a transaction, a snapshot
                await everyone_in.wait()
                won = await uow.alerts.claim_auto_action(
                    "support-bot", "prompt", T0 + 2 * HOUR, HOUR
                )
                await asyncio.sleep(0.05)  # hold the row while the others queue for it
                await uow.commit()
                return won

        results = await asyncio.gather(*(claim(n) for n in range(callers)))
    finally:
        await other.dispose()
    assert results.count(True) == 1


# The same alert delivered to two bot processes at once, through the services.

START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SUPPORT_BOT = ServiceSpec(
    "support-bot", {Component.PROMPT: "v12", Component.MODEL: "gpt-x"}, built_in_flags()
)
SETTINGS = AlertSettings(
    rules=(AlertRule({"alertname": "EvalScoreDrop"}, "support-bot", IncidentKind.QUALITY),)
)
ALERT = Alert(
    AlertSource.ALERTMANAGER,
    "eval-drop",
    AlertStatus.FIRING,
    "EvalScoreDrop",
    "Eval score dropped",
    {"severity": "critical"},
    starts_at=START - timedelta(minutes=4),
)


class GateOnce(SqlUnitOfWorkFactory):
    """Once armed, its next unit of work waits at `barrier` just before claiming its delivery
    key (`at="claim"`) or locking its alert group (`at="lock"`): both processes are inside
    their transaction, having read what they read, before either goes on."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions)
        self._gated_sessions = sessions
        self.barrier: asyncio.Barrier | None = None
        self.at = "lock"

    def __call__(self) -> SqlUnitOfWork:
        barrier, self.barrier = self.barrier, None
        if barrier is None:
            return super().__call__()
        return _Gated(self._gated_sessions, barrier, self.at)


class _Gated(SqlUnitOfWork):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], barrier: asyncio.Barrier, at: str
    ) -> None:
        super().__init__(sessions)
        self._barrier, self._at = barrier, at

    async def __aenter__(self) -> SqlUnitOfWork:
        await super().__aenter__()
        session = self._active()
        if self._at == "lock":
            self.alerts = _WaitBeforeLock(session, self._barrier)
        else:
            self.idempotency = _WaitBeforeClaim(session, self._barrier)
        return self


class _WaitBeforeLock(SqlAlertRepo):
    def __init__(self, session: AsyncSession, barrier: asyncio.Barrier) -> None:
        super().__init__(session)
        self._barrier = barrier

    async def lock_group(self, key: str) -> AlertGroup:
        await self._barrier.wait()
        return await super().lock_group(key)


class _WaitBeforeClaim(SqlIdempotencyRepo):
    def __init__(self, session: AsyncSession, barrier: asyncio.Barrier) -> None:
        super().__init__(session)
        self._barrier = barrier

    async def claim(self, key: str, at: datetime, forget_after: timedelta | None = None) -> bool:
        await self._barrier.wait()
        return await super().claim(key, at, forget_after)


def process(engine: AsyncEngine, chat: FakeChat) -> Deps:
    return Deps(
        uow=GateOnce(session_factory(engine)),
        chat=chat,
        clock=ManualClock(START),
        runbooks=load_library(ROOT / "runbooks"),
        policy=Policy(alerts=SETTINGS),
        catalog=Catalog([SUPPORT_BOT]),
    )


async def ingest_at_once(
    engine: AsyncEngine, url: str, keys: tuple[str, str], at: str
) -> tuple[list[Ingested], FakeChat, Deps]:
    """Both processes are given ALERT, under the two delivery keys, at the same moment."""
    other, chat = create_engine(url), FakeChat()
    try:
        one, two = process(engine, chat), process(other, chat)
        both_in = asyncio.Barrier(2)
        for deps in (one, two):
            assert isinstance(deps.uow, GateOnce)
            deps.uow.barrier, deps.uow.at = both_in, at
        results = await asyncio.wait_for(
            asyncio.gather(
                *(
                    ingest_notification(deps, Notification(AlertSource.ALERTMANAGER, key, (ALERT,)))
                    for deps, key in zip((one, two), keys, strict=True)
                )
            ),
            timeout=30,
        )
    finally:
        await other.dispose()
    return results, chat, process(engine, chat)


async def incident_rows(engine: AsyncEngine) -> list[str]:
    async with session_factory(engine)() as session:
        return list(await session.scalars(select(IncidentRow.id)))


@POSTGRES_ONLY
async def test_the_same_alert_given_to_two_processes_at_once_opens_one_incident(
    engine: AsyncEngine, migrated_url: str
) -> None:
    # Two Alertmanager replicas send the same alert, each under its own delivery key.
    results, chat, deps = await ingest_at_once(
        engine, migrated_url, ("replica-a", "replica-b"), at="lock"
    )
    opened = [i for r in results for i in r.opened]
    assert len(opened) == 1, results
    [incident_id] = opened
    assert sorted(results, key=lambda r: len(r.opened)) == [
        Ingested(joined=[incident_id]),
        Ingested(opened=[incident_id]),
    ]
    assert await incident_rows(engine) == [incident_id]
    assert len(chat.channels) == 1
    async with deps.uow() as uow:
        alerts = await uow.alerts.for_incident(incident_id)
        events = await uow.timeline.for_incident(incident_id)
        group = await uow.alerts.lock_group("support-bot|quality")
    assert [a.fingerprint for a in alerts] == ["eval-drop"]
    assert group.incident_id == incident_id
    # The first delivery is on the incident's timeline; the second repeats it, counted.
    firing = [e for e in events if e.type is EventType.ALERT_FIRING]
    assert [e.data["fingerprint"] for e in firing] == ["eval-drop"]
    assert [(a.notifications, a.repeats) for a in alerts] == [(2, 1)]


@POSTGRES_ONLY
async def test_the_second_process_counts_the_alert_as_heard_again(
    engine: AsyncEngine, migrated_url: str
) -> None:
    _, _, deps = await ingest_at_once(engine, migrated_url, ("replica-a", "replica-b"), at="lock")
    async with deps.uow() as uow:
        alert = await uow.alerts.get(AlertSource.ALERTMANAGER, "eval-drop")
        [incident_id] = await incident_rows(engine)
        events = await uow.timeline.for_incident(incident_id)
    assert alert is not None
    # As if the deliveries had come one after the other.
    assert (alert.notifications, alert.firing_streak, alert.repeats) == (2, 2, 1)
    firing = [e for e in events if e.type is EventType.ALERT_FIRING]
    assert [e.data["grouping"] for e in firing] == ["new incident"]


@POSTGRES_ONLY
async def test_one_delivery_given_to_two_processes_at_once_is_handled_once(
    engine: AsyncEngine, migrated_url: str
) -> None:
    results, chat, deps = await ingest_at_once(
        engine, migrated_url, ("same-key", "same-key"), at="claim"
    )
    assert Ingested(duplicate=True) in results
    [handled] = [r for r in results if not r.duplicate]
    assert len(handled.opened) == 1 and handled.joined == []
    assert await incident_rows(engine) == handled.opened
    assert len(chat.channels) == 1
    async with deps.uow() as uow:
        alert = await uow.alerts.get(AlertSource.ALERTMANAGER, "eval-drop")
        events = await uow.timeline.for_incident(handled.opened[0])
    assert alert is not None and alert.notifications == 1
    assert [e.type for e in events].count(EventType.ALERT_FIRING) == 1


async def test_alerts_in_open_incidents_are_read_in_one_go(uow_factory: UnitOfWorkFactory) -> None:
    opening, still = bare("fp-opening", incident_id="inc-new"), bare("fp-open", incident_id="i1")
    over = bare("fp-over", incident_id="i2")
    await save(uow_factory, opening, still, over)
    async with uow_factory() as uow:
        await uow.incidents.add(
            replace(incident("i1", "C1"), status=IncidentStatus.INVESTIGATING, resolved_at=None)
        )
        await uow.incidents.add(incident("i2", "C2"))  # resolved
        await uow.commit()
    keys = [(AlertSource.ALERTMANAGER, f) for f in ("fp-opening", "fp-open", "fp-over", "no")]
    async with uow_factory() as uow:
        found = await uow.alerts.in_open_incidents(keys)
    # No incident row yet: still being opened, which counts as open.
    assert sorted(a.fingerprint for a in found.values()) == ["fp-open", "fp-opening"]
