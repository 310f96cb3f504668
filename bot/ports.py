"""The interfaces the services need; adapters in store/, slack/ and runbooks/ implement them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol

from bot.domain.actions import ActionRequest, RequestStatus
from bot.domain.alerts import AlertGroup, AlertSource, Repeats, TrackedAlert
from bot.domain.checklists import ChecklistStep
from bot.domain.drivers import DriverResult, DriverSpec, VerificationResult, VerificationSpec
from bot.domain.findings import ChannelMessage, FailedExample, FollowUp, Pin
from bot.domain.incidents import Incident
from bot.domain.messages import Message, Modal
from bot.domain.pending_work import NewWork, PendingWork
from bot.domain.registry import Change, Component, FlagState, KnownGood, ServiceSpec
from bot.domain.reminders import Reminder
from bot.domain.timeline import TimelineEvent


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""
        ...


class ChannelNameTaken(Exception):
    """Chat could not create a channel because the name is in use."""


class DatabaseUnavailable(Exception):
    """The database cannot serve the request now: connections refused or cut, every pooled
    connection in use, a read-only server, a SQLite file another process holds locked. Not a
    bug, so no traceback: the caller is told the reason and when to retry. A write cut off at
    its commit may or may not be stored, which is why writes carry idempotency keys."""

    def __init__(self, reason: str, retry_after: int = 5) -> None:
        super().__init__(reason)
        self.retry_after = retry_after  # seconds, as the HTTP header says it


class Contention(DatabaseUnavailable):
    """The database gave up waiting for a lock (a deadlock, SQLite busy): nothing was
    written, and the whole unit of work may simply be tried again."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the database is busy ({detail}); retry shortly", retry_after=2)


class ChatError(Exception):
    """Chat refused or failed; the message carries the platform's own error code.

    `passing` says the failure may go away by itself (the platform down or overloaded, a rate
    limit, a timeout, no connection), as opposed to a refusal that will be repeated."""

    def __init__(self, message: str, *, passing: bool = False) -> None:
        super().__init__(message)
        self.passing = passing


@dataclass(frozen=True)
class Upload:
    """One file to share: its name, bytes and title, and what it shows for screen readers."""

    filename: str
    content: bytes
    title: str
    alt_text: str | None = None


class Chat(Protocol):
    async def create_channel(self, name: str) -> str:
        """Create a public channel and return its ID; raise ChannelNameTaken if in use."""
        ...

    async def invite(self, channel: str, users: Sequence[str]) -> None: ...

    async def set_topic(self, channel: str, topic: str) -> None: ...

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        """Post and return the message's timestamp (its ID within the channel). A `key` is
        carried in the message's metadata, for `find_posted`."""
        ...

    async def find_posted(self, channel: str, key: str) -> str | None:
        """The timestamp of a recent message of the channel posted with `key`, if any."""
        ...

    async def find_channel(self, name: str) -> str | None:
        """The ID of the channel of that name if the bot is in it (it made it), else None."""
        ...

    async def update(self, channel: str, ts: str, message: Message) -> None: ...

    async def post_ephemeral(self, channel: str, user: str, message: Message) -> None: ...

    async def open_modal(self, trigger_id: str, modal: Modal) -> None: ...

    async def upload_files(self, channel: str, files: Sequence[Upload], comment: str) -> list[str]:
        """Share the files in the channel in one message, `comment`; return their IDs in
        order."""
        ...

    async def find_shared_file(self, channel: str, filename: str) -> str | None:
        """The ID of a file of that name shared in a recent message of the channel, if any."""
        ...


class IncidentRepo(Protocol):
    async def add(self, incident: Incident) -> None:
        """Insert the incident with its steps and answers."""
        ...

    async def get(self, incident_id: str) -> Incident | None: ...

    async def get_by_channel(self, channel_id: str) -> Incident | None: ...

    async def holds_channel_name(self, name: str, other_than: str) -> bool:
        """Whether an incident other than `other_than` has a channel of that name."""
        ...

    async def is_open(self, incident_id: str) -> bool | None:
        """Whether it is open, without loading it; None when there is no such incident."""
        ...

    async def update(self, incident: Incident) -> None:
        """Write the incident's own fields and answers; steps are written one by one."""
        ...

    async def update_step(self, incident_id: str, step: ChecklistStep) -> None:
        """Write one step, so that two people ticking two steps never undo each other."""
        ...

    async def replace_steps(self, incident_id: str, steps: Sequence[ChecklistStep]) -> None: ...

    async def open_ids_for_service(self, service: str) -> list[str]:
        """The IDs of the service's incidents that are not resolved."""
        ...

    async def any_opened_since(self, service: str, at: datetime) -> bool: ...


class TimelineRepo(Protocol):
    async def append(self, event: TimelineEvent) -> None: ...

    async def for_incident(self, incident_id: str) -> list[TimelineEvent]:
        """Oldest first, by the time each event happened."""
        ...


class ReminderRepo(Protocol):
    async def add(self, reminder: Reminder) -> None: ...

    async def claim_due(self, now: datetime, limit: int = 50) -> list[Reminder]:
        """Due and not yet fired; marks them fired in this unit of work, so no other
        process claims them (FOR UPDATE SKIP LOCKED on PostgreSQL)."""
        ...

    async def cancel_for(self, incident_id: str) -> None: ...


class RegistryRepo(Protocol):
    """What changed, what is marked good, and the services registered over the API (those
    declared in steadyhand.yml live in the Catalog only).

    Every write bumps the registry's version when its unit of work commits, so a process
    serving a snapshot of the registry can tell, from one number, that it is stale."""

    async def version(self) -> int:
        """The registry's version: the number of commits that changed it."""
        ...

    async def add_change(self, change: Change) -> None: ...

    async def get_change(self, change_id: str) -> Change | None: ...

    async def changes(
        self,
        service: str | None = None,
        *,
        component: Component | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Change]:
        """Newest first, by the time each change was deployed."""
        ...

    async def latest_versions(self, service: str) -> dict[Component, str]:
        """Each component's `to_version` in its latest change; declared versions not included."""
        ...

    async def mark_known_good(self, mark: KnownGood) -> None: ...

    async def known_good(self, service: str, component: Component) -> list[KnownGood]:
        """Newest first."""
        ...

    async def flag_states(self, service: str) -> dict[str, FlagState]:
        """Only the flags ever set; the others have their declared default."""
        ...

    async def set_flag(self, state: FlagState) -> None: ...

    async def registered_services(self) -> list[ServiceSpec]:
        """Oldest registration first; each with the built-in flags, never with drivers."""
        ...

    async def save_service(self, spec: ServiceSpec, by: str, at: datetime) -> None:
        """Insert, or replace the components, flags and environment of, a registered service;
        `by` and `at` are the registration's first time, then its latest update."""
        ...


class ActionRepo(Protocol):
    """Action requests. Every change of status is a compare-and-set in the database, so two
    clicks, two approvers or two replicas can never move one request twice."""

    async def add(self, request: ActionRequest) -> None: ...

    async def get(self, request_id: str) -> ActionRequest | None: ...

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
        """Move the request to `to` only if its status is one of `from_statuses`; True for the
        one caller that did. `by` and `at` record the decision; a move to APPLYING counts an
        attempt and `started` records when it began."""
        ...

    async def save_outcome(self, request: ActionRequest) -> None:
        """Write message_ts, outcome and verification; never the status."""
        ...

    async def claim_expired(self, now: datetime, limit: int = 50) -> list[ActionRequest]:
        """Pending requests past their expiry, moved to EXPIRED in this unit of work (FOR
        UPDATE SKIP LOCKED on PostgreSQL), so no other process claims them."""
        ...

    async def for_incident(self, incident_id: str) -> list[ActionRequest]:
        """Oldest first."""
        ...

    async def claim_stuck(self, before: datetime, outcome: str) -> list[ActionRequest]:
        """Requests APPLYING since before `before` (the process applying them stopped), moved
        to FAILED with `outcome` in this unit of work (SKIP LOCKED), so they can be retried."""
        ...


class AlertRepo(Protocol):
    async def get(
        self, source: AlertSource, fingerprint: str, *, for_update: bool = False
    ) -> TrackedAlert | None:
        """With `for_update`, the row stays locked until the unit of work ends (PostgreSQL),
        so two notifications of one alert count one after the other."""
        ...

    async def get_many(
        self, keys: Sequence[tuple[AlertSource, str]], *, for_update: bool = False
    ) -> dict[tuple[AlertSource, str], TrackedAlert]:
        """Those of `keys` that exist, read (and with `for_update` locked) in one go."""
        ...

    async def in_open_incidents(
        self, keys: Sequence[tuple[AlertSource, str]]
    ) -> dict[tuple[AlertSource, str], TrackedAlert]:
        """Those of `keys` that exist in an incident still open (or still being opened: no
        incident row yet), read in one statement without locks."""
        ...

    async def repeat(self, repeats: Repeats, incident_id: str) -> TrackedAlert | None:
        """Count `repeats` on the tracked alert (TrackedAlert.add_repeats) without reading it
        first, if it is still in `incident_id` with their status; the alert as it is now, or
        None when it is not (it changed meanwhile: nothing was written)."""
        ...

    async def save(self, alert: TrackedAlert) -> None:
        """Insert or update by (source, fingerprint)."""
        ...

    async def for_incident(self, incident_id: str) -> list[TrackedAlert]:
        """Oldest first."""
        ...

    async def lock_group(self, key: str) -> AlertGroup:
        """The group, created empty if new, locked until this unit of work ends (FOR UPDATE
        on PostgreSQL), so one process at a time decides where its alerts go."""
        ...

    async def set_group(self, group: AlertGroup) -> None: ...

    async def summary(self, incident_id: str) -> tuple[str | None, bool]:
        """The summary message's ts, and whether "all resolved" was already told."""
        ...

    async def mark_summary_stale(self, incident_id: str, at: datetime) -> None: ...

    async def claim_stale_summaries(self, limit: int = 20) -> list[str]:
        """Incident IDs whose summary is behind, marked up to date (SKIP LOCKED)."""
        ...

    async def save_summary(
        self, incident_id: str, message_ts: str, all_resolved_told: bool
    ) -> None: ...

    async def claim_auto_action(
        self, service: str, target: str, now: datetime, min_interval: timedelta
    ) -> bool:
        """True, and the mark moved to `now`, if no automatic action ran on the target within
        `min_interval`; the database lets one process win."""
        ...


class FindingsRepo(Protocol):
    """Pins, failed examples and follow-ups of incidents."""

    async def pin(self, pin: Pin) -> bool:
        """False if that person had already pinned that message."""
        ...

    async def unpin(self, incident_id: str, message_ts: str, by: str) -> bool:
        """False if that person had no pin on that message."""
        ...

    async def pins(self, incident_id: str) -> list[Pin]: ...

    async def add_example(self, example: FailedExample) -> FailedExample:
        """Stored with the incident's next number (the one given is ignored); returned with
        it."""
        ...

    async def example(self, incident_id: str, number: int) -> FailedExample | None: ...

    async def example_by_id(self, example_id: str) -> FailedExample | None: ...

    async def save_example(self, example: FailedExample) -> None:
        """Its set, who sorted it and when, and its card's ts."""
        ...

    async def examples(self, incident_id: str) -> list[FailedExample]:
        """In the order they were added."""
        ...

    async def add_follow_up(self, follow_up: FollowUp) -> FollowUp:
        """Stored with the incident's next number, like examples."""
        ...

    async def follow_ups(self, incident_id: str) -> list[FollowUp]: ...


class IdempotencyRepo(Protocol):
    async def claim(self, key: str, at: datetime, forget_after: timedelta | None = None) -> bool:
        """True the first time a key is seen; False for every repeat (retries, replicas).
        With `forget_after`, a key last claimed longer ago than that counts as new again."""
        ...

    async def claim_many(
        self, keys: Sequence[str], at: datetime, forget_after: timedelta | None = None
    ) -> set[str]:
        """`claim` for several distinct keys in one statement: those claimed now."""
        ...


class PendingWorkRepo(Protocol):
    """The Slack work incidents still owe (see bot/domain/pending_work.py)."""

    async def add(self, work: Sequence[NewWork], due_at: datetime) -> None:
        """Append the steps, in order, after the incident's earlier work."""
        ...

    async def claim(
        self, now: datetime, *, incident_id: str | None = None, limit: int = 20
    ) -> list[PendingWork]:
        """Due work whose incident has nothing earlier undone, leased until `now + LEASE` and
        counted as an attempt (FOR UPDATE SKIP LOCKED on PostgreSQL), so no other process
        claims it meanwhile; at most one row per incident."""
        ...

    async def done(self, key: str, at: datetime) -> None: ...

    async def failed(self, key: str, error: str, due_at: datetime) -> None:
        """Release the lease; due again at `due_at`."""
        ...

    async def pending(self, incident_id: str) -> list[PendingWork]:
        """Not done yet, in order."""
        ...


class UnitOfWork(Protocol):
    incidents: IncidentRepo
    timeline: TimelineRepo
    reminders: ReminderRepo
    idempotency: IdempotencyRepo
    registry: RegistryRepo
    actions: ActionRepo
    alerts: AlertRepo
    findings: FindingsRepo
    pending_work: PendingWorkRepo

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class Driver(Protocol):
    """Applies an action to the real system. Never raises for the system's own failures:
    they come back as DriverResult(applied=False, detail=<the system's text>)."""

    async def apply(self, request: ActionRequest) -> DriverResult: ...


class DriverFactory(Protocol):
    def __call__(self, spec: DriverSpec) -> Driver: ...


class Verifier(Protocol):
    async def verify(self, spec: VerificationSpec, request: ActionRequest) -> VerificationResult:
        """Never raises for the check's own failures: they are a failed result."""
        ...


class Directory(Protocol):
    async def group_members(self, group_id: str) -> frozenset[str]:
        """The user IDs in a Slack user group (cached briefly by the adapter)."""
        ...


class MessageReader(Protocol):
    async def message(self, channel: str, ts: str) -> ChannelMessage | None:
        """The message `ts` of `channel` (a thread reply too), or None if it is gone.
        Raises ChatError when the platform refuses."""
        ...
