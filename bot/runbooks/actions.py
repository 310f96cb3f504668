"""The one-click actions a Safe fallbacks item may name, e.g. `action: flag new-retriever off`.

Forms: `rollback <component>`, `flag <flag-name> on|off|<0-100>%`, `kill`, `dry-run on|off`.
This only checks the words; whether the service has that flag is known when it runs.
"""

from __future__ import annotations

import re

COMPONENTS = (
    "model",
    "prompt",
    "retrieval_index",
    "embedding_model",
    "chunking",
    "routing",
    "tool_permissions",
    "output_schema",
    "memory",
)
ACTION_FORMS = "rollback <component>, flag <flag-name> on|off|<0-100>%, kill, dry-run on|off"
# Flag names end up in OFREP keys (`<service>.<flag>`), so keep them to key-safe characters.
_FLAG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def normalise_action(span: str) -> str:
    """`action:  rollback   prompt ` -> `rollback prompt`."""
    return " ".join(span.strip().removeprefix("action:").split())


def action_problem(action: str) -> str | None:
    """Why `action` (already normalised) is not a valid action, or None when it is."""
    match action.split():
        case []:
            return f"empty action; valid actions: {ACTION_FORMS}"
        case ["rollback", component]:
            if component in COMPONENTS:
                return None
            return f"unknown component `{component}`; components: {', '.join(COMPONENTS)}"
        case ["flag", name, value]:
            if not _FLAG_NAME.fullmatch(name):
                return f"invalid flag name `{name}`: use letters, digits, `-`, `_` and `.`"
            if value in ("on", "off") or _is_percentage(value):
                return None
            return f"flag value must be on, off or 0-100%, not `{value}`"
        case ["kill"] | ["dry-run", "on" | "off"]:
            return None
        case _:
            return f"unknown action `{action}`; valid actions: {ACTION_FORMS}"


def _is_percentage(value: str) -> bool:
    number = value.removesuffix("%")
    return value.endswith("%") and number.isascii() and number.isdigit() and 0 <= int(number) <= 100
