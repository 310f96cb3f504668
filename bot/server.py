"""Running the bot: uvicorn for HTTP, plus Slack's Socket Mode when asked."""

from __future__ import annotations

import gc
import logging

import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.bootstrap import build_runtime
from bot.config import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings, *, port: int, socket_mode: bool) -> None:
    runtime = await build_runtime(settings)
    settle_heap()
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


def settle_heap() -> None:
    """Take what start-up built out of the garbage collector's sight before the first request.

    Start-up leaves a large heap of module objects (SQLAlchemy, Bolt, Jinja2, matplotlib …) that
    live as long as the process. The first full collection after start would walk all of it
    while requests wait: 60–100 ms with the event loop stopped, long enough to hold every ack in
    flight (bench/ack.py: p99 7x a bare app's). Collected once here and frozen, those objects are
    never walked again; later collections see only what the bot makes while it runs.
    """
    gc.collect()
    gc.freeze()
