"""The real bot over Socket Mode, talking to the sandbox Slack: `steadyhand serve --socket-mode`
as bot/server.py runs it, but on loopback, with a free port and the sandbox's clock.

Slack's requests reach the bot over the WebSocket it opens to the sandbox; the web app is served
as well, as in production, because its lifespan is what starts and stops the bot's resources.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.bootstrap import Runtime, build_runtime
from bot.clock import ManualClock
from bot.config import load_settings
from bot.sandbox import SlackSandbox, SocketAck, SocketModeDriver, serve_app
from bot.stage import BOT_TOKEN, SIGNING_SECRET

APP_TOKEN = "xapp-1-sandbox"


@dataclass
class SocketModeStage:
    sandbox: SlackSandbox
    driver: SocketModeDriver
    runtime: Runtime
    clock: ManualClock
    handler: AsyncSocketModeHandler
    base_url: str

    async def settle(self) -> None:
        """Wait until the bot has finished the work it acked."""
        await self.runtime.background.wait_idle()

    async def command(self, user: str, channel: str, text: str) -> SocketAck:
        ack = await self.driver.slash_command(user, channel, text)
        await self.settle()
        return ack


@asynccontextmanager
async def socket_mode_stage(
    database_url: str,
    clock: ManualClock,
    *,
    runbooks_dir: Path = Path("runbooks"),
    env: Mapping[str, str] | None = None,
    sandbox: SlackSandbox | None = None,
) -> AsyncIterator[SocketModeStage]:
    """The bot connected over Socket Mode; a given `sandbox` needs an app token."""
    sandbox = sandbox or SlackSandbox(
        BOT_TOKEN, app_token=APP_TOKEN, clock=lambda: clock.now().timestamp()
    )
    async with sandbox.serve():
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": sandbox.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_APP_TOKEN": sandbox.app_token or "",
                "SLACK_API_URL": sandbox.api_url,
                "DATABASE_URL": database_url,
                "RUNBOOKS_DIR": str(runbooks_dir),
                **(env or {}),
            },
            socket_mode=True,
        )
        runtime = await build_runtime(settings, clock=clock, run_scheduler=False)
        async with serve_app(runtime.web, lifespan="on") as base_url:
            handler = AsyncSocketModeHandler(runtime.bolt, settings.slack_app_token)
            # Stop taking requests before the web app's shutdown waits for the work in hand.
            try:
                await handler.connect_async()  # type: ignore[no-untyped-call]
                async with SocketModeDriver(sandbox) as driver:
                    yield SocketModeStage(sandbox, driver, runtime, clock, handler, base_url)
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]
