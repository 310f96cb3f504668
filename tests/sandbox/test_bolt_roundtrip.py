"""A real Bolt app behind Starlette, driven through the sandbox end to end.

This is not the Steadyhand bot: it is the smallest Bolt app that uses every path the bot uses
(slash command, modal, submission, checkbox, button, response_url), to show that Bolt accepts
what the driver sends and that what Bolt sends back lands in the sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.sandbox import SlackDriver, SlackSandbox, serve_app, transcript
from bot.sandbox.seed import ALICE
from tests.support.slack_specs import ConformanceRecorder

SECRET = "bolt-signing-secret"
STEPS = {"dash": "Check the eval dashboard", "change": "Find the last change"}
DECLARE = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "What is wrong?"},
            "element": {"type": "plain_text_input", "action_id": "summary"},
        }
    ],
}


def checklist(summary: str, ticked: set[str]) -> list[dict[str, Any]]:
    options = [
        {"text": {"type": "plain_text", "text": text}, "value": value}
        for value, text in STEPS.items()
    ]
    checkboxes: dict[str, Any] = {"type": "checkboxes", "action_id": "step", "options": options}
    if ticked:
        checkboxes["initial_options"] = [o for o in options if o["value"] in ticked]
    return [
        {"type": "header", "text": {"type": "plain_text", "text": summary}},
        {"type": "actions", "block_id": "steps", "elements": [checkboxes]},
        {
            "type": "actions",
            "block_id": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "rollback",
                    "text": {"type": "plain_text", "text": "Roll back prompt"},
                    "style": "danger",
                }
            ],
        },
    ]


def tiny_bot(sandbox: SlackSandbox) -> Starlette:
    app = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url),
        # Work before answering, so each driver call returns with the bot's work done.
        process_before_response=True,
    )

    @app.command("/incident")
    async def incident(ack: Any, command: dict[str, Any], client: Any, respond: Any) -> None:
        if command["text"] == "declare":
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=DECLARE)
        else:
            await ack("Try `/incident declare`")

    @app.view("declare")
    async def declared(ack: Any, view: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        await ack()
        summary = view["state"]["values"]["summary"]["summary"]["value"]
        created = await client.conversations_create(name="inc-20261122-answers-degraded")
        channel = created["channel"]["id"]
        await client.conversations_invite(channel=channel, users=body["user"]["id"])
        await client.chat_postMessage(
            channel=channel, text=summary, blocks=checklist(summary, set())
        )

    @app.action("step")
    async def step(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        ticked = {option["value"] for option in body["actions"][0]["selected_options"]}
        summary = body["message"]["text"]
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=summary,
            blocks=checklist(summary, ticked),
        )

    @app.action("rollback")
    async def rollback(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="Rolled back prompt to v11", replace_original=False)

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


@pytest.fixture
async def driver(sandbox: SlackSandbox) -> AsyncIterator[SlackDriver]:
    async with (
        serve_app(tiny_bot(sandbox)) as bot_url,
        SlackDriver(f"{bot_url}/slack/events", SECRET, sandbox) as driver,
    ):
        yield driver


async def test_declare_tick_and_roll_back(
    driver: SlackDriver, sandbox: SlackSandbox, conformance: ConformanceRecorder
) -> None:
    await driver.slash_command(ALICE, "general", "help")
    await driver.slash_command(ALICE, "general", "declare")
    [modal] = sandbox.open_views(ALICE)
    await driver.view_submission(ALICE, modal["id"], values={"summary": "Answers degraded"})
    channel = "inc-20261122-answers-degraded"
    ts = sandbox.messages(channel)[0]["ts"]
    await driver.tick(ALICE, channel, ts, "step", "dash")
    await driver.click(ALICE, channel, ts, "rollback")

    assert sandbox.open_views(ALICE) == []
    [message] = sandbox.messages(channel)
    ticked = message["blocks"][1]["elements"][0]["initial_options"]
    assert [option["value"] for option in ticked] == ["dash"]
    assert [m["text"] for m in sandbox.ephemerals(ALICE)] == [
        "Try `/incident declare`",
        "Rolled back prompt to v11",
    ]
    assert conformance.checked > 0
    text = transcript(sandbox)
    assert "#inc-20261122-answers-degraded  steadyhand: == Answers degraded ==" in text
    assert "[x] Check the eval dashboard" in text
    assert "steadyhand → alice (only alice sees this): Rolled back prompt to v11" in text
