"""Every mapping of settings is checked the same way: a key nobody knows is an error naming its
path, never ignored. A misspelt `roles:` skipped in silence would leave nobody able to approve,
and it would only show at 3 a.m.; a did-you-mean makes the fix obvious."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from typing import Any

from bot.domain.errors import ConfigError

_SECRET_SLIPS = ("secret", "token")


def check_keys(key: str, body: dict[Any, Any], allowed: Collection[str], what: str) -> None:
    """Raise naming the first unknown key of `body` (as `key.name`), the likeliest meant one
    and the valid ones. A `key` ending in `:` is a file: its keys follow after a space."""
    unknown = sorted(str(k) for k in body if k not in allowed)
    if not unknown:
        return
    name = unknown[0]
    hint = did_you_mean(name, allowed)
    if name in _SECRET_SLIPS:
        hint += " Secrets stay out of this file: name an environment variable with `…_env`."
    path = f"{key} {name}" if key.endswith(":") else f"{key}.{name}"
    raise ConfigError(path, f"is not a {what}; valid: {', '.join(allowed)}.{hint}")


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """` Did you mean `x`?` for the closest known word, or nothing when none is close."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" Did you mean `{close[0]}`?" if close else ""
