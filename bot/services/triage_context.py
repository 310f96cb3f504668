"""Questions 2 and 3 of the five, pre-filled from the registry."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import messages as m
from bot.domain.errors import NotFound
from bot.domain.incidents import Incident
from bot.domain.triage_context import TriageContext
from bot.services.deps import Deps
from bot.services.lookup import incident_by_id
from bot.services.registry import recent_changes, running

RECENT = timedelta(hours=24)


async def triage_context(deps: Deps, incident: Incident) -> TriageContext | None:
    """None when the incident names no service the registry knows."""
    if incident.service is None:
        return None
    try:
        now = await running(deps, incident.service)
    except NotFound:  # a service named before it was declared, or since removed
        return None
    changes = await recent_changes(deps, incident.service, RECENT)
    return TriageContext(
        service=incident.service,
        window=RECENT,
        recent_changes=tuple(changes),
        flags=tuple(now.flags.values()),
        rollback_targets=tuple(now.known_good.values()),
    )


async def five_questions_form(deps: Deps, incident_id: str) -> m.FiveQuestionsModal:
    incident = await incident_by_id(deps, incident_id)
    return m.FiveQuestionsModal(incident, await triage_context(deps, incident))
