"""What the bot's answer to a view submission does to the user's modals.

Slack reads `response_action` from the HTTP response: `errors` keeps the modal open, `update`
replaces it, `push` stacks a new one, `clear` closes them all; anything else closes it.
"""

from __future__ import annotations

from bot.sandbox.content import parse_blocks
from bot.sandbox.entities import JSON
from bot.sandbox.errors import SlackError
from bot.sandbox.methods.views import MAX_MODAL_STACK, MAX_VIEW_BLOCKS, new_hash, new_view
from bot.sandbox.workspace import Workspace


def apply_view_ack(workspace: Workspace, user: str, view_id: str, payload: JSON) -> None:
    action = payload.get("response_action")
    view = workspace.views[view_id]
    stack = workspace.modal_stacks.setdefault(user, [])
    if action == "errors":
        return
    if action == "update":
        view.definition = _definition(payload)
        view.hash = new_hash(workspace)
    elif action == "push":
        if len(stack) >= MAX_MODAL_STACK:
            raise SlackError("push_limit_reached")
        pushed = new_view(
            workspace,
            user,
            _definition(payload),
            root_view_id=view.root_view_id,
            previous=view.id,
        )
        stack.append(pushed.id)
    elif action == "clear":
        _close(workspace, stack, 0)
    elif view_id in stack:
        _close(workspace, stack, stack.index(view_id))
    else:
        view.closed = True


def _close(workspace: Workspace, stack: list[str], from_index: int) -> None:
    for view_id in stack[from_index:]:
        workspace.views[view_id].closed = True
    del stack[from_index:]


def _definition(payload: JSON) -> JSON:
    view = payload.get("view")
    if not isinstance(view, dict) or view.get("type") != "modal":
        raise SlackError("invalid_arguments")
    blocks = parse_blocks(view.get("blocks", []), limit=MAX_VIEW_BLOCKS)
    return {**view, "blocks": blocks or []}
