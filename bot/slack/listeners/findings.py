"""Pin reactions on messages in incident channels, and the buttons that sort failed examples.

Reaction events are acked by Bolt at once; the work runs in the background. A retried event
(same event_id) is handled once, so a late redelivery of an old `reaction_added` cannot bring
back a pin that was since removed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.domain.triage import ExampleSet
from bot.services import examples, pins
from bot.services.deps import Deps
from bot.services.requests import first_delivery
from bot.slack import ids
from bot.slack.clicks import on_click
from bot.slack.listening import Listening
from bot.slack.replies import request_key

log = logging.getLogger(__name__)

Keep = Callable[[dict[str, Any]], Awaitable[object]]


def register(app: AsyncApp, ctx: Listening) -> None:
    deps, background = ctx.deps, ctx.background

    def on_reaction(event_type: str, keep: Keep) -> None:
        @app.event(event_type)
        @background.track
        async def listener(event: dict[str, Any], body: dict[str, Any]) -> None:
            item = event.get("item") or {}
            if item.get("type") != "message" or event.get("reaction") != deps.policy.pin_reaction:
                return  # not ours: no database work for every emoji in the workspace
            key = request_key(body)

            async def job() -> None:
                try:
                    if await first_delivery(deps, key):
                        await keep(event)
                except Exception:
                    log.exception("Keeping the %s of %s failed", event_type, item.get("ts"))

            background.submit(job)

    async def pin(e: dict[str, Any]) -> bool:
        channel, ts, author = e["item"]["channel"], e["item"]["ts"], e.get("item_user")
        return await pins.pin_message(deps, channel, ts, e["user"], e["reaction"], author)

    async def unpin(e: dict[str, Any]) -> bool:
        channel, ts = e["item"]["channel"], e["item"]["ts"]
        return await pins.unpin_message(deps, channel, ts, e["user"], e["reaction"])

    on_reaction("reaction_added", pin)
    on_reaction("reaction_removed", unpin)

    on_click(app, ctx, ids.ACTION_SORT_EXAMPLE_PATTERN, _sort_example)


async def _sort_example(deps: Deps, body: dict[str, Any], user: str) -> object:
    action = body["actions"][0]
    into = ExampleSet(str(action["action_id"]).rpartition(".")[2])
    return await examples.sort_example_by_id(deps, str(action["value"]), user, into)
