"""Known-good by itself: a version that ran for the clean period with no incident opened on
its service since it started is marked known-good, once."""

from __future__ import annotations

from bot.domain.registry import KnownGood, format_duration
from bot.domain.timeline import BOT_ACTOR
from bot.services.deps import Deps


async def mark_clean_versions(deps: Deps) -> int:
    """How many versions it marked. Only versions that arrived by a recorded change count:
    for a declared first version nobody knows when it started."""
    now, after = deps.clock.now(), deps.policy.known_good_after
    reason = f"ran clean for {format_duration(after)}"
    marked = 0
    async with deps.uow() as uow:
        for spec in deps.catalog:
            for component in spec.components:
                latest = await uow.registry.changes(spec.name, component=component, limit=1)
                if not latest or latest[0].at + after > now:
                    continue
                change = latest[0]
                marks = await uow.registry.known_good(spec.name, component)
                if any(k.version == change.to_version for k in marks):
                    continue
                if await uow.incidents.any_opened_since(spec.name, change.at):
                    continue
                await uow.registry.mark_known_good(
                    KnownGood(spec.name, component, change.to_version, BOT_ACTOR, now, reason)
                )
                marked += 1
        await uow.commit()
    return marked
