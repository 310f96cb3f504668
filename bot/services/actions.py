"""Action requests: ask, approve, reject, retry, expire.

A low-risk action runs at once for anyone who may act; a high-risk one waits for an approver who
is not the requester. Every move of a request's status is a compare-and-set in the database
(`ActionRepo.transition`), so double clicks, Slack retries, two approvers or two replicas never
apply an action twice. Applying and verifying live in `bot.services.applying`.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.actions import (
    Action,
    ActionRequest,
    RequestStatus,
    Risk,
    Role,
    held_roles,
    may_request,
)
from bot.domain.errors import Conflict, NotAllowed, NotFound, UsageError
from bot.domain.incidents import Incident
from bot.domain.pending_work import Step
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import UnitOfWork
from bot.services.applying import apply_claimed, queue_card_edit, record_action, redraw_card
from bot.services.deps import Deps
from bot.services.pending_work import deliver_pending, queue

MAX_REASON = 500
# Far longer than any driver may take (timeouts × attempts): a request applying this long was
# cut off when its process stopped.
STUCK_AFTER = timedelta(minutes=10)
INTERRUPTED = (
    "interrupted: the bot stopped while applying it. Check the target system, then Retry "
    "(a change made since is caught before anything is applied)."
)


async def request_action(
    deps: Deps,
    incident: Incident,
    action: Action,
    user: str,
    reason: str,
    *,
    automatic: bool = False,
) -> ActionRequest:
    """Record the request and post its card; run it at once when its risk is low.

    `automatic`: asked by the bot itself for an alert rule, so no role is checked; policy
    still decides whether it waits for an approver."""
    incident.ensure_open()
    if incident.channel_id is None:
        raise Conflict("This incident has no channel yet.")
    if not automatic and not may_request(await roles_of(deps, user)):
        raise NotAllowed("Only responders, commanders and approvers may ask for actions.")
    spec = deps.catalog.service(action.service)
    risk = deps.policy.actions.risk_of(action, spec.environment)
    if risk is Risk.HIGH and not deps.policy.roles.approvers:
        raise NotAllowed(
            f"“{action.describe()}” is high risk and needs an approver, but steadyhand.yml "
            "names none: add `roles: approvers:`, or lower its risk in `policy:`."
        )
    now = deps.clock.now()
    low = risk is Risk.LOW
    request = ActionRequest(
        id=deps.new_id(),
        incident_id=incident.id,
        channel_id=incident.channel_id,
        action=action,
        risk=risk,
        reason=_reason(reason) or incident.title,
        requested_by=user,
        requested_at=now,
        expires_at=now + deps.policy.actions.approval_expires_after,
        status=RequestStatus.APPLYING if low else RequestStatus.PENDING,
        decided_by=user if low else None,
        decided_at=now if low else None,
        attempts=1 if low else 0,
        applying_since=now if low else None,
    )
    async with deps.uow() as uow:
        await uow.actions.add(request)
        await record_action(uow, request, EventType.ACTION_REQUESTED, user, now, "asked to")
        if low:
            await record_action(
                uow, request, EventType.ACTION_APPROVED, user, now, "low risk, no approval:"
            )
        await queue(deps, uow, incident.id, (Step.ACTION_CARD, {"request": request.id}))
        await uow.commit()
    await deliver_pending(deps, incident.id)
    request = await _get(deps, request.id)  # with its card's ts, once posted
    if low:
        await apply_claimed(deps, request)
    return request


async def approve_action(deps: Deps, request_id: str, user: str) -> ActionRequest:
    request = await _decide(deps, request_id, user, approve=True)
    await apply_claimed(deps, request)
    return request


async def reject_action(deps: Deps, request_id: str, user: str) -> ActionRequest:
    request = await _decide(deps, request_id, user, approve=False)
    await redraw_card(deps, request)
    return request


async def _decide(deps: Deps, request_id: str, user: str, *, approve: bool) -> ActionRequest:
    """Check the clicker's roles now, then move the pending request, if no one else did."""
    request = await _get(deps, request_id)
    now = deps.clock.now()
    if request.is_expired(now):
        await expire(deps, request)
    held = await roles_of(deps, user)
    problem = (request.approval_problem if approve else request.rejection_problem)(user, held, now)
    if problem:
        raise NotAllowed(problem)
    to = RequestStatus.APPLYING if approve else RequestStatus.REJECTED
    async with deps.uow() as uow:
        if not await uow.actions.transition(
            request.id, [RequestStatus.PENDING], to, by=user, at=now, started=now
        ):
            raise Conflict(await _already(uow, request.id))
        event, verb = (
            (EventType.ACTION_APPROVED, "approved:")
            if approve
            else (EventType.ACTION_REJECTED, "rejected:")
        )
        await record_action(uow, request, event, user, now, verb)
        await uow.commit()
    return await _get(deps, request_id)


async def retry_action(deps: Deps, request_id: str, user: str) -> ActionRequest:
    """Run a failed action again. Its approval still holds until the request would expire."""
    request = await _get(deps, request_id)
    now = deps.clock.now()
    if request.status is not RequestStatus.FAILED:
        raise Conflict(f"Only a failed action can be retried; this one is {request.status}.")
    if now >= request.expires_at:
        raise Conflict("This request is too old to retry; ask for the action again.")
    if not may_request(await roles_of(deps, user)):
        raise NotAllowed("Only responders, commanders and approvers may retry actions.")
    async with deps.uow() as uow:
        if not await uow.actions.transition(
            request.id, [RequestStatus.FAILED], RequestStatus.APPLYING, started=now
        ):
            raise Conflict(await _already(uow, request.id))
        await record_action(uow, request, EventType.ACTION_REQUESTED, user, now, "retried")
        await uow.commit()
    request = await _get(deps, request_id)
    await apply_claimed(deps, request)
    return request


async def expire_due_requests(deps: Deps) -> int:
    """The periodic job: pending requests past their expiry become expired, and requests cut
    off while applying (the process stopped) become failed and retryable; both say so."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        expired = await uow.actions.claim_expired(now)
        for request in expired:
            await record_action(uow, request, EventType.ACTION_EXPIRED, BOT_ACTOR, now, "expired:")
        stuck = await uow.actions.claim_stuck(now - STUCK_AFTER, INTERRUPTED)
        for request in expired:
            await queue_card_edit(deps, uow, request)
        for request in stuck:
            await queue_card_edit(deps, uow, request)
            await record_action(
                uow,
                request,
                EventType.ACTION_FAILED,
                BOT_ACTOR,
                now,
                "interrupted:",
                outcome=INTERRUPTED,
            )
        await uow.commit()
    for incident_id in sorted({r.incident_id for r in [*expired, *stuck]}):
        await deliver_pending(deps, incident_id)
    return len(expired) + len(stuck)


async def expire(deps: Deps, request: ActionRequest) -> None:
    """Expire one request now (a click came before the job did)."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        if not await uow.actions.transition(
            request.id, [RequestStatus.PENDING], RequestStatus.EXPIRED, at=now
        ):
            return
        await record_action(uow, request, EventType.ACTION_EXPIRED, BOT_ACTOR, now, "expired:")
        await uow.commit()
    request.status, request.decided_at = RequestStatus.EXPIRED, now
    await redraw_card(deps, request)


async def roles_of(deps: Deps, user: str) -> frozenset[Role]:
    roles = deps.policy.roles
    groups = {}
    if roles.configured and deps.directory is not None:
        for group in roles.groups:
            groups[group] = await deps.directory.group_members(group)
    return held_roles(roles, user, groups)


async def _get(deps: Deps, request_id: str) -> ActionRequest:
    async with deps.uow() as uow:
        request = await uow.actions.get(request_id)
    if request is None:
        raise NotFound(f"No action request `{request_id}`.")
    return request


async def _already(uow: UnitOfWork, request_id: str) -> str:
    """What beat us to it, for the person whose click lost."""
    now = await uow.actions.get(request_id)
    if now is None:
        return "This request no longer exists."
    who = f" by <@{now.decided_by}>" if now.decided_by else ""
    return f"This request is already {now.status.value}{who}."


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise UsageError(f"Keep the reason under {MAX_REASON} characters.")
    return reason
