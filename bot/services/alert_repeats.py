"""Notifications that only repeat tracked alerts, written together: one short transaction for
all those that arrive while the previous one commits.

In a storm nearly every notification repeats alerts already tracked in open incidents, and each
would otherwise wait for the database's write lock (SQLite's, or the hot alert and summary rows
on PostgreSQL) to run a few statements of its own, each a round trip through a busy event loop.
Here the first one starts a transaction at once; those that come meanwhile queue and go in the
next, which claims all their delivery keys in one INSERT, adds each alert's repeats up in one
UPDATE per alert and marks each incident's summary stale once. At low load a transaction holds
one notification and nothing waits; under load the lock is taken once per batch.

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
    """One notification whose every alert repeats one tracked in an open incident."""

    delivery: str  # its idempotency key
    retry_window: timedelta | None
    alerts: Sequence[Alert]
    incidents: Sequence[str]  # each alert's incident, as read
    now: datetime


@dataclass(frozen=True)
class Written:
    duplicate: bool  # a retry of a delivery already handled: nothing written
    heard: list[TrackedAlert] = field(default_factory=list)  # each alert, just after this one


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
    async with uow_factory() as uow:
        # The same lock order as every ingest: the delivery keys, the alert rows sorted, then
        # the summaries sorted.
        claimed: set[str] = set()
        for window in {job.retry_window for job in jobs}:
            keys = {job.delivery for job in jobs if job.retry_window == window}
            claimed |= await uow.idempotency.claim_many(sorted(keys), at, window)
        live: list[RepeatJob] = []
        for job in jobs:  # the first of a delivery given twice in one batch takes it
            if job.delivery in claimed:
                claimed.discard(job.delivery)
                live.append(job)
        added: dict[AlertKey, tuple[str, Repeats]] = {}
        for job in live:
            for alert, incident_id in zip(job.alerts, job.incidents, strict=True):
                key = (alert.source, alert.fingerprint)
                before = added.get(key)
                if before is None:
                    added[key] = (incident_id, Repeats.one(alert, job.now))
                elif before[0] != incident_id:
                    raise Contention(f"alert {alert.fingerprint} read in two incidents")
                else:
                    added[key] = (incident_id, before[1].then(alert, job.now))
        now_is: dict[AlertKey, TrackedAlert] = {}
        for key in sorted(added):
            incident_id, repeats = added[key]
            tracked = await uow.alerts.repeat(repeats, incident_id)
            if tracked is None:  # it changed since it was read
                raise Contention(f"alert {key[1]} changed meanwhile")
            now_is[key] = tracked
        for incident_id in sorted({i for i, _ in added.values()}):
            await uow.alerts.mark_summary_stale(incident_id, max(job.now for job in jobs))
        await uow.commit()
    return _each(jobs, live, now_is)


def _each(
    jobs: Sequence[RepeatJob], live: list[RepeatJob], now_is: dict[AlertKey, TrackedAlert]
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
    return [Written(False, heard[id(job)]) if id(job) in heard else Written(True) for job in jobs]
