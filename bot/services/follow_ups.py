"""Follow-ups, each with an owner, added during the incident or its review."""

from __future__ import annotations

from bot.domain import messages as m
from bot.domain.findings import MAX_FOLLOW_UP, FollowUp, bounded_text
from bot.domain.incidents import Incident
from bot.domain.pending_work import Post
from bot.domain.timeline import EventType
from bot.services.deps import Deps
from bot.services.pending_posts import queue_post
from bot.services.pending_work import deliver_pending
from bot.services.timeline import record

_USAGE = "/incident followup @owner add refund questions to the blocking eval set"


async def add_follow_up(
    deps: Deps, incident: Incident, by: str, owner: str | None, text: str
) -> FollowUp:
    """Keep it and say so in the incident channel, mentioning the owner (the person adding it
    when nobody is named); the notice is owed to Slack in the same unit of work."""
    assert incident.channel_id is not None
    text = bounded_text(text, MAX_FOLLOW_UP, "follow-up", _USAGE)
    now = deps.clock.now()
    owner = owner or by
    async with deps.uow() as uow:
        follow_up = await uow.findings.add_follow_up(
            FollowUp(deps.new_id(), incident.id, 0, text, owner, by, now)
        )
        await record(
            uow,
            incident.id,
            EventType.FOLLOW_UP_ADDED,
            by,
            now,
            f"Follow-up #{follow_up.number} for <@{owner}>: {text}",
            follow_up_id=follow_up.id,
            number=follow_up.number,
            owner=owner,
        )
        await queue_post(deps, uow, incident.id, Post.FOLLOW_UP, number=follow_up.number)
        await uow.commit()
    await deliver_pending(deps, incident.id)
    return follow_up


async def list_follow_ups(deps: Deps, incident: Incident) -> m.FollowUpList:
    async with deps.uow() as uow:
        return m.FollowUpList(tuple(await uow.findings.follow_ups(incident.id)))
