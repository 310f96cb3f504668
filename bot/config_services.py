"""The `services:` section of steadyhand.yml, validated into a Catalog.

Either a list of names (no components, no flags) or a mapping
`name → {components: {component: first_version}, flags: {name: {kind, default}}, environment,
driver, flag_driver, verify}` (the last three in config_drivers.py; the rest in
domain/service_rules.py, shared with services registered over the API).
Every service also has the built-in flags (kill_switch, dry_run), off by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config_drivers import parse_driver, parse_verification
from bot.domain import service_rules
from bot.domain.errors import ConfigError
from bot.domain.known_keys import check_keys
from bot.domain.registry import Catalog, ServiceSpec, built_in_flags

_SERVICE_KEYS = ("components", "flags", "environment", "driver", "flag_driver", "verify")


def parse_catalog(where: str, services: Any, environ: Mapping[str, str]) -> Catalog:
    """`environ` holds the secrets that drivers name by environment variable."""
    key = f"{where}: services"
    _name = service_rules.service_name
    if isinstance(services, list):
        return Catalog([_spec(key, _name(key, n), None, environ) for n in services])
    if isinstance(services, dict):
        return Catalog([_spec(key, _name(key, n), body, environ) for n, body in services.items()])
    raise ConfigError(key, "must be a list of service names or a mapping name → details.")


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
        components=service_rules.components(f"{key}.components", body.get("components") or {}),
        flags={
            **built_in_flags(),
            **service_rules.flags(f"{key}.flags", body.get("flags") or {}),
        },
        environment=service_rules.environment(
            f"{key}.environment", body.get("environment", "production")
        ),
        driver=parse_driver(f"{key}.driver", driver, environ, for_flags=False),
        flag_driver=flag_driver,
        verification=None if verify is None else parse_verification(f"{key}.verify", verify),
    )
