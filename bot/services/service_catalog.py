"""Services registered over the API, next to those declared in steadyhand.yml.

A registration follows the same rules as steadyhand.yml, is stored in the database, and is
cached in each process's Catalog: at once in the process that took it, and within one scheduler
tick in every other (`refresh_catalog`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import service_rules
from bot.domain.errors import ConfigError, Conflict, UsageError
from bot.domain.registry import ServiceSpec, built_in_flags
from bot.services.deps import Deps
from bot.services.registry import MAX_ACTOR

FIELDS = ("name", "components", "flags", "environment")
# Drivers and checks name the environment variables holding their secrets, and where the bot
# sends signed requests: only whoever deploys the bot decides those.
CONFIG_ONLY = ("driver", "flag_driver", "verify")
MAX_REGISTERED = 1000  # every process keeps them all in memory


async def register_service(
    deps: Deps, body: Mapping[str, Any], by: str
) -> tuple[ServiceSpec, bool]:
    """Register a service, or update one registered before (its components' first versions,
    flags and environment). True when it is new."""
    spec = parse_registration(body)
    by = by.strip()
    if not by or len(by) > MAX_ACTOR:
        raise UsageError(f"Say who registers the service (at most {MAX_ACTOR} characters).")
    if deps.catalog.is_declared(spec.name):
        raise Conflict(f"Service `{spec.name}` is declared in steadyhand.yml; change it there.")
    async with deps.uow() as uow:
        known = {s.name for s in await uow.registry.registered_services()}
        if spec.name not in known and len(known) >= MAX_REGISTERED:
            raise Conflict(f"{MAX_REGISTERED} services are registered already; no more fit.")
        await uow.registry.save_service(spec, by, deps.clock.now())
        await uow.commit()
    deps.catalog.put_registered(spec)
    return spec, spec.name not in known


async def refresh_catalog(deps: Deps) -> int:
    """Load the registered services into the Catalog; how many there are."""
    seen = deps.catalog.generation
    async with deps.uow() as uow:
        found = await uow.registry.registered_services()
    # Skipped when this process registered a service meanwhile: `found` may predate it.
    deps.catalog.set_registered(found, seen)
    return len(found)


async def every_service(deps: Deps) -> list[tuple[ServiceSpec, bool]]:
    """Each service, and whether steadyhand.yml declares it (else it was registered)."""
    await refresh_catalog(deps)
    return [(spec, deps.catalog.is_declared(spec.name)) for spec in deps.catalog]


def parse_registration(body: Mapping[str, Any]) -> ServiceSpec:
    """The service a registration describes; each error names the field."""
    if given := [k for k in CONFIG_ONLY if k in body]:
        raise UsageError(
            f"`{given[0]}` cannot be registered over the API, as it carries secrets: "
            "set driver/flag_driver/verify in steadyhand.yml."
        )
    if unknown := sorted(set(body) - set(FIELDS)):
        raise UsageError(f"Unknown field `{unknown[0]}`; valid fields: {', '.join(FIELDS)}.")
    if body.get("name") is None:
        raise UsageError("`name` is required: the service's name, e.g. `support-bot`.")
    try:
        return ServiceSpec(
            service_rules.service_name("name", body["name"]),
            components=service_rules.components("components", body.get("components") or {}),
            flags={**built_in_flags(), **service_rules.flags("flags", body.get("flags") or {})},
            environment=service_rules.environment(
                "environment", body.get("environment", "production")
            ),
        )
    except ConfigError as exc:
        problem = str(exc).removeprefix(f"{exc.setting}: ")
        raise UsageError(f"`{exc.setting}`: {problem}") from None
