"""Collects the problems of one runbook file as the parser finds them."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.errors import LintProblem


@dataclass
class ProblemLog:
    path: str
    problems: list[LintProblem] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.problems.append(LintProblem(self.path, line, message))

    def sorted(self) -> list[LintProblem]:
        # Stable sort: problems on one line keep the order they were found in.
        return sorted(self.problems, key=lambda p: p.line)
