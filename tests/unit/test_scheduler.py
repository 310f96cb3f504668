"""The periodic job really runs under APScheduler, and a failing run is counted, not fatal."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain.kinds import IncidentKind
from bot.domain.messages import TriageReminder
from bot.ports import ChatError
from bot.scheduler.jobs import build_scheduler
from bot.services.opening import OpenIncident, open_incident
from bot.web.metrics import Metrics
from tests.fake_chat import FakeChat
from tests.unit.test_services import make_deps


class SignallingChat(FakeChat):
    def __init__(self) -> None:
        super().__init__()
        self.reminded = asyncio.Event()
        self.fail_reminders = False

    async def post(self, channel: str, message: object) -> str:  # type: ignore[override]
        if isinstance(message, TriageReminder):
            if self.fail_reminders:
                self.fail_reminders = False
                raise ChatError("Slack refused chat.postMessage: ratelimited")
            self.reminded.set()
        return await super().post(channel, message)  # type: ignore[arg-type]


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
            await chat.reminded.wait()
    finally:
        scheduler.shutdown(wait=False)
    assert metrics.value("steadyhand_job_failures_total") == (1 if first_run_fails else 0)
    assert len([p for p in chat.posted if isinstance(p.message, TriageReminder)]) == 1
