"""What every use case is given: the ports and the few settings the core needs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.domain.runbooks import RunbookLibrary
from bot.ports import Chat, Clock, UnitOfWorkFactory


@dataclass(frozen=True)
class Policy:
    stakeholder_channel: str | None = None
    triage_reminder_minutes: int = 15
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deps:
    uow: UnitOfWorkFactory
    chat: Chat
    clock: Clock
    runbooks: RunbookLibrary
    policy: Policy = Policy()
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex[:16])
