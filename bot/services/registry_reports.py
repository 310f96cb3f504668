"""The registry as `/incident running`, `/incident changes` and `/incident known-good` see it:
which service a command means, and the reply."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import messages as m
from bot.domain.errors import UsageError
from bot.services import registry
from bot.services.deps import Deps


async def running_report(deps: Deps, channel: str, service: str | None) -> m.RunningReport:
    name = service or await _default_service(deps, channel)
    if name is None:
        known = ", ".join(deps.catalog.names) or "none are declared in steadyhand.yml"
        raise UsageError(f"Name a service: `/incident running <service>`. Known services: {known}.")
    return m.RunningReport(await registry.running(deps, name))


async def changes_report(
    deps: Deps, channel: str, service: str | None, since: timedelta
) -> m.ChangesReport:
    """Without a service named: the incident's (or the only declared one), else every one."""
    name = service or await _default_service(deps, channel)
    changes = await registry.recent_changes(deps, name, since)
    async with deps.uow() as uow:
        in_incident = await uow.incidents.get_by_channel(channel)
    offers = in_incident is not None and in_incident.is_open
    return m.ChangesReport(name, since, tuple(changes), offers_rollback=offers)


async def mark_known_good(
    deps: Deps, user: str, service: str, component: str, version: str
) -> m.Notice:
    mark = await registry.mark_known_good(
        deps, service, component, version, user, f"marked by <@{user}>"
    )
    return m.Notice(
        f"Marked {mark.service} {mark.component.value} `{mark.version}` known-good: "
        "it is now that component's rollback target."
    )


async def _default_service(deps: Deps, channel: str) -> str | None:
    async with deps.uow() as uow:
        incident = await uow.incidents.get_by_channel(channel)
    if incident is not None and incident.service in deps.catalog.names:
        return incident.service
    names = deps.catalog.names
    return names[0] if len(names) == 1 else None
