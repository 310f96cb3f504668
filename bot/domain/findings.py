"""What responders keep for the post-mortem besides the timeline: messages they pinned, failed
examples sorted into eval sets, and follow-ups with owners.

Pinned messages are not timeline events: removing the reaction removes them, and the timeline
is append-only. They are shown on the timeline at the message's own time, by its author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.errors import UsageError
from bot.domain.triage import ExampleSet

DEFAULT_PIN_REACTION = "pushpin"
MAX_EXAMPLE = 3000
MAX_FOLLOW_UP = 500
MAX_NOTE = 3000
# Slack escapes links as <https://…> or <https://…|label>; people may also paste them bare.
_LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>|(https?://\S+)")
_REACTION = re.compile(r"^[a-z0-9_+'-]+(::skin-tone-[2-6])?$")


@dataclass(frozen=True)
class ChannelMessage:
    """A message as Slack holds it: who wrote it, when, and its text."""

    channel: str
    ts: str
    author: str  # a user ID; a bot's or a webhook's ID when no person wrote it
    text: str

    @property
    def posted_at(self) -> datetime:
        return message_time(self.ts)


@dataclass(frozen=True)
class Pin:
    """One person's pin reaction on one message of an incident's channel."""

    incident_id: str
    message: ChannelMessage
    pinned_by: str
    pinned_at: datetime


@dataclass(frozen=True)
class PinnedMessage:
    """A message pinned by one or more people: on the timeline while any pin remains."""

    message: ChannelMessage
    pinned_by: tuple[str, ...]  # first pinned first

    @property
    def posted_at(self) -> datetime:
        return self.message.posted_at


def pinned_messages(pins: list[Pin]) -> list[PinnedMessage]:
    """Each message once, with everyone who pinned it, oldest message first."""
    by_ts: dict[str, list[Pin]] = {}
    for pin in sorted(pins, key=lambda p: p.pinned_at):
        by_ts.setdefault(pin.message.ts, []).append(pin)
    found = [
        PinnedMessage(same[0].message, tuple(dict.fromkeys(p.pinned_by for p in same)))
        for same in by_ts.values()
    ]
    return sorted(found, key=lambda p: (p.posted_at, p.message.ts))


@dataclass
class FailedExample:
    """An input the AI system got wrong, kept so an eval set can catch it next time."""

    id: str
    incident_id: str
    number: int  # 1, 2, 3 … within the incident, as people refer to it
    text: str
    added_by: str
    added_at: datetime
    set: ExampleSet | None = None  # None: not sorted yet
    sorted_by: str | None = None
    sorted_at: datetime | None = None
    card_ts: str | None = None  # its message in the incident channel, updated when sorted

    @property
    def links(self) -> tuple[str, ...]:
        return links_in(self.text)

    def sort_into(self, target: ExampleSet, by: str, at: datetime) -> ExampleSet | None:
        """Put it in `target`; returns the set it was in."""
        previous = self.set
        self.set, self.sorted_by, self.sorted_at = target, by, at
        return previous


@dataclass(frozen=True)
class FollowUp:
    id: str
    incident_id: str
    number: int
    text: str
    owner: str  # a user ID
    added_by: str
    added_at: datetime


def links_in(text: str) -> tuple[str, ...]:
    return tuple(m.group(1) or m.group(2) for m in _LINK.finditer(text))


def message_time(ts: str) -> datetime:
    """A Slack message ts (`1700000000.000100`) as the UTC time it was posted."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except ValueError:
        raise UsageError(f"`{ts}` is not a Slack message timestamp.") from None


def reaction_name(text: str) -> str:
    """`:pushpin:` or `pushpin` → `pushpin`, as Slack names reactions in events."""
    name = text.strip().strip(":").lower()
    if not _REACTION.match(name):
        raise UsageError(f"`{text}` is not a Slack reaction name, like `pushpin`.")
    return name


def bounded_text(text: str, limit: int, what: str, example: str) -> str:
    text = text.strip()
    if not text:
        raise UsageError(f"Give the {what}: `{example}`.")
    if len(text) > limit:
        raise UsageError(f"The {what} is {len(text)} characters; keep it under {limit}.")
    return text
