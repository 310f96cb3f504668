"""What a post to an interaction's response_url does to the conversation.

Slack shows the answer to the invoking user only (ephemeral) unless it says `in_channel`, and
`replace_original` / `delete_original` act on the message the interaction came from.
"""

from __future__ import annotations

from bot.sandbox.args import Args
from bot.sandbox.content import message_content
from bot.sandbox.entities import JSON, Message, ResponseUrl
from bot.sandbox.errors import SlackError
from bot.sandbox.workspace import Workspace

# Slack accepts five answers on one response_url.
MAX_USES = 5


def answer(workspace: Workspace, target: ResponseUrl, payload: JSON, author: str) -> None:
    if target.uses >= MAX_USES:
        raise SlackError("used_url", status=404)
    args = Args(payload)
    original = _original(workspace, target)
    if args.flag("delete_original"):
        if original is None:
            raise SlackError("message_not_found", status=404)
        workspace.delete(original, author)
    elif args.flag("replace_original") and original is not None:
        workspace.edit(original, message_content(args), author)
    else:
        content = message_content(args)
        channel = workspace.channel(target.channel)
        if payload.get("response_type") == "in_channel":
            thread_ts = args.optional_text("thread_ts") or None
            workspace.post(channel, author, content, thread_ts=thread_ts)
        else:
            workspace.post_ephemeral(channel, target.user, author, content)
    target.uses += 1


def _original(workspace: Workspace, target: ResponseUrl) -> Message | None:
    if target.message_ts is None:
        return None
    stored = workspace.channel_messages.get(target.channel, {}).get(target.message_ts)
    if stored is not None and not stored.deleted:
        return stored
    return workspace.ephemeral(target.message_ts)
