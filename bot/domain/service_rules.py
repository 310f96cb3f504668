"""The rules a service's name, components, flags and environment follow, wherever the service
comes from (steadyhand.yml or the API). Each error names the key it is about."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.errors import ConfigError, UsageError
from bot.domain.known_keys import check_keys, did_you_mean
from bot.domain.registry import BUILT_IN_FLAGS, Component, FlagKind, FlagSpec, validate_version

# No dots: OFREP keys are `<service>.<flag>`; no spaces: slash commands split on them.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_NAME_RULE = "letters, digits, `-` and `_`, at most 63 characters"
_DECLARABLE_KINDS = (FlagKind.BOOLEAN, FlagKind.PERCENTAGE)


def service_name(key: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(key, f"`{name}` is not a service name ({_NAME_RULE}).")
    return name


def environment(key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not _NAME.match(raw):
        raise ConfigError(key, f"`{raw}` is not an environment name ({_NAME_RULE}).")
    return raw


def components(key: str, raw: Any) -> dict[Component, str]:
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a mapping component → first version, e.g. `prompt: v1`.")
    names = [c.value for c in Component]
    for text in raw:
        if text not in names:
            raise ConfigError(
                f"{key}.{text}",
                f"is not a component. Valid components: {', '.join(names)}."
                + did_you_mean(str(text), names),
            )
    found: dict[Component, str] = {}
    for text, version in raw.items():
        component = Component(text)
        if not isinstance(version, str | int | float) or isinstance(version, bool):
            raise ConfigError(f"{key}.{text}", "must be the version running now, e.g. `v1`.")
        try:
            found[component] = validate_version(str(version))
        except UsageError as exc:
            raise ConfigError(f"{key}.{text}", str(exc)) from None
    return found


def flags(key: str, raw: Any) -> dict[str, FlagSpec]:
    """The declared flags only; the caller adds the built-in ones."""
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a mapping flag name → {kind, default}.")
    return {name: _flag(f"{key}.{name}", name, body) for name, body in raw.items()}


def _flag(key: str, name: Any, body: Any) -> FlagSpec:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(key, f"is not a flag name ({_NAME_RULE}).")
    if name in BUILT_IN_FLAGS:
        raise ConfigError(key, "is built in to every service; do not declare it.")
    if name in {c.value for c in Component}:
        # `<service>.<name>` is already the OFREP key of the component's pinned version.
        raise ConfigError(key, "is a component's name; give the flag another name.")
    if not isinstance(body, dict):
        raise ConfigError(key, "must be a mapping with `kind` and optional `default`.")
    check_keys(key, body, ("kind", "default"), "flag setting")
    kinds = {k.value: k for k in _DECLARABLE_KINDS}
    kind = kinds.get(str(body.get("kind", "")))
    if kind is None:
        raise ConfigError(f"{key}.kind", f"must be one of: {', '.join(kinds)}.")
    default = body.get("default", False if kind is FlagKind.BOOLEAN else 0)
    if kind is FlagKind.BOOLEAN and not isinstance(default, bool):
        raise ConfigError(f"{key}.default", "must be true or false.")
    if kind is FlagKind.PERCENTAGE and (
        not isinstance(default, int) or isinstance(default, bool) or not 0 <= default <= 100
    ):
        raise ConfigError(f"{key}.default", "must be a whole percentage from 0 to 100.")
    return FlagSpec(name, kind, default)
