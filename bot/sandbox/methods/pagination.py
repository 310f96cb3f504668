"""Slack's cursor pagination: `limit` and an opaque `cursor`, answered with `next_cursor`."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

from bot.sandbox.args import Args
from bot.sandbox.errors import SlackError

Item = TypeVar("Item")


def page(items: Sequence[Item], args: Args, *, default_limit: int) -> tuple[list[Item], str]:
    """One page of items and the cursor of the next ("" when this is the last)."""
    limit = args.integer("limit", default=default_limit, error="invalid_limit")
    if limit <= 0:
        limit = default_limit
    start = _offset(args.optional_text("cursor") or "")
    end = start + limit
    next_cursor = _cursor(end) if end < len(items) else ""
    return list(items[start:end]), next_cursor


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        kind, _, number = base64.b64decode(cursor).decode().partition(":")
        offset = int(number)
    except ValueError:
        raise SlackError("invalid_cursor") from None
    if kind != "offset" or offset < 0:
        raise SlackError("invalid_cursor")
    return offset
