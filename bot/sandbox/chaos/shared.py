"""What every part of the chaos scenario shares: the tally of what was sent and accepted,
waiting for a moment of the run, and reading the bot's database."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.sandbox.entities import JSON
from bot.store.database import normalize_url

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Sent:
    """What the monitors and people sent, and what the bot accepted."""

    deliveries: int = 0
    accepted_deliveries: int = 0
    rejected: Counter[int] = field(default_factory=Counter)  # 4xx status → deliveries
    gave_up: int = 0
    alert_retries: int = 0
    accepted_alerts: dict[str, str] = field(default_factory=dict)  # alert key → group
    commands: Counter[str] = field(default_factory=Counter)  # subcommand → sent
    acked: Counter[str] = field(default_factory=Counter)  # subcommand → acked
    refused: Counter[str] = field(default_factory=Counter)  # subcommand → acked with an error
    opens: dict[str, bool] = field(default_factory=dict)  # title → acked
    updates: list[str] = field(default_factory=list)  # text of each acked update
    resolves: list[str] = field(default_factory=list)  # titles whose resolve was acked
    # Acked rollbacks whose card did not come while the responder waited: title → channel.
    cardless: dict[str, str] = field(default_factory=dict)
    approvals: int = 0  # Approve clicks acked
    said: Counter[str] = field(default_factory=Counter)  # what acks and cards said, shortened
    skipped: int = 0  # commands not sent: their incident's channel never appeared
    slack_retries: int = 0
    killed_at: float = 0.0
    back_at: float = 0.0
    bot_starts: int = 0


async def until(moment: float) -> None:
    """Sleep until `moment` (time.monotonic())."""
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def read_rows(database_url: str, query: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    engine = create_async_engine(normalize_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return list((await query(connection)).all())
    finally:
        await engine.dispose()


def action_ids(message: JSON) -> set[str]:
    """The action_id of every button and menu in a message."""
    found = set()
    for block in message.get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and "action_id" in element:
                found.add(str(element["action_id"]))
    return found
