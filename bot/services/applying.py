"""Applying a claimed action through its driver, recording what now runs, and verifying it.

Only the one process that moved a request to APPLYING gets here. The registry changes only
after the driver reports success, in the same unit of work that marks the request applied: a
driver that fails or times out leaves the registry as it was and the request retryable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.actions import ActionRequest, FlagMove, RequestStatus, VersionMove
from bot.domain.drivers import BuiltinDriverSpec, DriverResult
from bot.domain.pending_work import Step
from bot.domain.registry import Change, FlagState, ServiceSpec
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import UnitOfWork
from bot.services import registry
from bot.services.deps import Deps
from bot.services.pending_work import deliver_pending, queue
from bot.services.timeline import record

BUILTIN_DETAIL = "stored by Steadyhand, served over OFREP"


async def apply_claimed(deps: Deps, request: ActionRequest) -> None:
    spec = deps.catalog.service(request.action.service)
    stale = await _stale(deps, spec, request)
    result = DriverResult(False, stale) if stale else await _drive(deps, spec, request)
    now = deps.clock.now()
    actor = request.decided_by or request.requested_by
    request.outcome = _outcome_text(result)
    async with deps.uow() as uow:
        if result.applied:
            await _store_moves(deps, uow, request, actor, now)
            to, event, verb = RequestStatus.APPLIED, EventType.ACTION_APPLIED, "applied:"
        else:
            to, event, verb = RequestStatus.FAILED, EventType.ACTION_FAILED, "failed to"
        # We hold the claim (APPLYING), so this move is ours alone.
        await uow.actions.transition(request.id, [RequestStatus.APPLYING], to)
        await uow.actions.save_outcome(request)
        await record_action(uow, request, event, BOT_ACTOR, now, verb, outcome=request.outcome)
        await queue_card_edit(deps, uow, request)
        await uow.commit()
    request.status = to
    await deliver_pending(deps, request.incident_id)
    if result.applied and spec.verification is not None and deps.verifier is not None:
        await _verify(deps, spec, request)


async def record_action(
    uow: UnitOfWork,
    request: ActionRequest,
    type: EventType,
    actor: str,
    at: datetime,
    verb: str,
    **extra: Any,
) -> None:
    await record(
        uow,
        request.incident_id,
        type,
        actor,
        at,
        f"{verb} {request.action.describe()}",
        **timeline_data(request),
        **extra,
    )


def timeline_data(request: ActionRequest) -> dict[str, Any]:
    """Structured, JSON-ready: what, on which service, before → after, who asked, why."""
    moves: list[dict[str, Any]] = []
    for move in request.action.moves:
        if isinstance(move, VersionMove):
            moves.append({"component": move.target, "before": move.before, "after": move.after})
        else:
            moves.append({"flag": move.flag, "before": move.before, "after": move.after})
    return {
        "request_id": request.id,
        "action": request.action.kind.value,
        "service": request.action.service,
        "moves": moves,
        "risk": request.risk.value,
        "reason": request.reason,
        "requested_by": request.requested_by,
    }


async def redraw_card(deps: Deps, request: ActionRequest) -> None:
    """Edit the card to show the request as it is now: queued, then delivered (pending Slack
    work, so a Slack failure delays the edit and never loses it)."""
    async with deps.uow() as uow:
        await queue_card_edit(deps, uow, request)
        await uow.commit()
    await deliver_pending(deps, request.incident_id)


async def queue_card_edit(deps: Deps, uow: UnitOfWork, request: ActionRequest) -> None:
    await queue(deps, uow, request.incident_id, (Step.ACTION_CARD_EDIT, {"request": request.id}))


async def _stale(deps: Deps, spec: ServiceSpec, request: ActionRequest) -> str | None:
    """Refuse to apply over a change made since the request was drawn up."""
    now = await registry.running(deps, spec.name)
    for move in request.action.moves:
        if isinstance(move, VersionMove):
            current: object = now.versions.get(move.component)
        else:
            current = now.flags[move.flag].value if move.flag in now.flags else None
        if current != move.before:
            return (
                f"{move.target} changed to `{current}` since this was asked "
                f"(it was `{move.before}`); nothing applied. Ask again."
            )
    return None


async def _drive(deps: Deps, spec: ServiceSpec, request: ActionRequest) -> DriverResult:
    driver_spec = spec.driver_for(request.action.changes_flags)
    if isinstance(driver_spec, BuiltinDriverSpec):
        return DriverResult(True, BUILTIN_DETAIL)
    if deps.drivers is None:
        return DriverResult(False, "no driver for this service is set up in this process")
    return await deps.drivers(driver_spec).apply(request)


def _outcome_text(result: DriverResult) -> str:
    if result.applied:
        return result.detail
    return ("timed out: " if result.timed_out else "") + result.detail


async def _store_moves(
    deps: Deps, uow: UnitOfWork, request: ActionRequest, actor: str, now: datetime
) -> None:
    service = request.action.service
    source = f"steadyhand {request.action.kind.value} request {request.id}"
    for move in request.action.moves:
        if isinstance(move, FlagMove):
            await uow.registry.set_flag(
                FlagState(service, move.flag, move.kind, move.after, actor, now)
            )
            continue
        change = Change(
            deps.new_id(), service, move.component, move.before, move.after, actor, now, source
        )
        await uow.registry.add_change(change)
        # Other incidents open on the service see the rollback as a change on their timeline.
        for incident_id in await uow.incidents.open_ids_for_service(service):
            if incident_id != request.incident_id:
                await record(
                    uow,
                    incident_id,
                    EventType.CHANGE_RECORDED,
                    actor,
                    now,
                    f"{service} {move.component.value}: {move.before} → {move.after}",
                    change_id=change.id,
                    service=service,
                    component=move.component.value,
                    from_version=move.before,
                    to_version=move.after,
                    source=source,
                    eval_score=None,
                )


async def _verify(deps: Deps, spec: ServiceSpec, request: ActionRequest) -> None:
    assert spec.verification is not None and deps.verifier is not None
    result = await deps.verifier.verify(spec.verification, request)
    request.verification = ("passed: " if result.passed else "FAILED: ") + result.summary
    now = deps.clock.now()
    escalation = None if result.passed else await _escalation(deps, request.incident_id)
    report = {
        "request": request.id,
        "passed": result.passed,
        "summary": result.summary,
        "score": result.score,
        "escalation": escalation,
    }
    async with deps.uow() as uow:
        await uow.actions.save_outcome(request)
        await record_action(
            uow,
            request,
            EventType.ACTION_VERIFIED,
            BOT_ACTOR,
            now,
            "verified" if result.passed else "verification FAILED after",
            passed=result.passed,
            score=result.score,
            summary=result.summary,
        )
        await queue_card_edit(deps, uow, request)
        await queue(deps, uow, request.incident_id, (Step.VERIFICATION_REPORT, report))
        await uow.commit()
    await deliver_pending(deps, request.incident_id)


async def _escalation(deps: Deps, incident_id: str) -> str | None:
    """The incident's runbook's Escalation section: the next step when a fix did not hold."""
    async with deps.uow() as uow:
        incident = await uow.incidents.get(incident_id)
    runbook = deps.runbooks.get(incident.runbook_key) if incident and incident.runbook_key else None
    section = runbook.section("Escalation") if runbook else None
    if section is None or not section.markdown.strip():
        return None
    return section.markdown.strip()
