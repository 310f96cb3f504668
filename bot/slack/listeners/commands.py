"""`/incident <subcommand>`: ack at once, then act on the incident of this channel."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.errors import UsageError
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.messages import Help, Message, Notice, OpenIncidentModal
from bot.services import (
    asking,
    examples,
    follow_ups,
    lifecycle,
    pins,
    registry_reports,
)
from bot.services.deps import Deps
from bot.services.lookup import incident_in_channel
from bot.services.opening import OpenIncident, open_incident, opened_notice
from bot.services.pending_work import owed_notice
from bot.services.requests import first_delivery
from bot.slack import commands as c
from bot.slack.listening import Listening
from bot.slack.replies import answering, by_response_url, ephemeral, request_key


def register(app: AsyncApp, ctx: Listening) -> None:
    deps, background = ctx.deps, ctx.background

    @app.command("/incident")
    @background.track
    async def on_incident(ack: AsyncAck, command: dict[str, Any], body: dict[str, Any]) -> None:
        respond = ctx.responses.to(body.get("response_url"))
        try:
            parsed = c.parse(command.get("text", ""))
        except UsageError as exc:
            await ack(**ephemeral(Notice(str(exc), is_error=True)))
            return
        if isinstance(parsed, c.ShowHelp):
            await ack(**ephemeral(Help()))
            return
        await ack()
        tell = by_response_url(respond)
        if isinstance(parsed, c.OpenForm):
            # Not queued: the trigger ID that opens the form expires 3 s after the command.
            await answering(tell, lambda: open_form(deps, command))()
            return
        key = request_key(body)

        async def work() -> Message | None:
            if not await first_delivery(deps, key):
                return None  # a retry of a request already handled
            return await run(deps, parsed, command)

        background.submit(answering(tell, work))


async def open_form(deps: Deps, command: dict[str, Any]) -> None:
    modal = OpenIncidentModal(
        IncidentKind.classified(), tuple(Severity), deps.catalog.names, command["channel_id"]
    )
    await deps.chat.open_modal(command["trigger_id"], modal)


async def run(deps: Deps, cmd: c.Command, command: dict[str, Any]) -> Message | None:
    user, channel = command["user_id"], command["channel_id"]
    match cmd:
        case c.OpenNow(kind, title):
            incident = await open_incident(deps, OpenIncident(kind, title, user))
            return await opened_notice(deps, incident)
        case c.ShowRunning(service):
            return await registry_reports.running_report(deps, channel, service)
        case c.ShowChanges(service, since):
            return await registry_reports.changes_report(deps, channel, service, since)
        case c.MarkKnownGood(service, component, version):
            return await registry_reports.mark_known_good(deps, user, service, component, version)
        case c.AskRollback(service, component, version, reason):
            await asking.ask_rollback(deps, channel, user, service, component, version, reason)
            return None  # the request's card in the channel is the answer
        case c.AskRestore(service, ago, at, reason):
            await asking.ask_restore(deps, channel, user, service, ago, at, reason)
            return None
        case c.AskFlag(service, flag, value, reason):
            await asking.ask_flag(deps, channel, user, service, flag, value, reason)
            return None
        case c.AskSwitch(kind, service, on, reason):
            await asking.ask_switch(deps, channel, user, kind, service, on, reason)
            return None
    incident = await incident_in_channel(deps, channel)
    match cmd:
        case c.Status():
            return lifecycle.status_report(deps, incident)
        case c.Update(text):
            return await lifecycle.post_status_update(deps, incident, user, text)
        case c.HandOver(new_commander):
            return await lifecycle.hand_over_command(deps, incident, new_commander, user)
        case c.Resolve(summary):
            return await lifecycle.resolve_incident(deps, incident, user, summary)
        case c.PostPostmortem():
            return await lifecycle.post_postmortem(deps, incident, user)
        case c.AddNote(text):
            await pins.add_note(deps, incident, user, text)
            return Notice("Noted on the incident's timeline.")
        case c.AddExample(into, text):
            await examples.add_example(deps, incident, user, text, into)
            return await owed_notice(deps, incident.id, "The example is kept", "posted")
        case c.SortExample(number, into):
            await examples.sort_example(deps, incident, user, number, into)
        case c.ListExamples():
            return await examples.list_examples(deps, incident)
        case c.AddFollowUp(owner, text):
            await follow_ups.add_follow_up(deps, incident, user, owner, text)
            return await owed_notice(deps, incident.id, "The follow-up is kept", "posted")
        case c.ListFollowUps():
            return await follow_ups.list_follow_ups(deps, incident)
    return None
