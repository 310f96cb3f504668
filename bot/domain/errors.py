"""Every error the core raises; the edges turn them into messages for people.

SteadyhandError
 ├── UsageError            the user asked for something malformed (unknown subcommand, kind …)
 ├── NotFound              an incident, runbook or service that does not exist
 │    └── NotAnIncidentChannel
 ├── Conflict              the request is valid but the state forbids it (already resolved …)
 ├── NotAllowed            the person lacks the role the request needs
 ├── RunbookError          a runbook that cannot be used; carries its lint problems
 └── ConfigError           a missing or invalid setting; names the setting
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SteadyhandError(Exception):
    """Base class: the message is written for the person who will read it."""


class UsageError(SteadyhandError):
    pass


class NotFound(SteadyhandError):
    pass


class NotAnIncidentChannel(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "This channel is not an incident channel. Run this in the incident's channel, "
            "or open one with `/incident open <kind> <title>`."
        )


class Conflict(SteadyhandError):
    pass


class NotAllowed(SteadyhandError):
    pass


@dataclass(frozen=True)
class LintProblem:
    """One problem in one runbook file, printed as `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class RunbookError(SteadyhandError):
    def __init__(self, problems: Sequence[LintProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(SteadyhandError):
    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {problem}")
