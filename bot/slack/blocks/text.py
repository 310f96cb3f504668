"""Text as Slack's mrkdwn wants it: escaped, mentioned, dated, and cut without breaking.

Everything here is a pure function of its arguments, so it is tested on strings alone.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

SECTION_TEXT_MAX = 3000  # a section's text, and any mrkdwn/plain_text object
FENCE = "```"

# Slack reads &, < and > as control characters. The text we are given may already hold
# Slack markup (a mention typed into `/incident update` arrives as <@U123|alice>, a runbook
# autolink is <https://…>) or Slack's own escapes; those pass through untouched, so nothing
# is escaped twice and no mention breaks. Broadcasts (<!here>, <!channel>, <!everyone>) do
# not match: the bot never pings a whole channel on someone's behalf.
_SLACK_MARKUP = re.compile(
    r"<(?:[@#][A-Z0-9][^<>]*|!(?:subteam|date)\^[^<>]+|(?:https?|mailto):[^<>\s][^<>]*)>"
    r"|&(?:amp|lt|gt);"
)
_CONTROL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    pieces: list[str] = []
    position = 0
    for markup in _SLACK_MARKUP.finditer(text):
        pieces.append(text[position : markup.start()].translate(_CONTROL))
        pieces.append(markup.group())
        position = markup.end()
    pieces.append(text[position:].translate(_CONTROL))
    return "".join(pieces)


def mention(user: str) -> str:
    return f"<@{user}>"


def channel_link(channel_id: str) -> str:
    return f"<#{channel_id}>"


def date_token(at: datetime) -> str:
    """A time every reader sees in their own time zone; the fallback is UTC."""
    if at.tzinfo is None:
        # A naive time would be read as the server's local time and shown hours off.
        raise ValueError(f"naive datetime {at.isoformat()}: the domain keeps times in UTC")
    utc = at.astimezone(UTC)
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} {{time}}|{utc:%Y-%m-%d %H:%M} UTC>"


def duration(elapsed: timedelta) -> str:
    """`42m`, `1h 05m`, `2d 03h 10m`: incident time is read at a glance, to the minute."""
    minutes = max(0, int(elapsed.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def truncate(text: str, limit: int, *, markup: bool = True) -> str:
    """At most `limit` characters, ending in `…` when cut. Never splits a character from
    its combining marks and, in mrkdwn (`markup`), never splits an escape or `<…>` token."""
    if len(text) <= limit:
        return text
    return _cut(text, limit - 1, markup=markup).rstrip() + "…"


def notification(text: str, limit: int = 300) -> str:
    """The `text` fallback: one escaped line, short enough for a phone notification."""
    return truncate(" ".join(escape(text).split()), limit)


def split_mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> list[str]:
    """Split into pieces of at most `limit` characters, on line breaks where possible.

    Every character is kept. A line too long for any piece is cut at a space, filling the
    piece it starts in. A code block cut in two is closed at the end of one piece and
    reopened at the start of the next, so neither renders as stray backticks.
    """
    room = limit - 2 * (len(FENCE) + 1)  # space to close and reopen a code block
    chunks: list[str] = []
    lines: list[str] = []
    in_fence = False

    def space_left() -> int:
        return room - sum(len(line) + 1 for line in lines)

    def flush() -> None:
        body = "\n".join(lines)
        chunks.append(f"{body}\n{FENCE}" if in_fence else body)
        lines[:] = [FENCE] if in_fence else []

    for whole in text.split("\n"):
        line = whole
        while len(line) > space_left():
            if len(line) > room and space_left() >= room // 4:
                head, line = _split_line(line, space_left())
                lines.append(head)
            flush()
        lines.append(line)
        if whole.count(FENCE) % 2:
            in_fence = not in_fence
    chunks.append("\n".join(lines))
    return [chunk.strip("\n") for chunk in chunks if chunk.strip()]


def _split_line(line: str, width: int) -> tuple[str, str]:
    """The longest head of `line` within `width` that ends at a space (or, without one, at
    a safe character), and the rest."""
    safe = len(_cut(line, width)) or width
    cut = line.rfind(" ", safe // 2, safe)
    if cut <= 0 or line.rfind("<", 0, cut) > line.rfind(">", 0, cut):
        cut = safe  # no space, or the space is inside a <…> token
    return line[:cut], line[cut:].lstrip(" ")


def _cut(text: str, limit: int, *, markup: bool = True) -> str:
    head = text[:limit]
    if markup:
        # In escaped mrkdwn every `<` opens a token and every `&` an escape of ≤ 5 chars.
        for opener, closer, reach in (("<", ">", 300), ("&", ";", 5)):
            at = head.rfind(opener)
            if at > 0 and len(head) - at <= reach and closer not in head[at:]:
                head = head[:at]
    while head and len(head) < len(text) and _joins_previous(text[len(head)]):
        head = head[:-1]
    return head


def _joins_previous(char: str) -> bool:
    """A combining mark, zero-width joiner, variation selector or skin tone: cutting
    before it would orphan it or garble an emoji."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me")
        or code == 0x200D
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
    )
