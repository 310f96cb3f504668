"""Answering through a request's response_url, over the bot's one shared HTTP session.

Bolt's own `respond` opens a new HTTP session (and connection) for every answer; under load
that costs more than the answer itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.ports import ChatError

Respond = Callable[..., Awaitable[None]]


class ResponseUrls:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    def to(self, response_url: str | None) -> Respond:
        """A `respond(**payload)` for one request; a no-op for requests without a URL."""

        async def respond(**payload: Any) -> None:
            if not response_url:
                return
            async with self._session.post(response_url, json=payload) as answer:
                if answer.status != 200:
                    body = (await answer.text())[:200]
                    raise ChatError(f"Slack refused the response: HTTP {answer.status} {body}")

        return respond
