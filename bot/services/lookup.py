"""Finding the incident a request is about."""

from __future__ import annotations

from bot.domain.errors import NotAnIncidentChannel, NotFound
from bot.domain.incidents import Incident
from bot.services.deps import Deps


async def incident_in_channel(deps: Deps, channel_id: str) -> Incident:
    incident = await incident_of_channel(deps, channel_id)
    if incident is None:
        raise NotAnIncidentChannel()
    return incident


async def incident_of_channel(deps: Deps, channel_id: str) -> Incident | None:
    """The channel's incident, or None for any other channel (events from everywhere)."""
    async with deps.uow() as uow:
        return await uow.incidents.get_by_channel(channel_id)


async def incident_by_id(deps: Deps, incident_id: str) -> Incident:
    async with deps.uow() as uow:
        incident = await uow.incidents.get(incident_id)
    if incident is None:
        raise NotFound(f"No incident with ID `{incident_id}`.")
    return incident
