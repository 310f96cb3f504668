"""The database goes away under the real bot: every endpoint that needs it answers 503 with
`Retry-After` and the reason, never a bare 500 (OFREP serves on from memory); `/healthz` says so;
the bot is back within a few polls once the database is; and no write it answered 2xx is lost.

PostgreSQL is taken away by a loopback TCP proxy between the bot and the server
(tests/support/tcp_proxy.py): new connections are refused and open ones are cut, as when the
server goes down. SQLite cannot be "down", but its writes can fail while reads still work: a
second connection holding `BEGIN EXCLUSIVE`, as a backup, a migration or an operator's `sqlite3`
shell does. That is a real way writes fail that also works as root (chmod does not stop root).

The PostgreSQL outage lasts 20 s, as the issue asks, while a writer keeps sending changes and
alerts: every answer is 200/201 or 503, and once the proxy accepts again the bot is back
within a few polls. The scheduler variant holds the outage across several ticks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.clock import ManualClock
from bot.domain.alerts import AlertSource
from bot.sandbox import SlackSandbox
from bot.sandbox.seed import ALICE, GENERAL_CHANNEL
from bot.scheduler.jobs import build_scheduler
from bot.stage import Stage, sandbox_stage
from tests.e2e.conftest import RUNBOOKS, StageFactory
from tests.e2e.helpers import only_incident_channel, text_of
from tests.e2e.registry_stage import AUTH, CONFIG, TOKEN
from tests.support.databases import fresh_database
from tests.support.slack_specs import conforming
from tests.support.tcp_proxy import TcpProxy, tcp_proxy

OUTAGE_SECONDS = 20.0
POLLS = 200  # attempts, not time: the bot must come back within a few of them
POLL_PAUSE = 0.05
HANG = 60.0  # an HTTP client's patience: longer than any of the bot's own database time limits


@asynccontextmanager
async def proxied_stage(
    tmp_path: Path, clock: ManualClock, sandbox: SlackSandbox
) -> AsyncIterator[tuple[Stage, TcpProxy]]:
    """The real bot on a fresh PostgreSQL database that it reaches only through a proxy."""
    async with fresh_database("postgres") as url:
        server = make_url(url)
        async with tcp_proxy(server.host or "127.0.0.1", server.port or 5432) as proxy:
            proxied = server.set(host="127.0.0.1", port=proxy.port)
            config = tmp_path / "steadyhand.yml"
            config.write_text(CONFIG)
            env = {"STEADYHAND_CONFIG": str(config), "STEADYHAND_API_TOKENS": TOKEN}
            with conforming(sandbox):
                async with sandbox_stage(
                    proxied.render_as_string(hide_password=False),
                    clock,
                    runbooks_dir=RUNBOOKS,
                    env=env,
                    sandbox=sandbox,
                ) as stage:
                    try:
                        yield stage, proxy
                    finally:
                        # A test that failed mid-outage still lets the bot stop cleanly.
                        await proxy.accept()


def alertmanager(fingerprint: str) -> dict[str, Any]:
    return {
        "receiver": "steadyhand",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "AnswerQualityDrop", "service": "support-bot"},
                "annotations": {"summary": f"{fingerprint}: answer quality fell"},
                "startsAt": "2026-11-22T08:58:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": fingerprint,
            }
        ],
        "groupLabels": {"service": "support-bot"},
        "version": "4",
        "groupKey": f'{{}}:{{fingerprint="{fingerprint}"}}',
        "truncatedAlerts": 0,
    }


@dataclass
class Writes:
    """Every write sent and how it was answered, to check afterwards that none answered 2xx
    went missing."""

    changes: dict[str, int] = field(default_factory=dict)  # Idempotency-Key → status
    alerts: dict[str, int] = field(default_factory=dict)  # fingerprint → status
    statuses: list[int] = field(default_factory=list)

    async def change(self, client: httpx.AsyncClient, n: int) -> httpx.Response:
        key = f"deploy-{n}"
        body = {"service": "support-bot", "component": "prompt", "version": f"v{100 + n}"}
        response = await client.post(
            "/api/changes",
            json={**body, "actor": "ci"},
            headers={**AUTH, "Idempotency-Key": key},
        )
        self.changes[key] = response.status_code
        self.statuses.append(response.status_code)
        return response

    async def alert(self, client: httpx.AsyncClient, n: int) -> httpx.Response:
        fingerprint = f"fp-{n}"
        response = await client.post(
            "/alerts/alertmanager",
            content=json.dumps(alertmanager(fingerprint)).encode(),
            headers={**AUTH, "Content-Type": "application/json"},
        )
        self.alerts[fingerprint] = response.status_code
        self.statuses.append(response.status_code)
        return response


async def keep_writing(stage: Stage, writes: Writes, stop: asyncio.Event) -> None:
    """A CI pipeline and a monitor that go on sending while the database comes and goes."""
    async with httpx.AsyncClient(base_url=stage.base_url, timeout=30) as client:
        for n in range(2_000):
            if stop.is_set():
                return
            await writes.change(client, n)
            if n % 5 == 0:
                await writes.alert(client, n)
            await asyncio.sleep(0.01)


def assert_unavailable(response: httpx.Response, reason_field: str = "error") -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert int(response.headers["retry-after"]) > 0
    assert "database" in response.json()[reason_field].lower(), response.text


async def until(probe: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    for _ in range(POLLS):
        done = probe()
        if done if isinstance(done, bool) else await done:
            return
        await asyncio.sleep(POLL_PAUSE)
    raise AssertionError(f"never happened: {what}")


async def assert_nothing_answered_2xx_is_lost(stage: Stage, writes: Writes) -> None:
    async with stage.runtime.deps.uow() as uow:
        stored_versions = {c.to_version for c in await uow.registry.changes()}
        accepted = [k for k, status in writes.changes.items() if status == 201]
        assert {f"v{100 + int(k.removeprefix('deploy-'))}" for k in accepted} <= stored_versions
        for fingerprint, status in writes.alerts.items():
            if status == 200:
                assert await uow.alerts.get(AlertSource.ALERTMANAGER, fingerprint), fingerprint


@pytest.mark.postgres
async def test_a_postgres_outage_answers_503_everywhere_and_loses_no_accepted_write(
    tmp_path: Path, clock: ManualClock, sandbox: SlackSandbox
) -> None:
    async with proxied_stage(tmp_path, clock, sandbox) as (stage, proxy):
        writes, stop = Writes(), asyncio.Event()
        writer = asyncio.create_task(keep_writing(stage, writes, stop))
        await until(lambda: {200, 201} <= set(writes.statuses), "a change and an alert accepted")

        await proxy.refuse()  # the database is gone: connections refused, open ones cut
        down_since = asyncio.get_running_loop().time()
        async with httpx.AsyncClient(base_url=stage.base_url, timeout=30) as client:
            assert_unavailable(await writes.change(client, 10_000))
            assert_unavailable(await writes.alert(client, 10_000))
            # Flags are served from memory: AI services keep reading the last committed state.
            bulk = await client.post("/ofrep/v1/evaluate/flags", headers=AUTH, json={})
            assert bulk.status_code == 200, bulk.text
            one = await client.post(
                "/ofrep/v1/evaluate/flags/support-bot.kill_switch", headers=AUTH, json={}
            )
            assert one.status_code == 200, one.text
            health = await client.get("/healthz")
            assert_unavailable(health, "database")
        # Slack does not retry a slash command, but it tells the person it failed: better than
        # an ack whose work then cannot even be recorded.
        command = await stage.driver.slash_command(ALICE, GENERAL_CHANNEL, "status")
        assert_unavailable(command)
        # An unsigned request learns nothing of the outage: the signature is checked first.
        forged = await stage.driver.slash_command(ALICE, GENERAL_CHANNEL, "status", forge=True)
        assert forged.status_code == 401
        await until(lambda: writes.statuses.count(503) >= 10, "a few 503s")
        # Hold it: a pooled connection or a retry that outlives a short outage shows here.
        held = asyncio.get_running_loop().time() - down_since
        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - held))

        await proxy.accept()  # the database is back
        await until(lambda: health_ok(stage), "/healthz ok again")
        before = len(writes.statuses)
        await until(lambda: {200, 201} <= set(writes.statuses[before:]), "writes accepted again")
        stop.set()
        await writer
        await stage.settle()

        assert set(writes.statuses) <= {200, 201, 503}, sorted(set(writes.statuses))
        answered_503 = stage.runtime.metrics.value("steadyhand_database_unavailable_total")
        assert answered_503 >= writes.statuses.count(503)  # and the ones checked one by one
        await assert_nothing_answered_2xx_is_lost(stage, writes)
        command = await stage.driver.slash_command(ALICE, GENERAL_CHANNEL, "help")
        assert command.status_code == 200


@pytest.mark.postgres
async def test_a_black_holed_postgres_answers_503_instead_of_hanging(
    tmp_path: Path, clock: ManualClock, sandbox: SlackSandbox
) -> None:
    """The network drops every packet: connections open, pooled ones stay open, nothing answers.
    Without time limits of its own the bot waited on a pooled connection's ping forever."""
    async with proxied_stage(tmp_path, clock, sandbox) as (stage, proxy):
        # The client's limit only turns a hang into a failure; the bot must answer well before.
        async with httpx.AsyncClient(base_url=stage.base_url, timeout=HANG) as client:
            writes = Writes()
            assert (await writes.change(client, 1)).status_code == 201  # a pooled connection
            await proxy.black_hole()
            assert_unavailable(await writes.change(client, 2))
            assert_unavailable(await writes.alert(client, 2))
            # OFREP answers from memory: the AI services keep their flags through the partition.
            ofrep = await client.post("/ofrep/v1/evaluate/flags", headers=AUTH, json={})
            assert ofrep.status_code == 200 and ofrep.json()["flags"], ofrep.text
            assert_unavailable(await client.get("/healthz"), "database")
            # The reachability check in front of Slack's acks gives up too, so Slack hears 503.
            command = await stage.driver.slash_command(ALICE, GENERAL_CHANNEL, "status")
            assert_unavailable(command)

            await proxy.accept()  # packets flow again
            await until(lambda: health_ok(stage), "/healthz ok again")
            assert (await writes.change(client, 3)).status_code == 201
        await assert_nothing_answered_2xx_is_lost(stage, writes)


async def health_ok(stage: Stage) -> bool:
    return (await stage.get("/healthz")).status_code == 200


@pytest.mark.postgres
async def test_the_scheduler_logs_an_outage_in_one_line_and_carries_on_after_it(
    tmp_path: Path,
    clock: ManualClock,
    sandbox: SlackSandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with proxied_stage(tmp_path, clock, sandbox) as (stage, proxy):
        await stage.command(ALICE, GENERAL_CHANNEL, "open quality answers went wrong")
        channel = only_incident_channel(sandbox)
        metrics = stage.runtime.metrics
        scheduler = build_scheduler(stage.runtime.deps, metrics, every_seconds=0.05)
        scheduler.start()
        try:
            await proxy.refuse()
            clock.advance(timedelta(minutes=15))  # the five-questions reminder falls due now
            with caplog.at_level(logging.INFO, logger="bot"):
                # Held across several ticks: each one fails, and only the first says so.
                await until(lambda: failures(stage) >= 5, "five ticks without database")
                await proxy.accept()
                # What fell due during the outage is done by the first run that gets in.
                await until(
                    lambda: bool(reminders(sandbox, channel.id)),
                    "the reminder that fell due during the outage is sent",
                )
                await until(lambda: health_ok(stage), "/healthz ok again")
        finally:
            scheduler.shutdown(wait=False)
        await stage.run_due_work()
        assert len(reminders(sandbox, channel.id)) == 1
    scheduled = [r for r in caplog.records if r.name == "bot.scheduler.jobs"]
    assert not [r for r in scheduled if r.exc_info], "an outage is not a bug: no traceback"
    warnings = [r for r in scheduled if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in scheduled]
    assert "database" in warnings[0].getMessage().lower()


def reminders(sandbox: SlackSandbox, channel_id: str) -> list[dict[str, Any]]:
    return [m for m in sandbox.messages(channel_id) if "unanswered" in m["text"]]


def failures(stage: Stage) -> int:
    return stage.runtime.metrics.value("steadyhand_job_failures_total")


@pytest.mark.postgres
async def test_an_exhausted_pool_answers_503_after_a_short_wait(
    tmp_path: Path, clock: ManualClock, sandbox: SlackSandbox
) -> None:
    async with proxied_stage(tmp_path, clock, sandbox) as (stage, _proxy):
        engine = stage.runtime.engine
        size = engine.pool.size() + engine.pool._max_overflow  # type: ignore[attr-defined]
        held = [await engine.connect() for _ in range(size)]  # an alert storm in hand
        try:
            async with httpx.AsyncClient(base_url=stage.base_url, timeout=60) as client:
                writes = Writes()
                busy = await writes.change(client, 1)
                assert_unavailable(busy)
                assert "busy" in busy.json()["error"]
        finally:
            for connection in held:
                await connection.close()
        async with httpx.AsyncClient(base_url=stage.base_url) as client:
            assert (await writes.change(client, 2)).status_code == 201


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_health_and_writes_say_when_the_file_cannot_take_a_write(
    make_stage: StageFactory, tmp_path: Path, database_url: str
) -> None:
    config = tmp_path / "steadyhand.yml"
    config.write_text(CONFIG)
    env = {"STEADYHAND_CONFIG": str(config), "STEADYHAND_API_TOKENS": TOKEN}
    async with make_stage(env=env) as stage:
        assert (await stage.get("/healthz")).status_code == 200
        holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")  # reads still work in WAL mode, writes wait
            health = await stage.get("/healthz")
            assert_unavailable(health, "database")
            # The database still answers, so Slack is acked; the work then cannot be
            # recorded, and the person is told so rather than left waiting.
            command = await stage.driver.slash_command(ALICE, GENERAL_CHANNEL, "running")
            assert command.status_code == 200
            async with httpx.AsyncClient(base_url=stage.base_url, timeout=60) as client:
                assert_unavailable(await Writes().change(client, 1))
                ofrep = await client.post("/ofrep/v1/evaluate/flags", headers=AUTH, json={})
                assert ofrep.status_code == 200  # reads are not refused for a held write lock
            await stage.settle()
            told = text_of(stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)[-1])
            assert "did not go through: the database is busy" in told
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert (await stage.get("/healthz")).status_code == 200
        async with httpx.AsyncClient(base_url=stage.base_url) as client:
            assert (await Writes().change(client, 2)).status_code == 201
