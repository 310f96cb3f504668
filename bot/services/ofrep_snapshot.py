"""Keeping this process's OFREP snapshot current: rebuilt after every commit that changed the
registry here, and whenever its version row says another process changed it."""

from __future__ import annotations

import logging

from bot.domain.registry_snapshot import RegistrySnapshot, build_snapshot
from bot.ports import DatabaseUnavailable
from bot.services.deps import Deps
from bot.services.registry import running_in

log = logging.getLogger(__name__)


async def refresh_snapshot(deps: Deps) -> RegistrySnapshot:
    """Read the registry's version; when it moved, rebuild the snapshot and swap it in. An
    unchanged registry costs one single-row read."""
    served = deps.served
    async with served.lock:
        seen = deps.catalog.generation
        async with deps.uow() as uow:
            # The version first: whatever is read after it is at least that new, so a change
            # committed meanwhile is read again on the next check rather than missed.
            version = await uow.registry.version()
            if version == served.current.version:
                return served.current
            registered = await uow.registry.registered_services()
            # Another replica's registrations too, without waiting for the scheduler's tick.
            deps.catalog.set_registered(registered, seen)
            specs = [s for s in deps.catalog if deps.catalog.is_declared(s.name)]
            specs += [s for s in registered if not deps.catalog.is_declared(s.name)]
            running = [await running_in(uow, spec) for spec in specs]
        served.current = build_snapshot(version, running)
        served.loads += 1
        return served.current


async def check_snapshot(deps: Deps) -> None:
    """As `refresh_snapshot`, for callers that must not fail (after a commit, a poll): while
    the database is out the snapshot serves on, and the next check catches up."""
    try:
        await refresh_snapshot(deps)
    except DatabaseUnavailable as exc:
        log.warning(
            "OFREP serves registry version %s for now: %s", deps.served.current.version, exc
        )


async def current_snapshot(deps: Deps) -> RegistrySnapshot:
    """What OFREP answers from; loaded once if nothing loaded it yet (bootstrap does)."""
    if deps.served.loaded:
        return deps.served.current
    return await refresh_snapshot(deps)
