"""Two replicas on one database: what one writes, the other serves over OFREP within a second.

On PostgreSQL the other replica hears of each commit by `LISTEN/NOTIFY` (it does not poll while
it listens); when its listening connection drops it polls the version row, and it listens
again once the connection is back. On SQLite (one file, two processes) the poll finds it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.domain.registry import Catalog
from bot.services.deps import Deps
from bot.services.ofrep_snapshot import check_snapshot
from bot.services.served import ServedRegistry
from bot.slack import ids
from bot.stage import Stage, sandbox_stage
from bot.store.database import create_engine, session_factory
from bot.store.registry_watch import RegistryWatch
from bot.store.uow import SqlUnitOfWorkFactory
from tests.e2e.action_stage import CONFIG, action_stage, card, open_incident
from tests.e2e.conftest import RUNBOOKS, StageFactory
from tests.e2e.registry_stage import AUTH, TOKEN
from tests.support.tcp_proxy import tcp_proxy

FLAGS = "/ofrep/v1/evaluate/flags"
# The promise: a rollback approved on one replica is served by the other within a second. The
# SQLite poll runs every second, so a change waits up to that long before it is even seen.
WITHIN = {"postgresql": 1.0, "sqlite": 3.0}
PAUSE = 0.01


async def eventually(probe: Callable[[], Awaitable[bool]], what: str, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(PAUSE)


@asynccontextmanager
async def replica(database_url: str, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Stage]:
    """Another process of the same bot on the same database, with its own Slack sandbox."""
    config = tmp_path / "replica.yml"
    config.write_text(CONFIG.replace("{approvers}", "[S_MANAGERS]"))
    env = {"STEADYHAND_CONFIG": str(config), "STEADYHAND_API_TOKENS": TOKEN}
    async with sandbox_stage(database_url, clock, runbooks_dir=RUNBOOKS, env=env) as stage:
        yield stage


async def served_value(stage: Stage, key: str) -> object:
    async with httpx.AsyncClient(base_url=stage.base_url) as client:
        response = await client.post(f"{FLAGS}/{key}", headers=AUTH, json={})
    return response.json().get("value") if response.status_code == 200 else None


async def api(stage: Stage, path: str, body: Mapping[str, object]) -> None:
    async with httpx.AsyncClient(base_url=stage.base_url) as client:
        response = await client.post(path, headers=AUTH, json=body)
    assert response.status_code in (200, 201), response.text


async def test_each_write_on_one_replica_is_served_by_the_other(
    make_stage: StageFactory, database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    backend = make_url(database_url).get_backend_name()
    within = WITHIN[backend]
    async with action_stage(make_stage, tmp_path) as a, replica(database_url, clock, tmp_path) as b:
        watch = b.runtime.registry_watch
        if backend == "postgresql":
            await eventually(lambda: _true(watch.listening), "B listens", within=5.0)

        async def served_by_b(key: str, value: object) -> None:
            async def probe() -> bool:
                return await served_value(b, key) == value

            await eventually(probe, f"B serves {key} = {value!r}", within)

        change = {"service": "support-bot", "component": "model", "version": "gpt-y", "actor": "ci"}
        await api(a, "/api/changes", change)
        await served_by_b("support-bot.model", "gpt-y")

        incident = await open_incident(a)  # marks prompt v12 known-good, then records v13
        await served_by_b("support-bot.prompt", "v13")
        assert incident.channel_id is not None
        await a.command("alice", incident.channel_id, "rollback prompt because refusals")
        await a.driver.click(
            "carol", incident.channel_id, str(card(a, incident)["ts"]), ids.ACTION_APPROVE
        )
        await a.settle()
        await served_by_b("support-bot.prompt", "v12")

        await a.command("bob", incident.channel_id, "flag new-retriever 5% because noisy")
        await served_by_b("support-bot.new-retriever", 5)

        await api(
            a, "/api/services", {"name": "ledger", "components": {"model": "l1"}, "actor": "ci"}
        )
        await served_by_b("ledger.model", "l1")

        mark = {"service": "ledger", "component": "model", "version": "l1", "by": "U1"}
        await api(a, "/api/known-good", mark)

        async def marked() -> bool:
            found = b.runtime.deps.served.current.answer("ledger.model")
            return isinstance(found, bytes) and "known_good" in json.loads(found)["metadata"]

        await eventually(marked, "B serves ledger.model's known-good mark", within)
        # The same state has the same tag on every replica: a poller may switch replicas.
        async with httpx.AsyncClient() as client:
            tagged = await client.post(f"{a.base_url}{FLAGS}", headers=AUTH, json={})
            again = {**AUTH, "If-None-Match": tagged.headers["ETag"]}
            unchanged = await client.post(f"{b.base_url}{FLAGS}", headers=again, json={})
        assert (unchanged.status_code, unchanged.headers["ETag"]) == (304, tagged.headers["ETag"])
        if backend == "postgresql":  # heard, not polled
            assert watch.listening and watch.polls == 0 and watch.notifications >= 6


async def test_a_dropped_listening_connection_falls_back_to_polling_and_recovers(
    make_stage: StageFactory, database_url: str, tmp_path: Path
) -> None:
    server = make_url(database_url)
    if server.get_backend_name() != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite only polls (the test above)")
    async with action_stage(make_stage, tmp_path) as a:
        url = database_url
        # Replica B: its own engine and snapshot; it listens through a proxy that can drop it,
        # and polls (while deaf) straight to the server.
        engine = create_engine(url)
        b = _other_replica(a.runtime.deps, engine)
        async with tcp_proxy(server.host or "127.0.0.1", server.port or 5432) as proxy:
            proxied = server.set(host="127.0.0.1", port=proxy.port)
            watch = RegistryWatch(
                lambda: check_snapshot(b),
                proxied.render_as_string(hide_password=False),
                poll_every=0.05,
                reconnect_every=0.05,
            )
            watching = asyncio.create_task(watch.run())
            try:
                await eventually(lambda: _true(watch.listening), "B listens", within=5.0)
                await _change(a, b, "v13", "heard")
                assert watch.polls == 0 and watch.notifications == 1

                await proxy.refuse()  # the listening connection is cut; no new one gets through
                await eventually(lambda: _true(not watch.listening), "B stops listening", 5.0)
                await _change(a, b, "v14", "polled")
                assert watch.polls > 0 and watch.notifications == 1

                await proxy.accept()
                await eventually(lambda: _true(watch.listening), "B listens again", within=5.0)
                polls = watch.polls
                await _change(a, b, "v15", "heard again")
                assert watch.notifications == 2 and watch.polls == polls
            finally:
                watching.cancel()
                await asyncio.gather(watching, return_exceptions=True)
                await engine.dispose()


def _other_replica(deps: Deps, engine: AsyncEngine) -> Deps:
    declared = Catalog(s for s in deps.catalog if deps.catalog.is_declared(s.name))
    uow = SqlUnitOfWorkFactory(session_factory(engine))
    return replace(deps, uow=uow, catalog=declared, served=ServedRegistry())


async def _change(a: Stage, b: Deps, version: str, how: str) -> None:
    change = {"service": "support-bot", "component": "prompt", "version": version, "actor": "ci"}
    await api(a, "/api/changes", change)

    async def served() -> bool:
        found = b.served.current.answer("support-bot.prompt")
        return isinstance(found, bytes) and json.loads(found)["value"] == version

    await eventually(served, f"B serves prompt {version} ({how})", within=WITHIN["postgresql"])


async def _true(value: bool) -> bool:
    return value
