"""chat.*: posting, editing and deleting messages."""

from __future__ import annotations

from bot.sandbox.content import message_content
from bot.sandbox.entities import JSON, Channel, MessageContent
from bot.sandbox.errors import SlackError
from bot.sandbox.methods.call import Call, Handler


def post_message(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    channel = _writable_channel(call, args.text("channel", missing="channel_not_found"))
    content = message_content(args)
    message = workspace.post(
        channel,
        call.caller.id,
        content,
        thread_ts=args.optional_text("thread_ts") or None,
        reply_broadcast=args.flag("reply_broadcast"),
    )
    return {"channel": channel.id, "ts": message.ts, "message": message.to_slack(workspace.team)}


def post_ephemeral(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    channel = _writable_channel(call, args.text("channel", missing="channel_not_found"))
    recipient = workspace.user(args.text("user", missing="user_not_found"))
    if recipient.id not in channel.members:
        raise SlackError("user_not_in_channel")
    message = workspace.post_ephemeral(channel, recipient.id, call.caller.id, message_content(args))
    return {"message_ts": message.ts}


def update(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    channel = workspace.channel(args.text("channel", missing="channel_not_found"))
    message = workspace.message(channel.id, args.text("ts", missing="message_not_found"))
    if message.user != call.caller.id or message.subtype is not None:
        raise SlackError("cant_update_message")
    if channel.is_archived:
        raise SlackError("is_archived")
    changes = message_content(args, require_content=False)
    previous = message.content
    # Slack keeps what an update leaves out; an empty list clears blocks or attachments.
    content = MessageContent(
        text=changes.text if args.has("text") or args.has("markdown_text") else previous.text,
        blocks=(changes.blocks or None) if args.has("blocks") else previous.blocks,
        attachments=(changes.attachments or None)
        if args.has("attachments")
        else previous.attachments,
        metadata=changes.metadata if args.has("metadata") else previous.metadata,
    )
    if not content.text and not content.blocks and not content.attachments:
        raise SlackError("no_text")
    workspace.edit(message, content, call.caller.id)
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": content.text,
        "message": message.to_slack(workspace.team),
    }


def delete(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    channel = workspace.channel(args.text("channel", missing="channel_not_found"))
    message = workspace.message(channel.id, args.text("ts", missing="message_not_found"))
    if message.user != call.caller.id:
        raise SlackError("cant_delete_message")
    workspace.delete(message, call.caller.id)
    return {"channel": channel.id, "ts": message.ts}


def get_permalink(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    channel = workspace.channel(args.text("channel", missing="channel_not_found"))
    message = workspace.message(channel.id, args.text("message_ts", missing="message_not_found"))
    link = (
        f"https://{workspace.team.domain}.slack.com/archives/{channel.id}"
        f"/p{message.ts.replace('.', '')}"
    )
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def _writable_channel(call: Call, reference: str) -> Channel:
    """Where a message goes: a channel id, a channel name, or a user id (the bot's DM)."""
    workspace = call.workspace
    channel = workspace.channels.get(reference) or workspace.channel_by_name(reference)
    if channel is None and reference in workspace.users:
        channel = workspace.dm_channel(reference, call.caller.id)
    if channel is None:
        raise SlackError("channel_not_found")
    if channel.is_archived:
        raise SlackError("is_archived")
    if call.caller.id not in channel.members:
        raise SlackError("not_in_channel")
    return channel


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.update": update,
    "chat.delete": delete,
    "chat.getPermalink": get_permalink,
}
