"""SqlPendingWorkRepo: the Slack work incidents owe, each step claimed by one process at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.pending_work import LEASE, NewWork, PendingWork, Step
from bot.store.models import PendingWorkRow

_COLUMNS = (
    PendingWorkRow.key,
    PendingWorkRow.incident_id,
    PendingWorkRow.step,
    PendingWorkRow.payload,
    PendingWorkRow.attempts,
    PendingWorkRow.due_at,
    PendingWorkRow.last_error,
)


class SqlPendingWorkRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, work: Sequence[NewWork], due_at: datetime) -> None:
        if not work:
            return
        # One row per statement: the autoincremented seq then follows the order given.
        for new in work:
            await self._session.execute(
                insert(PendingWorkRow).values(
                    key=new.key,
                    incident_id=new.incident_id,
                    step=new.step.value,
                    payload=dict(new.payload),
                    attempts=0,
                    due_at=due_at,
                    leased_until=None,
                    done_at=None,
                    last_error=None,
                )
            )

    async def claim(
        self, now: datetime, *, incident_id: str | None = None, limit: int = 20
    ) -> list[PendingWork]:
        # Each incident's first undone row only: a later step waits for the earlier ones, and
        # while a process holds a step (its lease), nobody else works on that incident. As for
        # reminders, PostgreSQL skips the rows another claim holds; SQLite has one writer, and
        # the guarded UPDATE keeps to the rows this process really got.
        earlier = aliased(PendingWorkRow)
        free = or_(PendingWorkRow.leased_until.is_(None), PendingWorkRow.leased_until <= now)
        query = (
            select(PendingWorkRow.seq, *_COLUMNS)
            .where(
                PendingWorkRow.done_at.is_(None),
                PendingWorkRow.due_at <= now,
                free,
                ~exists().where(
                    earlier.incident_id == PendingWorkRow.incident_id,
                    earlier.done_at.is_(None),
                    earlier.seq < PendingWorkRow.seq,
                ),
            )
            .order_by(PendingWorkRow.due_at, PendingWorkRow.seq)
            .limit(limit)
            .with_for_update(skip_locked=True, of=PendingWorkRow)
        )
        if incident_id is not None:
            query = query.where(PendingWorkRow.incident_id == incident_id)
        rows = (await self._session.execute(query)).all()
        if not rows:
            return []
        claimed = set(
            await self._session.scalars(
                update(PendingWorkRow)
                .where(
                    PendingWorkRow.seq.in_([row.seq for row in rows]),
                    PendingWorkRow.done_at.is_(None),
                    free,
                )
                .values(leased_until=now + LEASE, attempts=PendingWorkRow.attempts + 1)
                .returning(PendingWorkRow.seq)
                .execution_options(synchronize_session=False)
            )
        )
        # Read before the claim counted this try: the work carries it.
        return [_work(row, row.attempts + 1) for row in rows if row.seq in claimed]

    async def done(self, key: str, at: datetime) -> None:
        await self._session.execute(
            update(PendingWorkRow)
            .where(PendingWorkRow.key == key)
            .values(done_at=at, leased_until=None)
            .execution_options(synchronize_session=False)
        )

    async def failed(self, key: str, error: str, due_at: datetime) -> None:
        await self._session.execute(
            update(PendingWorkRow)
            .where(PendingWorkRow.key == key)
            .values(due_at=due_at, leased_until=None, last_error=error)
            .execution_options(synchronize_session=False)
        )

    async def pending(self, incident_id: str) -> list[PendingWork]:
        rows = (
            await self._session.execute(
                select(*_COLUMNS)
                .where(PendingWorkRow.incident_id == incident_id, PendingWorkRow.done_at.is_(None))
                .order_by(PendingWorkRow.seq)
            )
        ).all()
        return [_work(row, row.attempts) for row in rows]


def _work(row: Row[Any], attempts: int) -> PendingWork:
    return PendingWork(
        key=row.key,
        incident_id=row.incident_id,
        step=Step(row.step),
        payload=row.payload,
        attempts=attempts,
        due_at=row.due_at,
        last_error=row.last_error,
    )
