"""In-memory adapters for service tests, honouring the same contracts as bot/store.

A FakeUnitOfWork works on its own copy of the shared FakeDatabase and replays its writes onto it
on commit, so a test catches a forgotten `commit()`. Objects are deep-copied on the way in and
out, so a test also catches a forgotten `update()`/`update_step()`. Claims (idempotency keys,
due reminders) held by an open unit of work are invisible to the others, as with row locks.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import overload

from bot.domain.actions import ActionRequest, RequestStatus
from bot.domain.alerts import AlertGroup, AlertSource, Repeats, TrackedAlert
from bot.domain.checklists import ChecklistStep
from bot.domain.findings import FailedExample, FollowUp, Pin
from bot.domain.incidents import Incident
from bot.domain.pending_work import LEASE, NewWork, PendingWork
from bot.domain.registry import (
    BUILT_IN_FLAGS,
    Change,
    Component,
    FlagState,
    KnownGood,
    ServiceSpec,
    built_in_flags,
)
from bot.domain.reminders import Reminder
from bot.domain.timeline import TimelineEvent
from bot.ports import (
    ActionRepo,
    AlertRepo,
    FindingsRepo,
    IdempotencyRepo,
    IncidentRepo,
    PendingWorkRepo,
    RegistryRepo,
    ReminderRepo,
    TimelineRepo,
)


@dataclass
class FakeTables:
    incidents: dict[str, Incident] = field(default_factory=dict)
    timeline: list[tuple[int, TimelineEvent]] = field(default_factory=list)
    reminders: dict[str, Reminder] = field(default_factory=dict)
    fired_at: dict[str, datetime] = field(default_factory=dict)  # reminder id → when claimed
    idempotency_keys: dict[str, datetime] = field(default_factory=dict)
    changes: list[tuple[int, Change]] = field(default_factory=list)  # (insertion order, change)
    known_good: dict[tuple[str, Component, str], KnownGood] = field(default_factory=dict)
    flags: dict[tuple[str, str], FlagState] = field(default_factory=dict)
    actions: dict[str, ActionRequest] = field(default_factory=dict)
    alerts: dict[tuple[AlertSource, str], TrackedAlert] = field(default_factory=dict)
    alert_groups: dict[str, AlertGroup] = field(default_factory=dict)
    # incident id → (message ts, stale since, all resolved told)
    alert_summaries: dict[str, tuple[str | None, datetime | None, bool]] = field(
        default_factory=dict
    )
    auto_action_marks: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # name → (first registered at, the service as stored: no drivers)
    registered_services: dict[str, tuple[datetime, ServiceSpec]] = field(default_factory=dict)
    pins: dict[tuple[str, str, str], Pin] = field(default_factory=dict)  # incident, ts, by
    examples: dict[str, FailedExample] = field(default_factory=dict)
    follow_ups: dict[str, FollowUp] = field(default_factory=dict)
    # key → (seq, the work, leased until, done at)
    pending_work: dict[str, tuple[int, PendingWork, datetime | None, datetime | None]] = field(
        default_factory=dict
    )
    registry_version: int = 0  # bumped by every registry write, as the version row is


Write = Callable[[FakeTables], None]


@dataclass
class FakeDatabase:
    """What a real database would hold: committed state, plus the claims of open work."""

    tables: FakeTables = field(default_factory=FakeTables)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    held_keys: set[str] = field(default_factory=set)
    held_reminders: set[str] = field(default_factory=set)
    held_work: set[str] = field(default_factory=set)


@overload
def _utc(value: datetime) -> datetime: ...
@overload
def _utc(value: None) -> None: ...
def _utc(value: datetime | None) -> datetime | None:
    """As the database hands datetimes back: aware, in UTC; naive ones are refused."""
    if value is None:
        return None
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC")
    return value.astimezone(UTC)


def _step_utc(step: ChecklistStep) -> ChecklistStep:
    return replace(step, checked_at=_utc(step.checked_at))


def _incident_utc(incident: Incident) -> Incident:
    """A deep copy, with every datetime in UTC and the steps in order."""
    answers = incident.answers
    return replace(
        copy.deepcopy(incident),
        opened_at=_utc(incident.opened_at),
        resolved_at=_utc(incident.resolved_at),
        steps=sorted((_step_utc(s) for s in incident.steps), key=lambda s: s.position),
        answers=None
        if answers is None
        else replace(answers, answered_at=_utc(answers.answered_at)),
    )


class FakeIncidentRepo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, incident: Incident) -> None:
        tables = self._uow.tables
        if incident.id in tables.incidents:
            raise ValueError(f"duplicate incident id {incident.id!r}")
        if incident.channel_id and any(
            i.channel_id == incident.channel_id for i in tables.incidents.values()
        ):
            raise ValueError(f"duplicate channel id {incident.channel_id!r}")
        stored = _incident_utc(incident)
        self._uow.write(lambda t: t.incidents.__setitem__(stored.id, copy.deepcopy(stored)))

    async def get(self, incident_id: str) -> Incident | None:
        return copy.deepcopy(self._uow.tables.incidents.get(incident_id))

    async def is_open(self, incident_id: str) -> bool | None:
        incident = self._uow.tables.incidents.get(incident_id)
        return None if incident is None else incident.is_open

    async def get_by_channel(self, channel_id: str) -> Incident | None:
        found = (i for i in self._uow.tables.incidents.values() if i.channel_id == channel_id)
        return copy.deepcopy(next(found, None))

    async def holds_channel_name(self, name: str, other_than: str) -> bool:
        return any(
            i.channel_name == name and i.channel_id is not None and i.id != other_than
            for i in self._uow.tables.incidents.values()
        )

    async def update(self, incident: Incident) -> None:
        tables = self._uow.tables
        if incident.id not in tables.incidents:
            raise LookupError(f"no incident {incident.id!r} to update")
        if incident.channel_id and any(
            i.channel_id == incident.channel_id and i.id != incident.id
            for i in tables.incidents.values()
        ):
            raise ValueError(f"duplicate channel id {incident.channel_id!r}")
        own = _incident_utc(incident)

        def write(tables: FakeTables) -> None:
            new = copy.deepcopy(own)
            new.steps = tables.incidents[own.id].steps  # steps are written one by one
            tables.incidents[own.id] = new

        self._uow.write(write)

    async def update_step(self, incident_id: str, step: ChecklistStep) -> None:
        stored = self._uow.tables.incidents.get(incident_id)
        if stored is None or all(s.position != step.position for s in stored.steps):
            raise LookupError(f"incident {incident_id!r} has no step at position {step.position}")
        step = _step_utc(step)

        def write(tables: FakeTables) -> None:
            steps = tables.incidents[incident_id].steps
            steps[:] = [step if s.position == step.position else s for s in steps]

        self._uow.write(write)

    async def replace_steps(self, incident_id: str, steps: Sequence[ChecklistStep]) -> None:
        new = sorted((_step_utc(s) for s in steps), key=lambda s: s.position)

        def write(tables: FakeTables) -> None:
            if incident_id in tables.incidents:
                tables.incidents[incident_id].steps = list(new)

        self._uow.write(write)

    async def open_ids_for_service(self, service: str) -> list[str]:
        found = (i for i in self._uow.tables.incidents.values() if i.service == service)
        return [i.id for i in sorted(found, key=lambda i: i.opened_at) if i.is_open]

    async def any_opened_since(self, service: str, at: datetime) -> bool:
        return any(
            i.service == service and i.opened_at >= _utc(at)
            for i in self._uow.tables.incidents.values()
        )


class FakeTimelineRepo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def append(self, event: TimelineEvent) -> None:
        # Through JSON, as the database stores it: tuples come back as lists, and data that is
        # not JSON-serialisable fails here as it would there.
        stored = TimelineEvent(
            incident_id=event.incident_id,
            at=_utc(event.at),
            type=event.type,
            actor=event.actor,
            text=event.text,
            data=json.loads(json.dumps(event.data)),
        )
        event_id = next(self._uow.db.ids)  # ids are handed out on insert, not on commit
        self._uow.write(lambda t: t.timeline.append((event_id, copy.deepcopy(stored))))

    async def for_incident(self, incident_id: str) -> list[TimelineEvent]:
        mine = [(e.at, i, e) for i, e in self._uow.tables.timeline if e.incident_id == incident_id]
        return [copy.deepcopy(e) for _, _, e in sorted(mine, key=lambda r: (r[0], r[1]))]


class FakeReminderRepo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, reminder: Reminder) -> None:
        if reminder.id in self._uow.tables.reminders:
            raise ValueError(f"duplicate reminder id {reminder.id!r}")
        stored = replace(reminder, due_at=_utc(reminder.due_at))
        self._uow.write(lambda t: t.reminders.__setitem__(stored.id, stored))

    async def claim_due(self, now: datetime, limit: int = 50) -> list[Reminder]:
        now = _utc(now)
        db, tables = self._uow.db, self._uow.tables
        due = sorted(
            (
                r
                for r in tables.reminders.values()
                if r.due_at <= now
                and r.id not in tables.fired_at
                and r.id not in db.tables.fired_at  # fired by a commit since we began
                and r.id not in db.held_reminders  # claimed by another open unit of work
            ),
            key=lambda r: (r.due_at, r.id),
        )[:limit]
        ids = {r.id for r in due}
        self._uow.hold(reminders=ids)
        self._uow.write(lambda t: t.fired_at.update(dict.fromkeys(ids, now)))
        return due

    async def cancel_for(self, incident_id: str) -> None:
        def write(tables: FakeTables) -> None:
            for r in list(tables.reminders.values()):
                if r.incident_id == incident_id and r.id not in tables.fired_at:
                    del tables.reminders[r.id]

        self._uow.write(write)


class FakeIdempotencyRepo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def claim(self, key: str, at: datetime, forget_after: timedelta | None = None) -> bool:
        at = _utc(at)
        db = self._uow.db
        if key in db.held_keys:
            return False
        claims = [
            t.idempotency_keys[key]
            for t in (self._uow.tables, db.tables)
            if key in t.idempotency_keys
        ]
        claimed = max(claims, default=None)
        if claimed is not None and (forget_after is None or claimed > at - forget_after):
            return False
        self._uow.hold(keys={key})
        self._uow.write(lambda t: t.idempotency_keys.__setitem__(key, at))
        return True

    async def claim_many(
        self, keys: Sequence[str], at: datetime, forget_after: timedelta | None = None
    ) -> set[str]:
        return {key for key in sorted(keys) if await self.claim(key, at, forget_after)}


class FakeRegistryRepo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def version(self) -> int:
        return self._uow.tables.registry_version

    def _write(self, write: Write) -> None:
        def bumped(tables: FakeTables) -> None:
            write(tables)
            tables.registry_version += 1

        self._uow.write(bumped)

    async def add_change(self, change: Change) -> None:
        if any(c.id == change.id for _, c in self._uow.tables.changes):
            raise ValueError(f"duplicate change id {change.id!r}")
        stored = replace(change, at=_utc(change.at))
        order = next(self._uow.db.ids)  # the insertion order breaks ties, as recorded_at does
        self._write(lambda t: t.changes.append((order, stored)))

    async def get_change(self, change_id: str) -> Change | None:
        return next((c for _, c in self._uow.tables.changes if c.id == change_id), None)

    async def changes(
        self,
        service: str | None = None,
        *,
        component: Component | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Change]:
        found = [
            (c.at, order, c)
            for order, c in self._uow.tables.changes
            if (service is None or c.service == service)
            and (component is None or c.component == component)
            and (since is None or c.at >= _utc(since))
        ]
        return [c for _, _, c in sorted(found, key=lambda r: (r[0], r[1]), reverse=True)][:limit]

    async def latest_versions(self, service: str) -> dict[Component, str]:
        return {c.component: c.to_version for c in reversed(await self.changes(service))}

    async def mark_known_good(self, mark: KnownGood) -> None:
        stored = replace(mark, at=_utc(mark.at))
        key = (mark.service, mark.component, mark.version)
        self._write(lambda t: t.known_good.__setitem__(key, stored))

    async def known_good(self, service: str, component: Component) -> list[KnownGood]:
        found = [
            k
            for k in self._uow.tables.known_good.values()
            if k.service == service and k.component == component
        ]
        return sorted(found, key=lambda k: (k.at, k.version), reverse=True)

    async def flag_states(self, service: str) -> dict[str, FlagState]:
        return {n: f for (s, n), f in self._uow.tables.flags.items() if s == service}

    async def set_flag(self, state: FlagState) -> None:
        stored = replace(state, updated_at=_utc(state.updated_at))
        self._write(lambda t: t.flags.__setitem__((state.service, state.name), stored))

    async def registered_services(self) -> list[ServiceSpec]:
        found = sorted(
            self._uow.tables.registered_services.values(), key=lambda r: (r[0], r[1].name)
        )
        return [copy.deepcopy(spec) for _, spec in found]

    async def save_service(self, spec: ServiceSpec, by: str, at: datetime) -> None:
        # What the table keeps: components, declared flags and environment, never drivers.
        stored = ServiceSpec(
            spec.name,
            dict(spec.components),
            {
                **built_in_flags(),
                **{n: f for n, f in spec.flags.items() if n not in BUILT_IN_FLAGS},
            },
            spec.environment,
        )
        earlier = self._uow.tables.registered_services.get(spec.name)
        first = earlier[0] if earlier else _utc(at)
        self._write(lambda t: t.registered_services.__setitem__(spec.name, (first, stored)))


class FakeActionRepo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, request: ActionRequest) -> None:
        if request.id in self._uow.tables.actions:
            raise ValueError(f"duplicate action request id {request.id!r}")
        stored = replace(
            copy.deepcopy(request),
            requested_at=_utc(request.requested_at),
            expires_at=_utc(request.expires_at),
            decided_at=_utc(request.decided_at),
            applying_since=_utc(request.applying_since),
        )
        self._uow.write(lambda t: t.actions.__setitem__(request.id, stored))

    async def get(self, request_id: str) -> ActionRequest | None:
        return copy.deepcopy(self._uow.tables.actions.get(request_id))

    async def transition(
        self,
        request_id: str,
        from_statuses: Sequence[RequestStatus],
        to: RequestStatus,
        *,
        by: str | None = None,
        at: datetime | None = None,
        started: datetime | None = None,
    ) -> bool:
        found = self._uow.tables.actions.get(request_id)
        if found is None or found.status not in from_statuses:
            return False

        def write(tables: FakeTables) -> None:
            request = tables.actions[request_id]
            request.status = to
            request.decided_by = by if by is not None else request.decided_by
            request.decided_at = _utc(at) if at is not None else request.decided_at
            if to is RequestStatus.APPLYING:
                request.attempts += 1
                request.applying_since = _utc(started) if started is not None else None

        self._uow.write(write)
        return True

    async def save_outcome(self, request: ActionRequest) -> None:
        def write(tables: FakeTables) -> None:
            stored = tables.actions[request.id]
            stored.message_ts = request.message_ts
            stored.outcome = request.outcome
            stored.verification = request.verification

        self._uow.write(write)

    async def claim_expired(self, now: datetime, limit: int = 50) -> list[ActionRequest]:
        due = sorted(
            (r for r in self._uow.tables.actions.values() if r.is_expired(_utc(now))),
            key=lambda r: (r.expires_at, r.id),
        )[:limit]
        for request in due:
            await self.transition(
                request.id, [RequestStatus.PENDING], RequestStatus.EXPIRED, at=now
            )
        return [copy.deepcopy(self._uow.tables.actions[r.id]) for r in due]

    async def claim_stuck(self, before: datetime, outcome: str) -> list[ActionRequest]:
        stuck = sorted(
            (
                r
                for r in self._uow.tables.actions.values()
                if r.status is RequestStatus.APPLYING
                and r.applying_since is not None
                and r.applying_since <= _utc(before)
            ),
            key=lambda r: (r.applying_since, r.id),
        )

        def write(tables: FakeTables) -> None:
            for request in stuck:
                tables.actions[request.id].status = RequestStatus.FAILED
                tables.actions[request.id].outcome = outcome

        self._uow.write(write)
        return [copy.deepcopy(self._uow.tables.actions[r.id]) for r in stuck]

    async def for_incident(self, incident_id: str) -> list[ActionRequest]:
        found = [r for r in self._uow.tables.actions.values() if r.incident_id == incident_id]
        return copy.deepcopy(sorted(found, key=lambda r: (r.requested_at, r.id)))


class FakeAlertRepo:
    """No row locks: concurrency is tested on PostgreSQL (tests/store, tests/e2e)."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def get(
        self, source: AlertSource, fingerprint: str, *, for_update: bool = False
    ) -> TrackedAlert | None:
        return copy.deepcopy(self._uow.tables.alerts.get((source, fingerprint)))

    async def get_many(
        self, keys: Sequence[tuple[AlertSource, str]], *, for_update: bool = False
    ) -> dict[tuple[AlertSource, str], TrackedAlert]:
        found = {key: self._uow.tables.alerts.get(key) for key in keys}
        return {key: copy.deepcopy(alert) for key, alert in found.items() if alert is not None}

    async def in_open_incidents(
        self, keys: Sequence[tuple[AlertSource, str]]
    ) -> dict[tuple[AlertSource, str], TrackedAlert]:
        found = await self.get_many(keys)
        incidents = self._uow.tables.incidents
        return {
            key: alert
            for key, alert in found.items()
            if alert.incident_id not in incidents or incidents[alert.incident_id].is_open
        }

    async def repeat(self, repeats: Repeats, incident_id: str) -> TrackedAlert | None:
        alert = repeats.last
        tracked = await self.get(alert.source, alert.fingerprint)
        if tracked is None or tracked.incident_id != incident_id or tracked.status != alert.status:
            return None
        tracked.add_repeats(repeats)
        await self.save(tracked)
        return await self.get(alert.source, alert.fingerprint)

    async def save(self, alert: TrackedAlert) -> None:
        stored = replace(
            copy.deepcopy(alert),
            starts_at=_utc(alert.starts_at),
            first_seen=_utc(alert.first_seen),
            last_seen=_utc(alert.last_seen),
            resolved_at=_utc(alert.resolved_at),
            status_at=_utc(alert.status_at),
            repeated_from=_utc(alert.repeated_from),
            repeated_until=_utc(alert.repeated_until),
        )
        self._uow.write(lambda t: t.alerts.__setitem__((alert.source, alert.fingerprint), stored))

    async def for_incident(self, incident_id: str) -> list[TrackedAlert]:
        found = [a for a in self._uow.tables.alerts.values() if a.incident_id == incident_id]
        return copy.deepcopy(sorted(found, key=lambda a: (a.first_seen, a.fingerprint)))

    async def lock_group(self, key: str) -> AlertGroup:
        if key not in self._uow.tables.alert_groups:
            empty = AlertGroup(key, None, None)
            self._uow.write(lambda t: t.alert_groups.__setitem__(key, empty))
        return self._uow.tables.alert_groups[key]

    async def set_group(self, group: AlertGroup) -> None:
        stored = replace(group, last_alert_at=_utc(group.last_alert_at))
        self._uow.write(lambda t: t.alert_groups.__setitem__(group.key, stored))

    async def summary(self, incident_id: str) -> tuple[str | None, bool]:
        ts, _, told = self._uow.tables.alert_summaries.get(incident_id, (None, None, False))
        return ts, told

    async def mark_summary_stale(self, incident_id: str, at: datetime) -> None:
        def write(tables: FakeTables) -> None:
            ts, since, told = tables.alert_summaries.get(incident_id, (None, None, False))
            tables.alert_summaries[incident_id] = (ts, since or _utc(at), told)

        self._uow.write(write)

    async def claim_stale_summaries(self, limit: int = 20) -> list[str]:
        stale = sorted(
            (since, i)
            for i, (_, since, _) in self._uow.tables.alert_summaries.items()
            if since is not None
        )[:limit]

        def write(tables: FakeTables) -> None:
            for _, incident_id in stale:
                ts, _, told = tables.alert_summaries[incident_id]
                tables.alert_summaries[incident_id] = (ts, None, told)

        self._uow.write(write)
        return [i for _, i in stale]

    async def save_summary(
        self, incident_id: str, message_ts: str, all_resolved_told: bool
    ) -> None:
        def write(tables: FakeTables) -> None:
            _, since, _ = tables.alert_summaries.get(incident_id, (None, None, False))
            tables.alert_summaries[incident_id] = (message_ts, since, all_resolved_told)

        self._uow.write(write)

    async def claim_auto_action(
        self, service: str, target: str, now: datetime, min_interval: timedelta
    ) -> bool:
        last = self._uow.tables.auto_action_marks.get((service, target))
        if last is not None and last > _utc(now) - min_interval:
            return False
        self._uow.write(lambda t: t.auto_action_marks.__setitem__((service, target), _utc(now)))
        return True


class FakeFindingsRepo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def pin(self, pin: Pin) -> bool:
        key = (pin.incident_id, pin.message.ts, pin.pinned_by)
        if key in self._uow.tables.pins:
            return False
        stored = replace(pin, pinned_at=_utc(pin.pinned_at))
        self._uow.write(lambda t: t.pins.__setitem__(key, stored))
        return True

    async def unpin(self, incident_id: str, message_ts: str, by: str) -> bool:
        key = (incident_id, message_ts, by)
        if key not in self._uow.tables.pins:
            return False

        def forget(tables: FakeTables) -> None:
            tables.pins.pop(key, None)

        self._uow.write(forget)
        return True

    async def pins(self, incident_id: str) -> list[Pin]:
        found = [p for p in self._uow.tables.pins.values() if p.incident_id == incident_id]
        return sorted(found, key=lambda p: (p.pinned_at, p.message.ts))

    async def add_example(self, example: FailedExample) -> FailedExample:
        stored = copy.deepcopy(example)
        stored.number = len(await self.examples(example.incident_id)) + 1
        stored.added_at = _utc(stored.added_at)
        self._uow.write(lambda t: t.examples.__setitem__(stored.id, stored))
        return copy.deepcopy(stored)

    async def example(self, incident_id: str, number: int) -> FailedExample | None:
        found = [x for x in await self.examples(incident_id) if x.number == number]
        return found[0] if found else None

    async def example_by_id(self, example_id: str) -> FailedExample | None:
        return copy.deepcopy(self._uow.tables.examples.get(example_id))

    async def save_example(self, example: FailedExample) -> None:
        stored = copy.deepcopy(example)
        stored.sorted_at = _utc(stored.sorted_at)
        self._uow.write(lambda t: t.examples.__setitem__(stored.id, stored))

    async def examples(self, incident_id: str) -> list[FailedExample]:
        found = [x for x in self._uow.tables.examples.values() if x.incident_id == incident_id]
        return copy.deepcopy(sorted(found, key=lambda x: x.number))

    async def add_follow_up(self, follow_up: FollowUp) -> FollowUp:
        number = len(await self.follow_ups(follow_up.incident_id)) + 1
        stored = replace(follow_up, number=number, added_at=_utc(follow_up.added_at))
        self._uow.write(lambda t: t.follow_ups.__setitem__(stored.id, stored))
        return stored

    async def follow_ups(self, incident_id: str) -> list[FollowUp]:
        found = [f for f in self._uow.tables.follow_ups.values() if f.incident_id == incident_id]
        return sorted(found, key=lambda f: f.number)


class FakePendingWorkRepo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def add(self, work: Sequence[NewWork], due_at: datetime) -> None:
        for new in work:
            if new.key in self._uow.tables.pending_work:
                raise ValueError(f"duplicate work key {new.key!r}")
            seq = next(self._uow.db.ids)
            stored = PendingWork(
                new.key, new.incident_id, new.step, dict(new.payload), 0, _utc(due_at)
            )
            self._uow.write(
                lambda t, k=new.key, row=(seq, stored, None, None): t.pending_work.__setitem__(
                    k, row
                )
            )

    async def claim(
        self, now: datetime, *, incident_id: str | None = None, limit: int = 20
    ) -> list[PendingWork]:
        now = _utc(now)
        db, tables = self._uow.db, self._uow.tables
        undone = sorted(
            (row for row in tables.pending_work.values() if row[3] is None), key=lambda r: r[0]
        )
        firsts: dict[str, tuple[int, PendingWork, datetime | None, datetime | None]] = {}
        for row in undone:
            firsts.setdefault(row[1].incident_id, row)
        due = sorted(
            (
                row
                for row in firsts.values()
                if row[1].due_at <= now
                and (row[2] is None or row[2] <= now)
                and row[1].key not in db.held_work
                and (incident_id is None or row[1].incident_id == incident_id)
            ),
            key=lambda r: (r[1].due_at, r[0]),
        )[:limit]
        claimed = [replace(row[1], attempts=row[1].attempts + 1) for row in due]
        self._uow.hold(work=[w.key for w in claimed])
        for seq, work in zip((row[0] for row in due), claimed, strict=True):
            row = (seq, work, now + LEASE, None)
            self._uow.write(lambda t, k=work.key, r=row: t.pending_work.__setitem__(k, r))
        return claimed

    async def done(self, key: str, at: datetime) -> None:
        def write(tables: FakeTables) -> None:
            seq, work, _, _ = tables.pending_work[key]
            tables.pending_work[key] = (seq, work, None, _utc(at))

        self._uow.write(write)

    async def failed(self, key: str, error: str, due_at: datetime) -> None:
        def write(tables: FakeTables) -> None:
            seq, work, _, _ = tables.pending_work[key]
            later = replace(work, due_at=_utc(due_at), last_error=error)
            tables.pending_work[key] = (seq, later, None, None)

        self._uow.write(write)

    async def pending(self, incident_id: str) -> list[PendingWork]:
        rows = sorted(self._uow.tables.pending_work.values(), key=lambda r: r[0])
        return [r[1] for r in rows if r[1].incident_id == incident_id and r[3] is None]


class FakeUnitOfWork:
    def __init__(self, db: FakeDatabase | None = None) -> None:
        self.db = db or FakeDatabase()
        self.committed = False
        # Typed as the ports, as the protocol's attributes are: assignable, so invariant.
        self.incidents: IncidentRepo = FakeIncidentRepo(self)
        self.timeline: TimelineRepo = FakeTimelineRepo(self)
        self.reminders: ReminderRepo = FakeReminderRepo(self)
        self.idempotency: IdempotencyRepo = FakeIdempotencyRepo(self)
        self.registry: RegistryRepo = FakeRegistryRepo(self)
        self.actions: ActionRepo = FakeActionRepo(self)
        self.alerts: AlertRepo = FakeAlertRepo(self)
        self.findings: FindingsRepo = FakeFindingsRepo(self)
        self.pending_work: PendingWorkRepo = FakePendingWorkRepo(self)
        self._begin()

    @property
    def tables(self) -> FakeTables:
        """This unit of work's view: the shared state when it began, plus its own writes."""
        return self._tables

    async def __aenter__(self) -> FakeUnitOfWork:
        if self._writes:
            raise RuntimeError("writes made outside `async with` would be lost; commit them first")
        self._begin()  # see what others committed since this unit of work was made
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    async def commit(self) -> None:
        for write in self._writes:
            write(self.db.tables)
        self.committed = True
        self._release()
        self._begin()

    def rollback(self) -> None:
        self._release()
        self._begin()

    def write(self, write: Write) -> None:
        write(self._tables)
        self._writes.append(write)

    def hold(
        self,
        *,
        keys: Iterable[str] = (),
        reminders: Iterable[str] = (),
        work: Iterable[str] = (),
    ) -> None:
        """Claim keys, reminders or work until commit or rollback, as row locks would."""
        self._held_keys.update(keys)
        self._held_reminders.update(reminders)
        self._held_work.update(work)
        self.db.held_keys.update(self._held_keys)
        self.db.held_reminders.update(self._held_reminders)
        self.db.held_work.update(self._held_work)

    def _begin(self) -> None:
        self._tables = copy.deepcopy(self.db.tables)
        self._writes: list[Write] = []
        self._held_keys: set[str] = set()
        self._held_reminders: set[str] = set()
        self._held_work: set[str] = set()

    def _release(self) -> None:
        self.db.held_keys -= self._held_keys
        self.db.held_reminders -= self._held_reminders
        self.db.held_work -= self._held_work


class FakeUnitOfWorkFactory:
    """Every unit of work it makes shares one FakeDatabase, as SqlUnitOfWorks share a database."""

    def __init__(self, db: FakeDatabase | None = None) -> None:
        self.db = db or FakeDatabase()
        self.made: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.db)
        self.made.append(uow)
        return uow

    @property
    def committed(self) -> bool:
        """Whether any unit of work it made has committed."""
        return any(uow.committed for uow in self.made)
