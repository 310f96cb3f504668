"""The driver's requests: signed as Slack signs them, shaped as Slack shapes them."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.sandbox import SlackDriver, SlackSandbox, serve_app
from bot.sandbox.entities import MessageContent
from bot.sandbox.seed import ALICE, BOT_USER_ID, GENERAL_CHANNEL

SECRET = "sandbox-signing-secret"
CHECKLIST: list[dict[str, Any]] = [
    {"type": "header", "block_id": "title", "text": {"type": "plain_text", "text": "Checks"}},
    {
        "type": "actions",
        "block_id": "steps",
        "elements": [
            {
                "type": "checkboxes",
                "action_id": "step",
                "options": [
                    {"text": {"type": "plain_text", "text": "Dashboards"}, "value": "dash"},
                    {"text": {"type": "plain_text", "text": "Last change"}, "value": "change"},
                ],
                "initial_options": [
                    {"text": {"type": "plain_text", "text": "Last change"}, "value": "change"}
                ],
            },
            {
                "type": "button",
                "action_id": "rollback",
                "text": {"type": "plain_text", "text": "Roll back"},
                "value": "prompt:v11",
            },
        ],
    },
]


@dataclass
class Delivered:
    headers: dict[str, str]
    body: str
    valid: bool

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body))

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.form["payload"]))


@dataclass
class RecordingBot:
    """Stands in for the bot: checks signatures with slack_sdk and remembers every request."""

    answer: dict[str, Any] = field(default_factory=dict)
    received: list[Delivered] = field(default_factory=list)

    def app(self) -> Starlette:
        verifier = SignatureVerifier(SECRET)

        async def events(request: Request) -> Response:
            body = (await request.body()).decode()
            valid = verifier.is_valid_request(body, dict(request.headers))
            self.received.append(Delivered(dict(request.headers), body, valid))
            if not valid:
                return Response(status_code=401)
            return JSONResponse(self.answer) if self.answer else Response()

        return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


@pytest.fixture
def bot() -> RecordingBot:
    return RecordingBot()


@pytest.fixture
async def driver(sandbox: SlackSandbox, bot: RecordingBot) -> AsyncIterator[SlackDriver]:
    async with (
        serve_app(bot.app()) as bot_url,
        SlackDriver(f"{bot_url}/slack/events", SECRET, sandbox) as driver,
    ):
        yield driver


async def test_slash_command_is_signed_and_form_encoded(
    driver: SlackDriver, bot: RecordingBot, sandbox: SlackSandbox
) -> None:
    response = await driver.slash_command(ALICE, "#general", "declare quality")

    [delivered] = bot.received
    assert response.status_code == 200
    assert delivered.valid
    assert delivered.headers["content-type"] == "application/x-www-form-urlencoded"
    form = delivered.form
    assert form["command"] == "/incident"
    assert form["text"] == "declare quality"
    assert (form["user_id"], form["user_name"]) == (ALICE, "alice")
    assert (form["channel_id"], form["channel_name"]) == (GENERAL_CHANNEL, "general")
    assert form["response_url"].startswith(f"{sandbox.base_url}/respond/")
    assert form["trigger_id"] in sandbox.workspace.triggers


async def test_forged_stale_and_retried_deliveries(driver: SlackDriver, bot: RecordingBot) -> None:
    forged = await driver.slash_command(ALICE, "general", forge=True)
    stale = await driver.slash_command(ALICE, "general", timestamp=int(time.time()) - 600)
    retried = await driver.event(
        {"type": "app_mention", "user": ALICE, "text": "hi", "channel": GENERAL_CHANNEL},
        retry_num=2,
        retry_reason="http_timeout",
    )

    assert (forged.status_code, stale.status_code, retried.status_code) == (401, 401, 200)
    assert bot.received[2].headers["x-slack-retry-num"] == "2"
    assert bot.received[2].headers["x-slack-retry-reason"] == "http_timeout"


async def test_redelivery_resends_the_same_event(driver: SlackDriver, bot: RecordingBot) -> None:
    first = await driver.event({"type": "app_mention", "user": ALICE, "text": "hi"}, event_id="Ev1")
    await driver.redeliver(first)

    original, again = bot.received
    assert again.valid
    assert again.body == original.body
    assert json.loads(again.body)["event_id"] == "Ev1"
    assert again.headers["x-slack-retry-num"] == "1"


async def test_ack_of_a_slash_command_is_shown_to_the_user(
    driver: SlackDriver, bot: RecordingBot, sandbox: SlackSandbox
) -> None:
    bot.answer = {"text": "Usage: /incident declare"}

    await driver.slash_command(ALICE, "general", "help")

    assert [m["text"] for m in sandbox.ephemerals(ALICE)] == ["Usage: /incident declare"]


async def test_ticking_a_checkbox_reports_the_whole_selection(
    driver: SlackDriver, bot: RecordingBot, sandbox: SlackSandbox
) -> None:
    channel = sandbox.add_channel("inc-checks", [ALICE])
    posted = sandbox.workspace.post(channel, BOT_USER_ID, MessageContent("checks", CHECKLIST))

    await driver.tick(ALICE, channel.id, posted.ts, "step", "dash")

    payload = bot.received[0].payload
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted.ts,
        "channel_id": channel.id,
        "is_ephemeral": False,
    }
    assert payload["message"]["blocks"] == CHECKLIST
    [action] = payload["actions"]
    assert action["action_id"] == "step"
    assert action["block_id"] == "steps"
    assert [option["value"] for option in action["selected_options"]] == ["dash", "change"]


async def test_clicking_a_button(
    driver: SlackDriver, bot: RecordingBot, sandbox: SlackSandbox
) -> None:
    channel = sandbox.add_channel("inc-buttons", [ALICE])
    posted = sandbox.workspace.post(channel, BOT_USER_ID, MessageContent("checks", CHECKLIST))

    await driver.click(ALICE, "inc-buttons", posted.ts, "rollback")

    [action] = bot.received[0].payload["actions"]
    assert (action["type"], action["value"]) == ("button", "prompt:v11")
    with pytest.raises(LookupError, match="no element with action_id 'nope'"):
        await driver.click(ALICE, "inc-buttons", posted.ts, "nope")


async def test_user_messages_and_reactions_are_stored_then_sent(
    driver: SlackDriver, bot: RecordingBot, sandbox: SlackSandbox
) -> None:
    await driver.user_message(ALICE, "general", "is the bot up?")
    ts = sandbox.messages("general")[-1]["ts"]
    await driver.react(ALICE, "general", ts, "eyes")

    message_event = json.loads(bot.received[0].body)
    reaction_event = json.loads(bot.received[1].body)
    assert message_event["type"] == "event_callback"
    assert message_event["event"]["text"] == "is the bot up?"
    assert reaction_event["event"]["item"] == {
        "type": "message",
        "channel": GENERAL_CHANNEL,
        "ts": ts,
    }
    assert sandbox.messages("general")[-1]["reactions"][0]["name"] == "eyes"


MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {"type": "plain_text_input", "action_id": "summary"},
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "severity",
                "options": [
                    {"text": {"type": "plain_text", "text": "SEV1"}, "value": "sev1"},
                    {"text": {"type": "plain_text", "text": "SEV2"}, "value": "sev2"},
                ],
            },
        },
    ],
}


async def open_modal(sandbox: SlackSandbox) -> str:
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    opened = await client.views_open(trigger_id=sandbox.issue_trigger_id(ALICE), view=MODAL)
    return str(opened["view"]["id"])


async def test_view_submission_shapes_state_from_values(
    driver: SlackDriver, bot: RecordingBot, sandbox: SlackSandbox
) -> None:
    view_id = await open_modal(sandbox)

    await driver.view_submission(ALICE, view_id, values={"summary": "slow", "severity": "sev2"})

    payload = bot.received[0].payload
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "declare"
    assert payload["view"]["state"]["values"] == {
        "summary": {"summary": {"type": "plain_text_input", "value": "slow"}},
        "severity": {
            "severity": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "SEV2"},
                    "value": "sev2",
                },
            }
        },
    }
    assert sandbox.open_views(ALICE) == []


async def test_view_submission_errors_keep_the_modal_open(
    driver: SlackDriver, bot: RecordingBot, sandbox: SlackSandbox
) -> None:
    view_id = await open_modal(sandbox)
    bot.answer = {"response_action": "errors", "errors": {"summary": "Say what is wrong"}}

    await driver.view_submission(ALICE, view_id, values={"summary": ""})

    assert [view["id"] for view in sandbox.open_views(ALICE)] == [view_id]


async def test_view_submission_update_and_push(
    driver: SlackDriver, bot: RecordingBot, sandbox: SlackSandbox
) -> None:
    view_id = await open_modal(sandbox)
    bot.answer = {"response_action": "update", "view": {**MODAL, "callback_id": "confirm"}}
    await driver.view_submission(ALICE, view_id, values={"summary": "slow"})
    bot.answer = {"response_action": "push", "view": {**MODAL, "callback_id": "more"}}
    await driver.view_submission(ALICE, view_id, values={"summary": "slow"})

    callbacks = [view["callback_id"] for view in sandbox.open_views(ALICE)]
    assert callbacks == ["confirm", "more"]
    with pytest.raises(LookupError, match="no input with action_id"):
        await driver.view_submission(ALICE, view_id, values={"nope": "x"})
