"""The post-mortem of one incident, as Markdown, assembled from what the store holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.domain.errors import NotFound
from bot.domain.findings import pinned_messages
from bot.domain.postmortem import CHANGE_WINDOW, Findings, Measures, PostMortem, assemble
from bot.render.postmortem import render_postmortem
from bot.services.deps import Deps

# The registry reads changes from a moment onwards, newest first: this bounds the changes made
# after opening (which are not needed) so the window before opening is still covered.
MAX_CHANGES = 10_000


@dataclass(frozen=True)
class Draft:
    markdown: str
    measures: Measures  # for the one-line summary that goes with the uploaded file
    picture: bytes | None = None  # the timeline as a PNG, when asked for and it could be drawn


async def postmortem_markdown(deps: Deps, incident_id: str) -> str:
    return (await postmortem_draft(deps, incident_id)).markdown


async def postmortem_picture(deps: Deps, incident_id: str) -> bytes | None:
    """The timeline picture alone; None when it could not be drawn (the reason is logged)."""
    assembled = await _assembler(deps, incident_id)
    return await asyncio.to_thread(lambda: _draw(assembled()))


async def postmortem_draft(deps: Deps, incident_id: str, *, picture: bool = False) -> Draft:
    assembled = await _assembler(deps, incident_id)
    template = deps.policy.postmortem_template

    def render() -> Draft:
        pm = assembled()
        drawn = _draw(pm) if picture else None
        return Draft(render_postmortem(pm, template), pm.measures, drawn)

    # Tens of thousands of events take a noticeable fraction of a second: off the event loop,
    # so Slack's acks and the API keep being answered meanwhile.
    return await asyncio.to_thread(render)


async def _assembler(deps: Deps, incident_id: str) -> Callable[[], PostMortem]:
    """Everything the post-mortem is made of, read in one unit of work; assembling it is
    left to the caller's worker thread."""
    async with deps.uow() as uow:
        incident = await uow.incidents.get(incident_id)
        if incident is None:
            raise NotFound(f"No incident with ID `{incident_id}`.")
        events = await uow.timeline.for_incident(incident.id)
        alerts = await uow.alerts.for_incident(incident.id)
        changes = (
            await uow.registry.changes(
                incident.service, since=incident.opened_at - CHANGE_WINDOW, limit=MAX_CHANGES
            )
            if incident.service
            else []
        )
        findings = Findings(
            tuple(pinned_messages(await uow.findings.pins(incident.id))),
            tuple(await uow.findings.examples(incident.id)),
            tuple(await uow.findings.follow_ups(incident.id)),
            deps.policy.pin_reaction,
        )
    now, zone = deps.clock.now(), ZoneInfo(deps.policy.display_timezone)
    return lambda: assemble(
        incident, events, changes, now=now, display_zone=zone, findings=findings, alerts=alerts
    )


def _draw(pm: PostMortem) -> bytes | None:
    # Imported when a picture is wanted: matplotlib takes most of a second to import, which
    # every process that merely serves Markdown (or runs a CLI command) would otherwise pay.
    from bot.render.picture_png import timeline_png

    return timeline_png(pm)
