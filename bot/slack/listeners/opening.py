"""The "open an incident" modal's submission."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

import bot.slack.forms as forms
from bot.domain.errors import SteadyhandError
from bot.domain.messages import Notice
from bot.ports import ChatError
from bot.services.deps import Deps
from bot.services.opening import OpenIncident, open_incident
from bot.services.requests import first_delivery
from bot.slack.ids import CALLBACK_OPEN_INCIDENT
from bot.slack.inflight import InFlight
from bot.slack.replies import request_key


def register(app: AsyncApp, deps: Deps, inflight: InFlight) -> None:
    @app.view(CALLBACK_OPEN_INCIDENT)
    @inflight.track
    async def on_open_form(ack: AsyncAck, view: dict[str, Any], body: dict[str, Any]) -> None:
        try:
            form = forms.parse_open_incident(view["state"]["values"], view["private_metadata"])
        except forms.FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
        if not await first_delivery(deps, request_key(body)):
            return
        user = body["user"]["id"]
        cmd = OpenIncident(form.kind, form.title, user, form.severity, form.service)
        try:
            incident = await open_incident(deps, cmd)
            reply = Notice(f"Opened <#{incident.channel_id}> for “{incident.title}”.")
        except SteadyhandError as exc:
            reply = Notice(str(exc), is_error=True)
        try:
            await deps.chat.post_ephemeral(form.origin_channel, user, reply)
        except ChatError:
            # The modal has closed and the bot may not be in the origin channel: tell them in
            # a direct message rather than not at all.
            await deps.chat.post(user, reply)
