"""A runbook's task lists instantiated for one incident."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.runbooks import Runbook

# Slack allows 50 blocks a message; each step is one block, and each page has a heading.
STEPS_PER_MESSAGE = 45


@dataclass(frozen=True)
class ChecklistStep:
    position: int  # 0-based, stable for the incident's life
    section: str
    text: str
    action: str | None = None
    checked_by: str | None = None
    checked_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.checked_by is not None

    def check(self, user: str, at: datetime) -> ChecklistStep:
        return replace(self, checked_by=user, checked_at=at)

    def uncheck(self) -> ChecklistStep:
        return replace(self, checked_by=None, checked_at=None)


def steps_from_runbook(runbook: Runbook) -> list[ChecklistStep]:
    steps: list[ChecklistStep] = []
    for section in runbook.checklist_sections:
        for task in section.tasks:
            steps.append(
                ChecklistStep(
                    position=len(steps), section=section.title, text=task.text, action=task.action
                )
            )
    return steps


def pages(steps: Sequence[ChecklistStep]) -> list[list[ChecklistStep]]:
    """Split a checklist into message-sized pages; never drops a step."""
    return [list(steps[i : i + STEPS_PER_MESSAGE]) for i in range(0, len(steps), STEPS_PER_MESSAGE)]


def progress(steps: Sequence[ChecklistStep]) -> tuple[int, int]:
    return sum(1 for s in steps if s.done), len(steps)
