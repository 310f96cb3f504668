"""Small helpers the listeners share: replying to the person who asked, request keys."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.errors import SteadyhandError
from bot.domain.messages import Message, Notice
from bot.ports import Chat, ChatError, DatabaseUnavailable
from bot.slack.blocks import render

log = logging.getLogger(__name__)


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


Tell = Callable[[Message], Awaitable[None]]


def by_response_url(respond: Callable[..., Awaitable[Any]]) -> Tell:
    """Answer a slash command or a click where it happened, visible to the asker only.

    Direct, not pending Slack work: it only tells the asker what was done (or is owed and
    will follow); what the channel is owed is queued before it.
    """

    async def tell(message: Message) -> None:
        await respond(**ephemeral(message))

    return tell


def by_direct_message(chat: Chat, user: str) -> Tell:
    """Answer a modal submission, which has no place of its own to answer in.

    Direct, not pending Slack work: the answer is for the submitter alone and comes after what
    they asked for is stored (and whatever the channel is owed is queued); losing it loses
    nothing the bot accepted.
    """

    async def tell(message: Message) -> None:
        await chat.post(user, message)

    return tell


def answering(
    tell: Tell, work: Callable[[], Awaitable[Message | None]]
) -> Callable[[], Awaitable[None]]:
    """A job that runs `work` and shows its reply to the asker, or what went wrong.

    This is the edge of each request's work: a refusal is told as it is, anything else is
    logged and told as a failure on our side, so nobody is left waiting for nothing.
    """

    async def job() -> None:
        try:
            reply = await work()
        except (SteadyhandError, ChatError) as exc:
            reply = Notice(str(exc), is_error=True)
        except DatabaseUnavailable as exc:  # acked just as the database went away
            log.warning("A Slack request acked could not be handled: %s", exc)
            reply = Notice(f"That did not go through: {exc}.", is_error=True)
        except Exception as exc:
            log.exception("Handling a Slack request failed")
            reply = Notice(
                f"Something failed on our side ({type(exc).__name__}); "
                "it is in the bot's log. Please try again.",
                is_error=True,
            )
        if reply is not None:
            await tell(reply)

    return job
