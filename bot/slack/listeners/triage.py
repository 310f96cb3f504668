"""The five questions: the Answer button, the modal's submission, and the runbook switch."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

import bot.slack.forms as forms
from bot.domain.kinds import IncidentKind
from bot.services import triage
from bot.services.requests import first_delivery
from bot.services.triage_context import five_questions_form
from bot.slack.ids import (
    ACTION_KEEP_RUNBOOK,
    ACTION_OPEN_TRIAGE,
    ACTION_SWITCH_RUNBOOK_PATTERN,
    CALLBACK_FIVE_QUESTIONS,
)
from bot.slack.listening import Listening
from bot.slack.replies import answering, by_direct_message, by_response_url, replacing, request_key


def register(app: AsyncApp, ctx: Listening) -> None:
    deps, background = ctx.deps, ctx.background

    @app.action(ACTION_OPEN_TRIAGE)
    @background.track
    async def on_answer_button(ack: AsyncAck, action: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        respond = ctx.responses.to(body.get("response_url"))

        async def ask() -> None:
            # Trigger IDs expire after 3 s: this job must not wait behind a long queue.
            form = await five_questions_form(deps, action["value"])
            await deps.chat.open_modal(body["trigger_id"], form)

        await answering(by_response_url(respond), ask)()

    @app.view(CALLBACK_FIVE_QUESTIONS)
    @background.track
    async def on_answers(ack: AsyncAck, view: dict[str, Any], body: dict[str, Any]) -> None:
        try:
            incident_id, answers = forms.parse_five_questions(
                view["state"]["values"],
                view["private_metadata"],
                body["user"]["id"],
                deps.clock.now(),
            )
        except forms.FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
        key = request_key(body)

        async def record() -> None:
            if await first_delivery(deps, key):
                await triage.record_answers(deps, incident_id, answers)

        background.submit(answering(by_direct_message(deps.chat, body["user"]["id"]), record))

    @app.action(ACTION_SWITCH_RUNBOOK_PATTERN)  # the switch offer's button and the kinds'
    @background.track
    async def on_switch(ack: AsyncAck, action: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        respond = ctx.responses.to(body.get("response_url"))
        incident_id, _, kind = action["value"].partition(":")
        user = body["user"]["id"]

        async def switch() -> None:
            notice = await triage.switch_runbook(deps, incident_id, IncidentKind.parse(kind), user)
            await respond(**replacing(notice))

        background.submit(answering(by_response_url(respond), switch))

    @app.action(ACTION_KEEP_RUNBOOK)
    @background.track
    async def on_keep(ack: AsyncAck, action: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        respond = ctx.responses.to(body.get("response_url"))

        async def keep() -> None:
            notice = await triage.keep_runbook(deps, action["value"], body["user"]["id"])
            await respond(**replacing(notice))

        background.submit(answering(by_response_url(respond), keep))
