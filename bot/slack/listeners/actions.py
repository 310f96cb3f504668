"""Buttons that ask for, approve, reject, retry or undo actions.

Every click is acked at once; the work runs in the background and refusals go back to the
clicker only. Roles are checked by the services on the click itself, not when the buttons were
drawn, and the database lets only one click move a request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.services import actions, asking
from bot.services.deps import Deps
from bot.services.requests import first_delivery
from bot.slack import ids
from bot.slack.listening import Listening
from bot.slack.replies import answering, by_response_url, request_key

Work = Callable[[Deps, dict[str, Any], str], Awaitable[object]]


def register(app: AsyncApp, ctx: Listening) -> None:
    deps, background = ctx.deps, ctx.background

    def on(action_id: Any, work: Work) -> None:
        @app.action(action_id)
        @background.track
        async def listener(ack: AsyncAck, action: dict[str, Any], body: dict[str, Any]) -> None:
            await ack()
            respond = ctx.responses.to(body.get("response_url"))
            key, user = request_key(body), body["user"]["id"]

            async def job() -> None:
                # The card in the channel is the answer; the clicker hears only of refusals.
                if await first_delivery(deps, key):
                    await work(deps, body, user)

            background.submit(answering(by_response_url(respond), job))

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
