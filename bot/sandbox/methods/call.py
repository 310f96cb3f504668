"""What every Web API method handler receives, and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.args import Args
from bot.sandbox.entities import JSON, User
from bot.sandbox.workspace import Workspace


@dataclass(frozen=True)
class Call:
    workspace: Workspace
    args: Args
    # Whose token made the call (the bot, unless a test registered another token).
    caller: User
    # Where the sandbox itself is reachable, for URLs it hands out (file uploads).
    base_url: str


# A handler returns the fields of a successful reply (without "ok") or raises SlackError.
Handler = Callable[[Call], JSON]
