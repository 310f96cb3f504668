"""Socket Mode's check, before Slack is acked, that the work can be recorded.

Over HTTP, `/slack/events` answers 503 while the database is away (bot/web/app.py): Slack
retries an event and shows the person a failed command or click. Over Socket Mode the ack is
all Slack hears, and Bolt acked before the work found the database gone: an event was then lost
in silence. So, asked at most once a second while the database answers (ReachabilityWatch):

- an event is not acked, so Slack sends it again (at once, after a minute, after five);
- a click or a submitted form is not acked either: Slack shows the person it failed and they
  try again, while an ack would say it was handled;
- a slash command is answered that nothing was done and why: Slack never retries a command,
  and without an ack the person sees only a timeout. Nothing was started, so nothing is lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncBoltRequest
from slack_bolt.request.payload_utils import is_slash_command
from slack_bolt.response import BoltResponse

from bot.domain.messages import Notice
from bot.ports import DatabaseUnavailable
from bot.slack.replies import ephemeral

log = logging.getLogger(__name__)

SOCKET_MODE = "socket_mode"

Gate = Callable[
    [AsyncBoltRequest, BoltResponse, Callable[[], Awaitable[BoltResponse]]],
    Awaitable[BoltResponse],
]


def socket_mode_database_gate(check: Callable[[], Awaitable[None]]) -> Gate:
    """A Bolt middleware: `check` raises DatabaseUnavailable when the work cannot be recorded."""

    async def gate(
        req: AsyncBoltRequest, resp: BoltResponse, next_: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        if req.mode != SOCKET_MODE:  # HTTP: checked at the edge, where a 503 can be answered
            return await next_()
        try:
            await check()
        except DatabaseUnavailable as outage:
            return _refused(req, outage)
        return await next_()

    return gate


def _refused(req: AsyncBoltRequest, outage: DatabaseUnavailable) -> BoltResponse:
    if is_slash_command(req.body):
        log.warning("Answered a command that nothing was done: %s", outage)
        told = Notice(
            f"Nothing was done: {outage}. Please try again in a few seconds.", is_error=True
        )
        body = json.dumps(ephemeral(told))
        return BoltResponse(status=200, body=body, headers={"content-type": "application/json"})
    log.warning("Left a Slack request unacked, for Slack to send again: %s", outage)
    # Bolt's Socket Mode handler acks only a 200: anything else leaves the envelope unacked.
    return BoltResponse(status=503, body="")
