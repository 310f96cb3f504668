"""The parsed form of a Markdown runbook: plain values, no Markdown library in sight.

Parsing lives in `bot.runbooks` (it needs markdown-it-py); the core only sees these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.errors import LintProblem
from bot.domain.kinds import IncidentKind, Severity

# Sections every runbook has, in this order.
SECTION_TITLES = (
    "How to recognize",
    "First checks",
    "Safe fallbacks",
    "Rollback",
    "Escalation",
    "Known limits",
)
# Sections whose task lists become the incident's checklist.
CHECKLIST_SECTIONS = ("First checks", "Safe fallbacks")


@dataclass(frozen=True)
class Signal:
    """A symptom the runbook watches for, e.g. `eval_score` `< 0.80 over 1h`."""

    name: str
    threshold: str


@dataclass(frozen=True)
class TaskItem:
    """One `- [ ]` item. `action` names a one-click action (`rollback prompt`), if any."""

    text: str
    line: int
    action: str | None = None


@dataclass(frozen=True)
class Section:
    title: str
    line: int
    markdown: str  # the section body as written, for display
    tasks: tuple[TaskItem, ...] = ()


@dataclass(frozen=True)
class Runbook:
    key: str  # file stem, unique within the runbooks folder
    path: str
    kind: IncidentKind
    title: str
    default_severity: Severity
    version: str  # short content hash: the post-mortem names the exact runbook used
    owners: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()
    is_default: bool = False
    sections: tuple[Section, ...] = field(default=())

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title.lower() == title.lower()), None)

    @property
    def recognize_summary(self) -> str:
        found = self.section("How to recognize")
        return found.markdown if found else ""

    @property
    def checklist_sections(self) -> tuple[Section, ...]:
        return tuple(s for title in CHECKLIST_SECTIONS if (s := self.section(title)) is not None)


class RunbookLibrary:
    """The runbooks that parsed, plus the problems of those that did not.

    A broken runbook never stops the bot: it is left out and reported, the others serve.
    """

    def __init__(self, runbooks: list[Runbook], problems: list[LintProblem]) -> None:
        self.runbooks = sorted(runbooks, key=lambda r: r.key)
        self.problems = problems

    def get(self, key: str) -> Runbook | None:
        return next((r for r in self.runbooks if r.key == key), None)

    def default_for(self, kind: IncidentKind) -> Runbook | None:
        """The runbook marked `default: true` for the kind, else the first by file name."""
        candidates = [r for r in self.runbooks if r.kind is kind]
        return next((r for r in candidates if r.is_default), candidates[0] if candidates else None)

    def broken_paths(self) -> list[str]:
        return sorted({p.path for p in self.problems})
