"""Block Kit building blocks: the JSON shapes, with Slack's length limits applied.

Renderers compose these; none of them decides what a message says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack.blocks.text import SECTION_TEXT_MAX, split_mrkdwn, truncate

Block = dict[str, Any]

MESSAGE_BLOCKS_MAX = 50  # Slack's limit for a message (modals allow 100)
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
OPTION_TEXT_MAX = 75
LABEL_TEXT_MAX = 2000
PLACEHOLDER_TEXT_MAX = 150


@dataclass(frozen=True)
class RenderedMessage:
    text: str  # the notification fallback: plain, short, meaningful
    blocks: list[Block]


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit, markup=False), "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT_MAX)}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_TEXT_MAX)}


def section(text: str, *, block_id: str | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def sections(
    text: str, *, max_blocks: int = MESSAGE_BLOCKS_MAX, rest_is_in: str = ""
) -> list[Block]:
    """As many sections as `text` needs. If it needs more than `max_blocks`, the last one
    says how much is not shown and where to read it: text is never dropped silently."""
    chunks = split_mrkdwn(text) or ["—"]  # Slack refuses an empty section
    if len(chunks) > max_blocks:
        hidden = sum(len(chunk) for chunk in chunks[max_blocks - 1 :])
        where = f"; read it in {rest_is_in}" if rest_is_in else ""
        chunks = [*chunks[: max_blocks - 1], f"_… {hidden} more characters not shown{where}._"]
    return [section(chunk) for chunk in chunks]


def fields(pairs: list[tuple[str, str]]) -> Block:
    """A two-column section of `*Label*\\nvalue` cells (Slack allows 10)."""
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": truncate(f"*{label}*\n{value}", FIELD_TEXT_MAX)}
            for label, value in pairs[:10]
        ],
    }


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def button(
    text: str, action_id: str, value: str, *, primary: bool = False, danger: bool = False
) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
        "value": value,
    }
    if primary or danger:
        element["style"] = "primary" if primary else "danger"
    return element


def actions(block_id: str, *elements: Block) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def option(text: str, value: str) -> Block:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


def input_block(
    field: str, label: str, element: Block, *, optional: bool = False, hint: str = ""
) -> Block:
    """An input whose block_id and action_id are both `field` (see `bot.slack.ids`)."""
    block: Block = {
        "type": "input",
        "block_id": field,
        "label": plain(label, LABEL_TEXT_MAX),
        "element": {**element, "action_id": field},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, LABEL_TEXT_MAX)
    return block


def placeholder(text: str) -> dict[str, Any]:
    return plain(text, PLACEHOLDER_TEXT_MAX)
