"""Status updates, handing over command, resolving (with the draft post-mortem), and the
status report."""

from __future__ import annotations

from bot.domain import messages as m
from bot.domain.errors import UsageError
from bot.domain.incidents import Incident
from bot.domain.pending_work import NewWork, Step
from bot.domain.reminders import Reminder, ReminderKind
from bot.domain.timeline import EventType
from bot.services.deps import Deps
from bot.services.incident_texts import topic
from bot.services.pending_work import deliver_now
from bot.services.postmortem_delivery import post_postmortem_on_resolution
from bot.services.timeline import record

MAX_UPDATE = 3000


async def post_status_update(
    deps: Deps, incident: Incident, author: str, text: str
) -> m.Notice | None:
    """On the timeline and queued for the channel (and the stakeholders' copy) in one unit of
    work, then posted; if Slack fails, the poster is told it will be posted later."""
    incident.ensure_open()
    text = text.strip()
    if not text:
        raise UsageError("Say what changed, e.g. `/incident update rolled back prompt v13 → v12`.")
    if len(text) > MAX_UPDATE:
        raise UsageError(f"The update is {len(text)} characters; keep it under {MAX_UPDATE}.")
    now = deps.clock.now()
    copied_to = deps.policy.stakeholder_channel
    update = {"author": author, "text": text, "at": now.isoformat()}
    work = [
        NewWork(f"{incident.id}:update:{deps.new_id()}", incident.id, Step.STATUS_UPDATE, update)
    ]
    if copied_to:
        copy = {**update, "channel": copied_to, "for_stakeholders": True}
        work.append(
            NewWork(f"{incident.id}:update:{deps.new_id()}", incident.id, Step.STATUS_UPDATE, copy)
        )
    async with deps.uow() as uow:
        await record(
            uow,
            incident.id,
            EventType.STATUS_UPDATE,
            author,
            now,
            text,
            stakeholder_channel=copied_to,
        )
        await uow.pending_work.add(work, now)
        await uow.commit()
    problem = await deliver_now(deps, incident.id)
    if problem is None:
        return None
    return m.Notice(
        f"Your update is on the incident's timeline, but Slack failed to post it ({problem}). "
        "It will be posted as soon as Slack answers again.",
        is_error=True,
    )


async def hand_over_command(deps: Deps, incident: Incident, new_commander: str, by: str) -> None:
    incident.ensure_open()
    if new_commander == incident.commander:
        raise UsageError(f"<@{new_commander}> is already the commander.")
    assert incident.channel_id is not None
    previous, incident.commander = incident.commander, new_commander
    now = deps.clock.now()
    async with deps.uow() as uow:
        await uow.incidents.update(incident)
        await record(
            uow,
            incident.id,
            EventType.COMMANDER_CHANGED,
            by,
            now,
            f"Command passed from <@{previous}> to <@{new_commander}>",
            previous=previous,
            current=new_commander,
        )
        await uow.commit()
    await deps.chat.invite(incident.channel_id, [new_commander])
    await _refresh_header(deps, incident)
    await deps.chat.post(incident.channel_id, m.CommanderChanged(previous, new_commander, by))


async def resolve_incident(deps: Deps, incident: Incident, by: str, summary: str | None) -> None:
    now = deps.clock.now()
    incident.resolve(now, (summary or "").strip() or None)
    assert incident.channel_id is not None
    async with deps.uow() as uow:
        await uow.incidents.update(incident)
        await uow.reminders.cancel_for(incident.id)
        review_due = now + deps.policy.postmortem_review_after
        await uow.reminders.add(
            Reminder(deps.new_id(), incident.id, ReminderKind.POSTMORTEM_REVIEW, review_due)
        )
        await record(
            uow,
            incident.id,
            EventType.RESOLVED,
            by,
            now,
            "Resolved" + (f": {incident.summary}" if incident.summary else ""),
            summary=incident.summary,
            duration_seconds=int(incident.elapsed(now).total_seconds()),
        )
        await uow.commit()
    await _refresh_header(deps, incident)
    await deps.chat.set_topic(incident.channel_id, topic(incident))
    await deps.chat.post(incident.channel_id, m.IncidentResolved(incident, by))
    await post_postmortem_on_resolution(deps, incident)


def status_report(deps: Deps, incident: Incident) -> m.StatusReport:
    return m.StatusReport(incident, deps.clock.now())


async def _refresh_header(deps: Deps, incident: Incident) -> None:
    if incident.channel_id and incident.header_ts:
        runbook = deps.runbooks.get(incident.runbook_key) if incident.runbook_key else None
        await deps.chat.update(
            incident.channel_id, incident.header_ts, m.IncidentHeader(incident, runbook)
        )
