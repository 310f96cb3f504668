"""The JSON document every outside system receives about an action (webhook drivers, eval
verification), and how their answers are quoted back to the channel."""

from __future__ import annotations

from typing import Any

from bot.domain.actions import ActionRequest, Move, VersionMove

EXCERPT_LIMIT = 300


def action_payload(request: ActionRequest) -> dict[str, Any]:
    """`{"request_id", "incident_id", "service", "action", "moves", "reason", "requested_by",
    "approved_by", "attempt"}`; `attempt` counts the times the request has been applied, so a
    receiver can tell a deliberate retry from a network repeat of the same one."""
    return {
        "request_id": request.id,
        "incident_id": request.incident_id,
        "service": request.action.service,
        "action": request.action.kind.value,
        "moves": [_move(move) for move in request.action.moves],
        "reason": request.reason,
        "requested_by": request.requested_by,
        "approved_by": request.decided_by,
        "attempt": request.attempts,
    }


def _move(move: Move) -> dict[str, Any]:
    if isinstance(move, VersionMove):
        return {"component": move.component.value, "from": move.before, "to": move.after}
    return {"flag": move.flag, "kind": move.kind.value, "from": move.before, "to": move.after}


def excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """An answer body on one line, cut to `limit` characters: it is shown in Slack."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
