"""Messages people mark as important (a reaction) and notes (`/incident note`), both kept for
the post-mortem's timeline."""

from __future__ import annotations

import logging

from bot.domain.findings import MAX_NOTE, ChannelMessage, Pin, bounded_text
from bot.domain.incidents import Incident
from bot.domain.timeline import EventType
from bot.ports import ChatError
from bot.services.deps import Deps
from bot.services.lookup import incident_of_channel
from bot.services.timeline import record

log = logging.getLogger(__name__)


async def pin_message(
    deps: Deps, channel: str, ts: str, by: str, reaction: str, author: str | None
) -> bool:
    """`by` reacted with `reaction` to message `ts`: kept if it is the pin reaction in an
    incident channel. `author` is the event's item_user, used if the message cannot be read.
    True if the pin is new."""
    if reaction != deps.policy.pin_reaction:
        return False
    incident = await incident_of_channel(deps, channel)
    if incident is None:
        return False  # reactions in other channels are not ours to keep
    message = await _read(deps, channel, ts, author)
    async with deps.uow() as uow:
        pinned = await uow.findings.pin(Pin(incident.id, message, by, deps.clock.now()))
        await uow.commit()
    return pinned


async def unpin_message(deps: Deps, channel: str, ts: str, by: str, reaction: str) -> bool:
    """`by` took their pin reaction off: the message leaves the timeline unless someone else
    still pins it. True if a pin was removed."""
    if reaction != deps.policy.pin_reaction:
        return False
    incident = await incident_of_channel(deps, channel)
    if incident is None:
        return False
    async with deps.uow() as uow:
        removed = await uow.findings.unpin(incident.id, ts, by)
        await uow.commit()
    return removed


async def add_note(deps: Deps, incident: Incident, author: str, text: str) -> None:
    text = bounded_text(text, MAX_NOTE, "note", "/incident note eval set missed refund questions")
    async with deps.uow() as uow:
        await record(uow, incident.id, EventType.NOTE_ADDED, author, deps.clock.now(), text)
        await uow.commit()


async def _read(deps: Deps, channel: str, ts: str, author: str | None) -> ChannelMessage:
    """The message as Slack has it; if it cannot be read, what the event said, so the pin is
    still kept at the message's own time."""
    message = None
    if deps.messages is not None:
        try:
            message = await deps.messages.message(channel, ts)
        except ChatError as exc:
            log.warning("Reading pinned message %s in %s failed: %s", ts, channel, exc)
    return message or ChannelMessage(channel, ts, author or "unknown", "(message not readable)")
