"""What every listener module is given when it registers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.deps import Deps
from bot.slack.background import Background
from bot.slack.responses import ResponseUrls


@dataclass(frozen=True)
class Listening:
    deps: Deps
    background: Background
    responses: ResponseUrls
