"""Automatic actions: an alert that keeps firing asks for the action its rule names.

Policy still applies (a high-risk automatic action waits for an approver); a per-target mark in
the database stops flapping alerts from rolling back and forth; a dry-run rule only says what
it would do. Every decision goes on the incident's timeline.
"""

from __future__ import annotations

import logging

from bot.domain.alert_rules import AutoAction
from bot.domain.alerts import Alert, AlertStatus, TrackedAlert
from bot.domain.errors import SteadyhandError
from bot.domain.incidents import Incident
from bot.domain.pending_work import Post
from bot.domain.registry import format_duration
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import ChatError
from bot.services.action_plans import plan_named
from bot.services.actions import request_action
from bot.services.deps import Deps
from bot.services.pending_posts import queue_post
from bot.services.pending_work import deliver_pending
from bot.services.timeline import record

log = logging.getLogger(__name__)


async def run_auto_actions(deps: Deps, heard: list[TrackedAlert]) -> None:
    for tracked in heard:
        if tracked.status is not AlertStatus.FIRING or tracked.service is None:
            continue
        alert = Alert(tracked.source, tracked.fingerprint, tracked.status, tracked.name, "")
        for rule in deps.policy.alerts.auto_actions:
            # Exactly at the Nth consecutive firing: later repeats do not ask again.
            if rule.matches(alert, tracked.service) and tracked.firing_streak == rule.after:
                await _run(deps, rule, tracked)


async def _run(deps: Deps, rule: AutoAction, tracked: TrackedAlert) -> None:
    async with deps.uow() as uow:
        incident = await uow.incidents.get(tracked.incident_id)
    if incident is None or not incident.is_open or incident.channel_id is None:
        log.warning(
            "automatic %r skipped: incident %s is not open", rule.action, tracked.incident_id
        )
        return
    why = f"alert {tracked.name} fired {tracked.firing_streak} time(s) in a row"
    try:
        action = await plan_named(deps, rule.service, rule.action)
    except SteadyhandError as exc:
        await _tell(
            deps, incident, rule, "failed", f"Automatic `{rule.action}` not possible: {exc}"
        )
        return
    target = ",".join(move.target for move in action.moves)
    now = deps.clock.now()
    async with deps.uow() as uow:
        claimed = await uow.alerts.claim_auto_action(rule.service, target, now, rule.min_interval)
        await uow.commit()
    if not claimed:
        window = format_duration(rule.min_interval)
        text = f"Automatic {action.describe()} skipped: one ran on {target} within {window}."
        await _tell(deps, incident, rule, "rate_limited", text)
        return
    if rule.dry_run:
        await _tell(deps, incident, rule, "dry_run", f"Dry run: would {action.describe()} ({why}).")
        return
    try:
        await request_action(deps, incident, action, BOT_ACTOR, f"automatic: {why}", automatic=True)
    except (SteadyhandError, ChatError) as exc:
        await _tell(deps, incident, rule, "failed", f"Automatic {action.describe()} failed: {exc}")
        return
    await _record(deps, incident, rule, "requested", f"Automatic {action.describe()} ({why})")


async def _tell(deps: Deps, incident: Incident, rule: AutoAction, outcome: str, text: str) -> None:
    """On the timeline and owed to the channel in one unit of work, then delivered."""
    await _record(deps, incident, rule, outcome, text, tell=True)
    await deliver_pending(deps, incident.id)


async def _record(
    deps: Deps, incident: Incident, rule: AutoAction, outcome: str, text: str, *, tell: bool = False
) -> None:
    async with deps.uow() as uow:
        await record(
            uow,
            incident.id,
            EventType.AUTO_ACTION,
            BOT_ACTOR,
            deps.clock.now(),
            text,
            outcome=outcome,
            action=rule.action,
            service=rule.service,
            after=rule.after,
            dry_run=rule.dry_run,
        )
        if tell:
            is_error = outcome == "failed"
            await queue_post(deps, uow, incident.id, Post.NOTICE, text=text, is_error=is_error)
        await uow.commit()
