"""The scenario as a whole: the bot's configuration, the traffic with its kill -9 and
restart, Slack healing, and the scheduler left to settle before the check."""

from __future__ import annotations

import asyncio
import random
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.sandbox.chaos.bot_process import BotProcess, free_port
from bot.sandbox.chaos.checks import Outcome, check
from bot.sandbox.chaos.monitors import (
    ALERT_TIMEOUT_S,
    ALERT_TOKEN,
    PAGERDUTY_SECRET,
    AlertDelivery,
    alert_deliveries,
    send_alert,
)
from bot.sandbox.chaos.people import (
    API_TOKEN,
    SIGNING_SECRET,
    CommandPlan,
    RetryingDriver,
    command_plans,
    respond,
)
from bot.sandbox.chaos.shared import ROOT, Sent, until
from bot.sandbox.failures import Chaos
from bot.sandbox.sandbox import SlackSandbox
from bot.sandbox.seed import TEAM_CONFIG

BOT_TOKEN = "xoxb-chaos"

CONFIG = (
    TEAM_CONFIG
    + """  search:
    components: {retrieval_index: idx-2026-11-01}
  agents:
    components: {tool_permissions: tp-7}
DRILLS
alerts:
  page: S_ONCALL
  pagerduty_secret_env: CHAOS_PAGERDUTY_SECRET
  rules:
    - {match: {team: assistants}, kind: quality}
    - {match: {team: search}, kind: retrieval}
    - {match: {team: agents}, kind: tool}
    - {match: {pagerduty_service_id: PAGENTS}, service: agents, kind: latency}
"""
)


def steadyhand_yml(plans: list[CommandPlan]) -> str:
    """The config: three services alerts are about, and one per responder's drill, so that
    each rolls back its own prompt without racing the others."""
    drills = "\n".join(f"  {p.service}:\n    components: {{prompt: v12}}" for p in plans)
    return CONFIG.replace("DRILLS", drills)


@dataclass(frozen=True)
class Scenario:
    notifications: int = 300
    commands: int = 100
    seed: int = 1
    chaos: Chaos = field(default_factory=Chaos)
    traffic_seconds: float = 30.0  # alerts and commands are spread over this long
    kill_after: float | None = 0.5  # share of traffic_seconds after which the bot is killed
    alert_concurrency: int = 8
    # After the traffic, the scheduler runs at least this long (pending Slack work that the
    # killed process had claimed is taken over once its 60 s lease runs out, on a 5 s tick),
    # then until Slack saw no call for quiet_s.
    settle_min_s: float = 75.0
    settle_quiet_s: float = 10.0
    settle_max_s: float = 180.0

    def __post_init__(self) -> None:
        if self.notifications < 1 or self.commands < 4:
            raise ValueError("the scenario needs a notification and four commands at least")


async def run(scenario: Scenario, database_url: str) -> Outcome:
    """Play the scenario against a fresh database and say what became of everything sent."""
    rng = random.Random(scenario.seed)
    sandbox = SlackSandbox(BOT_TOKEN)
    sent = Sent()
    with (
        tempfile.TemporaryDirectory(prefix="steadyhand-chaos-") as folder,
        tempfile.TemporaryFile("w+") as log,
    ):
        config = Path(folder) / "steadyhand.yml"
        plans = command_plans(scenario.commands, scenario.seed, rng)
        config.write_text(steadyhand_yml(plans))
        async with sandbox.serve():
            bot = BotProcess(_bot_env(sandbox, database_url, config), free_port(), log)
            sandbox.unleash_chaos(scenario.chaos)
            try:
                await bot.start()
                began = time.monotonic()
                await _traffic(scenario, rng, plans, sandbox, bot, database_url, sent, began)
                assert sandbox.chaos is not None
                sandbox.chaos.enabled = False  # Slack answers again
                settled, quiet = await _settle(scenario, sandbox)
            finally:
                await bot.stop()
            sent.bot_starts = bot.starts
            outcome = Outcome(sent, database_url.split(":", 1)[0].split("+", 1)[0])
            outcome.settled_s, outcome.quiet = settled, quiet
            assert sandbox.chaos is not None
            outcome.faults = sandbox.chaos.drawn
            outcome.slack_calls = len(sandbox.calls)
            await check(outcome, sandbox, database_url)
        log.seek(0)
        logged = log.read()
        outcome.tracebacks = logged.count("Traceback")
        outcome.errors = Counter(
            re.findall(r"^(\w[\w.]*(?:Error|Exception)\b[^\n]{0,90})", logged, re.MULTILINE)
        )
        outcome.log_tail = "\n".join(logged.splitlines()[-30:])
    return outcome


def _bot_env(sandbox: SlackSandbox, database_url: str, config: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": sandbox.api_url,
        "DATABASE_URL": database_url,
        "RUNBOOKS_DIR": str(ROOT / "runbooks"),
        "STEADYHAND_CONFIG": str(config),
        "STEADYHAND_ALERT_TOKENS": ALERT_TOKEN,
        "STEADYHAND_API_TOKENS": API_TOKEN,
        "CHAOS_PAGERDUTY_SECRET": PAGERDUTY_SECRET,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


async def _traffic(
    scenario: Scenario,
    rng: random.Random,
    plans: list[CommandPlan],
    sandbox: SlackSandbox,
    bot: BotProcess,
    database_url: str,
    sent: Sent,
    began: float,
) -> None:
    deliveries = alert_deliveries(scenario.notifications, scenario.seed, rng)
    driver = RetryingDriver(f"{bot.url}/slack/events", sandbox)
    limit = asyncio.Semaphore(scenario.alert_concurrency)
    spacing = scenario.traffic_seconds / len(deliveries)

    async def deliver(n: int, delivery: AlertDelivery, client: httpx.AsyncClient) -> None:
        await until(began + n * spacing)
        async with limit:
            await send_alert(client, bot.url, delivery, sent)

    async def kill_and_restart() -> None:
        if scenario.kill_after is None:
            return
        await until(began + scenario.traffic_seconds * scenario.kill_after)
        await bot.kill()
        sent.killed_at = time.monotonic() - began
        await bot.start()
        sent.back_at = time.monotonic() - began

    async with httpx.AsyncClient(timeout=ALERT_TIMEOUT_S, trust_env=False) as client:
        try:
            await asyncio.gather(
                kill_and_restart(),
                *(deliver(n, d, client) for n, d in enumerate(deliveries)),
                *(
                    respond(
                        plan,
                        scenario.traffic_seconds,
                        driver,
                        client,
                        bot.url,
                        database_url,
                        sent,
                        began,
                    )
                    for plan in plans
                ),
            )
        finally:
            sent.slack_retries = driver.retries
            await driver.aclose()


async def _settle(scenario: Scenario, sandbox: SlackSandbox) -> tuple[float, bool]:
    """Let the bot's scheduler finish what it owes: at least settle_min_s, then until Slack has
    seen no call for settle_quiet_s, at most settle_max_s. Returns (seconds, quiet)."""
    began = time.monotonic()
    calls, changed = len(sandbox.calls), time.monotonic()
    while True:
        await asyncio.sleep(0.5)
        now = time.monotonic()
        if len(sandbox.calls) != calls:
            calls, changed = len(sandbox.calls), now
        waited = now - began
        quiet = now - changed >= scenario.settle_quiet_s
        if waited >= scenario.settle_min_s and quiet:
            return waited, True
        if waited >= scenario.settle_max_s:
            return waited, False
