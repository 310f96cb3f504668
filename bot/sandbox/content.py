"""Reading what a message says (text, blocks, attachments) with Slack's basic checks.

The sandbox only rejects what Slack certainly rejects: malformed blocks, too many of them, text
that is too long. The full Block Kit check belongs to the conformance checker in tests.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.sandbox.args import Args
from bot.sandbox.entities import JSON, MessageContent
from bot.sandbox.errors import SlackError

MAX_MESSAGE_BLOCKS = 50
MAX_TEXT_LENGTH = 40_000


def message_content(args: Args, *, require_content: bool = True) -> MessageContent:
    """The content of chat.postMessage, chat.update, a response_url post and their kin."""
    markdown_text = args.optional_text("markdown_text")
    text = args.optional_text("text") or ""
    blocks = parse_blocks(args.decoded("blocks", error="invalid_blocks_format"))
    attachments = _attachments(args.decoded("attachments", error="invalid_attachments"))
    if markdown_text is not None:
        if text or blocks is not None:
            raise SlackError("markdown_text_conflict")
        text = markdown_text
    if require_content and not text and not blocks and not attachments:
        raise SlackError("no_text")
    if len(text) > MAX_TEXT_LENGTH:
        raise SlackError("msg_too_long")
    metadata = args.decoded("metadata", error="invalid_metadata_format")
    if metadata is not None and not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format")
    return MessageContent(text=text, blocks=blocks, attachments=attachments, metadata=metadata)


def parse_blocks(value: Any, *, limit: int = MAX_MESSAGE_BLOCKS) -> list[JSON] | None:
    """Blocks as stored: each checked for a `type` and given a block_id if it has none,
    as Slack does, so interactions can name the block they came from."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > limit:
        raise SlackError("invalid_blocks")
    blocks: list[JSON] = []
    for position, block in enumerate(value):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise SlackError("invalid_blocks")
        if "block_id" not in block:
            block = {**block, "block_id": _generated_block_id(position, block)}
        blocks.append(block)
    return blocks


def _generated_block_id(position: int, block: JSON) -> str:
    # Derived from the block itself, so the same message always gets the same ids.
    digest = hashlib.sha1(f"{position}:{json.dumps(block, sort_keys=True)}".encode())
    return digest.hexdigest()[:5]


def _attachments(value: Any) -> list[JSON] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise SlackError("invalid_attachments")
    return value
