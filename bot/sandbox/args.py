"""Reading a Web API call's arguments the way Slack does.

Arguments arrive in a query string, a form body or a JSON body (slack_sdk uses all three), so
a value may be the string "true" or the boolean true, a JSON-encoded string or a list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.sandbox.errors import SlackError

_TRUE = {"true", "1", "yes"}


class Args:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str, *, missing: str = "invalid_arguments") -> str:
        """A required string argument; `missing` is the code Slack sends when it is absent."""
        value = self.optional_text(name)
        if not value:
            raise SlackError(missing)
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str | int | float | bool):
            return str(value)
        raise SlackError("invalid_arguments")

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in _TRUE

    def integer(self, name: str, *, default: int, error: str = "invalid_arguments") -> int:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SlackError(error) from None

    def decoded(self, name: str, *, error: str = "invalid_arguments") -> Any:
        """A structured argument (blocks, view, files …), decoding it if sent as a JSON string."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError(error) from None

    def id_list(self, name: str, *, missing: str = "invalid_arguments") -> list[str]:
        """A list of ids, sent either comma-separated or as a JSON array."""
        value = self.values.get(name)
        if isinstance(value, list):
            ids = [str(item).strip() for item in value]
        elif isinstance(value, str):
            ids = [part.strip() for part in value.split(",")]
        else:
            ids = []
        ids = [item for item in ids if item]
        if not ids:
            raise SlackError(missing)
        return ids
