"""The Bolt app: request verification, the listeners, and the last-resort error handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.messages import Notice
from bot.slack.listeners import actions, checklist, commands, findings, opening, triage
from bot.slack.listening import Listening
from bot.slack.outages import socket_mode_database_gate
from bot.slack.replies import ephemeral

log = logging.getLogger(__name__)

# Set in a request's context by the HTTP edge once Slack's signature matched
# (bot/web/slack_edge.py).
VERIFIED_AT_EDGE = "steadyhand_signature_verified"


def build_bolt_app(
    signing_secret: str,
    client: AsyncWebClient,
    listening: Listening,
    database_check: Callable[[], Awaitable[None]] | None = None,
) -> AsyncApp:
    """`database_check` raises DatabaseUnavailable when work cannot be recorded: asked before a
    Socket Mode request is acked (HTTP requests are checked at the edge)."""
    app = AsyncApp(
        # Named here: unnamed, Bolt names the app after its caller's file through
        # inspect.stack(), which reads the source of every frame on the stack and looks up
        # every loaded module's file: 80 ms of start-up. The name only names Bolt's loggers.
        name="steadyhand",
        client=client,
        signing_secret=signing_secret,
        logger=_bolt_logger(),
        # Reply to Slack as soon as a listener acks; the work goes on after the response.
        process_before_response=False,
    )
    if database_check is not None:
        app.middleware(socket_mode_database_gate(database_check))
    for feature in (commands, checklist, triage, opening, actions, findings):
        feature.register(app, listening)
    app.error(_on_unhandled_error)
    return app


def _bolt_logger() -> logging.Logger:
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself and then warns that it is
    # unused because a client was given: true, harmless, and alarming in a production log.
    logger = logging.getLogger("bot.slack.bolt")
    if not logger.filters:
        logger.addFilter(lambda record: "`token` will be unused" not in record.getMessage())
    return logger


async def _on_unhandled_error(
    error: Exception, body: dict[str, Any], respond: Any, request: AsyncBoltRequest
) -> None:
    # The edge of the edge: whatever a listener did not handle is logged and told to the user.
    log.error("Unhandled error for Slack request: %r", error, exc_info=error)
    if body.get("response_url") and _from_slack(request):
        await respond(**ephemeral(Notice(f"Something failed on our side: {error}", True)))


def _from_slack(request: AsyncBoltRequest) -> bool:
    """Only a request known to come from Slack may have its response_url answered: anyone can
    write a URL into a body. Socket Mode's come over Slack's own authenticated connection."""
    return request.mode == "socket_mode" or request.context.get(VERIFIED_AT_EDGE) is True
