"""SqlTimelineRepo: append-only events, read back in the order they happened."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.timeline import EventType, TimelineEvent
from bot.store.models import TimelineEventRow

# A dict lookup, not `EventType(value)`: the enum's constructor costs ~7 µs a row, most of
# reading a 50,000-event timeline.
_EVENT_TYPES = {t.value: t for t in EventType}
_EVENTS = TimelineEventRow.__table__


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
        # The table's columns rather than the mapped class's: plain Core rows skip the ORM's
        # per-row loading machinery.
        rows = await self._session.execute(
            select(_EVENTS.c.at, _EVENTS.c.type, _EVENTS.c.actor, _EVENTS.c.text, _EVENTS.c.data)
            .where(_EVENTS.c.incident_id == incident_id)
            .order_by(_EVENTS.c.at, _EVENTS.c.id)
        )
        return [
            TimelineEvent(incident_id, at, _EVENT_TYPES[type_], actor, text, data)
            for at, type_, actor, text, data in rows
        ]
