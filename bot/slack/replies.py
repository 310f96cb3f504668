"""Small helpers the listeners share: replying to the person who asked, request keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.errors import SteadyhandError
from bot.domain.messages import Message, Notice
from bot.ports import ChatError
from bot.slack.blocks import render


def ephemeral(message: Message) -> dict[str, Any]:
    """Keyword arguments for `ack(...)` or `respond(...)`: only the asker sees it."""
    rendered = render(message)
    return {"response_type": "ephemeral", "text": rendered.text, "blocks": rendered.blocks}


def replacing(message: Message) -> dict[str, Any]:
    """Keyword arguments for `respond(...)` that replace the message whose button was clicked."""
    rendered = render(message)
    return {"replace_original": True, "text": rendered.text, "blocks": rendered.blocks}


def request_key(body: dict[str, Any]) -> str:
    """The same for a request and Slack's retries of it; different for every new request."""
    for field in ("event_id", "trigger_id"):
        if body.get(field):
            return f"{field}:{body[field]}"
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"body:{digest}"


async def answer_errors(
    respond: Callable[..., Awaitable[Any]], work: Callable[[], Awaitable[Message | None]]
) -> None:
    """Run `work`; tell the asker what went wrong if it was refused, else show its reply."""
    try:
        reply = await work()
    except (SteadyhandError, ChatError) as exc:
        reply = Notice(str(exc), is_error=True)
    if reply is not None:
        await respond(**ephemeral(reply))
