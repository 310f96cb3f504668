"""The MessageReader port over Slack's Web API: one message of a channel, by its ts.

A reaction event names the message but does not carry it. A top-level message is the newest
message of the channel at or before its own ts (`conversations.history`); a thread reply is not
in the channel's history, so when that finds another message the thread is read instead
(`conversations.replies` accepts the ts of any message in a thread).
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.findings import ChannelMessage
from bot.ports import ChatError

_THREAD_PAGES = 10  # 2,000 replies; a pinned reply deeper than that is read as missing
_GONE = {"message_not_found", "thread_not_found"}


class SlackMessages:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def message(self, channel: str, ts: str) -> ChannelMessage | None:
        try:
            found = await self._in_history(channel, ts) or await self._in_thread(channel, ts)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            if code in _GONE:
                return None
            raise ChatError(f"Slack refused reading the message: {code}") from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise ChatError(f"Slack could not be reached to read the message: {exc}") from None
        return _message(channel, found) if found else None

    async def _in_history(self, channel: str, ts: str) -> dict[str, Any] | None:
        response = await self._client.conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1
        )
        return _with_ts(response.get("messages") or [], ts)

    async def _in_thread(self, channel: str, ts: str) -> dict[str, Any] | None:
        cursor = None
        for _ in range(_THREAD_PAGES):
            response = await self._client.conversations_replies(
                channel=channel, ts=ts, limit=200, cursor=cursor
            )
            if found := _with_ts(response.get("messages") or [], ts):
                return found
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None


def _with_ts(messages: list[dict[str, Any]], ts: str) -> dict[str, Any] | None:
    return next((m for m in messages if m.get("ts") == ts), None)


def _message(channel: str, raw: dict[str, Any]) -> ChannelMessage:
    author = raw.get("user") or raw.get("bot_id") or raw.get("username") or "unknown"
    text = str(raw.get("text") or "")
    files = [str(f.get("name") or f.get("title") or "a file") for f in raw.get("files") or []]
    if files:
        text = " ".join([text, *(f"[file: {name}]" for name in files)]).strip()
    return ChannelMessage(channel, str(raw["ts"]), str(author), text or "(no text)")
