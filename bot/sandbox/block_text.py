"""Block Kit as plain text, for transcripts a person can read in a terminal.

== Incident: answers degraded ==        header
First checks                            section
[x] Check the eval dashboard            checkboxes, ticked
[ ] Compare with yesterday's prompt     checkboxes, not ticked
[Roll back prompt] [Escalate]           buttons
~ opened by @alice · sev2               context
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.sandbox.entities import JSON

# Turns a mention id (U…, C…, S…) into a readable name.
NameOf = Callable[[str], str]

_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<([^@#!][^>|]*)(?:\|([^>]*))?>")


def readable(text: str, name_of: NameOf) -> str:
    """mrkdwn with Slack's `<@U…>`, `<#C…|name>` and `<url|label>` spelt out."""

    def mention(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil == "!":
            if target.startswith("date^"):
                return label or target  # the fallback Slack shows where it cannot localise
            if target.startswith("subteam^"):
                return label or "@" + name_of(target.removeprefix("subteam^"))
            return "@" + target
        return sigil + (label or name_of(target))

    text = _MENTION.sub(mention, text)
    return _LINK.sub(lambda match: match.group(2) or match.group(1), text)


def render_blocks(blocks: Iterable[JSON], name_of: NameOf) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        lines.extend(_block(block, name_of))
    return lines


def _block(block: JSON, name_of: NameOf) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [f"== {_text(block.get('text'), name_of)} =="]
    if kind == "section":
        lines = _split(_text(block.get("text"), name_of))
        lines += [" ".join(_split(_text(field, name_of))) for field in block.get("fields", [])]
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            lines += _element(accessory, name_of)
        return lines
    if kind == "context":
        parts = [_context_part(element, name_of) for element in block.get("elements", [])]
        return ["~ " + " · ".join(part for part in parts if part)]
    if kind == "divider":
        return ["---"]
    if kind in ("actions", "context_actions"):
        return _elements_inline(block.get("elements", []), name_of)
    if kind == "input":
        label = _text(block.get("label"), name_of)
        rendered = _element(block.get("element", {}), name_of)
        if len(rendered) == 1:
            return [f"{label}: {rendered[0]}"]
        return [f"{label}:", *rendered]
    if kind == "image":
        return [f"(image: {block.get('alt_text', '')})"]
    if kind == "rich_text":
        return _split(_rich_text(block.get("elements", []), name_of))
    if kind == "markdown":
        return _split(readable(str(block.get("text", "")), name_of))
    return [f"[{kind} block]"]


def _elements_inline(elements: Sequence[JSON], name_of: NameOf) -> list[str]:
    """Buttons and selects share a line, as they do in Slack; option lists take their own."""
    lines: list[str] = []
    row: list[str] = []
    for element in elements:
        rendered = _element(element, name_of)
        if len(rendered) == 1:
            row.append(rendered[0])
        else:
            if row:
                lines.append(" ".join(row))
                row = []
            lines.extend(rendered)
    if row:
        lines.append(" ".join(row))
    return lines


def _element(element: JSON, name_of: NameOf) -> list[str]:
    kind = element.get("type", "")
    if kind == "button":
        return [f"[{_text(element.get('text'), name_of)}]"]
    if kind == "checkboxes":
        ticked = {option.get("value") for option in element.get("initial_options", [])}
        return [
            f"[{'x' if option.get('value') in ticked else ' '}] "
            f"{_text(option.get('text'), name_of)}"
            for option in element.get("options", [])
        ]
    if kind == "radio_buttons":
        chosen = (element.get("initial_option") or {}).get("value")
        return [
            f"({'•' if option.get('value') == chosen else ' '}) "
            f"{_text(option.get('text'), name_of)}"
            for option in element.get("options", [])
        ]
    if kind == "overflow":
        return ["[⋯]"]
    if kind == "image":
        return [f"(image: {element.get('alt_text', '')})"]
    return [
        f"[{_current_value(element, name_of)} ▾]"
        if "select" in kind
        else f"[{_current_value(element, name_of)}]"
    ]


def _current_value(element: JSON, name_of: NameOf) -> str:
    option = element.get("initial_option")
    if isinstance(option, dict):
        return _text(option.get("text"), name_of)
    options = element.get("initial_options")
    if isinstance(options, list) and options:
        return ", ".join(_text(option.get("text"), name_of) for option in options)
    if element.get("initial_user"):
        return "@" + name_of(str(element["initial_user"]))
    for field in ("initial_conversation", "initial_channel"):
        if element.get(field):
            return "#" + name_of(str(element[field]))
    for field in ("initial_value", "initial_date", "initial_time"):
        if element.get(field):
            return str(element[field])
    placeholder = _text(element.get("placeholder"), name_of)
    return placeholder or "…"


def _context_part(element: JSON, name_of: NameOf) -> str:
    if element.get("type") == "image":
        return f"(image: {element.get('alt_text', '')})"
    return _text(element, name_of)


def _text(obj: Any, name_of: NameOf) -> str:
    if isinstance(obj, dict):
        return readable(str(obj.get("text", "")), name_of)
    return ""


def _rich_text(elements: Sequence[JSON], name_of: NameOf) -> str:
    parts: list[str] = []
    for element in elements:
        kind = element.get("type")
        if kind == "text":
            parts.append(str(element.get("text", "")))
        elif kind == "link":
            parts.append(str(element.get("text") or element.get("url", "")))
        elif kind == "user":
            parts.append("@" + name_of(str(element.get("user_id", ""))))
        elif kind == "channel":
            parts.append("#" + name_of(str(element.get("channel_id", ""))))
        elif kind == "emoji":
            parts.append(f":{element.get('name', '')}:")
        elif isinstance(element.get("elements"), list):
            parts.append(_rich_text(element["elements"], name_of))
            if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
                parts.append("\n")
    return "".join(parts).strip("\n")


def _split(text: str) -> list[str]:
    return text.splitlines() if text else []
