"""reactions.* and pins.*: things attached to a message."""

from __future__ import annotations

import re

from bot.sandbox.entities import JSON, Channel, Message
from bot.sandbox.errors import SlackError
from bot.sandbox.methods.call import Call, Handler

_EMOJI_NAME = re.compile(r"[a-z0-9_+'\-]+(::skin-tone-[2-6])?")


def add_reaction(call: Call) -> JSON:
    workspace = call.workspace
    channel, message = _target_message(call)
    if channel.is_archived:
        raise SlackError("is_archived")
    name = call.args.text("name", missing="invalid_name").strip(":")
    if not _EMOJI_NAME.fullmatch(name):
        raise SlackError("invalid_name")
    reactors = message.reactions.setdefault(name, [])
    if call.caller.id in reactors:
        raise SlackError("already_reacted")
    reactors.append(call.caller.id)
    workspace.record("reacted", message, actor=call.caller.id, detail=name)
    return {}


def get_reactions(call: Call) -> JSON:
    channel, message = _target_message(call)
    return {
        "type": "message",
        "channel": channel.id,
        "message": message.to_slack(call.workspace.team),
    }


def add_pin(call: Call) -> JSON:
    channel, message = _target_message(call)
    if call.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    if message.pinned_by is not None:
        raise SlackError("already_pinned")
    message.pinned_by = call.caller.id
    call.workspace.record("pinned", message, actor=call.caller.id)
    return {}


def list_pins(call: Call) -> JSON:
    workspace = call.workspace
    channel = workspace.channel(call.args.text("channel", missing="channel_not_found"))
    pinned = [m for m in workspace.live_messages(channel.id) if m.pinned_by is not None]
    return {
        "items": [
            {
                "type": "message",
                "created": int(float(message.ts)),
                "created_by": message.pinned_by,
                "channel": channel.id,
                "message": message.to_slack(workspace.team),
            }
            for message in pinned
        ]
    }


def _target_message(call: Call) -> tuple[Channel, Message]:
    args = call.args
    if not args.has("channel") or not args.has("timestamp"):
        raise SlackError("no_item_specified")
    channel = call.workspace.channel(args.text("channel"))
    timestamp = args.text("timestamp")
    try:
        float(timestamp)
    except ValueError:
        raise SlackError("bad_timestamp") from None
    return channel, call.workspace.message(channel.id, timestamp)


HANDLERS: dict[str, Handler] = {
    "reactions.add": add_reaction,
    "reactions.get": get_reactions,
    "pins.add": add_pin,
    "pins.list": list_pins,
}
