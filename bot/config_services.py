"""The `services:` section of steadyhand.yml, validated into a Catalog.

Either a list of names (no components, no flags) or a mapping
`name → {components: {component: first_version}, flags: {name: {kind, default}}, environment,
driver, flag_driver, verify}` (the last three in config_drivers.py).
Every service also has the built-in flags (kill_switch, dry_run), off by default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.config_drivers import check_keys, parse_driver, parse_verification
from bot.domain.errors import ConfigError, UsageError
from bot.domain.registry import (
    BUILT_IN_FLAGS,
    Catalog,
    Component,
    FlagKind,
    FlagSpec,
    ServiceSpec,
    built_in_flags,
    validate_version,
)

# No dots: OFREP keys are `<service>.<flag>`; no spaces: slash commands split on them.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_NAME_RULE = "letters, digits, `-` and `_`, at most 63 characters"
_DECLARABLE_KINDS = (FlagKind.BOOLEAN, FlagKind.PERCENTAGE)
_SERVICE_KEYS = ("components", "flags", "environment", "driver", "flag_driver", "verify")


def parse_catalog(where: str, services: Any, environ: Mapping[str, str]) -> Catalog:
    """`environ` holds the secrets that drivers name by environment variable."""
    key = f"{where}: services"
    if isinstance(services, list):
        return Catalog([_spec(key, _name(key, n), None, environ) for n in services])
    if isinstance(services, dict):
        return Catalog([_spec(key, _name(key, n), body, environ) for n, body in services.items()])
    raise ConfigError(key, "must be a list of service names or a mapping name → details.")


def _name(key: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(key, f"`{name}` is not a service name ({_NAME_RULE}).")
    return name


def _spec(key: str, name: str, body: Any, environ: Mapping[str, str]) -> ServiceSpec:
    key = f"{key}.{name}"
    if body is None:
        return ServiceSpec(name, {}, built_in_flags())
    if not isinstance(body, dict):
        raise ConfigError(key, f"must be a mapping; valid settings: {', '.join(_SERVICE_KEYS)}.")
    check_keys(key, body, _SERVICE_KEYS, "service setting")
    driver = body.get("driver") or "builtin"
    flag_driver, verify = body.get("flag_driver"), body.get("verify")
    if flag_driver is not None:
        flag_driver = parse_driver(f"{key}.flag_driver", flag_driver, environ, for_flags=True)
    return ServiceSpec(
        name,
        components=_components(f"{key}.components", body.get("components") or {}),
        flags={**built_in_flags(), **_flags(f"{key}.flags", body.get("flags") or {})},
        environment=_environment(f"{key}.environment", body.get("environment", "production")),
        driver=parse_driver(f"{key}.driver", driver, environ, for_flags=False),
        flag_driver=flag_driver,
        verification=None if verify is None else parse_verification(f"{key}.verify", verify),
    )


def _environment(key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not _NAME.match(raw):
        raise ConfigError(key, f"`{raw}` is not an environment name ({_NAME_RULE}).")
    return raw


def _components(key: str, raw: Any) -> dict[Component, str]:
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a mapping component → first version, e.g. `prompt: v1`.")
    components: dict[Component, str] = {}
    for text, version in raw.items():
        try:
            component = Component(str(text))
        except ValueError:
            valid = ", ".join(c.value for c in Component)
            raise ConfigError(
                f"{key}.{text}", f"is not a component. Valid components: {valid}."
            ) from None
        if not isinstance(version, str | int | float) or isinstance(version, bool):
            raise ConfigError(f"{key}.{text}", "must be the version running now, e.g. `v1`.")
        try:
            components[component] = validate_version(str(version))
        except UsageError as exc:
            raise ConfigError(f"{key}.{text}", str(exc)) from None
    return components


def _flags(key: str, raw: Any) -> dict[str, FlagSpec]:
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
    if not isinstance(body, dict) or set(body) - {"kind", "default"}:
        raise ConfigError(key, "must be a mapping with `kind` and optional `default`.")
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
