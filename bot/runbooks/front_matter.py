"""The YAML front matter of a runbook: what it is for, how bad by default, who owns it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from markdown_it.token import Token

from bot.domain.kinds import IncidentKind, Severity
from bot.domain.runbooks import Signal
from bot.runbooks.problems import ProblemLog

REQUIRED_KEYS = ("kind", "title", "severity")
KNOWN_KEYS = (*REQUIRED_KEYS, "owners", "signals", "default")
# The YAML text starts on the line after the opening `---`, file line 2.
_FIRST_YAML_LINE = 2
_Choice = TypeVar("_Choice", IncidentKind, Severity)


@dataclass(frozen=True)
class FrontMatter:
    kind: IncidentKind
    title: str
    severity: Severity
    owners: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()
    is_default: bool = False


@dataclass(frozen=True)
class _Entry:
    """One top-level key: its value, and the YAML nodes that say where it was written."""

    name: str
    value: Any
    key_node: yaml.Node
    value_node: yaml.Node

    @property
    def line(self) -> int:
        return _line(self.key_node)


def read_front_matter(token: Token | None, text: str, log: ProblemLog) -> FrontMatter | None:
    """The front matter, or None after logging why it cannot be used."""
    if token is None:
        if text.splitlines()[:1] == ["---"]:
            log.add(1, "front matter is not closed: end it with a `---` line")
        else:
            log.add(1, "missing front matter: start the file with `---`, YAML keys, `---`")
        return None
    entries = _load(token.content, log)
    if entries is None:
        return None
    _check_keys(entries, log)
    return _build({entry.name: entry for entry in entries}, log)


def _load(content: str, log: ProblemLog) -> list[_Entry] | None:
    """The top-level keys in the order written, duplicates included."""
    try:
        node = yaml.compose(content, Loader=yaml.SafeLoader)
        if node is None:  # empty: the missing keys are reported by _check_keys
            return []
        if not isinstance(node, yaml.MappingNode):
            log.add(_line(node), "front matter must be YAML keys and values (`kind: quality`)")
            return None
        values = yaml.safe_load(content)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = _FIRST_YAML_LINE + mark.line if mark else 1
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        log.add(line, f"invalid YAML in front matter: {reason}")
        return None
    return [_Entry(str(k.value), values.get(k.value), k, v) for k, v in node.value]


def _check_keys(entries: list[_Entry], log: ProblemLog) -> None:
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            log.add(entry.line, f"duplicate front matter key `{entry.name}`")
        elif entry.name not in KNOWN_KEYS:
            known = ", ".join(KNOWN_KEYS)
            log.add(entry.line, f"unknown front matter key `{entry.name}`; keys: {known}")
        seen.add(entry.name)
    for name in REQUIRED_KEYS:
        if name not in seen:
            log.add(1, f"missing front matter key `{name}`")


def _build(entries: dict[str, _Entry], log: ProblemLog) -> FrontMatter | None:
    before = len(log.problems)
    kind = _choice(IncidentKind, entries.get("kind"), log)
    severity = _choice(Severity, entries.get("severity"), log)
    title = _text(entries.get("title"), "title", log)
    owners = _owners(entries.get("owners"), log)
    signals = _signals(entries.get("signals"), log)
    is_default = entries["default"].value if "default" in entries else False
    if not isinstance(is_default, bool):
        log.add(entries["default"].line, "`default` must be true or false")
    if len(log.problems) > before or kind is None or severity is None or title is None:
        return None
    return FrontMatter(kind, title, severity, owners, signals, is_default)


def _choice(choices: type[_Choice], entry: _Entry | None, log: ProblemLog) -> _Choice | None:
    if entry is None:
        return None
    # A runbook is for one of the six kinds: an unclassified incident has none by design.
    valid = [member for member in choices if member is not IncidentKind.UNKNOWN]
    chosen = next((member for member in valid if member.value == str(entry.value)), None)
    if chosen is None:
        name = "kind" if choices is IncidentKind else "severity"
        listed = ", ".join(member.value for member in valid)
        log.add(entry.line, f"unknown {name} `{entry.value}`; valid: {listed}")
    return chosen


def _text(entry: _Entry | None, key: str, log: ProblemLog) -> str | None:
    if entry is None:
        return None
    if isinstance(entry.value, str) and entry.value.strip():
        return entry.value.strip()
    log.add(entry.line, f"`{key}` must be non-empty text")
    return None


def _owners(entry: _Entry | None, log: ProblemLog) -> tuple[str, ...]:
    if entry is None:
        return ()
    owners = entry.value
    if isinstance(owners, list) and all(isinstance(o, str) and o.strip() for o in owners):
        return tuple(o.strip() for o in owners)
    log.add(entry.line, '`owners` must be a list of names, e.g. ["@ai-platform-oncall"]')
    return ()


def _signals(entry: _Entry | None, log: ProblemLog) -> tuple[Signal, ...]:
    example = '{name: eval_pass_rate, threshold: "< 85% over 1h"}'
    if entry is None:
        return ()
    if not isinstance(entry.value, list) or not isinstance(entry.value_node, yaml.SequenceNode):
        log.add(entry.line, f"`signals` must be a list of {{name, threshold}}, e.g. [{example}]")
        return ()
    signals = []
    for item, node in zip(entry.value, entry.value_node.value, strict=True):
        if _is_signal(item):
            signals.append(Signal(str(item["name"]).strip(), str(item["threshold"]).strip()))
        else:
            log.add(_line(node), f"a signal needs exactly a name and a threshold, e.g. {example}")
    return tuple(signals)


def _is_signal(item: object) -> bool:
    return (
        isinstance(item, dict)
        and set(item) == {"name", "threshold"}
        and all(isinstance(v, str | int | float) and str(v).strip() for v in item.values())
    )


def _line(node: yaml.Node) -> int:
    return _FIRST_YAML_LINE + node.start_mark.line
