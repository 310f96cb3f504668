"""The periodic jobs. Durable state lives in our tables, never in APScheduler's job store."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.ports import DatabaseUnavailable
from bot.services.actions import expire_due_requests
from bot.services.alert_summaries import refresh_alert_summaries
from bot.services.clean_versions import mark_clean_versions
from bot.services.deps import Deps
from bot.services.pending_work import deliver_pending
from bot.services.service_catalog import refresh_catalog
from bot.services.triage import send_due_reminders
from bot.web.faults import OutageLog
from bot.web.metrics import Metrics

log = logging.getLogger(__name__)


async def run_due_work(deps: Deps, metrics: Metrics) -> None:
    """Everything that falls due: one place, so tests and the demo can run it on demand."""
    # First, so that the work below, and every request until the next tick, knows the services
    # other replicas registered.
    await refresh_catalog(deps)
    # Before reminders and summaries, which need the channels and messages it makes.
    delivered = await deliver_pending(deps)
    metrics.count("steadyhand_pending_slack_work_done_total", delivered.done)
    metrics.count("steadyhand_pending_slack_work_failed_total", delivered.failed)
    metrics.count("steadyhand_reminders_sent_total", await send_due_reminders(deps))
    metrics.count("steadyhand_known_good_marked_total", await mark_clean_versions(deps))
    metrics.count("steadyhand_action_requests_expired_total", await expire_due_requests(deps))
    metrics.count("steadyhand_alert_summaries_updated_total", await refresh_alert_summaries(deps))


def build_scheduler(deps: Deps, metrics: Metrics, every_seconds: float = 5.0) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        _guarded(lambda: run_due_work(deps, metrics), metrics),
        "interval",
        seconds=every_seconds,
        id="due-work",
        max_instances=1,
        coalesce=True,
    )
    return scheduler


def _guarded(job: Callable[[], Awaitable[None]], metrics: Metrics) -> Callable[[], Awaitable[None]]:
    outages = OutageLog(log)
    failed_runs = 0

    async def run() -> None:
        nonlocal failed_runs
        try:
            await job()
        except DatabaseUnavailable as exc:
            # Not a bug: one line when the database goes away, not a traceback every tick.
            # What was due stays due in its table and is done by the first run that gets in.
            metrics.count("steadyhand_job_failures_total")
            failed_runs += 1
            outages.warn("Scheduled work waits for the database; retrying every run", exc)
        except Exception:  # the job wrapper is an edge: log, count, and try again next tick
            metrics.count("steadyhand_job_failures_total")
            failed_runs += 1
            log.exception("Scheduled work failed; it will be retried on the next run")
        else:
            if failed_runs:
                log.info("Scheduled work ran again after %d failed runs", failed_runs)
                failed_runs = 0

    return run
