"""The Chat port over Slack's Web API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.messages import Message, Modal
from bot.domain.pending_work import METADATA_EVENT_TYPE
from bot.ports import ChannelNameTaken, ChatError, Upload
from bot.slack.blocks import render, render_modal

_HARMLESS_INVITE_ERRORS = {"already_in_channel", "cant_invite_self"}
# Slack's own words for "not now": worth trying again later, unlike a refusal.
_PASSING_ERRORS = {
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "ratelimited",
    "rate_limited",
}
# How far back a retry looks for a message it may already have posted.
_HISTORY_LOOKBACK = 100
# Failures on the way to Slack or back: the call may or may not have happened.
_UNREACHABLE = (aiohttp.ClientError, TimeoutError, SlackClientError)


class SlackChat:
    """Two clients over one HTTP session. `client` retries Slack's 5xx answers and dropped
    connections (slack_sdk's handlers) as well as 429s: right for calls that can be repeated
    with nothing to show for it (edits, topic, invitations, reads, ephemeral replies, which
    only their asker sees and Slack does not keep). `once` retries only 429s, when Slack did
    nothing: for calls that make something new (a keyed post, a channel, a file shared), which
    a 5xx may follow after the work was done. Those fail to the pending work instead, whose
    next try looks for the message (`find_posted`), the channel (`find_channel`) or the file
    (`find_shared_file`) before making it again."""

    def __init__(self, client: AsyncWebClient, *, once: AsyncWebClient) -> None:
        self._client = client
        self._once = once

    async def create_channel(self, name: str) -> str:
        try:
            response = await self._once.conversations_create(name=name, is_private=False)
        except SlackApiError as exc:
            if _code(exc) == "name_taken":
                raise ChannelNameTaken(name) from None
            raise _chat_error("conversations.create", exc) from None
        except _UNREACHABLE as exc:
            raise _unreachable("conversations.create", exc) from None
        return str(response["channel"]["id"])

    async def invite(self, channel: str, users: Sequence[str]) -> None:
        try:
            await self._client.conversations_invite(channel=channel, users=",".join(users))
        except SlackApiError as exc:
            if _code(exc) not in _HARMLESS_INVITE_ERRORS:
                raise _chat_error("conversations.invite", exc) from None
        except _UNREACHABLE as exc:
            raise _unreachable("conversations.invite", exc) from None

    async def set_topic(self, channel: str, topic: str) -> None:
        await _call(
            "conversations.setTopic",
            self._client.conversations_setTopic,
            channel=channel,
            topic=topic[:250],
        )

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        rendered = render(message)
        extra: dict[str, Any] = {}
        # A keyed post is pending work, found again by its key: not retried blindly. One
        # without a key (a notice, a reminder) has nothing behind it to try again, so slack_sdk
        # retries it, at the risk of a repeat rather than a loss.
        client = self._client
        if key is not None:
            extra["metadata"] = {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": key}}
            client = self._once
        try:
            response = await client.chat_postMessage(
                channel=channel, text=rendered.text, blocks=rendered.blocks, **extra
            )
        except SlackApiError as exc:
            if _code(exc) != "not_in_channel":
                raise _chat_error("chat.postMessage", exc) from None
            # A configured channel (stakeholders) the bot was never added to: join, then post.
            await _call("conversations.join", self._client.conversations_join, channel=channel)
            response = await _call(
                "chat.postMessage",
                client.chat_postMessage,
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks,
                **extra,
            )
        except _UNREACHABLE as exc:
            raise _unreachable("chat.postMessage", exc) from None
        return str(response["ts"])

    async def find_posted(self, channel: str, key: str) -> str | None:
        response = await _call(
            "conversations.history",
            self._client.conversations_history,
            channel=channel,
            limit=_HISTORY_LOOKBACK,
            include_all_metadata=True,
        )
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT_TYPE
                and (metadata.get("event_payload") or {}).get("key") == key
            ):
                return str(message["ts"])
        return None

    async def find_channel(self, name: str) -> str | None:
        # Slack looks a channel up by name only through conversations.list, which needs a
        # scope (channels:read) the bot does not otherwise use; chat.postMessage takes a name
        # too and answers with the ID. The probe is deleted at once. The bot can post only in
        # a channel it is in, so a channel of that name somebody else made is not adopted.
        try:
            probe = await self._once.chat_postMessage(channel=f"#{name}", text="…")
        except SlackApiError as exc:
            if _code(exc) in ("channel_not_found", "not_in_channel", "is_archived"):
                return None
            raise _chat_error("chat.postMessage", exc) from None
        except _UNREACHABLE as exc:
            raise _unreachable("chat.postMessage", exc) from None
        channel = str(probe["channel"])
        await _call("chat.delete", self._client.chat_delete, channel=channel, ts=probe["ts"])
        return channel

    async def update(self, channel: str, ts: str, message: Message) -> None:
        rendered = render(message)
        await _call(
            "chat.update",
            self._client.chat_update,
            channel=channel,
            ts=ts,
            text=rendered.text,
            blocks=rendered.blocks,
        )

    async def post_ephemeral(self, channel: str, user: str, message: Message) -> None:
        rendered = render(message)
        await _call(
            "chat.postEphemeral",
            self._client.chat_postEphemeral,
            channel=channel,
            user=user,
            text=rendered.text,
            blocks=rendered.blocks,
        )

    async def open_modal(self, trigger_id: str, modal: Modal) -> None:
        await _call(
            "views.open", self._client.views_open, trigger_id=trigger_id, view=render_modal(modal)
        )

    async def upload_files(self, channel: str, files: Sequence[Upload], comment: str) -> list[str]:
        # files_upload_v2 is exactly Slack's documented flow and nothing more: for each file
        # files.getUploadURLExternal and a POST of its bytes to the URL it returns (over the
        # client's own aiohttp session), then one files.completeUploadExternal with channel_id
        # and every file, so they are shared in one message. Not retried on a 5xx: the share
        # may have happened (a failed URL or byte POST only leaves a file nobody sees).
        names = ", ".join(f.filename for f in files)
        try:
            response = await self._once.files_upload_v2(
                channel=channel,
                file_uploads=[
                    {
                        "filename": f.filename,
                        "content": f.content,
                        "title": f.title,
                        "alt_txt": f.alt_text,
                    }
                    for f in files
                ],
                initial_comment=comment,
            )
        except SlackApiError as exc:
            raise _chat_error("the file upload", exc) from None
        except SlackClientError as exc:  # the upload URL refused the bytes
            raise ChatError(f"Slack refused the upload of {names}: {exc}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _unreachable("the file upload", exc) from None
        return [str(shared["id"]) for shared in response["files"]]

    async def find_shared_file(self, channel: str, filename: str) -> str | None:
        # files.completeUploadExternal carries no metadata; the message it shares the files in
        # lists them (id, name, title) in the channel's history, as any message's files.
        response = await _call(
            "conversations.history",
            self._client.conversations_history,
            channel=channel,
            limit=_HISTORY_LOOKBACK,
        )
        for message in response.get("messages") or []:
            for file in message.get("files") or []:
                if file.get("name") == filename:
                    return str(file["id"])
        return None


async def _call(method: str, fn: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
    try:
        return await fn(**kwargs)
    except SlackApiError as exc:
        raise _chat_error(method, exc) from None
    except _UNREACHABLE as exc:
        raise _unreachable(method, exc) from None


def _code(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error"))


def _chat_error(method: str, exc: SlackApiError) -> ChatError:
    code = _code(exc)
    passing = exc.response.status_code >= 500 or exc.response.status_code == 429
    return ChatError(f"Slack refused {method}: {code}", passing=passing or code in _PASSING_ERRORS)


def _unreachable(method: str, exc: Exception) -> ChatError:
    return ChatError(
        f"Slack could not be reached for {method}: {type(exc).__name__} {exc}".rstrip(),
        passing=True,
    )
