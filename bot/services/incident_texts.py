"""What an incident's channel topic and header say about it."""

from __future__ import annotations

from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.runbooks import Runbook
from bot.services.deps import Deps


def runbook_problem(deps: Deps, kind: IncidentKind, runbook: Runbook | None) -> str | None:
    if runbook is not None:
        return None
    if kind is IncidentKind.UNKNOWN:
        return "Not classified yet: choose the kind below and its runbook's checklist is posted."
    broken = deps.runbooks.broken_paths()
    if broken:
        return (
            f"No usable {kind.value} runbook. Broken runbooks: {', '.join(broken)} "
            "(run `steadyhand runbooks lint`)."
        )
    return f"No {kind.value} runbook in the runbooks folder; there is no checklist."


def topic(incident: Incident) -> str:
    parts = [incident.kind.label, incident.severity.value.upper(), incident.status.value]
    if incident.service:
        parts.append(f"service {incident.service}")
    return " · ".join(parts) + f" · {incident.title}"
