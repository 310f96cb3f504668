"""SqlTimelineRepo: append-only events, read back in the order they happened."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.timeline import EventType, TimelineEvent
from bot.store.models import TimelineEventRow


class SqlTimelineRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: TimelineEvent) -> None:
        await self._session.execute(
            insert(TimelineEventRow).values(
                incident_id=event.incident_id,
                at=event.at,
                type=event.type.value,
                actor=event.actor,
                text=event.text,
                data=event.data,
            )
        )

    async def for_incident(self, incident_id: str) -> list[TimelineEvent]:
        # An event may be recorded after a later one (a late alert, a backfilled change);
        # `at` decides, and the insertion id breaks ties between simultaneous events.
        rows = await self._session.execute(
            select(
                TimelineEventRow.at,
                TimelineEventRow.type,
                TimelineEventRow.actor,
                TimelineEventRow.text,
                TimelineEventRow.data,
            )
            .where(TimelineEventRow.incident_id == incident_id)
            .order_by(TimelineEventRow.at, TimelineEventRow.id)
        )
        return [
            TimelineEvent(
                incident_id=incident_id,
                at=at,
                type=EventType(type_),
                actor=actor,
                text=text,
                data=data,
            )
            for at, type_, actor, text, data in rows
        ]
