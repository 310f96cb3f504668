"""SqlUnitOfWork: one session, one transaction; whatever is not committed is rolled back.

A commit that changed the registry bumps its version (and on PostgreSQL notifies the other
replicas) in the same transaction, then, once committed, runs the factory's
`after_registry_commit`: this process's OFREP snapshot is rebuilt before the writer returns,
so its next read sees the change, and nothing is served before its commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ports import (
    ActionRepo,
    AlertRepo,
    Contention,
    FindingsRepo,
    IdempotencyRepo,
    IncidentRepo,
    PendingWorkRepo,
    RegistryRepo,
    ReminderRepo,
    TimelineRepo,
)
from bot.store.actions import SqlActionRepo
from bot.store.alerts import SqlAlertRepo
from bot.store.faults import unavailable
from bot.store.findings import SqlFindingsRepo
from bot.store.idempotency import SqlIdempotencyRepo
from bot.store.incidents import SqlIncidentRepo
from bot.store.pending_work import SqlPendingWorkRepo
from bot.store.registry import SqlRegistryRepo
from bot.store.registry_version import bump_version
from bot.store.reminders import SqlReminderRepo
from bot.store.timeline import SqlTimelineRepo

AfterCommit = Callable[[], Awaitable[None]]


class SqlUnitOfWork:
    incidents: IncidentRepo
    timeline: TimelineRepo
    reminders: ReminderRepo
    idempotency: IdempotencyRepo
    registry: RegistryRepo
    actions: ActionRepo
    alerts: AlertRepo
    findings: FindingsRepo
    pending_work: PendingWorkRepo

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        after_registry_commit: AfterCommit | None = None,
    ) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._after_registry_commit = after_registry_commit
        self._registry: SqlRegistryRepo | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._session is not None:
            raise RuntimeError("this unit of work is already in use")
        self._session = session = self._sessions()
        self.incidents = SqlIncidentRepo(session)
        self.timeline = SqlTimelineRepo(session)
        self.reminders = SqlReminderRepo(session)
        self.idempotency = SqlIdempotencyRepo(session)
        self.registry = self._registry = SqlRegistryRepo(session)
        self.actions = SqlActionRepo(session)
        self.alerts = SqlAlertRepo(session)
        self.findings = SqlFindingsRepo(session)
        self.pending_work = SqlPendingWorkRepo(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._active()
        self._session = None
        try:
            try:
                await session.rollback()  # a no-op after commit()
            finally:
                await session.close()
        except Exception as cleanup:
            # A connection cut mid-transaction fails its rollback too: the same outage.
            cleanup_outage = unavailable(cleanup)
            if cleanup_outage is None:
                raise
            raise cleanup_outage from cleanup
        if isinstance(exc, DBAPIError) and is_contention(exc):
            raise Contention(str(exc.orig)) from exc
        # Callers see the outage as the port's DatabaseUnavailable, whichever driver said it.
        outage = unavailable(exc) if exc is not None else None
        if outage is not None and outage is not exc:
            raise outage from exc

    async def commit(self) -> None:
        session = self._active()
        changed = self._registry is not None and self._registry.changed
        try:
            if changed:
                await bump_version(session)  # last, so its row lock is held the shortest
            await session.commit()
        except DBAPIError as exc:
            if is_contention(exc):
                raise Contention(str(exc.orig)) from exc
            raise
        if changed:
            assert self._registry is not None
            self._registry.changed = False
            if self._after_registry_commit is not None:
                await self._after_registry_commit()

    def _active(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work in `async with`")
        return self._session


# Deadlock and serialization failure (PostgreSQL), and SQLite's busy database: the
# transaction did nothing and may run again.
_CONTENTION_CODES = {"40P01", "40001"}
_CONTENTION_TEXT = ("deadlock detected", "could not serialize", "database is locked")


def is_contention(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _CONTENTION_CODES or any(t in str(exc.orig) for t in _CONTENTION_TEXT)


class SqlUnitOfWorkFactory:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        after_registry_commit: AfterCommit | None = None,
    ) -> None:
        self._sessions = sessions
        self.after_registry_commit = after_registry_commit

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self.after_registry_commit)
