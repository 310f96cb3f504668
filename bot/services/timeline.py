"""Appending to an incident's timeline, in the same unit of work as the change it records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.timeline import EventType, TimelineEvent
from bot.ports import UnitOfWork


async def record(
    uow: UnitOfWork,
    incident_id: str,
    type: EventType,
    actor: str,
    at: datetime,
    text: str,
    **data: Any,
) -> None:
    await uow.timeline.append(TimelineEvent(incident_id, at, type, actor, text, dict(data)))
