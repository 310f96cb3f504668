"""Messages in the sandbox: posting, editing, threads, ephemerals, reactions, response URLs."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import SlackSandbox
from bot.sandbox.entities import MessageContent
from bot.sandbox.seed import ALICE, BOB, BOT_USER_ID
from tests.support.slack_specs import ConformanceRecorder

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Incident opened*"}}


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return str(raised.value.response["error"])


@pytest.fixture
async def channel_id(client: AsyncWebClient) -> str:
    created = await client.conversations_create(name="inc-20261122-answers-degraded")
    await client.conversations_invite(channel=created["channel"]["id"], users=[ALICE, BOB])
    return str(created["channel"]["id"])


async def test_post_update_and_history(
    client: AsyncWebClient,
    sandbox: SlackSandbox,
    channel_id: str,
    conformance: ConformanceRecorder,
) -> None:
    first = await client.chat_postMessage(channel=channel_id, text="opened", blocks=[SECTION])
    second = await client.chat_postMessage(channel=channel_id, text="second")
    await client.chat_update(channel=channel_id, ts=first["ts"], text="opened (sev2)")
    history = await client.conversations_history(channel=channel_id)

    assert float(second["ts"]) > float(first["ts"])
    assert [m["text"] for m in history["messages"][:2]] == ["second", "opened (sev2)"]
    updated = history["messages"][1]
    assert updated["edited"]["user"] == BOT_USER_ID
    assert updated["blocks"][0]["text"]["text"] == "*Incident opened*"  # kept by the update
    versions = sandbox.message(channel_id, first["ts"]).versions
    assert [version.content.text for version in versions] == ["opened", "opened (sev2)"]
    assert [m["text"] for m in sandbox.messages(channel_id)] == ["opened (sev2)", "second"]


async def test_stored_blocks_get_block_ids(
    client: AsyncWebClient, sandbox: SlackSandbox, channel_id: str
) -> None:
    await client.chat_postMessage(channel=channel_id, text="x", blocks=[SECTION])

    assert sandbox.messages(channel_id)[0]["blocks"][0]["block_id"]


async def test_history_pages_and_bounds(client: AsyncWebClient, channel_id: str) -> None:
    posted = [
        (await client.chat_postMessage(channel=channel_id, text=str(n)))["ts"] for n in range(5)
    ]

    page = await client.conversations_history(channel=channel_id, limit=2)
    following = await client.conversations_history(
        channel=channel_id, limit=2, cursor=page["response_metadata"]["next_cursor"]
    )
    bounded = await client.conversations_history(
        channel=channel_id, oldest=posted[1], latest=posted[3], inclusive=True
    )

    assert [m["text"] for m in page["messages"]] == ["4", "3"]
    assert page["has_more"] is True
    assert [m["text"] for m in following["messages"]] == ["2", "1"]
    assert [m["text"] for m in bounded["messages"]] == ["3", "2", "1"]


async def test_threads(client: AsyncWebClient, channel_id: str) -> None:
    parent = await client.chat_postMessage(channel=channel_id, text="timeline")
    await client.chat_postMessage(channel=channel_id, text="10:02 rollback", thread_ts=parent["ts"])

    replies = await client.conversations_replies(channel=channel_id, ts=parent["ts"])
    history = await client.conversations_history(channel=channel_id)

    assert [m["text"] for m in replies["messages"]] == ["timeline", "10:02 rollback"]
    assert history["messages"][0]["reply_count"] == 1
    assert "10:02 rollback" not in [m["text"] for m in history["messages"]]


async def test_content_rules(client: AsyncWebClient, channel_id: str) -> None:
    # api_call, because chat_postMessage itself warns when text is missing.
    no_text = client.api_call("chat.postMessage", json={"channel": channel_id})
    assert await error_of(no_text) == "no_text"
    assert (
        await error_of(client.chat_postMessage(channel=channel_id, text="x" * 40_001))
        == "msg_too_long"
    )
    assert (
        await error_of(
            client.chat_postMessage(channel=channel_id, text="x", blocks=[{"text": "no"}])
        )
        == "invalid_blocks"
    )
    assert (
        await error_of(client.chat_postMessage(channel=channel_id, text="x", blocks=[SECTION] * 51))
        == "invalid_blocks"
    )
    assert (
        await error_of(client.chat_postMessage(channel="C_NOPE", text="x")) == "channel_not_found"
    )


async def test_update_and_delete_rules(
    client: AsyncWebClient, sandbox: SlackSandbox, channel_id: str
) -> None:
    alices = sandbox.workspace.post(sandbox.channel(channel_id), ALICE, MessageContent("mine"))
    assert (
        await error_of(client.chat_update(channel=channel_id, ts="1.000000", text="x"))
        == "message_not_found"
    )
    assert (
        await error_of(client.chat_update(channel=channel_id, ts=alices.ts, text="x"))
        == "cant_update_message"
    )
    posted = await client.chat_postMessage(channel=channel_id, text="bye")
    await client.chat_delete(channel=channel_id, ts=posted["ts"])

    assert "bye" not in [m["text"] for m in sandbox.messages(channel_id)]


async def test_ephemeral_messages(
    client: AsyncWebClient,
    sandbox: SlackSandbox,
    channel_id: str,
    conformance: ConformanceRecorder,
) -> None:
    await client.chat_postEphemeral(channel=channel_id, user=ALICE, text="only for you")

    assert [m["text"] for m in sandbox.ephemerals(ALICE)] == ["only for you"]
    assert sandbox.ephemerals(BOB) == []
    assert sandbox.messages(channel_id) == []
    assert (
        await error_of(client.chat_postEphemeral(channel=channel_id, user="U_CAROL", text="x"))
        == "user_not_in_channel"
    )


async def test_direct_message_by_user_id(client: AsyncWebClient, sandbox: SlackSandbox) -> None:
    posted = await client.chat_postMessage(channel=ALICE, text="please approve")

    assert posted["channel"].startswith("D")
    assert sandbox.messages(posted["channel"])[0]["text"] == "please approve"


async def test_permalink_reactions_and_pins(
    client: AsyncWebClient, channel_id: str, conformance: ConformanceRecorder
) -> None:
    ts = (await client.chat_postMessage(channel=channel_id, text="summary"))["ts"]

    link = await client.chat_getPermalink(channel=channel_id, message_ts=ts)
    await client.reactions_add(channel=channel_id, timestamp=ts, name="eyes")
    reactions = await client.reactions_get(channel=channel_id, timestamp=ts)
    await client.pins_add(channel=channel_id, timestamp=ts)
    pins = await client.pins_list(channel=channel_id)

    assert link["permalink"].endswith(f"/archives/{channel_id}/p{ts.replace('.', '')}")
    assert reactions["message"]["reactions"] == [
        {"name": "eyes", "users": [BOT_USER_ID], "count": 1}
    ]
    assert [item["message"]["ts"] for item in pins["items"]] == [ts]
    assert (
        await error_of(client.reactions_add(channel=channel_id, timestamp=ts, name="eyes"))
        == "already_reacted"
    )
    assert await error_of(client.pins_add(channel=channel_id, timestamp=ts)) == "already_pinned"


async def test_response_url_answers(
    client: AsyncWebClient, sandbox: SlackSandbox, channel_id: str
) -> None:
    ts = (await client.chat_postMessage(channel=channel_id, text="approve?"))["ts"]
    ephemeral_url = sandbox.issue_response_url(ALICE, channel_id)
    original_url = sandbox.issue_response_url(ALICE, channel_id, message_ts=ts)

    async with httpx.AsyncClient() as http:
        await http.post(ephemeral_url, json={"text": "working on it"})
        await http.post(ephemeral_url, json={"text": "rolled back", "response_type": "in_channel"})
        await http.post(original_url, json={"text": "approved by alice", "replace_original": True})
        unknown = await http.post(f"{sandbox.base_url}/respond/nope", json={"text": "x"})

    assert [m["text"] for m in sandbox.ephemerals(ALICE)] == ["working on it"]
    assert [m["text"] for m in sandbox.messages(channel_id)] == ["approved by alice", "rolled back"]
    assert [post.payload["text"] for post in sandbox.response_url_posts] == [
        "working on it",
        "rolled back",
        "approved by alice",
    ]
    assert unknown.status_code == 404


async def test_response_url_delete_original(
    client: AsyncWebClient, sandbox: SlackSandbox, channel_id: str
) -> None:
    ts = (await client.chat_postMessage(channel=channel_id, text="temporary"))["ts"]
    url = sandbox.issue_response_url(ALICE, channel_id, message_ts=ts)

    async with httpx.AsyncClient() as http:
        response = await http.post(url, json={"delete_original": True})

    assert response.json() == {"ok": True}
    assert sandbox.messages(channel_id) == []


async def test_wait_until_returns_once_the_bot_has_acted(
    client: AsyncWebClient, sandbox: SlackSandbox, channel_id: str
) -> None:
    posting = asyncio.create_task(client.chat_postMessage(channel=channel_id, text="later"))

    found = await sandbox.wait_until(lambda: sandbox.messages(channel_id))
    await posting

    assert found[0]["text"] == "later"
    with pytest.raises(TimeoutError):
        await sandbox.wait_until(lambda: False, timeout=0.05)
