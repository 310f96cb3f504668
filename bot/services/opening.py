"""Opening an incident: channel, header, checklist, the five questions, the reminder.

The incident is stored first, with the Slack work its opening owes (bot/domain/pending_work.py);
that work is then done at once, and resumed by the scheduler if Slack fails part-way.

An incident of no known kind (only alerts open those) has no runbook yet: under its header it
offers the six kinds, and choosing one switches it to that kind's runbook (`triage`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.domain import messages as m
from bot.domain.checklists import pages, steps_from_runbook
from bot.domain.errors import NotFound, UsageError
from bot.domain.incidents import Incident, channel_name, validate_title
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.pending_work import NewWork, opening_steps
from bot.domain.reminders import Reminder, ReminderKind
from bot.domain.timeline import EventType
from bot.ports import UnitOfWork
from bot.services.deps import Deps
from bot.services.lookup import incident_by_id
from bot.services.pending_work import deliver_now, still_owed
from bot.services.timeline import record


@dataclass(frozen=True)
class OpenIncident:
    kind: IncidentKind
    title: str
    opener: str
    severity: Severity | None = None  # None: the runbook's default severity
    service: str | None = None
    incident_id: str | None = None  # chosen beforehand (alerts, inside their transaction)
    invite: tuple[str, ...] | None = None  # None: the opener
    # With one service declared, an incident naming none is on it; not for an alert that
    # named a service nobody declared.
    default_service: bool = True


async def open_incident(deps: Deps, cmd: OpenIncident) -> Incident:
    """Store the incident with the Slack work its opening owes, in one transaction, then do
    that work; whatever Slack does not finish now the scheduler finishes later."""
    incident = new_incident(deps, cmd)
    invite = [cmd.opener] if cmd.invite is None else list(cmd.invite)
    async with deps.uow() as uow:
        await add_opening(
            deps, uow, incident, invite={"users": invite} if invite else None, alert_summary=None
        )
        await uow.commit()
    await deliver_now(deps, incident.id)
    return await incident_by_id(deps, incident.id)


def new_incident(deps: Deps, cmd: OpenIncident) -> Incident:
    title = validate_title(cmd.title)
    service = _known_service(deps, cmd.service, cmd.default_service)
    runbook = deps.runbooks.default_for(cmd.kind)
    return Incident(
        id=cmd.incident_id or deps.new_id(),
        kind=cmd.kind,
        title=title,
        severity=cmd.severity or (runbook.default_severity if runbook else Severity.SEV2),
        opened_by=cmd.opener,
        commander=cmd.opener,
        opened_at=deps.clock.now(),
        service=service,
        runbook_key=runbook.key if runbook else None,
        runbook_version=runbook.version if runbook else None,
        steps=steps_from_runbook(runbook) if runbook else [],
    )


async def add_opening(
    deps: Deps,
    uow: UnitOfWork,
    incident: Incident,
    *,
    invite: Mapping[str, Any] | None,
    alert_summary: Mapping[str, Any] | None,
) -> None:
    """Write the incident, its first events, its reminder and its opening's Slack work in the
    caller's unit of work: once that commits, the opening cannot be lost."""
    now = incident.opened_at
    # The channel's first choice of name, remembered before Slack is ever asked for it.
    incident.channel_name = channel_name(now, incident.title)
    await uow.incidents.add(incident)
    await record(
        uow,
        incident.id,
        EventType.OPENED,
        incident.opened_by,
        now,
        f"Opened {incident.kind.label.lower()} incident “{incident.title}” "
        f"({incident.severity.value})",
        kind=incident.kind.value,
        severity=incident.severity.value,
        service=incident.service,
        runbook=incident.runbook_key,
        runbook_version=incident.runbook_version,
    )
    delay = timedelta(minutes=deps.policy.triage_reminder_minutes)
    await uow.reminders.add(
        Reminder(deps.new_id(), incident.id, ReminderKind.FIVE_QUESTIONS, now + delay)
    )
    steps = opening_steps(
        incident.kind, len(pages(incident.steps)), invite=invite, alert_summary=alert_summary
    )
    # The keys are the incident's own, so a step is known by its key across retries.
    work = [
        NewWork(f"{incident.id}:open:{n}", incident.id, step, payload)
        for n, (step, payload) in enumerate(steps, start=1)
    ]
    await uow.pending_work.add(work, now)


async def opened_notice(deps: Deps, incident: Incident) -> m.Notice:
    """What the opener is told: the channel, or why Slack has not finished it yet."""
    problem = await still_owed(deps, incident.id)
    if problem is None:
        return m.Notice(f"Opened <#{incident.channel_id}> for “{incident.title}”.")
    where = f"<#{incident.channel_id}>" if incident.channel_id else "its channel"
    return m.Notice(
        f"Recorded the incident “{incident.title}”, but Slack has not finished setting up "
        f"{where} ({problem}). It will be finished as soon as Slack answers again.",
        is_error=True,
    )


def _known_service(deps: Deps, service: str | None, default: bool = True) -> str | None:
    service = (service or "").strip() or None
    if service is None and default and len(deps.catalog.names) == 1:
        return deps.catalog.names[0]  # one service declared: every incident is about it
    # With no services declared, any name is accepted: the registry is optional.
    if service is None or not deps.catalog.names:
        return service
    try:
        return deps.catalog.service(service).name
    except NotFound as exc:
        raise UsageError(str(exc)) from None
