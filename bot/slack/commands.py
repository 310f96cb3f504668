"""`/incident …` text parsed into commands. Pure: no Slack client, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.actions import ActionKind
from bot.domain.errors import UsageError
from bot.domain.kinds import IncidentKind
from bot.domain.registry import Component, parse_duration
from bot.domain.triage import ExampleSet
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
class PostPostmortem:
    """Regenerate the post-mortem from the timeline and upload it again."""


@dataclass(frozen=True)
class AddNote:
    text: str


@dataclass(frozen=True)
class AddExample:
    into: ExampleSet | None  # None: sorted later, with the card's buttons
    text: str


@dataclass(frozen=True)
class SortExample:
    number: int
    into: ExampleSet


@dataclass(frozen=True)
class ListExamples:
    pass


@dataclass(frozen=True)
class AddFollowUp:
    owner: str | None  # None: the person adding it
    text: str


@dataclass(frozen=True)
class ListFollowUps:
    pass


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
class AskRollback:
    service: str | None  # None: the incident's service
    component: str
    version: str | None  # None: the last known-good version
    reason: str


@dataclass(frozen=True)
class AskRestore:
    service: str | None
    ago: timedelta | None  # either how long ago …
    at: datetime | None  # … or the moment itself
    reason: str


@dataclass(frozen=True)
class AskFlag:
    service: str | None
    flag: str
    value: str  # on, off or a percentage, checked against the flag's kind later
    reason: str


@dataclass(frozen=True)
class AskSwitch:
    """The kill switch or dry-run mode."""

    kind: ActionKind
    service: str | None
    on: bool
    reason: str


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
    | PostPostmortem
    | AddNote
    | AddExample
    | SortExample
    | ListExamples
    | AddFollowUp
    | ListFollowUps
    | ShowRunning
    | ShowChanges
    | MarkKnownGood
    | AskRollback
    | AskRestore
    | AskFlag
    | AskSwitch
    | ShowHelp
)
DEFAULT_CHANGES_WINDOW = timedelta(hours=24)

SUBCOMMANDS = tuple(dict.fromkeys(line.subcommand for line in HELP_LINES))
# Slack escapes mentions as <@U123|name> (or <@U123>) when the command has should_escape.
_DURATION = re.compile(r"^\d+[mhd]$", re.IGNORECASE)
_MENTION = re.compile(r"^<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>$")
_EXAMPLE_NUMBER = re.compile(r"^#(\d+)$")


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
    if sub == "postmortem":
        if rest:
            raise UsageError("`/incident postmortem` takes nothing after it.")
        return PostPostmortem()
    if sub == "note":
        if not rest:
            raise UsageError("Say what to note: `/incident note refunds started failing at 09:12`.")
        return AddNote(rest)
    if sub == "example":
        return _example(rest)
    if sub == "examples":
        return ListExamples()
    if sub == "followup":
        return _follow_up(rest)
    if sub == "followups":
        return ListFollowUps()
    if sub == "running":
        return _running(rest)
    if sub == "changes":
        return _changes(rest)
    if sub == "known-good":
        return _known_good(rest)
    if sub == "rollback":
        return _rollback(rest)
    if sub == "flag":
        return _flag(rest)
    if sub == "kill":
        return _switch(ActionKind.KILL_SWITCH, rest, default=True)
    if sub == "dry-run":
        return _switch(ActionKind.DRY_RUN, rest, default=None)
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


def _example(rest: str) -> Command:
    words = rest.split(maxsplit=1)
    if not words:
        raise UsageError(
            "Give the input that failed, or a link to it: "
            "`/incident example “what is the refund window?” cites the 2023 policy`."
        )
    if found := _EXAMPLE_NUMBER.match(words[0]):
        target = words[1].strip() if len(words) > 1 else ""
        return SortExample(int(found.group(1)), _example_set(target))
    sets = {s.value: s for s in ExampleSet}
    if words[0].lower() in sets and len(words) > 1:
        return AddExample(sets[words[0].lower()], words[1].strip())
    return AddExample(None, rest)


def _example_set(word: str) -> ExampleSet:
    try:
        return ExampleSet(word.lower())
    except ValueError:
        valid = ", ".join(f"`{s.value}`" for s in ExampleSet)
        raise UsageError(f"Sort it into one of {valid}: `/incident example #2 blocking`.") from None


def _follow_up(rest: str) -> Command:
    first, _, text = rest.partition(" ")
    if found := _MENTION.match(first):
        owner: str | None = found.group(1)
    else:
        owner, text = None, rest
    if not text.strip():
        raise UsageError(
            "Say what to do, and who owns it: "
            "`/incident followup @bob add refund questions to the blocking eval set`."
        )
    return AddFollowUp(owner, text.strip())


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


def _because(rest: str) -> tuple[list[str], str]:
    """`support-bot prompt because answers drifted` → (["support-bot", "prompt"], "answers …")."""
    words = rest.split()
    lowered = [w.lower() for w in words]
    if "because" in lowered:
        cut = lowered.index("because")
        return words[:cut], " ".join(words[cut + 1 :])
    return words, ""


def _rollback(rest: str) -> Command:
    words, reason = _because(rest)
    usage = (
        "Usage: `/incident rollback [service] <component> [version]` or "
        "`/incident rollback [service] to <when>`, e.g. `rollback support-bot prompt v12`."
    )
    if "to" in [w.lower() for w in words[:2]]:
        service = None if words[0].lower() == "to" else words[0]
        when = words[1:] if service is None else words[2:]
        if len(when) != 1:
            raise UsageError(usage)
        ago, at = _moment(when[0])
        return AskRestore(service, ago, at, reason)
    if not words or len(words) > 3:
        raise UsageError(usage)
    if not _is_component(words[0]):
        service, words = words[0], words[1:]
        if not words:
            raise UsageError(usage)
    else:
        service = None
    if len(words) > 2:
        raise UsageError(usage)
    return AskRollback(service, words[0], words[1] if len(words) > 1 else None, reason)


def _flag(rest: str) -> Command:
    words, reason = _because(rest)
    if len(words) == 2:
        return AskFlag(None, words[0], words[1], reason)
    if len(words) == 3:
        return AskFlag(words[0], words[1], words[2], reason)
    raise UsageError("Usage: `/incident flag [service] <flag> on|off|<0-100>%`.")


def _switch(kind: ActionKind, rest: str, default: bool | None) -> Command:
    words, reason = _because(rest)
    sub = "kill" if kind is ActionKind.KILL_SWITCH else "dry-run"
    state = {"on": True, "off": False}
    if words and words[-1].lower() in state:
        on: bool | None = state[words.pop().lower()]
    else:
        on = default
    if on is None or len(words) > 1:
        raise UsageError(f"Usage: `/incident {sub} [service] on|off`.")
    return AskSwitch(kind, words[0] if words else None, on, reason)


def _moment(text: str) -> tuple[timedelta | None, datetime | None]:
    if _DURATION.match(text):
        return parse_duration(text), None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"`{text}` is neither a time ago (`2h`) nor a UTC time (`2026-11-22T08:00Z`)."
        ) from None
    if at.utcoffset() is None:
        raise UsageError("Give the time with a UTC offset, e.g. `2026-11-22T08:00Z`.")
    return None, at.astimezone(UTC)


def _is_component(word: str) -> bool:
    return word in {c.value for c in Component}


def _user(rest: str) -> str:
    found = _MENTION.match(rest.strip())
    if not found:
        raise UsageError("Name the new commander with a mention: `/incident commander @alice`.")
    return found.group(1)
