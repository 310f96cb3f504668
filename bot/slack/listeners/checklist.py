"""Ticking a checklist step: one checkbox per step, so each click says exactly one thing."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services.checklists import set_step
from bot.services.lookup import incident_in_channel
from bot.slack.ids import ACTION_TOGGLE_STEP_PATTERN, step_position
from bot.slack.listening import Listening
from bot.slack.replies import answering, by_response_url


def register(app: AsyncApp, ctx: Listening) -> None:
    deps, background = ctx.deps, ctx.background

    @app.action(ACTION_TOGGLE_STEP_PATTERN)
    @background.track
    async def on_toggle(ack: AsyncAck, action: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        respond = ctx.responses.to(body.get("response_url"))
        channel, user = body["container"]["channel_id"], body["user"]["id"]
        done = bool(action.get("selected_options"))

        async def toggle() -> None:
            incident = await incident_in_channel(deps, channel)
            await set_step(deps, incident, step_position(action["block_id"]), done, user)

        background.submit(answering(by_response_url(respond), toggle))
