"""views.*: modals (opened with a trigger id, updated, pushed) and the Home tab."""

from __future__ import annotations

import secrets

from bot.sandbox.content import parse_blocks
from bot.sandbox.entities import JSON, View
from bot.sandbox.errors import SlackError
from bot.sandbox.methods.call import Call, Handler
from bot.sandbox.workspace import Workspace

MAX_VIEW_BLOCKS = 100
# Slack lets a user have at most three modals stacked.
MAX_MODAL_STACK = 3


def open_view(call: Call) -> JSON:
    workspace = call.workspace
    user = _redeem_trigger(call)
    definition = _definition(call, expected_type="modal")
    for stale in workspace.modal_stacks.get(user, []):
        workspace.views[stale].closed = True
    view = new_view(workspace, user, definition, root_view_id=None)
    workspace.modal_stacks[user] = [view.id]
    return _reply(call, view)


def push(call: Call) -> JSON:
    workspace = call.workspace
    user = _redeem_trigger(call)
    stack = workspace.modal_stacks.get(user, [])
    if not stack:
        raise SlackError("not_found")
    if len(stack) >= MAX_MODAL_STACK:
        raise SlackError("push_limit_reached")
    definition = _definition(call, expected_type="modal")
    view = new_view(workspace, user, definition, root_view_id=stack[0], previous=stack[-1])
    stack.append(view.id)
    return _reply(call, view)


def update(call: Call) -> JSON:
    workspace, args = call.workspace, call.args
    view_id = args.optional_text("view_id")
    external_id = args.optional_text("external_id")
    if view_id:
        view = workspace.views.get(view_id)
    elif external_id:
        view = next((v for v in workspace.views.values() if v.external_id == external_id), None)
    else:
        raise SlackError("invalid_arguments")
    if view is None or view.closed:
        raise SlackError("not_found")
    _check_hash(call, view)
    view.definition = _definition(call, expected_type=view.type, replacing=view)
    view.hash = new_hash(workspace)
    return _reply(call, view)


def publish(call: Call) -> JSON:
    workspace = call.workspace
    user = workspace.user(call.args.text("user_id", missing="missing_profile_id")).id
    definition = _definition(call, expected_type="home")
    current = workspace.views.get(workspace.home_views.get(user, ""))
    if current is None:
        current = new_view(workspace, user, definition, root_view_id=None)
        workspace.home_views[user] = current.id
    else:
        _check_hash(call, current)
        current.definition = definition
        current.hash = new_hash(workspace)
    return _reply(call, current)


def _redeem_trigger(call: Call) -> str:
    """The user a trigger id belongs to; each trigger works once, within its lifetime."""
    workspace = call.workspace
    value = call.args.optional_text("trigger_id") or call.args.optional_text(
        "interactivity_pointer"
    )
    if not value:
        raise SlackError("invalid_arguments")
    trigger = workspace.triggers.get(value)
    if trigger is None:
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if workspace.now() - trigger.issued_at > workspace.trigger_ttl:
        raise SlackError("expired_trigger_id")
    trigger.used = True
    return trigger.user


def _definition(call: Call, *, expected_type: str, replacing: View | None = None) -> JSON:
    view = call.args.decoded("view")
    if not isinstance(view, dict) or view.get("type") != expected_type:
        raise SlackError("invalid_arguments")
    blocks = parse_blocks(view.get("blocks", []), limit=MAX_VIEW_BLOCKS)
    if blocks is None:
        raise SlackError("invalid_arguments")
    if expected_type == "modal" and not isinstance(view.get("title"), dict):
        raise SlackError("invalid_arguments")
    external_id = view.get("external_id")
    if external_id:
        for other in call.workspace.views.values():
            if other is not replacing and not other.closed and other.external_id == external_id:
                raise SlackError("duplicate_external_id")
    return {**view, "blocks": blocks}


def _check_hash(call: Call, view: View) -> None:
    # The hash guards against overwriting a view someone else changed meanwhile.
    given = call.args.optional_text("hash")
    if given and given != view.hash:
        raise SlackError("hash_conflict")


def new_view(
    workspace: Workspace,
    user: str,
    definition: JSON,
    *,
    root_view_id: str | None,
    previous: str | None = None,
) -> View:
    view_id = workspace.new_id("V")
    view = View(
        id=view_id,
        user=user,
        definition=definition,
        hash=new_hash(workspace),
        root_view_id=root_view_id or view_id,
        previous_view_id=previous,
    )
    workspace.views[view.id] = view
    return view


def new_hash(workspace: Workspace) -> str:
    return f"{int(workspace.now())}.{secrets.token_hex(4)}"


def _reply(call: Call, view: View) -> JSON:
    bot_id = call.caller.bot_id or ""
    return {"view": view.to_slack(call.workspace.team.id, bot_id)}


HANDLERS: dict[str, Handler] = {
    "views.open": open_view,
    "views.push": push,
    "views.update": update,
    "views.publish": publish,
}
