"""Bringing each incident's alert summary up to date, at most once per scheduler tick, so an
alert storm costs one `chat.update` per channel every few seconds instead of one per alert.
When every alert of an open incident is resolved, the channel is told (and, if policy says so,
the incident resolved)."""

from __future__ import annotations

import logging

from bot.domain.alerts import AlertStatus
from bot.domain.messages import AlertSummary
from bot.domain.pending_work import Step
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import ChatError
from bot.services.deps import Deps
from bot.services.lifecycle import resolve_incident
from bot.services.pending_work import deliver_pending, queue
from bot.services.timeline import record

log = logging.getLogger(__name__)


async def refresh_alert_summaries(deps: Deps) -> int:
    async with deps.uow() as uow:
        stale = await uow.alerts.claim_stale_summaries()
        await uow.commit()
    for incident_id in stale:
        try:
            await _refresh(deps, incident_id)
        except ChatError as exc:  # Slack refused or failed: try again on the next tick
            log.warning("alert summary for %s not updated: %s", incident_id, exc)
            async with deps.uow() as uow:
                await uow.alerts.mark_summary_stale(incident_id, deps.clock.now())
                await uow.commit()
    return len(stale)


async def _refresh(deps: Deps, incident_id: str) -> None:
    async with deps.uow() as uow:
        incident = await uow.incidents.get(incident_id)
        alerts = await uow.alerts.for_incident(incident_id)
        ts, told = await uow.alerts.summary(incident_id)
        # Still being opened: the opening posts the first summary (pending work), with the
        # alerts there are by then.
        if incident is None or incident.channel_id is None or ts is None:
            await uow.alerts.mark_summary_stale(incident_id, deps.clock.now())
            await uow.commit()
            return
    channel = incident.channel_id
    named = next((a.service for a in alerts if a.service), None)
    unknown = named if named is not None and named not in deps.catalog.names else None
    summary = AlertSummary(tuple(alerts), deps.policy.alerts.page, unknown)
    await deps.chat.update(channel, ts, summary)
    all_resolved = bool(alerts) and all(a.status is AlertStatus.RESOLVED for a in alerts)
    if all_resolved and not told and incident.is_open:
        by_policy = deps.policy.alerts.resolve_when_all_resolved
        async with deps.uow() as uow:
            await record(
                uow,
                incident.id,
                EventType.ALERTS_ALL_RESOLVED,
                BOT_ACTOR,
                deps.clock.now(),
                f"All {len(alerts)} alert(s) resolved",
                alerts=len(alerts),
                resolved_by_policy=by_policy,
            )
            # Told once: the telling is owed from now on, and the summary marked as told.
            told_now = {"count": len(alerts), "by_policy": by_policy}
            await queue(deps, uow, incident.id, (Step.ALL_ALERTS_RESOLVED, told_now))
            await uow.alerts.save_summary(incident.id, ts, all_resolved_told=True)
            await uow.commit()
        await deliver_pending(deps, incident.id)
        if by_policy:
            await resolve_incident(deps, incident, BOT_ACTOR, "All alerts resolved.")
        return
    async with deps.uow() as uow:
        await uow.alerts.save_summary(incident.id, ts, all_resolved)  # told, or nothing to tell
        await uow.commit()
