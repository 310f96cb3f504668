"""The post-mortem of one incident, as Markdown, assembled from what the store holds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.domain.errors import NotFound
from bot.domain.postmortem import CHANGE_WINDOW, Measures, assemble
from bot.render.postmortem import render_postmortem
from bot.services.deps import Deps

# The registry reads changes from a moment onwards, newest first: this bounds the changes made
# after opening (which are not needed) so the window before opening is still covered.
MAX_CHANGES = 10_000


@dataclass(frozen=True)
class Draft:
    markdown: str
    measures: Measures  # for the one-line summary that goes with the uploaded file


async def postmortem_markdown(deps: Deps, incident_id: str) -> str:
    return (await postmortem_draft(deps, incident_id)).markdown


async def postmortem_draft(deps: Deps, incident_id: str) -> Draft:
    async with deps.uow() as uow:
        incident = await uow.incidents.get(incident_id)
        if incident is None:
            raise NotFound(f"No incident with ID `{incident_id}`.")
        events = await uow.timeline.for_incident(incident.id)
        changes = (
            await uow.registry.changes(
                incident.service, since=incident.opened_at - CHANGE_WINDOW, limit=MAX_CHANGES
            )
            if incident.service
            else []
        )
    now = deps.clock.now()
    zone = ZoneInfo(deps.policy.display_timezone)
    template = deps.policy.postmortem_template

    def render() -> Draft:
        pm = assemble(incident, events, changes, now=now, display_zone=zone)
        return Draft(render_postmortem(pm, template), pm.measures)

    # Tens of thousands of events take a noticeable fraction of a second: off the event loop,
    # so Slack's acks and the API keep being answered meanwhile.
    return await asyncio.to_thread(render)
