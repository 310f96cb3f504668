"""The Web API methods the sandbox implements, by Slack method name."""

from __future__ import annotations

from bot.sandbox.methods import chat, conversations, directory, files, items, views
from bot.sandbox.methods.call import Call, Handler

HANDLERS: dict[str, Handler] = {
    **chat.HANDLERS,
    **conversations.HANDLERS,
    **directory.HANDLERS,
    **files.HANDLERS,
    **items.HANDLERS,
    **views.HANDLERS,
}
NO_AUTH = directory.NO_AUTH

__all__ = ["HANDLERS", "NO_AUTH", "Call", "Handler"]
