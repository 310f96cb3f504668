"""Opening an incident: channel, header, checklist, the five questions, the reminder.

An incident of no known kind (only alerts open those) has no runbook yet: under its header it
offers the six kinds, and choosing one switches it to that kind's runbook (`triage`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain import messages as m
from bot.domain.checklists import pages, steps_from_runbook
from bot.domain.errors import NotFound, UsageError
from bot.domain.incidents import Incident, channel_name, validate_title
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.reminders import Reminder, ReminderKind
from bot.domain.runbooks import Runbook
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import ChannelNameTaken
from bot.services.deps import Deps
from bot.services.timeline import record
from bot.services.triage_context import triage_context

MAX_NAME_ATTEMPTS = 20


@dataclass(frozen=True)
class OpenIncident:
    kind: IncidentKind
    title: str
    opener: str
    severity: Severity | None = None  # None: the runbook's default severity
    service: str | None = None
    incident_id: str | None = None  # chosen beforehand (alerts): opening it twice is a no-op
    invite: tuple[str, ...] | None = None  # None: the opener
    # With one service declared, an incident naming none is on it; not for an alert that
    # named a service nobody declared.
    default_service: bool = True


async def open_incident(deps: Deps, cmd: OpenIncident) -> Incident:
    if cmd.incident_id is not None:
        async with deps.uow() as uow:
            if (opened := await uow.incidents.get(cmd.incident_id)) is not None:
                return opened
    title = validate_title(cmd.title)
    service = _known_service(deps, cmd.service, cmd.default_service)
    runbook = deps.runbooks.default_for(cmd.kind)
    now = deps.clock.now()
    incident = Incident(
        id=cmd.incident_id or deps.new_id(),
        kind=cmd.kind,
        title=title,
        severity=cmd.severity or (runbook.default_severity if runbook else Severity.SEV2),
        opened_by=cmd.opener,
        commander=cmd.opener,
        opened_at=now,
        service=service,
        runbook_key=runbook.key if runbook else None,
        runbook_version=runbook.version if runbook else None,
        steps=steps_from_runbook(runbook) if runbook else [],
    )
    incident.channel_id, incident.channel_name = await _create_channel(deps, incident)

    async with deps.uow() as uow:
        await uow.incidents.add(incident)
        await record(
            uow,
            incident.id,
            EventType.OPENED,
            cmd.opener,
            now,
            f"Opened {incident.kind.label.lower()} incident “{title}” ({incident.severity.value})",
            kind=incident.kind.value,
            severity=incident.severity.value,
            service=service,
            runbook=incident.runbook_key,
            runbook_version=incident.runbook_version,
        )
        await record(
            uow,
            incident.id,
            EventType.CHANNEL_CREATED,
            BOT_ACTOR,
            now,
            f"Created #{incident.channel_name}",
            channel=incident.channel_id,
        )
        delay = timedelta(minutes=deps.policy.triage_reminder_minutes)
        await uow.reminders.add(
            Reminder(deps.new_id(), incident.id, ReminderKind.FIVE_QUESTIONS, now + delay)
        )
        await uow.commit()

    invite = [cmd.opener] if cmd.invite is None else list(cmd.invite)
    if invite:
        await deps.chat.invite(incident.channel_id, invite)
    await deps.chat.set_topic(incident.channel_id, topic(incident))
    await post_incident_messages(deps, incident, runbook)
    return incident


async def post_incident_messages(deps: Deps, incident: Incident, runbook: Runbook | None) -> None:
    """Header, checklist pages (or, unclassified, the kinds to choose from) and the five
    questions, with their timestamps saved."""
    assert incident.channel_id is not None
    channel = incident.channel_id
    incident.header_ts = await deps.chat.post(
        channel, m.IncidentHeader(incident, runbook, runbook_problem(deps, incident.kind, runbook))
    )
    if incident.kind is IncidentKind.UNKNOWN:
        await deps.chat.post(channel, m.ClassifyOffer(incident.id))
    incident.checklist_ts = await post_checklist(deps, incident)
    context = await triage_context(deps, incident)
    incident.questions_ts = await deps.chat.post(channel, m.FiveQuestions(incident, context))
    async with deps.uow() as uow:
        await uow.incidents.update(incident)
        await record(
            uow,
            incident.id,
            EventType.QUESTIONS_ASKED,
            BOT_ACTOR,
            deps.clock.now(),
            "Asked the five questions",
        )
        await uow.commit()


async def post_checklist(deps: Deps, incident: Incident) -> list[str]:
    assert incident.channel_id is not None
    chunks = pages(incident.steps)
    return [
        await deps.chat.post(
            incident.channel_id, m.ChecklistPage(incident.id, n, len(chunks), tuple(chunk))
        )
        for n, chunk in enumerate(chunks, start=1)
    ]


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


async def _create_channel(deps: Deps, incident: Incident) -> tuple[str, str]:
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = channel_name(incident.opened_at, incident.title, attempt)
        try:
            return await deps.chat.create_channel(name), name
        except ChannelNameTaken:
            continue
    raise UsageError(
        f"Could not find a free channel name for “{incident.title}”; "
        "rename or archive old incident channels."
    )
