"""How long from an approver's click until a rollback is visible through OFREP.

A responder asks for a prompt rollback in an incident channel; prompt rollbacks are high risk,
so an approver must click Approve on the card. What an AI service sees is its pinned prompt
version, read through `POST /ofrep/v1/evaluate/flags/support-bot.prompt`. Each run records a
new prompt version (as CI would), asks for a rollback to v12, waits for the card, then times
from sending Carol's signed Approve click until OFREP answers v12, polling it as fast as it can.
The click's own HTTP answer (the ack, sent before the work runs) is timed as well.

The bot is the real one (`bot.stage.sandbox_stage`: uvicorn on loopback, the sandbox Slack,
signed requests from the built-in driver), with the demo's team and policy but verification
off: checking the rollback with an eval is not part of it being visible. The bot, the sandbox
and the poller share one event loop, so the polling competes with the work it waits for.

    python bench/rollback.py [--runs 200] [--database-url URL] [--replicas 2]

With `--replicas 2` a second bot runs on the same database (in this process, with its own
engine, snapshot and registry watch): the rollback is approved on the first and polled
through the second's OFREP, so what is timed includes hearing of the commit (PostgreSQL
LISTEN/NOTIFY; on SQLite the one-second version poll).

Without --database-url it uses a throwaway SQLite file. A PostgreSQL URL (e.g.
postgresql+asyncpg://postgres@127.0.0.1:5432/test) names a server to connect to: a fresh
database is created there for the run and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from _common import fresh_database, percentile

from bot.clock import ManualClock
from bot.demo import DEMO_CONFIG
from bot.services import registry
from bot.slack.ids import ACTION_APPROVE
from bot.stage import Stage, sandbox_stage

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-0123456789abcdef"
FLAG_PATH = "/ofrep/v1/evaluate/flags/support-bot.prompt"
TARGET = "v12"  # the prompt version the demo's team declares, and every run rolls back to
TARGET_P99_MS = 1000.0
POLL_EVERY = 0.001


def config_without_verification() -> str:
    config = "\n".join(line for line in DEMO_CONFIG.splitlines() if "verify:" not in line)
    assert "verify" not in config, "the demo config's verify section changed shape"
    return config


def incident_channel(stage: Stage) -> str:
    channels = stage.sandbox.workspace.channels.values()
    return next(c.id for c in channels if c.name.startswith("inc-"))


def pending_card(stage: Stage, channel: str) -> str:
    """The ts of the newest message in `channel` that still offers Approve."""
    for message in reversed(stage.sandbox.messages(channel)):
        for block in message.get("blocks", []):
            if any(e.get("action_id") == ACTION_APPROVE for e in block.get("elements", [])):
                return str(message["ts"])
    raise RuntimeError(f"no card to approve in {channel}; did the rollback request fail?")


async def served_prompt(client: httpx.AsyncClient) -> str:
    answer = await client.post(FLAG_PATH)
    answer.raise_for_status()
    return str(answer.json()["value"])


async def one_run(
    stage: Stage, client: httpx.AsyncClient, channel: str, n: int
) -> tuple[float, float]:
    """Seconds from sending the click to its ack, and to OFREP serving the rollback."""
    deps = stage.runtime.deps
    stage.clock.advance(timedelta(seconds=1))  # so each change is later than the last rollback
    await registry.record_change(deps, "support-bot", "prompt", f"v{n + 13}", "github-actions")
    while await served_prompt(client) != f"v{n + 13}":  # noqa: ASYNC110 - another replica
        await asyncio.sleep(POLL_EVERY)  # may hear of it a moment later (SQLite: its poll)
    stage.clock.advance(timedelta(seconds=1))
    await stage.command("alice", channel, f"rollback support-bot prompt {TARGET}")
    card = pending_card(stage, channel)
    if await served_prompt(client) == TARGET:
        raise RuntimeError("OFREP serves the target before the approval")

    acked = 0.0
    started = time.perf_counter()

    async def click() -> None:
        nonlocal acked
        answer = await stage.driver.click("carol", channel, card, ACTION_APPROVE)
        acked = time.perf_counter() - started
        answer.raise_for_status()

    clicking = asyncio.create_task(click())
    # Polling is the point: it is how a service reading OFREP learns of the change.
    while await served_prompt(client) != TARGET:  # noqa: ASYNC110
        await asyncio.sleep(POLL_EVERY)
    visible = time.perf_counter() - started
    await clicking
    await stage.settle()
    return acked, visible


async def main(runs: int, database_url: str | None, replicas: int) -> None:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    acks: list[float] = []
    visible: list[float] = []
    with tempfile.TemporaryDirectory(prefix="steadyhand-bench-") as folder:
        config = Path(folder) / "steadyhand.yml"
        config.write_text(config_without_verification())
        env = {"STEADYHAND_CONFIG": str(config), "STEADYHAND_API_TOKENS": TOKEN}
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with contextlib.AsyncExitStack() as stack:
            url = await stack.enter_async_context(fresh_database(database_url))
            stages = [
                await stack.enter_async_context(
                    sandbox_stage(url, clock, runbooks_dir=ROOT / "runbooks", env=env)
                )
                for _ in range(replicas)
            ]
            stage = stages[0]  # where the rollback is asked for and approved
            # Where the AI service reads: the other replica, when there are two.
            reader = stages[-1]
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=reader.base_url, headers=auth)
            )
            await stage.command("alice", "#general", "open quality Bench rollbacks")
            channel = incident_channel(stage)
            for n in range(runs):
                ack, seen = await one_run(stage, client, channel, n)
                acks.append(ack)
                visible.append(seen)
    backend = url.split(":", 1)[0].split("+", 1)[0]
    ms = {q: percentile(visible, q) * 1000 for q in (0.5, 0.9, 0.99)}
    worst = max(visible) * 1000
    print(
        f"rollback   runs={len(visible)} database={backend} replicas={replicas} "
        "verification=off "
        f"p50={ms[0.5]:.1f} ms p90={ms[0.9]:.1f} ms p99={ms[0.99]:.1f} ms max={worst:.1f} ms"
    )
    print(
        f"{'':<11}click→ack p50={percentile(acks, 0.5) * 1000:.1f} ms "
        f"p99={percentile(acks, 0.99) * 1000:.1f} ms"
    )
    met = "met" if ms[0.99] < TARGET_P99_MS else "NOT met"
    print(f"target     p99 under {TARGET_P99_MS:.0f} ms with the built-in driver: {met}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database-url", help="default: a throwaway SQLite file")
    parser.add_argument(
        "--replicas",
        type=int,
        choices=[1, 2],
        default=1,
        help="2: approve on one bot, read OFREP from another on the same database",
    )
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be at least 2 to give percentiles")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.runs, args.database_url, args.replicas))
