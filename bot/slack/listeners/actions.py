"""Buttons that ask for, approve, reject, retry or undo actions.

Each is a `bot.slack.clicks.on_click` button: acked at once, done once in the background,
refusals told to the clicker only. Roles are checked by the services on the click itself, not
when the buttons were drawn, and the database lets only one click move a request.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services import actions, asking
from bot.services.deps import Deps
from bot.slack import ids
from bot.slack.clicks import ClickWork, on_click
from bot.slack.listening import Listening


def register(app: AsyncApp, ctx: Listening) -> None:
    def on(action_id: str | re.Pattern[str], work: ClickWork) -> None:
        on_click(app, ctx, action_id, work)

    on(ids.ACTION_APPROVE, lambda d, b, u: actions.approve_action(d, _value(b), u))
    on(ids.ACTION_REJECT, lambda d, b, u: actions.reject_action(d, _value(b), u))
    on(ids.ACTION_RETRY, lambda d, b, u: actions.retry_action(d, _value(b), u))
    on(ids.ACTION_UNDO, lambda d, b, u: asking.ask_undo_request(d, _value(b), u))
    on(
        ids.ACTION_ROLLBACK_CHANGE_PATTERN,
        lambda d, b, u: asking.ask_undo_change(d, _channel(b), u, _value(b)),
    )
    on(ids.ACTION_RUN_STEP_PATTERN, _run_step)


async def _run_step(deps: Deps, body: dict[str, Any], user: str) -> object:
    incident_id, _, position = _value(body).rpartition(":")
    return await asking.ask_runbook_step(deps, incident_id, int(position), user)


def _value(body: dict[str, Any]) -> str:
    return str(body["actions"][0]["value"])


def _channel(body: dict[str, Any]) -> str:
    channel = body.get("channel") or {}
    return str(channel.get("id") or body.get("container", {}).get("channel_id", ""))
