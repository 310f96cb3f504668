"""The "open an incident" modal's submission."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

import bot.slack.forms as forms
from bot.domain.messages import Message
from bot.ports import ChatError
from bot.services.deps import Deps
from bot.services.opening import OpenIncident, open_incident, opened_notice
from bot.services.requests import first_delivery
from bot.slack.ids import CALLBACK_OPEN_INCIDENT
from bot.slack.listening import Listening
from bot.slack.replies import Tell, answering, request_key


def register(app: AsyncApp, ctx: Listening) -> None:
    deps, background = ctx.deps, ctx.background

    @app.view(CALLBACK_OPEN_INCIDENT)
    @background.track
    async def on_open_form(ack: AsyncAck, view: dict[str, Any], body: dict[str, Any]) -> None:
        try:
            form = forms.parse_open_incident(view["state"]["values"], view["private_metadata"])
        except forms.FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
        user, key = body["user"]["id"], request_key(body)

        async def work() -> Message | None:
            if not await first_delivery(deps, key):
                return None
            cmd = OpenIncident(form.kind, form.title, user, form.severity, form.service)
            return await opened_notice(deps, await open_incident(deps, cmd))

        background.submit(answering(in_origin_channel(deps, form.origin_channel, user), work))


def in_origin_channel(deps: Deps, channel: str, user: str) -> Tell:
    # Direct, not pending Slack work: this only answers the person who opened the incident,
    # which is stored and opened by then (its opening is pending work); losing the answer
    # loses nothing the bot accepted, and the channel shows the incident either way.
    async def tell(message: Message) -> None:
        try:
            await deps.chat.post_ephemeral(channel, user, message)
        except ChatError:
            # The bot may not be in the channel the form was opened from: a direct message
            # is better than silence.
            await deps.chat.post(user, message)

    return tell
