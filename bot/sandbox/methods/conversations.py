"""conversations.*: channels, their members, topics and history."""

from __future__ import annotations

import re

from bot.sandbox.entities import JSON, Channel, Message, MessageContent
from bot.sandbox.errors import SlackError
from bot.sandbox.methods.call import Call, Handler
from bot.sandbox.methods.pagination import page

MAX_CHANNEL_NAME = 80
MAX_TOPIC = 250
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")


def check_channel_name(name: str) -> None:
    """Slack's naming rules: lowercase letters, digits, hyphens and underscores, ≤ 80 chars."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > MAX_CHANNEL_NAME:
        raise SlackError("invalid_name_maxlength")
    if not _CHANNEL_NAME.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if not name.strip("-_"):
        raise SlackError("invalid_name_punctuation")


def create(call: Call) -> JSON:
    workspace = call.workspace
    name = call.args.optional_text("name") or ""
    check_channel_name(name)
    # Archived channels keep their names, as in Slack.
    if workspace.channel_by_name(name) is not None:
        raise SlackError("name_taken")
    channel = workspace.add_channel(name, call.caller.id)
    channel.is_private = call.args.flag("is_private")
    return {"channel": channel.to_slack(call.caller.id)}


def invite(call: Call) -> JSON:
    workspace = call.workspace
    channel = _member_channel(call)
    invitees = call.args.id_list("users", missing="no_user")
    for user_id in invitees:
        workspace.user(user_id)
        if user_id == call.caller.id:
            raise SlackError("cant_invite_self")
    newcomers = [user_id for user_id in dict.fromkeys(invitees) if user_id not in channel.members]
    if not newcomers:
        raise SlackError("already_in_channel")
    for user_id in newcomers:
        workspace.join(channel, user_id)
    return {"channel": channel.to_slack(call.caller.id)}


def join(call: Call) -> JSON:
    channel = _channel(call)
    if channel.is_archived:
        raise SlackError("is_archived")
    reply: JSON = {}
    if call.caller.id in channel.members:
        reply = {
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    else:
        call.workspace.join(channel, call.caller.id)
    return {"channel": channel.to_slack(call.caller.id), **reply}


def set_topic(call: Call) -> JSON:
    return _set_text(call, "topic")


def set_purpose(call: Call) -> JSON:
    return _set_text(call, "purpose")


def _set_text(call: Call, which: str) -> JSON:
    channel = _member_channel(call)
    value = call.args.optional_text(which)
    if value is None:
        raise SlackError("invalid_arguments")
    if len(value) > MAX_TOPIC:
        raise SlackError("too_long")
    call.workspace.set_channel_text(channel, which, value, call.caller.id)
    return {"channel": channel.to_slack(call.caller.id)}


def info(call: Call) -> JSON:
    channel = _channel(call)
    include_count = call.args.flag("include_num_members")
    return {"channel": channel.to_slack(call.caller.id, include_num_members=include_count)}


def history(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    channel = _channel(call)
    if call.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    visible = [
        message
        for message in workspace.live_messages(channel.id)
        if not message.is_reply or message.reply_broadcast
    ]
    newest_first = _between(list(reversed(visible)), call)
    messages, next_cursor = page(newest_first, args, default_limit=100)
    return _message_page(call, messages, next_cursor)


def replies(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    channel = _channel(call)
    parent = workspace.message(channel.id, args.text("ts"), error="thread_not_found")
    thread_ts = parent.thread_ts if parent.is_reply and parent.thread_ts else parent.ts
    root = workspace.message(channel.id, thread_ts, error="thread_not_found")
    thread = [root] + [
        message
        for message in workspace.live_messages(channel.id)
        if message.is_reply and message.thread_ts == root.ts
    ]
    messages, next_cursor = page(_between(thread, call), args, default_limit=1000)
    return _message_page(call, messages, next_cursor)


def members(call: Call) -> JSON:
    channel = _channel(call)
    listed, next_cursor = page(channel.members, call.args, default_limit=100)
    return {"members": listed, "response_metadata": {"next_cursor": next_cursor}}


def archive(call: Call) -> JSON:
    channel = _channel(call)
    if channel.is_general:
        raise SlackError("cant_archive_general")
    if channel.is_archived:
        raise SlackError("already_archived")
    if call.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    call.workspace.post(
        channel,
        call.caller.id,
        MessageContent(text="archived the channel"),
        subtype="channel_archive",
    )
    channel.is_archived = True
    return {}


def _channel(call: Call) -> Channel:
    return call.workspace.channel(call.args.text("channel", missing="channel_not_found"))


def _member_channel(call: Call) -> Channel:
    """A channel the caller may change: it exists, is not archived, and the caller is in it."""
    channel = _channel(call)
    if channel.is_archived:
        raise SlackError("is_archived")
    if call.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    return channel


def _between(messages: list[Message], call: Call) -> list[Message]:
    """The messages within `oldest` … `latest`, inclusive only if asked, as Slack filters."""
    args = call.args
    oldest = _timestamp(args.optional_text("oldest"), "invalid_ts_oldest")
    latest = _timestamp(args.optional_text("latest"), "invalid_ts_latest")
    inclusive = args.flag("inclusive")

    def within(message: Message) -> bool:
        ts = float(message.ts)
        after = oldest is None or ts > oldest or (inclusive and ts == oldest)
        before = latest is None or ts < latest or (inclusive and ts == latest)
        return after and before

    return [message for message in messages if within(message)]


def _timestamp(value: str | None, error: str) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise SlackError(error) from None


def _message_page(call: Call, messages: list[Message], next_cursor: str) -> JSON:
    return {
        "messages": [message.to_slack(call.workspace.team) for message in messages],
        "has_more": bool(next_cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


HANDLERS: dict[str, Handler] = {
    "conversations.create": create,
    "conversations.invite": invite,
    "conversations.join": join,
    "conversations.setTopic": set_topic,
    "conversations.setPurpose": set_purpose,
    "conversations.info": info,
    "conversations.history": history,
    "conversations.replies": replies,
    "conversations.members": members,
    "conversations.archive": archive,
}
