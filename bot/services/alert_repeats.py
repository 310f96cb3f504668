"""Notifications that only repeat tracked alerts, written together: one short transaction for
all those that arrive while the previous one commits.

In a storm nearly every notification repeats alerts already tracked in open incidents, and each
would otherwise wait for a connection and the database's write lock (SQLite's, or the hot alert
and summary rows on PostgreSQL) to run a few statements of its own, each a round trip through a
busy event loop. Here the first one starts a transaction at once; those that come meanwhile
queue and go in the next, which reads all their alerts in one SELECT, then, for those
notifications that only repeat alerts in open incidents, claims their delivery keys in one
INSERT, adds each alert's repeats up in one UPDATE per alert and marks each incident's summary
stale once. The others are handed back untouched, for the careful path (bot/services/
alerting.py). At low load a transaction holds one notification and nothing waits; under load
the lock is taken once per batch.

Nobody is answered before the transaction holding their notification commits. A batch that
fails as a whole (an alert changed since it was read, a deadlock) writes nothing; each of its
notifications is then written on its own (`write_alone`), so one cannot hold up the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.domain.alerts import Alert, AlertSource, AlertStatus, Repeats, TrackedAlert
from bot.ports import Contention, DatabaseUnavailable, UnitOfWorkFactory

log = logging.getLogger(__name__)

AlertKey = tuple[AlertSource, str]


@dataclass
class RepeatJob:
    """One notification, perhaps only repeating alerts tracked in open incidents."""

    delivery: str  # its idempotency key
    retry_window: timedelta | None
    alerts: Sequence[Alert]
    now: datetime


@dataclass(frozen=True)
class Written:
    repeated: bool  # False: not only repeats, nothing written; the careful path takes it
    duplicate: bool = False  # a retry of a delivery already handled: nothing written
    heard: list[TrackedAlert] = field(default_factory=list)  # each alert, just after this one
    incidents: list[str] = field(default_factory=list)  # those its alerts are in


@dataclass
class _Queued:
    job: RepeatJob
    done: asyncio.Future[Written | None]


class RepeatWriter:
    """One per process; see the module's docstring."""

    def __init__(self) -> None:
        self._queue: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, uow: UnitOfWorkFactory, job: RepeatJob) -> Written:
        """Written with whatever else is waiting; raises Contention when it must be read again
        (an alert changed since)."""
        queued = _Queued(job, asyncio.get_running_loop().create_future())
        self._queue.append(queued)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(uow))
        written = await queued.done
        if written is None:  # its batch failed as a whole: on its own, then
            return await write_alone(uow, job)
        return written

    async def _drain(self, uow: UnitOfWorkFactory) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                results = await _write(uow, [q.job for q in batch])
            except Contention as exc:
                if len(batch) > 1:
                    log.info("a batch of %d repeats is written one by one: %s", len(batch), exc)
                for queued in batch:
                    _settle(queued, None)
            except DatabaseUnavailable as outage:  # the same for all: they answer 503
                for queued in batch:
                    _settle(queued, exception=outage)
            # The writer task is an edge: whatever one notification hits, the others are still
            # written, each on its own, and the caller of that one sees its error.
            except Exception as exc:  # noqa: BLE001
                if len(batch) > 1:
                    log.info("a batch of %d repeats is written one by one: %s", len(batch), exc)
                for queued in batch:
                    _settle(queued, None)
            except BaseException:
                for queued in batch + self._queue:  # cancelled: nobody is left waiting
                    _settle(queued, None)
                raise
            else:
                for queued, written in zip(batch, results, strict=True):
                    _settle(queued, written)


def _settle(
    queued: _Queued, written: Written | None = None, *, exception: BaseException | None = None
) -> None:
    if queued.done.done():
        return
    if exception is not None:
        queued.done.set_exception(exception)
    else:
        queued.done.set_result(written)


async def write_alone(uow: UnitOfWorkFactory, job: RepeatJob) -> Written:
    [written] = await _write(uow, [job])
    return written


async def _write(uow_factory: UnitOfWorkFactory, jobs: Sequence[RepeatJob]) -> list[Written]:
    at = min(job.now for job in jobs)
    # Read first, without locks, in a transaction of its own: SQLite cannot turn a transaction
    # that read into one that writes once another has written meanwhile. The UPDATEs below
    # write only if what was read still holds.
    wanted = sorted({(a.source, a.fingerprint) for job in jobs for a in job.alerts})
    async with uow_factory() as uow:
        tracked = await uow.alerts.in_open_incidents(wanted)
    repeating = [job for job in jobs if _only_repeats(job, tracked)]
    if not repeating:
        return [Written(False) for _ in jobs]
    async with uow_factory() as uow:
        # The same lock order as every ingest: the delivery keys, the alert rows sorted, then
        # the summaries sorted.
        claimed: set[str] = set()
        for window in {job.retry_window for job in repeating}:
            keys = {job.delivery for job in repeating if job.retry_window == window}
            claimed |= await uow.idempotency.claim_many(sorted(keys), at, window)
        live: list[RepeatJob] = []
        for job in repeating:  # the first of a delivery given twice in one batch takes it
            if job.delivery in claimed:
                claimed.discard(job.delivery)
                live.append(job)
        added: dict[AlertKey, tuple[str, Repeats]] = {}
        for job in live:
            for alert in job.alerts:
                key = (alert.source, alert.fingerprint)
                before = added.get(key)
                if before is None:
                    added[key] = (tracked[key].incident_id, Repeats.one(alert, job.now))
                else:
                    added[key] = (before[0], before[1].then(alert, job.now))
        now_is: dict[AlertKey, TrackedAlert] = {}
        for key in sorted(added):
            incident_id, repeats = added[key]
            now = await uow.alerts.repeat(repeats, incident_id)
            if now is None:  # it changed since it was read
                raise Contention(f"alert {key[1]} changed meanwhile")
            now_is[key] = now
        for incident_id in sorted({i for i, _ in added.values()}):
            await uow.alerts.mark_summary_stale(incident_id, max(job.now for job in jobs))
        await uow.commit()
    return _each(jobs, repeating, live, now_is)


def _only_repeats(job: RepeatJob, tracked: dict[AlertKey, TrackedAlert]) -> bool:
    if not job.alerts:
        return False
    for alert in job.alerts:
        known = tracked.get((alert.source, alert.fingerprint))
        if known is None or not known.would_repeat(alert):
            return False
    return True


def _each(
    jobs: Sequence[RepeatJob],
    repeating: list[RepeatJob],
    live: list[RepeatJob],
    now_is: dict[AlertKey, TrackedAlert],
) -> list[Written]:
    """What each notification heard: each alert as it was just after it, so that an automatic
    action due at the Nth consecutive firing sees N once, whatever the batching."""
    later: dict[AlertKey, tuple[int, int]] = {key: (0, 0) for key in now_is}
    heard: dict[int, list[TrackedAlert]] = {}
    for job in reversed(live):
        mine = []
        for alert in job.alerts:
            key = (alert.source, alert.fingerprint)
            count, firing = later[key]
            final = now_is[key]
            mine.append(
                replace(
                    final,
                    notifications=final.notifications - count,
                    firing_streak=final.firing_streak - firing,
                )
            )
            later[key] = (count + 1, firing + (alert.status is AlertStatus.FIRING))
        heard[id(job)] = mine
    written = []
    repeating_ids = {id(job) for job in repeating}
    for job in jobs:
        if id(job) in heard:
            incidents = list(dict.fromkeys(a.incident_id for a in heard[id(job)]))
            written.append(Written(True, heard=heard[id(job)], incidents=incidents))
        elif id(job) in repeating_ids:  # its delivery key was claimed before
            written.append(Written(True, duplicate=True))
        else:
            written.append(Written(False))
    return written
