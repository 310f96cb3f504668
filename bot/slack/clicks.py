"""A button whose click does one piece of work in the background, once.

Every click is acked at once; the work runs after the response. A retried or double-delivered
click (same trigger) does nothing the second time, and the clicker hears only of refusals:
the message the work updates in place is the answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services.deps import Deps
from bot.services.requests import first_delivery
from bot.slack.listening import Listening
from bot.slack.replies import answering, by_response_url, request_key

# The work gets the click's whole payload and the clicker's user ID.
ClickWork = Callable[[Deps, dict[str, Any], str], Awaitable[object]]


def on_click(
    app: AsyncApp, ctx: Listening, action_id: str | re.Pattern[str], work: ClickWork
) -> None:
    deps, background = ctx.deps, ctx.background

    @app.action(action_id)
    @background.track
    async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        respond = ctx.responses.to(body.get("response_url"))
        key, user = request_key(body), body["user"]["id"]

        async def job() -> None:
            if await first_delivery(deps, key):
                await work(deps, body, user)

        background.submit(answering(by_response_url(respond), job))
