"""The Chat port over Slack's Web API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.messages import Message, Modal
from bot.ports import ChannelNameTaken, ChatError, Upload
from bot.slack.blocks import render, render_modal

_HARMLESS_INVITE_ERRORS = {"already_in_channel", "cant_invite_self"}


class SlackChat:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def create_channel(self, name: str) -> str:
        try:
            response = await self._client.conversations_create(name=name, is_private=False)
        except SlackApiError as exc:
            if _code(exc) == "name_taken":
                raise ChannelNameTaken(name) from None
            raise _chat_error("conversations.create", exc) from None
        return str(response["channel"]["id"])

    async def invite(self, channel: str, users: Sequence[str]) -> None:
        try:
            await self._client.conversations_invite(channel=channel, users=",".join(users))
        except SlackApiError as exc:
            if _code(exc) not in _HARMLESS_INVITE_ERRORS:
                raise _chat_error("conversations.invite", exc) from None

    async def set_topic(self, channel: str, topic: str) -> None:
        await _call(
            "conversations.setTopic",
            self._client.conversations_setTopic,
            channel=channel,
            topic=topic[:250],
        )

    async def post(self, channel: str, message: Message) -> str:
        rendered = render(message)
        try:
            response = await self._client.chat_postMessage(
                channel=channel, text=rendered.text, blocks=rendered.blocks
            )
        except SlackApiError as exc:
            if _code(exc) != "not_in_channel":
                raise _chat_error("chat.postMessage", exc) from None
            # A configured channel (stakeholders) the bot was never added to: join, then post.
            await _call("conversations.join", self._client.conversations_join, channel=channel)
            response = await _call(
                "chat.postMessage",
                self._client.chat_postMessage,
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks,
            )
        return str(response["ts"])

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
        # and every file, so they are shared in one message.
        names = ", ".join(f.filename for f in files)
        try:
            response = await self._client.files_upload_v2(
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
        return [str(shared["id"]) for shared in response["files"]]


async def _call(method: str, fn: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
    try:
        return await fn(**kwargs)
    except SlackApiError as exc:
        raise _chat_error(method, exc) from None


def _code(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error"))


def _chat_error(method: str, exc: SlackApiError) -> ChatError:
    return ChatError(f"Slack refused {method}: {_code(exc)}")
