"""How long assembling and rendering the post-mortem of a 50,000-event incident takes.

The incident is a long, noisy one: a flapping alert group (most of the events, each with the
full data an alert notification records), checklist ticks, status updates, action requests
with approvals, applies and verifications, deploys recorded while it was open, and some events
recorded late (their own time earlier than the one before). Two measurements:

(a) in process: `assemble` then `render_postmortem`, from events already in memory;
(b) through the store: the events in a temporary SQLite file (and, with --postgres, in a
    temporary PostgreSQL database made on that server and dropped after), timing
    `postmortem_markdown` (the read of the incident, its timeline and the changes before it,
    then (a)).

Peak memory is tracemalloc's peak for (a) and for each (b) (separate runs, as tracing slows
Python down) and the process's maximum resident set size (getrusage) at the end.

    python bench/postmortem.py [--events 50000] [--runs 5] [--postgres URL]

e.g. --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test (a role that may create
databases).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import time
import tracemalloc
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from _common import fresh_database
from sqlalchemy import insert

from bot.cli_registry import OfflineChat
from bot.clock import ManualClock
from bot.domain.checklists import ChecklistStep
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.postmortem import assemble
from bot.domain.registry import Change, Component
from bot.domain.runbooks import RunbookLibrary
from bot.domain.timeline import BOT_ACTOR, EventType, TimelineEvent
from bot.render.postmortem import render_postmortem
from bot.services.deps import Deps, Policy
from bot.services.postmortem import postmortem_markdown
from bot.store.database import create_engine, session_factory
from bot.store.migrations import upgrade_database
from bot.store.models import TimelineEventRow
from bot.store.uow import SqlUnitOfWorkFactory

OPENED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SERVICE = "support-bot"
ZONE = ZoneInfo("Europe/Paris")
PEOPLE = ("U_ALICE", "U_BOB", "U_CAROL", "U_DAVE")


def build(events: int) -> tuple[Incident, list[TimelineEvent], list[Change]]:
    rng = random.Random(5)
    incident = Incident(
        id="bench",
        kind=IncidentKind.QUALITY,
        title="Answers cite the retired refund policy",
        severity=Severity.SEV1,
        opened_by=BOT_ACTOR,
        commander="U_ALICE",
        opened_at=OPENED,
        runbook_key="quality",
        runbook_version="3",
        service=SERVICE,
        steps=[
            ChecklistStep(i, "First checks", f"Step {i}: check the `thing` number {i}")
            for i in range(60)
        ],
    )
    changes = [
        Change(f"c{i}", SERVICE, Component.PROMPT, f"v{i}", f"v{i + 1}", "ci",
               OPENED - timedelta(hours=23) + timedelta(minutes=20 * i), None, 0.8)
        for i in range(60)
    ]  # fmt: skip
    out: list[TimelineEvent] = []
    at = OPENED
    requests = 0

    def add(type_: EventType, actor: str, text: str, **data: object) -> None:
        out.append(TimelineEvent(incident.id, at, type_, actor, text, dict(data)))

    add(EventType.OPENED, BOT_ACTOR, "Opened quality drift incident", kind="quality")
    while len(out) < events:
        at += timedelta(seconds=rng.randint(0, 3))
        roll = rng.random()
        if roll < 0.70:
            n = rng.randint(1, 400)
            firing = rng.random() < 0.9
            # A late notification: dated up to ten minutes before the one heard before it.
            late = timedelta(seconds=rng.randint(0, 600)) if rng.random() < 0.05 else timedelta()
            add(
                EventType.ALERT_FIRING if firing else EventType.ALERT_RESOLVED,
                f"alert:{'alertmanager' if n % 2 else 'grafana'}",
                f"Alert EvalPassRateLow{n} {'firing' if firing else 'resolved'}: pass rate low",
                source="alertmanager",
                fingerprint=f"fp{n}",
                status="firing" if firing else "resolved",
                grouping="same service and kind",
                notifications=rng.randint(1, 50),
                starts_at=(OPENED - timedelta(minutes=7)).isoformat(),
                ends_at=None,
                received_at=at.isoformat(),
                value=f"0.{rng.randint(40, 80)}",
                threshold="0.85",
                labels={"alertname": f"EvalPassRateLow{n}", "service": SERVICE, "team": "ai"},
            )
            out[-1] = TimelineEvent(incident.id, at - late, *_rest(out[-1]))
        elif roll < 0.80:
            position = rng.randrange(60)
            who = rng.choice(PEOPLE)
            checked = rng.random() < 0.7
            add(
                EventType.STEP_CHECKED if checked else EventType.STEP_UNCHECKED,
                who,
                f"{'Checked' if checked else 'Unchecked'} “Step {position}”",
                position=position,
                section="First checks",
            )
        elif roll < 0.88:
            add(
                EventType.STATUS_UPDATE,
                rng.choice(PEOPLE),
                "Still rolling back; eval pass rate at 0.7 | watching <@U_BOB>",
            )
        elif roll < 0.98:
            requests += 1
            data = {
                "request_id": f"r{requests}",
                "action": "rollback",
                "service": SERVICE,
                "moves": [{"component": "prompt", "before": "v60", "after": "v59"}],
                "risk": "high",
                "reason": "undo prompt v59 → v60",
                "requested_by": "U_ALICE",
            }
            what = "roll back support-bot prompt v60 → v59"
            add(EventType.ACTION_REQUESTED, "U_ALICE", f"asked to {what}", **data)
            add(EventType.ACTION_APPROVED, "U_CAROL", f"approved: {what}", **data)
            add(EventType.ACTION_APPLIED, BOT_ACTOR, f"applied: {what}", **data, outcome="ok")
            add(
                EventType.ACTION_VERIFIED,
                BOT_ACTOR,
                f"verified {what}",
                **data,
                passed=True,
                score=0.9,
                summary="eval score 0.90 ≥ 0.85",
            )
        elif roll < 0.99:
            add(
                EventType.CHANGE_RECORDED,
                "ci",
                "support-bot model: a → b",
                change_id=f"during{len(out)}",
                service=SERVICE,
                component="model",
                from_version="a",
                to_version="b",
                source=None,
                eval_score=0.8,
            )
        else:
            add(
                EventType.COMMANDER_CHANGED,
                "U_ALICE",
                "Command passed",
                previous="U_ALICE",
                current="U_BOB",
            )
    return incident, out[:events], changes


def _rest(event: TimelineEvent) -> tuple[EventType, str, str, dict[str, object]]:
    return event.type, event.actor, event.text, event.data


def in_process(incident: Incident, events: list[TimelineEvent], changes: list[Change]) -> str:
    pm = assemble(incident, events, changes, now=OPENED + timedelta(days=1), display_zone=ZONE)
    return render_postmortem(pm)


async def through_store(
    database: AbstractAsyncContextManager[str],
    incident: Incident,
    events: list[TimelineEvent],
    changes: list[Change],
    runs: int,
) -> tuple[list[float], int]:
    """The time of each run, and the peak memory allocated in one more (traced) run."""
    async with database as url:
        await upgrade_database(url)
        engine = create_engine(url)
        try:
            uow_factory = SqlUnitOfWorkFactory(session_factory(engine))
            async with uow_factory() as uow:
                await uow.incidents.add(incident)
                for change in changes:
                    await uow.registry.add_change(change)
                await uow.commit()
            # Loading is not what is measured: one bulk insert, in the order they were recorded.
            async with engine.begin() as connection:
                await connection.execute(
                    insert(TimelineEventRow),
                    [
                        {
                            "incident_id": e.incident_id,
                            "at": e.at,
                            "type": e.type.value,
                            "actor": e.actor,
                            "text": e.text,
                            "data": e.data,
                        }
                        for e in events
                    ],
                )
            deps = Deps(
                uow=uow_factory,
                chat=OfflineChat(),
                clock=ManualClock(OPENED + timedelta(days=1)),
                runbooks=RunbookLibrary([], []),
                policy=Policy(display_timezone=str(ZONE)),
            )
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                markdown = await postmortem_markdown(deps, incident.id)
                times.append(time.perf_counter() - start)
            assert markdown.count("\n") > len(events)
            tracemalloc.start()  # a separate run: tracing slows Python down
            await postmortem_markdown(deps, incident.id)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            return times, peak
        finally:
            await engine.dispose()


def main(count: int, runs: int, postgres: str | None) -> None:
    incident, events, changes = build(count)
    print(f"incident with {len(events):,} timeline events, {len(changes)} changes before")

    assemble_times, render_times = [], []
    for _ in range(runs):
        start = time.perf_counter()
        pm = assemble(incident, events, changes, now=OPENED + timedelta(days=1), display_zone=ZONE)
        middle = time.perf_counter()
        markdown = render_postmortem(pm)
        assemble_times.append(middle - start)
        render_times.append(time.perf_counter() - middle)
    totals = [a + r for a, r in zip(assemble_times, render_times, strict=True)]
    print(
        f"(a) in process: assemble {_ms(assemble_times)}, render {_ms(render_times)}, "
        f"total {_ms(totals)} (median of {runs}; {len(markdown) / 1e6:.1f} MB of Markdown)"
    )

    tracemalloc.start()
    in_process(incident, events, changes)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"    peak memory allocated while assembling and rendering: {peak / 2**20:.0f} MiB")

    databases: dict[str, str | None] = {"SQLite": None}
    if postgres:
        databases["PostgreSQL"] = postgres
    for name, server in databases.items():
        database = fresh_database(server)
        times, peak = asyncio.run(through_store(database, incident, events, changes, runs))
        print(f"(b) through {name}, postmortem_markdown: {_ms(times)} (median of {runs})")
        print(f"    peak memory allocated reading, assembling, rendering: {peak / 2**20:.0f} MiB")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    print(f"process max RSS: {maxrss * scale / 2**20:.0f} MiB (includes the events held in memory)")


def _ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:.0f} ms"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", metavar="URL", help="also through this PostgreSQL server")
    arguments = parser.parse_args()
    main(arguments.events, arguments.runs, arguments.postgres)
