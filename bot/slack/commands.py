"""`/incident …` text parsed into commands. Pure: no Slack client, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.errors import UsageError
from bot.domain.kinds import IncidentKind
from bot.domain.registry import parse_duration
from bot.slack.help import HELP_LINES


@dataclass(frozen=True)
class OpenNow:
    kind: IncidentKind
    title: str


@dataclass(frozen=True)
class OpenForm:
    """`/incident open` alone: ask with a modal."""


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class Update:
    text: str


@dataclass(frozen=True)
class HandOver:
    user: str


@dataclass(frozen=True)
class Resolve:
    summary: str


@dataclass(frozen=True)
class ShowRunning:
    service: str | None  # None: the incident's service, or the only one declared


@dataclass(frozen=True)
class ShowChanges:
    service: str | None  # None: the incident's service, else every service
    since: timedelta


@dataclass(frozen=True)
class MarkKnownGood:
    service: str
    component: str
    version: str


@dataclass(frozen=True)
class ShowHelp:
    pass


Command = (
    OpenNow
    | OpenForm
    | Status
    | Update
    | HandOver
    | Resolve
    | ShowRunning
    | ShowChanges
    | MarkKnownGood
    | ShowHelp
)
DEFAULT_CHANGES_WINDOW = timedelta(hours=24)

SUBCOMMANDS = tuple(dict.fromkeys(line.subcommand for line in HELP_LINES))
# Slack escapes mentions as <@U123|name> (or <@U123>) when the command has should_escape.
_DURATION = re.compile(r"^\d+[mhd]$", re.IGNORECASE)
_MENTION = re.compile(r"^<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>$")


def parse(text: str) -> Command:
    words = text.split(maxsplit=1)
    if not words:
        return ShowHelp()
    sub, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if sub == "open":
        return _open(rest)
    if sub == "status":
        return Status()
    if sub == "update":
        if not rest:
            raise UsageError("Say what changed: `/incident update rolled back prompt to v12`.")
        return Update(rest)
    if sub == "commander":
        return HandOver(_user(rest))
    if sub == "resolve":
        return Resolve(rest)
    if sub == "running":
        return _running(rest)
    if sub == "changes":
        return _changes(rest)
    if sub == "known-good":
        return _known_good(rest)
    if sub == "help":
        return ShowHelp()
    valid = ", ".join(f"`{s}`" for s in SUBCOMMANDS)
    raise UsageError(
        f"Unknown subcommand `{sub}`. Valid subcommands: {valid}. Try `/incident help`."
    )


def _open(rest: str) -> Command:
    if not rest:
        return OpenForm()
    kind_word, _, title = rest.partition(" ")
    kind = IncidentKind.parse(kind_word)
    if not title.strip():
        raise UsageError(f"Give the incident a title: `/incident open {kind.value} <title>`.")
    return OpenNow(kind, title.strip())


def _running(rest: str) -> Command:
    words = rest.split()
    if len(words) > 1:
        raise UsageError("Name at most one service: `/incident running support-bot`.")
    return ShowRunning(words[0] if words else None)


def _changes(rest: str) -> Command:
    words = rest.split()
    if len(words) > 2:
        raise UsageError("Usage: `/incident changes [service] [since]`, e.g. `changes search 7d`.")
    service, since = None, DEFAULT_CHANGES_WINDOW
    for n, word in enumerate(words):
        if _DURATION.match(word):
            since = parse_duration(word)
        elif n == 0:
            service = word
        else:
            since = parse_duration(word)  # raises, naming the form a duration takes
    return ShowChanges(service, since)


def _known_good(rest: str) -> Command:
    words = rest.split()
    if len(words) != 3:
        raise UsageError(
            "Name the service, component and version: "
            "`/incident known-good support-bot prompt v12`."
        )
    return MarkKnownGood(*words)


def _user(rest: str) -> str:
    found = _MENTION.match(rest.strip())
    if not found:
        raise UsageError("Name the new commander with a mention: `/incident commander @alice`.")
    return found.group(1)
