"""The real bot, served over HTTP, talking to the sandbox Slack: for the demo, tests, benches.

Everything is real except Slack itself: settings are loaded the usual way, the schema is
migrated, the Starlette app runs under uvicorn on loopback, and requests arrive signed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.bootstrap import Runtime, build_runtime
from bot.clock import ManualClock
from bot.config import load_settings
from bot.sandbox import SlackDriver, SlackSandbox, serve_app
from bot.scheduler.jobs import run_due_work

BOT_TOKEN = "xoxb-sandbox"
SIGNING_SECRET = "sandbox-signing-secret"


@dataclass
class Stage:
    sandbox: SlackSandbox
    driver: SlackDriver
    runtime: Runtime
    clock: ManualClock
    base_url: str

    async def settle(self) -> None:
        """Wait until the bot has finished the work it acked."""
        await self.runtime.background.wait_idle()

    async def command(self, user: str, channel: str, text: str) -> httpx.Response:
        response = await self.driver.slash_command(user, channel, text)
        await self.settle()
        return response

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            return await client.get(path)

    async def run_due_work(self) -> None:
        """What the scheduler's periodic job does, run now."""
        await run_due_work(self.runtime.deps, self.runtime.metrics)


@asynccontextmanager
async def sandbox_stage(
    database_url: str,
    clock: ManualClock,
    *,
    runbooks_dir: Path = Path("runbooks"),
    env: Mapping[str, str] | None = None,
    sandbox: SlackSandbox | None = None,
) -> AsyncIterator[Stage]:
    # Slack's clock is the stage's: a message's ts is when it was posted in the played story,
    # as the post-mortem reads a pinned message's time from its ts.
    sandbox = sandbox or SlackSandbox(BOT_TOKEN, clock=lambda: clock.now().timestamp())
    async with sandbox.serve():
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": sandbox.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": sandbox.api_url,
                "DATABASE_URL": database_url,
                "RUNBOOKS_DIR": str(runbooks_dir),
                **(env or {}),
            }
        )
        runtime = await build_runtime(settings, clock=clock, run_scheduler=False)
        async with (
            serve_app(runtime.web, lifespan="on") as base_url,
            SlackDriver(f"{base_url}/slack/events", SIGNING_SECRET, sandbox) as driver,
        ):
            yield Stage(sandbox, driver, runtime, clock, base_url)
