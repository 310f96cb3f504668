"""Running the bot: uvicorn for HTTP, plus Slack's Socket Mode when asked."""

from __future__ import annotations

import logging

import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.bootstrap import build_runtime
from bot.config import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings, *, port: int, socket_mode: bool) -> None:
    runtime = await build_runtime(settings)
    # uvicorn follows LOG_LEVEL too (its access log is at INFO).
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    server = uvicorn.Server(
        uvicorn.Config(runtime.web, host="0.0.0.0", port=port, log_level=level, lifespan="on")
    )
    if not socket_mode:
        log.info("Steadyhand listening on :%d (Slack → POST /slack/events)", port)
        await server.serve()
        return
    # Socket Mode: Slack's requests arrive over a WebSocket; HTTP still serves health,
    # metrics and webhooks.
    assert settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(runtime.bolt, settings.slack_app_token)
    log.info("Steadyhand connecting over Socket Mode; HTTP on :%d", port)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    runtime.before_shutdown.append(handler.close_async)
    await server.serve()  # until SIGINT or SIGTERM
