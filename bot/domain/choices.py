"""Reading a word typed by a person as one of a closed set of values."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TypeVar

from bot.domain.errors import UsageError

Choice = TypeVar("Choice", bound=StrEnum)


def parse_choice(
    choices: type[Choice],
    text: str,
    what: str,
    plural: str,
    *,
    allowed: Sequence[Choice] | None = None,
) -> Choice:
    """`parse_choice(Severity, "SEV1", "severity", "severities")`; an unknown word is refused
    with every valid one listed. `allowed`, when given, is the part of `choices` people may
    name; the rest are refused like unknown words."""
    valid = tuple(choices) if allowed is None else tuple(allowed)
    word = text.strip().lower()
    for choice in valid:
        if choice.value == word:
            return choice
    listed = ", ".join(c.value for c in valid)
    raise UsageError(f"Unknown {what} `{text}`. Valid {plural}: {listed}.")
