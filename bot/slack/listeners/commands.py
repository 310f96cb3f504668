"""`/incident <subcommand>`: ack at once, then act on the incident of this channel."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.domain.errors import UsageError
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.messages import Help, Message, Notice, OpenIncidentModal
from bot.services import lifecycle
from bot.services.deps import Deps
from bot.services.lookup import incident_in_channel
from bot.services.opening import OpenIncident, open_incident
from bot.services.requests import first_delivery
from bot.slack import commands as c
from bot.slack.inflight import InFlight
from bot.slack.replies import answer_errors, ephemeral, request_key


def register(app: AsyncApp, deps: Deps, inflight: InFlight) -> None:
    @app.command("/incident")
    @inflight.track
    async def on_incident(
        ack: AsyncAck, command: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        try:
            parsed = c.parse(command.get("text", ""))
        except UsageError as exc:
            await ack(**ephemeral(Notice(str(exc), is_error=True)))
            return
        if isinstance(parsed, c.ShowHelp):
            await ack(**ephemeral(Help()))
            return
        await ack()
        if await first_delivery(deps, request_key(body)):
            await answer_errors(respond, lambda: run(deps, parsed, command))


async def run(deps: Deps, cmd: c.Command, command: dict[str, Any]) -> Message | None:
    user, channel = command["user_id"], command["channel_id"]
    match cmd:
        case c.OpenNow(kind, title):
            incident = await open_incident(deps, OpenIncident(kind, title, user))
            return Notice(f"Opened <#{incident.channel_id}> for “{incident.title}”.")
        case c.OpenForm():
            modal = OpenIncidentModal(
                tuple(IncidentKind), tuple(Severity), deps.policy.services, channel
            )
            await deps.chat.open_modal(command["trigger_id"], modal)
            return None
    incident = await incident_in_channel(deps, channel)
    match cmd:
        case c.Status():
            return lifecycle.status_report(deps, incident)
        case c.Update(text):
            await lifecycle.post_status_update(deps, incident, user, text)
        case c.HandOver(new_commander):
            await lifecycle.hand_over_command(deps, incident, new_commander, user)
        case c.Resolve(summary):
            await lifecycle.resolve_incident(deps, incident, user, summary)
    return None
