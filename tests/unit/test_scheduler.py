"""The periodic job really runs under APScheduler, and a failing run is counted, not fatal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.kinds import IncidentKind
from bot.domain.messages import TriageReminder
from bot.domain.pending_work import LONGEST_WAIT
from bot.ports import ChatError, DatabaseUnavailable
from bot.scheduler.jobs import build_scheduler
from bot.services.deps import Deps
from bot.services.opening import OpenIncident, open_incident
from bot.web.metrics import Metrics
from tests.fake_chat import FakeChat
from tests.fakes import FakeUnitOfWork, FakeUnitOfWorkFactory
from tests.unit.test_services import make_deps


class SignallingChat(FakeChat):
    def __init__(self) -> None:
        super().__init__()
        self.reminded = asyncio.Event()
        self.fail_reminders = False

    async def post(  # type: ignore[override]
        self, channel: str, message: object, *, key: str | None = None
    ) -> str:
        if isinstance(message, TriageReminder):
            if self.fail_reminders:
                self.fail_reminders = False
                raise ChatError("Slack refused chat.postMessage: ratelimited")
            self.reminded.set()
        return await super().post(channel, message, key=key)  # type: ignore[arg-type]


@pytest.mark.parametrize("first_run_fails", [False, True])
async def test_the_scheduler_sends_due_reminders(first_run_fails: bool) -> None:
    chat = SignallingChat()
    deps = make_deps(chat)
    await open_incident(deps, OpenIncident(IncidentKind.QUALITY, "x", "U1"))
    deps.clock.advance(timedelta(minutes=15))  # type: ignore[attr-defined]
    chat.fail_reminders = first_run_fails
    metrics = Metrics()
    scheduler = build_scheduler(deps, metrics, every_seconds=0.01)
    scheduler.start()
    try:
        async with asyncio.timeout(10):
            if first_run_fails:
                # Slack's refusal leaves the reminder owed, due again after a backoff.
                await polled(lambda: owed_with_error(deps), "the reminder owed after a refusal")
                deps.clock.advance(LONGEST_WAIT)  # type: ignore[attr-defined]
            await chat.reminded.wait()
    finally:
        scheduler.shutdown(wait=False)
    # A Slack failure is owed work, not a failed run; the reminder is claimed once.
    assert metrics.value("steadyhand_job_failures_total") == 0
    assert metrics.value("steadyhand_reminders_sent_total") == 1
    assert len([p for p in chat.posted if isinstance(p.message, TriageReminder)]) == 1


def owed_with_error(deps: Deps) -> bool:
    assert isinstance(deps.uow, FakeUnitOfWorkFactory)
    rows = deps.uow.db.tables.pending_work.values()
    return any(work.last_error for _, work, _, done in rows if done is None)


class FailingDatabase(FakeUnitOfWorkFactory):
    """The fake store, made to fail the way a real one does when it is gone, or buggy."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: Exception | None = None

    def __call__(self) -> FakeUnitOfWork:
        if self.failure is not None:
            raise self.failure
        return super().__call__()


async def runs_until(metrics: Metrics, name: str, count: int) -> None:
    await polled(lambda: metrics.value(name) >= count, f"{name} reaches {count}")


async def test_an_outage_is_one_warning_and_a_bug_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = FailingDatabase()
    deps = replace(make_deps(), uow=database)
    metrics = Metrics()
    scheduler = build_scheduler(deps, metrics, every_seconds=0.01)
    database.failure = DatabaseUnavailable("the database is unreachable (ConnectionRefusedError)")
    with caplog.at_level(logging.INFO, logger="bot.scheduler"):
        scheduler.start()
        try:
            await runs_until(metrics, "steadyhand_job_failures_total", 5)
            database.failure = None
            await until_logged(caplog, "ran again")
            database.failure = RuntimeError("a bug")
            await runs_until(metrics, "steadyhand_job_failures_total", 7)
        finally:
            scheduler.shutdown(wait=False)
    records = [r for r in caplog.records if r.name == "bot.scheduler.jobs"]
    outage = [r for r in records if "waits for the database" in r.getMessage()]
    assert len(outage) == 1 and outage[0].levelno == logging.WARNING and not outage[0].exc_info
    assert [r for r in records if r.exc_info and "a bug" in str(r.exc_info[1])]


async def until_logged(caplog: pytest.LogCaptureFixture, text: str) -> None:
    await polled(lambda: text in caplog.text, f"{text!r} logged")


async def polled(done: Callable[[], bool], what: str) -> None:
    for _ in range(1_000):
        if done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")
