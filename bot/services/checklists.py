"""Ticking and unticking checklist steps."""

from __future__ import annotations

from bot.domain import messages as m
from bot.domain.checklists import STEPS_PER_MESSAGE, pages
from bot.domain.incidents import Incident
from bot.domain.timeline import EventType
from bot.services.deps import Deps
from bot.services.lookup import incident_by_id
from bot.services.timeline import record


async def set_step(deps: Deps, incident: Incident, position: int, done: bool, user: str) -> None:
    """Record who ticked (or unticked) a step and redraw its page for everyone."""
    incident_id = incident.id
    step = incident.step(position)
    if step.done == done:
        return  # already in that state: a repeat click, or two people ticking at once
    now = deps.clock.now()
    changed = step.check(user, now) if done else step.uncheck()
    async with deps.uow() as uow:
        await uow.incidents.update_step(incident_id, changed)
        await record(
            uow,
            incident_id,
            EventType.STEP_CHECKED if done else EventType.STEP_UNCHECKED,
            user,
            now,
            f"{'Checked' if done else 'Unchecked'} “{step.text}”",
            position=position,
            section=step.section,
        )
        await uow.commit()
    await redraw_page(deps, incident_id, position // STEPS_PER_MESSAGE)


async def redraw_page(deps: Deps, incident_id: str, page_index: int) -> None:
    # Read again after the commit, so a concurrent tick on the same page is not drawn away.
    incident = await incident_by_id(deps, incident_id)
    chunks = pages(incident.steps)
    if incident.channel_id and page_index < len(incident.checklist_ts):
        page = m.ChecklistPage(incident.id, page_index + 1, len(chunks), tuple(chunks[page_index]))
        await deps.chat.update(incident.channel_id, incident.checklist_ts[page_index], page)
