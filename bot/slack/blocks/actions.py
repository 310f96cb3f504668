"""Action requests as cards updated in place, and verification results."""

from __future__ import annotations

from bot.domain.actions import ActionRequest, RequestStatus, Risk, is_group_id
from bot.domain.messages import ActionCard, VerificationReport
from bot.slack import ids
from bot.slack.blocks.kit import (
    Block,
    RenderedMessage,
    actions,
    button,
    context,
    section,
    sections,
)
from bot.slack.blocks.markdown import to_mrkdwn
from bot.slack.blocks.text import date_token, escape, mention, notification

_STATE = {
    RequestStatus.PENDING: ":raised_hand: *Approval needed*",
    RequestStatus.APPLYING: ":hourglass: *Applying*",
    RequestStatus.APPLIED: ":white_check_mark: *Applied*",
    RequestStatus.FAILED: ":x: *Failed, nothing changed*",
    RequestStatus.REJECTED: ":no_entry: *Rejected*",
    RequestStatus.EXPIRED: ":hourglass_flowing_sand: *Expired without approval*",
}


def render_action_card(card: ActionCard) -> RenderedMessage:
    request = card.request
    what = escape(request.action.describe())
    lines = [
        f"{_STATE[request.status]} · {request.risk.value} risk",
        f"*{what}*",
        _moves(request),
        f"Why: {escape(request.reason)}",
        f"Asked by {mention(request.requested_by)} · {date_token(request.requested_at)}",
    ]
    if outcome := _outcome(request):
        lines.append(outcome)
    blocks: list[Block] = [section("\n".join(lines), block_id=f"request-{request.id}")]
    if request.status is RequestStatus.PENDING:
        who = " ".join(_mention_entry(e) for e in card.approvers) or "an approver"
        blocks.append(
            context(f"Needs {who} (not the requester) · expires {date_token(request.expires_at)}")
        )
        blocks.append(
            actions(
                "request-decide",
                button("Approve", ids.ACTION_APPROVE, request.id, primary=True),
                button("Reject", ids.ACTION_REJECT, request.id, danger=True),
            )
        )
    if request.status is RequestStatus.FAILED:
        blocks.append(
            actions("request-retry", button("Retry", ids.ACTION_RETRY, request.id, primary=True))
        )
    state = _STATE[request.status].split("*")[1]
    return RenderedMessage(notification(f"{state}: {request.action.describe()}"), blocks)


def render_verification(report: VerificationReport) -> RenderedMessage:
    request, result = report.request, report.result
    what = escape(request.action.describe())
    if result.passed:
        text = f":white_check_mark: *Verified* {what}\n{escape(result.summary)}"
        return RenderedMessage(notification(f"Verified: {result.summary}"), [section(text)])
    text = (
        f":rotating_light: *Verification FAILED* after {what}\n{escape(result.summary)}\n"
        "The action is applied but the service is not healthy. Next: undo it, roll back "
        "another component (`/incident changes`), or escalate as the runbook says."
    )
    blocks: list[Block] = [section(text)]
    if report.escalation:
        blocks += sections(f"*Escalation*\n{to_mrkdwn(report.escalation)}", max_blocks=5)
    blocks.append(
        actions("verification-next", button("Undo this action", ids.ACTION_UNDO, request.id))
    )
    return RenderedMessage(notification(f"Verification FAILED: {result.summary}"), blocks)


def _moves(request: ActionRequest) -> str:
    return "\n".join(f"• {escape(move.text())}" for move in request.action.moves)


def _outcome(request: ActionRequest) -> str | None:
    decided = f" by {mention(request.decided_by)}" if request.decided_by else ""
    match request.status:
        case RequestStatus.APPLYING:
            how = "low risk, no approval needed" if request.risk is Risk.LOW else "approved"
            return f"{how}{decided}"
        case RequestStatus.APPLIED:
            line = f"Applied{decided} · {escape(request.outcome or '')}"
            if request.verification:
                line += f"\nVerification {escape(request.verification)}"
            return line
        case RequestStatus.FAILED:
            return (
                f"{escape(request.outcome or 'unknown error')}\n"
                f"Attempt {request.attempts}; the registry is unchanged. Retry, or ask again."
            )
        case RequestStatus.REJECTED:
            return f"Rejected{decided}."
        case RequestStatus.EXPIRED:
            return "Nobody approved it in time; ask again if it is still needed."
    return None


def _mention_entry(entry: str) -> str:
    return f"<!subteam^{entry}>" if is_group_id(entry) else mention(entry)
