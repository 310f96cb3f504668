"""Reading a word typed by a person as one of a closed set of values."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from bot.domain.errors import UsageError

Choice = TypeVar("Choice", bound=StrEnum)


def parse_choice(choices: type[Choice], text: str, what: str, plural: str) -> Choice:
    """`parse_choice(Severity, "SEV1", "severity", "severities")`; an unknown word is refused
    with every valid one listed."""
    try:
        return choices(text.strip().lower())
    except ValueError:
        valid = ", ".join(c.value for c in choices)
        raise UsageError(f"Unknown {what} `{text}`. Valid {plural}: {valid}.") from None
