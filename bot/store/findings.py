"""SqlFindingsRepo: pins, failed examples and follow-ups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.findings import ChannelMessage, FailedExample, FollowUp, Pin
from bot.domain.triage import ExampleSet
from bot.ports import Contention
from bot.store import upsert
from bot.store.models import FailedExampleRow, FollowUpRow, IncidentRow, PinRow

# Without the incident's row to take turns on, two adders may read the same next number; the
# loser tries the next one. More collisions than this in one go means something else is wrong.
_NUMBER_ATTEMPTS = 5


class SqlFindingsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def pin(self, pin: Pin) -> bool:
        message = pin.message
        stmt = (
            upsert.insert(self._session, PinRow)
            .values(
                incident_id=pin.incident_id,
                message_ts=message.ts,
                pinned_by=pin.pinned_by,
                channel_id=message.channel,
                author=message.author,
                text=message.text,
                pinned_at=pin.pinned_at,
            )
            .on_conflict_do_nothing()
        )
        return (await self._session.scalar(stmt.returning(PinRow.message_ts))) is not None

    async def unpin(self, incident_id: str, message_ts: str, by: str) -> bool:
        removed = await self._session.execute(
            delete(PinRow)
            .where(
                PinRow.incident_id == incident_id,
                PinRow.message_ts == message_ts,
                PinRow.pinned_by == by,
            )
            .returning(PinRow.message_ts)
        )
        return removed.first() is not None

    async def pins(self, incident_id: str) -> list[Pin]:
        rows = await self._session.scalars(
            select(PinRow)
            .where(PinRow.incident_id == incident_id)
            .order_by(PinRow.pinned_at, PinRow.message_ts)
        )
        return [
            Pin(
                row.incident_id,
                ChannelMessage(row.channel_id, row.message_ts, row.author, row.text),
                row.pinned_by,
                row.pinned_at,
            )
            for row in rows
        ]

    async def add_example(self, example: FailedExample) -> FailedExample:
        number = await self._insert_numbered(
            FailedExampleRow,
            example.incident_id,
            id=example.id,
            text=example.text,
            added_by=example.added_by,
            added_at=example.added_at,
            example_set=example.set.value if example.set else None,
            sorted_by=example.sorted_by,
            sorted_at=example.sorted_at,
            card_ts=example.card_ts,
        )
        example.number = number
        return example

    async def example(self, incident_id: str, number: int) -> FailedExample | None:
        row = await self._session.scalar(
            select(FailedExampleRow).where(
                FailedExampleRow.incident_id == incident_id, FailedExampleRow.number == number
            )
        )
        return _example(row) if row else None

    async def example_by_id(self, example_id: str) -> FailedExample | None:
        row = await self._session.get(FailedExampleRow, example_id)
        return _example(row) if row else None

    async def save_example(self, example: FailedExample) -> None:
        await self._session.execute(
            update(FailedExampleRow)
            .where(FailedExampleRow.id == example.id)
            .values(
                example_set=example.set.value if example.set else None,
                sorted_by=example.sorted_by,
                sorted_at=example.sorted_at,
                card_ts=example.card_ts,
            )
        )

    async def examples(self, incident_id: str) -> list[FailedExample]:
        rows = await self._session.scalars(
            select(FailedExampleRow)
            .where(FailedExampleRow.incident_id == incident_id)
            .order_by(FailedExampleRow.number)
        )
        return [_example(row) for row in rows]

    async def add_follow_up(self, follow_up: FollowUp) -> FollowUp:
        number = await self._insert_numbered(
            FollowUpRow,
            follow_up.incident_id,
            id=follow_up.id,
            text=follow_up.text,
            owner=follow_up.owner,
            added_by=follow_up.added_by,
            added_at=follow_up.added_at,
        )
        return FollowUp(
            follow_up.id,
            follow_up.incident_id,
            number,
            follow_up.text,
            follow_up.owner,
            follow_up.added_by,
            follow_up.added_at,
        )

    async def follow_ups(self, incident_id: str) -> list[FollowUp]:
        rows = await self._session.scalars(
            select(FollowUpRow)
            .where(FollowUpRow.incident_id == incident_id)
            .order_by(FollowUpRow.number)
        )
        return [
            FollowUp(r.id, r.incident_id, r.number, r.text, r.owner, r.added_by, r.added_at)
            for r in rows
        ]

    async def _insert_numbered(
        self, table: type[FailedExampleRow] | type[FollowUpRow], incident_id: str, **values: Any
    ) -> int:
        """Insert with the incident's next number. Adders to one incident take turns on its
        row (SQLite lets one writer in at a time anyway). Should that row be missing, ON
        CONFLICT DO NOTHING and a retry still keep numbers unique: a unique violation caught
        instead would abort the whole transaction on PostgreSQL."""
        await self._session.execute(
            select(IncidentRow.id).where(IncidentRow.id == incident_id).with_for_update()
        )
        for _ in range(_NUMBER_ATTEMPTS):
            highest = await self._session.scalar(
                select(func.max(table.number)).where(table.incident_id == incident_id)
            )
            number = (highest or 0) + 1
            stmt = (
                upsert.insert(self._session, table)
                .values(incident_id=incident_id, number=number, **values)
                .on_conflict_do_nothing()
            )
            if (await self._session.scalar(stmt.returning(table.id))) is not None:
                return number
        raise Contention(f"could not number a new row of {table.__tablename__}")


def _example(row: FailedExampleRow) -> FailedExample:
    return FailedExample(
        id=row.id,
        incident_id=row.incident_id,
        number=row.number,
        text=row.text,
        added_by=row.added_by,
        added_at=row.added_at,
        set=ExampleSet(row.example_set) if row.example_set else None,
        sorted_by=row.sorted_by,
        sorted_at=row.sorted_at,
        card_ts=row.card_ts,
    )
