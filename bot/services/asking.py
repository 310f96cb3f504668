"""Where actions are asked for: a slash command, a Roll back button next to a change, a
runbook step's button, or Undo after a failed verification. Each finds the incident and the
service, plans the action from the registry, and hands it to `request_action`."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.actions import ActionKind, ActionRequest
from bot.domain.errors import Conflict, NotFound, UsageError
from bot.domain.incidents import Incident
from bot.services import action_plans as plans
from bot.services.actions import request_action
from bot.services.deps import Deps
from bot.services.lookup import incident_by_id, incident_in_channel


async def ask_rollback(
    deps: Deps,
    channel: str,
    user: str,
    service: str | None,
    component: str,
    version: str | None,
    reason: str,
) -> ActionRequest:
    incident = await incident_in_channel(deps, channel)
    name = _service(deps, incident, service)
    action = await plans.plan_rollback(deps, name, component, version)
    return await request_action(deps, incident, action, user, reason)


async def ask_restore(
    deps: Deps,
    channel: str,
    user: str,
    service: str | None,
    ago: timedelta | None,
    at: datetime | None,
    reason: str,
) -> ActionRequest:
    incident = await incident_in_channel(deps, channel)
    name = _service(deps, incident, service)
    moment = at if at is not None else deps.clock.now() - (ago or timedelta())
    action = await plans.plan_restore(deps, name, moment)
    return await request_action(deps, incident, action, user, reason)


async def ask_flag(
    deps: Deps, channel: str, user: str, service: str | None, flag: str, value: str, reason: str
) -> ActionRequest:
    incident = await incident_in_channel(deps, channel)
    action = await plans.plan_flag(deps, _service(deps, incident, service), flag, value)
    return await request_action(deps, incident, action, user, reason)


async def ask_switch(
    deps: Deps,
    channel: str,
    user: str,
    kind: ActionKind,
    service: str | None,
    on: bool,
    reason: str,
) -> ActionRequest:
    incident = await incident_in_channel(deps, channel)
    action = await plans.plan_switch(deps, _service(deps, incident, service), kind, on)
    return await request_action(deps, incident, action, user, reason)


async def ask_undo_change(deps: Deps, channel: str, user: str, change_id: str) -> ActionRequest:
    """The Roll back button next to a change: back to the version before it."""
    incident = await incident_in_channel(deps, channel)
    async with deps.uow() as uow:
        change = await uow.registry.get_change(change_id)
    if change is None:
        raise NotFound(f"No change `{change_id}`.")
    if change.from_version is None:
        raise Conflict("This was the first version recorded; there is nothing before it.")
    action = await plans.plan_rollback(
        deps, change.service, change.component.value, change.from_version
    )
    reason = f"undo {change.component.value} {change.from_version} → {change.to_version}"
    return await request_action(deps, incident, action, user, reason)


async def ask_runbook_step(deps: Deps, incident_id: str, position: int, user: str) -> ActionRequest:
    """A Safe-fallback step's button: its action, on the incident's service."""
    incident = await incident_by_id(deps, incident_id)
    step = incident.step(position)
    if step.action is None:
        raise UsageError(f"Step {position + 1} names no action.")
    action = await plans.plan_named(deps, _service(deps, incident, None), step.action)
    return await request_action(deps, incident, action, user, f"runbook step: {step.text}")


async def ask_undo_request(deps: Deps, request_id: str, user: str) -> ActionRequest:
    """Undo an applied action, e.g. after its verification failed."""
    async with deps.uow() as uow:
        earlier = await uow.actions.get(request_id)
    if earlier is None:
        raise NotFound(f"No action request `{request_id}`.")
    incident = await incident_by_id(deps, earlier.incident_id)
    undo = earlier.action.reversed()
    return await request_action(deps, incident, undo, user, f"undo request {earlier.id}")


def _service(deps: Deps, incident: Incident, named: str | None) -> str:
    if named is not None:
        return deps.catalog.service(named).name
    if incident.service is not None and incident.service in deps.catalog.names:
        return incident.service
    names = deps.catalog.names
    if len(names) == 1:
        return names[0]
    known = ", ".join(names) or "none are declared in steadyhand.yml"
    raise UsageError(f"This incident names no service; name one. Known services: {known}.")
