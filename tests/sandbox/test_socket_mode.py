"""Socket Mode in the sandbox: the protocol itself, then a real Bolt app on slack_sdk's client.

The Bolt app is the smallest one that answers a command in its ack, posts a button, answers the
click through the response_url and hears an event, all over Socket Mode.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import SlackSandbox, SocketModeDriver
from bot.sandbox.seed import ALICE
from bot.sandbox.socket_mode import NotConnected
from tests.sandbox.fakes import FakeClock
from tests.support.slack_specs import ConformanceRecorder

APP_TOKEN = "xapp-1-sandbox"
ROLLBACK = [
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "rollback",
                "text": {"type": "plain_text", "text": "Roll back prompt"},
            }
        ],
    }
]


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[SlackSandbox]:
    sandbox = SlackSandbox("xoxb-sandbox", app_token=APP_TOKEN, clock=clock)
    async with sandbox.serve():
        yield sandbox


def tiny_app(sandbox: SlackSandbox) -> AsyncApp:
    app = AsyncApp(
        # Socket Mode requests are not signed; Bolt skips the check for them.
        signing_secret="unused",
        client=AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url),
        # Work before acking, so each driver call returns with the app's work done.
        process_before_response=True,
    )

    @app.command("/incident")
    async def incident(ack: Any, command: dict[str, Any], client: Any) -> None:
        if command["text"] == "rollback":
            await ack()
            await client.chat_postMessage(
                channel=command["channel_id"], text="Roll back?", blocks=ROLLBACK
            )
        else:
            await ack(response_type="ephemeral", text="Try `/incident rollback`")

    @app.action("rollback")
    async def rollback(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="Rolled back prompt to v11", replace_original=False)

    @app.event("reaction_added")
    async def reacted(event: dict[str, Any], client: Any) -> None:
        await client.chat_postMessage(channel=event["item"]["channel"], text="Noted.")

    return app


@pytest.fixture
async def handler(sandbox: SlackSandbox) -> AsyncIterator[AsyncSocketModeHandler]:
    handler = AsyncSocketModeHandler(tiny_app(sandbox), APP_TOKEN)
    await handler.connect_async()
    try:
        yield handler
    finally:
        await handler.close_async()


@pytest.fixture
def driver(sandbox: SlackSandbox) -> SocketModeDriver:
    return SocketModeDriver(sandbox)


async def open_connection(sandbox: SlackSandbox) -> str:
    client = AsyncWebClient(token=APP_TOKEN, base_url=sandbox.api_url)
    response = await client.apps_connections_open(app_token=APP_TOKEN)
    url: str = response["url"]
    return url


async def test_the_protocol_hello_pong_envelope_and_ack(
    sandbox: SlackSandbox, driver: SocketModeDriver
) -> None:
    url = await open_connection(sandbox)
    assert url.startswith("ws://127.0.0.1:") and f"app_id={sandbox.app_id}" in url
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, autoping=False) as socket:
            hello = await socket.receive_json()
            assert hello["type"] == "hello" and hello["num_connections"] == 1
            assert hello["connection_info"] == {"app_id": sandbox.app_id}
            assert "approximate_connection_time" in hello["debug_info"]
            await socket.ping(b"sdk-ping-pong:1")
            pong = await socket.receive()
            assert (pong.type, pong.data) == (aiohttp.WSMsgType.PONG, b"sdk-ping-pong:1")

            delivering = asyncio.create_task(driver.slash_command(ALICE, "general", "help"))
            envelope = await socket.receive_json()
            assert envelope["type"] == "slash_commands"
            assert envelope["accepts_response_payload"] is True
            assert envelope["payload"]["command"] == "/incident"
            assert envelope["payload"]["text"] == "help"
            assert envelope["payload"]["user_id"] == ALICE
            await socket.send_json({"envelope_id": "not-this-one", "payload": {"text": "no"}})
            await socket.send_json(
                {"envelope_id": envelope["envelope_id"], "payload": {"text": "hi"}}
            )
            ack = await delivering

        # A connection URL is good for one connection.
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.status == 401

    assert (ack.envelope_id, ack.acked, ack.payload) == (
        envelope["envelope_id"],
        True,
        {"text": "hi"},
    )
    assert [m["text"] for m in sandbox.ephemerals(ALICE)] == ["hi"]


async def test_an_envelope_the_app_never_acks(
    sandbox: SlackSandbox, driver: SocketModeDriver
) -> None:
    url = await open_connection(sandbox)
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        await socket.receive_json()  # hello
        driver.ack_timeout = 0.05
        ack = await driver.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
        envelope = await socket.receive_json()
    assert not ack.acked and ack.envelope_id == envelope["envelope_id"]
    assert envelope["type"] == "events_api" and envelope["accepts_response_payload"] is False
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (0, "")
    assert envelope["payload"]["event"]["type"] == "app_home_opened"


async def test_slash_command_ack_is_shown_to_the_user(
    sandbox: SlackSandbox,
    handler: AsyncSocketModeHandler,
    driver: SocketModeDriver,
    conformance: ConformanceRecorder,
) -> None:
    ack = await driver.slash_command(ALICE, "#general", "help")

    assert ack.acked
    assert ack.payload == {"response_type": "ephemeral", "text": "Try `/incident rollback`"}
    assert [m["text"] for m in sandbox.ephemerals(ALICE, "general")] == ["Try `/incident rollback`"]
    assert sandbox.socket_mode.envelopes[-1]["envelope_id"] == ack.envelope_id
    assert conformance.checked > 0


async def test_block_action_and_event(
    sandbox: SlackSandbox,
    handler: AsyncSocketModeHandler,
    driver: SocketModeDriver,
    conformance: ConformanceRecorder,
) -> None:
    sandbox.add_channel("ops", [ALICE])
    assert (await driver.slash_command(ALICE, "ops", "rollback")).acked
    posted = sandbox.messages("ops")[-1]
    assert posted["text"] == "Roll back?"

    clicked = await driver.click(ALICE, "ops", posted["ts"], "rollback")
    assert clicked.acked and clicked.payload == {}
    envelope = sandbox.socket_mode.envelope(clicked.envelope_id)
    assert envelope["type"] == "interactive" and envelope["accepts_response_payload"] is False
    assert envelope["payload"]["type"] == "block_actions"
    assert [m["text"] for m in sandbox.ephemerals(ALICE)] == ["Rolled back prompt to v11"]

    reacted = await driver.react(ALICE, "ops", posted["ts"], "eyes")
    assert reacted.acked
    assert sandbox.messages("ops")[-1]["text"] == "Noted."
    retried = await driver.redeliver(reacted)
    assert retried.acked and retried.envelope_id != reacted.envelope_id
    assert sandbox.socket_mode.envelope(retried.envelope_id)["retry_attempt"] == 1


async def test_the_app_reconnects_when_asked_and_when_dropped(
    sandbox: SlackSandbox, handler: AsyncSocketModeHandler, driver: SocketModeDriver
) -> None:
    server = sandbox.socket_mode
    await server.ask_to_reconnect("refresh_requested")
    await sandbox.wait_until(lambda: server.opened == 2 and server.connections == 1)
    assert (await driver.slash_command(ALICE, "general", "help")).acked

    await server.close_connections()
    await sandbox.wait_until(lambda: server.opened == 3 and server.connections == 1)
    assert (await driver.slash_command(ALICE, "general", "help")).acked
    assert len(sandbox.calls_to("apps.connections.open")) == 3


async def test_after_the_app_disconnects_nothing_is_delivered(
    sandbox: SlackSandbox, handler: AsyncSocketModeHandler
) -> None:
    await handler.close_async()
    await sandbox.wait_until(lambda: sandbox.socket_mode.connections == 0)
    driver = SocketModeDriver(sandbox, connect_timeout=0.05)
    with pytest.raises(NotConnected):
        await driver.slash_command(ALICE, "general", "help")


async def test_connections_need_the_app_level_token(sandbox: SlackSandbox) -> None:
    for token, error in [("xapp-1-wrong", "invalid_auth"), (sandbox.bot_token, "invalid_auth")]:
        with pytest.raises(SlackApiError) as refused:
            await AsyncWebClient(base_url=sandbox.api_url).apps_connections_open(app_token=token)
        assert refused.value.response["error"] == error
    async with httpx.AsyncClient() as client:
        missing = await client.post(f"{sandbox.api_url}apps.connections.open")
    assert missing.json() == {"ok": False, "error": "missing_args"}
    # ... and the app-level token is good for nothing else.
    with pytest.raises(SlackApiError) as refused:
        client = AsyncWebClient(token=APP_TOKEN, base_url=sandbox.api_url)
        await client.chat_postMessage(channel="general", text="Hello")
    assert refused.value.response["error"] == "not_allowed_token_type"


async def test_a_bolt_app_with_a_wrong_token_never_connects(sandbox: SlackSandbox) -> None:
    handler = AsyncSocketModeHandler(tiny_app(sandbox), "xapp-1-wrong")
    connecting = asyncio.create_task(handler.connect_async())
    try:
        refused = await sandbox.wait_until(
            lambda: [c for c in sandbox.calls if c.method == "apps.connections.open"]
        )
        assert refused[0].error == "invalid_auth"
        assert sandbox.socket_mode.connections == 0
    finally:
        # slack_sdk retries for ever; cancelling is how its owner stops it.
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        await handler.close_async()
