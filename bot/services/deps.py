"""What every use case is given: the ports and the few settings the core needs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.domain.actions import ActionPolicy, Roles
from bot.domain.alert_rules import AlertSettings
from bot.domain.findings import DEFAULT_PIN_REACTION
from bot.domain.pending_work import STEP_TIME_LIMIT
from bot.domain.registry import Catalog
from bot.domain.runbooks import RunbookLibrary
from bot.ports import (
    Chat,
    Clock,
    Directory,
    DriverFactory,
    MessageReader,
    UnitOfWorkFactory,
    Verifier,
)
from bot.services.alert_repeats import RepeatWriter
from bot.services.served import ServedRegistry


@dataclass(frozen=True)
class Policy:
    stakeholder_channel: str | None = None
    triage_reminder_minutes: int = 15
    known_good_after: timedelta = timedelta(hours=24)  # clean running time before known-good
    roles: Roles = field(default_factory=Roles)
    actions: ActionPolicy = field(default_factory=ActionPolicy)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    display_timezone: str = "UTC"  # an IANA name, checked by config
    postmortem_template: Path | None = None  # None: the shipped template
    postmortem_review_after: timedelta = timedelta(days=3)  # resolution to the review reminder
    pin_reaction: str = DEFAULT_PIN_REACTION  # this reaction puts a message on the timeline


@dataclass(frozen=True)
class Deps:
    uow: UnitOfWorkFactory
    chat: Chat
    clock: Clock
    runbooks: RunbookLibrary
    policy: Policy = Policy()
    catalog: Catalog = field(default_factory=lambda: Catalog([]))
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex[:16])
    # The outside systems actions reach; the built-in store needs neither of the first two.
    drivers: DriverFactory | None = None
    verifier: Verifier | None = None
    directory: Directory | None = None  # who is in a Slack user group
    messages: MessageReader | None = None  # reads a pinned message's text
    # Writes notifications that only repeat tracked alerts together (one per process).
    repeats: RepeatWriter = field(default_factory=RepeatWriter)
    # What OFREP serves; each process has its own (bot/services/ofrep_snapshot.py).
    served: ServedRegistry = field(default_factory=ServedRegistry)
    # A pending Slack step given back unfinished after this long, within its lease.
    step_time_limit: timedelta = STEP_TIME_LIMIT
