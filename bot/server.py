"""Running the bot: uvicorn for HTTP, plus Slack's Socket Mode when asked."""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING

import uvicorn

from bot.bootstrap import Runtime, build_runtime
from bot.config import Settings

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

log = logging.getLogger(__name__)


async def serve(settings: Settings, *, port: int, socket_mode: bool) -> None:
    runtime = await build_runtime(settings)
    handler = _socket_mode_handler(runtime, settings) if socket_mode else None
    settle_heap()
    # uvicorn follows LOG_LEVEL too (its access log is at INFO).
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    server = uvicorn.Server(
        uvicorn.Config(runtime.web, host="0.0.0.0", port=port, log_level=level, lifespan="on")
    )
    if handler is None:
        log.info("Steadyhand listening on :%d (Slack → POST /slack/events)", port)
        await server.serve()
        return
    # Socket Mode: Slack's requests arrive over a WebSocket; HTTP still serves health,
    # metrics and webhooks.
    log.info("Steadyhand connecting over Socket Mode; HTTP on :%d", port)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    runtime.before_shutdown.append(handler.close_async)
    await server.serve()  # until SIGINT or SIGTERM


def _socket_mode_handler(runtime: Runtime, settings: Settings) -> AsyncSocketModeHandler:
    # Imported here: an HTTP start should not pay for a WebSocket client it never opens.
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    assert settings.slack_app_token is not None
    return AsyncSocketModeHandler(runtime.bolt, settings.slack_app_token)


def settle_heap() -> None:
    """Take what start-up built out of the garbage collector's sight before the first request.

    Start-up leaves a large heap of module objects (SQLAlchemy, Bolt …) that live as long as
    the process. The first full collection after start would walk all of it while requests
    wait: 60–100 ms with the event loop stopped, long enough to hold every ack in flight
    (bench/ack.py: p99 7x a bare app's). Frozen here, those objects are never walked again;
    later collections see only what the bot makes while it runs.

    `steadyhand serve` keeps the collector off from its first import until here (bot/cli.py
    _serve), and nothing is collected before the freeze: a full collection of the ~190,000
    objects takes a tenth of start-up (bench/startup.py) to free ~1,800 (~350 KB: classes that
    typing and attrs built and dropped, the engine that read the schema's revision), which
    instead stay, frozen, for the life of the process.
    """
    gc.freeze()
    gc.enable()
