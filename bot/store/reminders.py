"""SqlReminderRepo: durable reminders, each claimed by exactly one process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.reminders import Reminder, ReminderKind
from bot.store.models import ReminderRow


class SqlReminderRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, reminder: Reminder) -> None:
        await self._session.execute(
            insert(ReminderRow).values(
                id=reminder.id,
                incident_id=reminder.incident_id,
                kind=reminder.kind.value,
                due_at=reminder.due_at,
                fired_at=None,
            )
        )

    async def claim_due(self, now: datetime, limit: int = 50) -> list[Reminder]:
        # The usual queue pattern: on PostgreSQL rows another transaction holds are skipped,
        # not waited for; SQLite has one writer at a time, so it needs no lock. The batch is
        # locked first and then updated by ID, because PostgreSQL may re-run a LIMIT subquery
        # inside `UPDATE … WHERE id IN (…)` once per row, which would ignore the limit.
        rows = (
            await self._session.execute(
                select(
                    ReminderRow.id, ReminderRow.incident_id, ReminderRow.kind, ReminderRow.due_at
                )
                .where(ReminderRow.due_at <= now, ReminderRow.fired_at.is_(None))
                .order_by(ReminderRow.due_at, ReminderRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return []
        # SQLite takes no lock on the SELECT: the guard on fired_at and RETURNING keep to
        # the rows this process really claimed when another one got there first.
        claimed = set(
            await self._session.scalars(
                update(ReminderRow)
                .where(ReminderRow.id.in_([row.id for row in rows]), ReminderRow.fired_at.is_(None))
                .values(fired_at=now)
                .returning(ReminderRow.id)
                .execution_options(synchronize_session=False)
            )
        )
        return [
            Reminder(id=id_, incident_id=incident_id, kind=ReminderKind(kind), due_at=due_at)
            for id_, incident_id, kind, due_at in rows
            if id_ in claimed
        ]

    async def cancel_for(self, incident_id: str) -> None:
        """Drop the incident's pending reminders; fired ones stay as a record."""
        await self._session.execute(
            delete(ReminderRow)
            .where(ReminderRow.incident_id == incident_id, ReminderRow.fired_at.is_(None))
            .execution_options(synchronize_session=False)
        )
