"""The ActionRepo contract against the fakes and each real database; and on PostgreSQL, that
concurrent claims, from separate sessions and engines as two replicas would have, move a
request exactly once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import TracebackType

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.domain.actions import (
    Action,
    ActionKind,
    ActionPolicy,
    ActionRequest,
    FlagMove,
    RequestStatus,
    Risk,
    Roles,
    VersionMove,
)
from bot.domain.errors import Conflict
from bot.domain.kinds import IncidentKind
from bot.domain.registry import Catalog, Component, FlagKind, ServiceSpec, built_in_flags
from bot.domain.timeline import EventType
from bot.ports import UnitOfWorkFactory
from bot.runbooks.loader import load_library
from bot.services import registry
from bot.services.action_plans import plan_rollback
from bot.services.actions import approve_action, request_action
from bot.services.deps import Deps, Policy
from bot.services.opening import OpenIncident, open_incident
from bot.store.database import create_engine, session_factory
from bot.store.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.fake_chat import FakeChat
from tests.store.examples import T0, T0_UTC
from tests.unit.test_services import ROOT

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
MOVES = (
    VersionMove(Component.PROMPT, "v13", "v12"),
    FlagMove("new-retriever", FlagKind.PERCENTAGE, 50, 0),
    FlagMove("strict-grounding", FlagKind.BOOLEAN, True, False),
)


def request(n: int = 1, **fields: object) -> ActionRequest:
    """Every field set; times in a non-UTC zone, with microseconds."""
    base = ActionRequest(
        id=f"req-{n:03}",
        incident_id="inc-1",
        channel_id="C1",
        action=Action(ActionKind.RESTORE, "support-bot", MOVES),
        risk=Risk.HIGH,
        reason="refusals up – ünïcode <script>",
        requested_by="U_A",
        requested_at=T0 + timedelta(minutes=n),
        expires_at=T0 + timedelta(minutes=15 + n),
        status=RequestStatus.FAILED,
        decided_by="U_B",
        decided_at=T0 + timedelta(minutes=n, seconds=30),
        message_ts="1795366987.000100",
        outcome="timed out: no answer within 5 s",
        attempts=2,
        verification="FAILED: score 0.62 < 0.85",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def pending(n: int, minutes_to_expiry: int = 15, **fields: object) -> ActionRequest:
    return request(
        n,
        status=RequestStatus.PENDING,
        decided_by=None,
        decided_at=None,
        message_ts=None,
        outcome=None,
        attempts=0,
        verification=None,
        expires_at=T0 + timedelta(minutes=minutes_to_expiry),
        **fields,
    )


async def add(uow_factory: UnitOfWorkFactory, *requests: ActionRequest) -> None:
    async with uow_factory() as uow:
        for r in requests:
            await uow.actions.add(r)
        await uow.commit()


async def stored(uow_factory: UnitOfWorkFactory, request_id: str) -> ActionRequest:
    async with uow_factory() as uow:
        found = await uow.actions.get(request_id)
    assert found is not None
    return found


async def test_a_request_comes_back_as_it_went_in(uow_factory: UnitOfWorkFactory) -> None:
    full, bare = request(1), pending(2)
    await add(uow_factory, full, bare)
    async with uow_factory() as uow:
        got = await uow.actions.get("req-001")
        assert await uow.actions.get("req-002") == bare
        assert await uow.actions.get("nope") is None
    assert got == full
    assert got is not None
    assert (got.requested_at, got.decided_at) == (
        T0_UTC + timedelta(minutes=1),
        T0_UTC + timedelta(minutes=1, seconds=30),
    )
    for at in (got.requested_at, got.expires_at, got.decided_at):
        assert at is not None and at.tzinfo is UTC
    # True == 1, so equality alone would not catch a boolean coming back as a number.
    kinds = [(type(m.before), type(m.after)) for m in got.action.moves]
    assert kinds == [(str, str), (int, int), (bool, bool)]
    assert got.action.moves == MOVES


async def test_an_uncommitted_request_is_lost(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.actions.add(pending(1))
    async with uow_factory() as uow:
        assert await uow.actions.get("req-001") is None


async def test_a_transition_moves_only_from_the_statuses_named(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await add(uow_factory, pending(1))
    at = T0 + timedelta(minutes=3)
    async with uow_factory() as uow:
        wrong = [RequestStatus.FAILED, RequestStatus.APPLIED]
        assert not await uow.actions.transition("req-001", wrong, RequestStatus.APPLYING)
        assert not await uow.actions.transition(
            "nope", [RequestStatus.PENDING], RequestStatus.EXPIRED
        )
        assert await uow.actions.transition(
            "req-001", [RequestStatus.PENDING], RequestStatus.APPLYING, by="U_B", at=at
        )
        # Within the unit of work the second, identical move finds the status moved on.
        assert not await uow.actions.transition(
            "req-001", [RequestStatus.PENDING], RequestStatus.APPLYING, by="U_C", at=at
        )
        await uow.commit()
    claimed = await stored(uow_factory, "req-001")
    assert (claimed.status, claimed.decided_by, claimed.attempts) == (
        RequestStatus.APPLYING,
        "U_B",
        1,
    )
    assert claimed.decided_at == at and claimed.decided_at.tzinfo is UTC

    async with uow_factory() as uow:
        assert await uow.actions.transition(
            "req-001", [RequestStatus.APPLYING], RequestStatus.FAILED
        )
        assert await uow.actions.transition(
            "req-001", [RequestStatus.PENDING, RequestStatus.FAILED], RequestStatus.APPLYING
        )
        await uow.commit()
    retried = await stored(uow_factory, "req-001")
    # No `by`/`at`: the decision stands; every move to APPLYING counts an attempt.
    assert (retried.status, retried.decided_by, retried.decided_at, retried.attempts) == (
        RequestStatus.APPLYING,
        "U_B",
        at,
        2,
    )


async def test_an_uncommitted_transition_is_lost(uow_factory: UnitOfWorkFactory) -> None:
    await add(uow_factory, pending(1))
    async with uow_factory() as uow:
        assert await uow.actions.transition(
            "req-001", [RequestStatus.PENDING], RequestStatus.REJECTED, by="U_A"
        )
    assert (await stored(uow_factory, "req-001")).status is RequestStatus.PENDING


async def test_saving_the_outcome_never_touches_the_status(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await add(uow_factory, pending(1))
    local = replace(
        pending(1),
        status=RequestStatus.APPLIED,  # only in memory: save_outcome must not write it
        decided_by="U_Z",
        attempts=9,
        message_ts="1.000200",
        outcome="deployed",
        verification="passed: HTTP 200",
    )
    async with uow_factory() as uow:
        await uow.actions.save_outcome(local)
        await uow.commit()
    assert await stored(uow_factory, "req-001") == replace(
        pending(1), message_ts="1.000200", outcome="deployed", verification="passed: HTTP 200"
    )


async def test_only_pending_requests_past_their_expiry_are_claimed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await add(
        uow_factory,
        pending(1, minutes_to_expiry=20),
        pending(2, minutes_to_expiry=10),
        pending(3, minutes_to_expiry=60),  # not yet due
        request(4, expires_at=T0),  # failed, not pending
        request(5, status=RequestStatus.APPLIED, expires_at=T0),
        pending(6, minutes_to_expiry=10),  # same expiry as 2: the id breaks the tie
    )
    now = T0 + timedelta(minutes=20)
    async with uow_factory() as uow:
        assert await uow.actions.claim_expired(T0 + timedelta(minutes=9)) == []
        claimed = await uow.actions.claim_expired(now)
        await uow.commit()
    assert [r.id for r in claimed] == ["req-002", "req-006", "req-001"]
    assert {r.status for r in claimed} == {RequestStatus.EXPIRED}
    assert {r.decided_at for r in claimed} == {now}
    assert claimed[0] == replace(
        pending(2, minutes_to_expiry=10), status=RequestStatus.EXPIRED, decided_at=now
    )

    async with uow_factory() as uow:
        assert await uow.actions.claim_expired(now) == []
        assert [r.id for r in await uow.actions.claim_expired(T0 + timedelta(hours=2))] == [
            "req-003"
        ]
        assert (await uow.actions.get("req-004")) == request(4, expires_at=T0)


# PostgreSQL can plan `UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` as a
# semi join that re-runs the LIMIT subquery once per row and so ignores the limit; the repo
# locks the batch first and updates it by ID.
@pytest.mark.parametrize(
    "uow_factory",
    ["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
async def test_expiry_claims_respect_the_limit(uow_factory: UnitOfWorkFactory) -> None:
    await add(uow_factory, *(pending(n, minutes_to_expiry=n) for n in range(5)))
    async with uow_factory() as uow:
        first = await uow.actions.claim_expired(T0 + timedelta(hours=1), limit=2)
        rest = await uow.actions.claim_expired(T0 + timedelta(hours=1), limit=10)
    assert [r.id for r in first] == ["req-000", "req-001"]
    assert [r.id for r in rest] == ["req-002", "req-003", "req-004"]


async def test_an_incidents_requests_come_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    await add(
        uow_factory,
        pending(3),
        pending(1),
        pending(2, incident_id="inc-2"),
        pending(9, requested_at=T0 + timedelta(minutes=1)),  # same moment as 1: by id
    )
    async with uow_factory() as uow:
        assert [r.id for r in await uow.actions.for_incident("inc-1")] == [
            "req-001",
            "req-009",
            "req-003",
        ]
        assert [r.id for r in await uow.actions.for_incident("inc-2")] == ["req-002"]
        assert await uow.actions.for_incident("inc-3") == []


# Concurrency, on PostgreSQL: two replicas are two engines on one database.


async def two_factories(
    engine: AsyncEngine, url: str
) -> tuple[AsyncEngine, list[SqlUnitOfWorkFactory]]:
    other = create_engine(url)
    return other, [SqlUnitOfWorkFactory(session_factory(e)) for e in (engine, other)]


@POSTGRES_ONLY
@pytest.mark.parametrize("callers", [2, 10])
async def test_concurrent_claims_move_a_request_exactly_once(
    engine: AsyncEngine, migrated_url: str, callers: int
) -> None:
    other, factories = await two_factories(engine, migrated_url)
    try:
        await add(factories[0], pending(1))
        everyone_in = asyncio.Barrier(callers)

        async def claim(n: int) -> bool:
            async with factories[n % 2]() as uow:
                await uow.actions.get("req-001")  # a connection, a transaction, a snapshot
                await everyone_in.wait()
                won = await uow.actions.transition(
                    "req-001", [RequestStatus.PENDING], RequestStatus.APPLYING, by=f"U{n}"
                )
                await asyncio.sleep(0.05)  # hold the row while the others queue for it
                await uow.commit()
                return won

        results = await asyncio.gather(*(claim(n) for n in range(callers)))
        claimed = await stored(factories[1], "req-001")
    finally:
        await other.dispose()
    assert results.count(True) == 1
    assert (claimed.status, claimed.attempts) == (RequestStatus.APPLYING, 1)
    assert claimed.decided_by == f"U{results.index(True)}"


@POSTGRES_ONLY
async def test_an_open_expiry_claim_hides_the_requests_from_others(
    engine: AsyncEngine, migrated_url: str
) -> None:
    other, (mine, theirs) = await two_factories(engine, migrated_url)
    try:
        await add(mine, pending(1, minutes_to_expiry=0), pending(2, minutes_to_expiry=10))
        now = T0 + timedelta(hours=1)
        async with mine() as first, theirs() as second:
            claimed = await first.actions.claim_expired(T0 + timedelta(minutes=5))
            assert [r.id for r in claimed] == ["req-001"]
            # Skipped, not waited for: a wait here would hang until the first commits.
            rest = await asyncio.wait_for(second.actions.claim_expired(now), timeout=5)
            assert [r.id for r in rest] == ["req-002"]
            await first.commit()
            await second.commit()
        async with theirs() as third:
            assert await third.actions.claim_expired(now) == []
    finally:
        await other.dispose()


@POSTGRES_ONLY
async def test_two_replicas_never_expire_the_same_request_twice(
    engine: AsyncEngine, migrated_url: str
) -> None:
    count = 40
    other, factories = await two_factories(engine, migrated_url)
    try:
        await add(factories[0], *(pending(n, minutes_to_expiry=n % 7) for n in range(count)))

        async def drain(factory: SqlUnitOfWorkFactory) -> list[str]:
            ids: list[str] = []
            while True:
                async with factory() as uow:
                    batch = await uow.actions.claim_expired(T0 + timedelta(hours=1), limit=3)
                    await asyncio.sleep(0)  # let the other replica run mid-transaction
                    await uow.commit()
                if not batch:
                    return ids
                ids += [r.id for r in batch]

        workers = [factories[0], factories[1], factories[0], factories[1]]
        claimed = await asyncio.gather(*(drain(f) for f in workers))
    finally:
        await other.dispose()
    everything = [i for ids in claimed for i in ids]
    assert sorted(everything) == [f"req-{n:03}" for n in range(count)]  # each exactly once


# Two bot replicas, end to end through the services.

START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ROLES = Roles(approvers=("U_B", "U_C"), responders=("U_A",), configured=True)
SUPPORT_BOT = ServiceSpec(
    "support-bot", {Component.PROMPT: "v12", Component.MODEL: "gpt-x"}, built_in_flags()
)


class ReadThenWait(SqlUnitOfWorkFactory):
    """Once armed, its next unit of work waits at `barrier` when done: both replicas have read
    the request as pending before either tries to claim it, as in a true race."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions)
        self._sessions_for_gate = sessions
        self.barrier: asyncio.Barrier | None = None

    def __call__(self) -> SqlUnitOfWork:
        barrier, self.barrier = self.barrier, None
        if barrier is None:
            return super().__call__()
        return _WaitWhenDone(self._sessions_for_gate, barrier)


class _WaitWhenDone(SqlUnitOfWork):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], barrier: asyncio.Barrier):
        super().__init__(sessions)
        self._barrier = barrier

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)
        await self._barrier.wait()


def replica(engine: AsyncEngine, chat: FakeChat) -> Deps:
    return Deps(
        uow=ReadThenWait(session_factory(engine)),
        chat=chat,
        clock=ManualClock(START),
        runbooks=load_library(ROOT / "runbooks"),
        policy=Policy(roles=ROLES, actions=ActionPolicy()),
        catalog=Catalog([SUPPORT_BOT]),
    )


@POSTGRES_ONLY
async def test_two_replicas_approving_at_once_apply_the_action_once(
    engine: AsyncEngine, migrated_url: str
) -> None:
    other = create_engine(migrated_url)
    chat = FakeChat()
    try:
        one, two = replica(engine, chat), replica(other, chat)
        await registry.record_change(one, "support-bot", "prompt", "v13", "ci")
        incident = await open_incident(
            one, OpenIncident(IncidentKind.QUALITY, "Refusals up", "U_A", service="support-bot")
        )
        action = await plan_rollback(two, "support-bot", "prompt", "v12")
        asked = await request_action(one, incident, action, "U_A", "refusals since v13")
        assert (asked.status, asked.risk) == (RequestStatus.PENDING, Risk.HIGH)

        both_read = asyncio.Barrier(2)
        for deps in (one, two):
            assert isinstance(deps.uow, ReadThenWait)
            deps.uow.barrier = both_read
        results = await asyncio.gather(
            approve_action(one, asked.id, "U_B"),
            approve_action(two, asked.id, "U_C"),
            return_exceptions=True,
        )

        async with two.uow() as uow:
            final = await uow.actions.get(asked.id)
            events = await uow.timeline.for_incident(incident.id)
            changes = await uow.registry.changes("support-bot", component=Component.PROMPT)
    finally:
        await other.dispose()

    won = [r for r in results if isinstance(r, ActionRequest)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], Conflict), lost[0]
    assert "This request is already" in str(lost[0])
    winner = "U_B" if results[0] is won[0] else "U_C"
    assert final is not None
    assert (final.status, final.decided_by, final.attempts) == (
        RequestStatus.APPLIED,
        winner,
        1,
    )
    ours = [c for c in changes if c.source == f"steadyhand rollback request {asked.id}"]
    assert [(c.from_version, c.to_version, c.actor) for c in ours] == [("v13", "v12", winner)]
    assert [c.to_version for c in changes] == ["v12", "v13"]
    types = [e.type for e in events]
    assert types.count(EventType.ACTION_APPLIED) == 1
    assert types.count(EventType.ACTION_APPROVED) == 1
    assert [e.actor for e in events if e.type is EventType.ACTION_APPROVED] == [winner]


async def test_only_requests_applying_since_before_the_cutoff_are_claimed_as_stuck(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await add(
        uow_factory,
        request(1, status=RequestStatus.APPLYING, applying_since=T0),
        request(2, status=RequestStatus.APPLYING, applying_since=T0 + timedelta(minutes=20)),
        request(3, status=RequestStatus.APPLIED, applying_since=T0),
        pending(4),
    )
    async with uow_factory() as uow:
        stuck = await uow.actions.claim_stuck(T0 + timedelta(minutes=10), "interrupted")
        await uow.commit()
    assert [(r.id, r.status, r.outcome) for r in stuck] == [
        ("req-001", RequestStatus.FAILED, "interrupted")
    ]
    async with uow_factory() as uow:
        assert await uow.actions.claim_stuck(T0 + timedelta(minutes=10), "again") == []
        assert (await uow.actions.get("req-002")).status is RequestStatus.APPLYING  # type: ignore[union-attr]
