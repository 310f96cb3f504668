"""Runbook Markdown as Slack mrkdwn, closely enough for people to read it in a channel.

Not a Markdown parser: runbooks are short and written by us, so a line-by-line rewrite of
the constructs they use (headings, emphasis, bullets, task items, links, quotes, code) reads
well, and whatever it does not know is shown as written rather than dropped.
"""

from __future__ import annotations

import re

from bot.slack.blocks.text import FENCE, escape

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_TASK = re.compile(r"^(\s*)[-*+]\s+\[([ xX])\]\s+")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_ORDERED = re.compile(r"^\s*\d+[.)]\s")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"!?\[([^\]]+)\]\(\s*(\S+?)\s*\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")


def to_mrkdwn(markdown: str) -> str:
    lines: list[str] = []
    in_code = False
    for line in _unwrap(markdown.strip("\n").split("\n")):
        if line.lstrip().startswith(FENCE):
            # Slack's code blocks take no language tag; keep the fence itself bare.
            in_code = not in_code
            lines.append(FENCE)
        elif in_code:
            lines.append(escape(line))
        else:
            lines.append(_line(line))
    if in_code:
        lines.append(FENCE)
    return "\n".join(lines)


def _unwrap(lines: list[str]) -> list[str]:
    """Join the lines of a hard-wrapped paragraph or list item: Markdown reads them as one,
    while Slack would show every break, with the indentation, mid-sentence."""
    joined: list[str] = []
    in_code = False
    for line in lines:
        fence = line.lstrip().startswith(FENCE)
        if (
            not in_code
            and not fence
            and joined
            and _continues(joined[-1])
            and line.strip()
            and not _starts_block(line)
        ):
            joined[-1] = f"{joined[-1].rstrip()} {line.lstrip()}"  # keeps a hard break
        else:
            joined.append(line)
        if fence:
            in_code = not in_code
    return joined


def _continues(previous: str) -> bool:
    """Whether the next line may belong to `previous` (not after a blank line, a heading,
    a rule, a fence, a table row or a hard break)."""
    return bool(
        previous.strip()
        and not previous.endswith(("  ", "\\"))
        and not _HEADING.match(previous)
        and not _RULE.match(previous)
        and not previous.lstrip().startswith((FENCE, "|"))
    )


def _starts_block(line: str) -> bool:
    return bool(
        _HEADING.match(line)
        or _BULLET.match(line)
        or _ORDERED.match(line)
        or _QUOTE.match(line)
        or _RULE.match(line)
        or line.lstrip().startswith("|")
    )


def _line(line: str) -> str:
    quote = _QUOTE.match(line)
    if quote:
        return ">" + _line(line[quote.end() :])
    if _RULE.match(line):
        return "───"
    heading = _HEADING.match(line)
    if heading:
        return f"*{_inline(heading.group(1))}*" if heading.group(1) else ""
    task = _TASK.match(line)
    if task:
        box = "☐" if task.group(2) == " " else "☑"
        return f"{task.group(1)}{box} {_inline(line[task.end() :])}"
    bullet = _BULLET.match(line)
    if bullet:
        return f"{bullet.group(1)}• {_inline(line[bullet.end() :])}"
    return _inline(line)


def _inline(text: str) -> str:
    """Emphasis and links, outside code spans; code spans are only escaped."""
    pieces: list[str] = []
    position = 0
    for code in _CODE_SPAN.finditer(text):
        pieces.append(_emphasis(text[position : code.start()]))
        pieces.append(f"`{escape(code.group(2))}`")
        position = code.end()
    pieces.append(_emphasis(text[position:]))
    return "".join(pieces)


def _emphasis(text: str) -> str:
    text = _LINK.sub(lambda m: f"\x00{m.group(2)}\x01{m.group(1)}\x02", text)
    text = escape(text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _BOLD.sub(r"*\2*", text)
    text = _STRIKE.sub(r"~\1~", text)
    # Links last, so their URLs are neither escaped twice nor read as emphasis.
    return re.sub(
        "\x00([^\x01]*)\x01([^\x02]*)\x02",
        lambda m: f"<{m.group(1).replace('|', '%7C')}|{m.group(2)}>",
        text,
    )
