"""Status updates, handing over command, resolving (with the draft post-mortem), the draft
post-mortem on demand, and the status report."""

from __future__ import annotations

from typing import Any

from bot.domain import messages as m
from bot.domain.errors import UsageError
from bot.domain.incidents import Incident
from bot.domain.pending_work import Step
from bot.domain.reminders import Reminder, ReminderKind
from bot.domain.timeline import EventType
from bot.services.deps import Deps
from bot.services.pending_work import deliver_or_tell, queue
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
    update: dict[str, Any] = {"author": author, "text": text, "at": now.isoformat()}
    posts = [(Step.STATUS_UPDATE, update)]
    if copied_to:
        posts.append(
            (Step.STATUS_UPDATE, {**update, "channel": copied_to, "for_stakeholders": True})
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
        await queue(deps, uow, incident.id, *posts)
        await uow.commit()
    done = "Your update is on the incident's timeline"
    return await deliver_or_tell(deps, incident.id, done, "posted")


async def hand_over_command(
    deps: Deps, incident: Incident, new_commander: str, by: str
) -> m.Notice | None:
    incident.ensure_open()
    if new_commander == incident.commander:
        raise UsageError(f"<@{new_commander}> is already the commander.")
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
        await queue(
            deps,
            uow,
            incident.id,
            (Step.INVITE, {"users": [new_commander]}),
            (Step.HEADER_REFRESH, {}),
            (Step.COMMANDER_CHANGED, {"previous": previous, "current": new_commander, "by": by}),
        )
        await uow.commit()
    return await deliver_or_tell(deps, incident.id, "The new commander is recorded", "announced")


async def resolve_incident(
    deps: Deps, incident: Incident, by: str, summary: str | None
) -> m.Notice | None:
    now = deps.clock.now()
    incident.resolve(now, (summary or "").strip() or None)
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
        await queue(
            deps,
            uow,
            incident.id,
            (Step.HEADER_REFRESH, {}),
            (Step.TOPIC, {}),
            (Step.RESOLVED, {"by": by}),
            (Step.POSTMORTEM_UPLOAD, {}),
        )
        await uow.commit()
    return await deliver_or_tell(deps, incident.id, "The incident is resolved", "announced")


async def post_postmortem(deps: Deps, incident: Incident, by: str) -> m.Notice | None:
    """`/incident postmortem`: owe the channel the post-mortem as it stands when delivered,
    with its timeline picture, then deliver it (services/pending_work.py uploads it, as on
    resolution); if Slack fails, tell the person who asked that it will follow."""
    async with deps.uow() as uow:
        await queue(deps, uow, incident.id, (Step.POSTMORTEM_UPLOAD, {"by": by}))
        await uow.commit()
    done = "The draft post-mortem is asked for"
    return await deliver_or_tell(deps, incident.id, done, "uploaded")


def status_report(deps: Deps, incident: Incident) -> m.StatusReport:
    return m.StatusReport(incident, deps.clock.now())
