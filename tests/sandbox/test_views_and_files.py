"""Modals (trigger ids, updates, pushes), the Home tab, and the two-step file upload."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import SlackSandbox
from bot.sandbox.seed import ALICE
from tests.sandbox.fakes import FakeClock
from tests.support.slack_specs import ConformanceRecorder

MODAL = {
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


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return str(raised.value.response["error"])


async def test_views_open_with_a_fresh_trigger(
    client: AsyncWebClient, sandbox: SlackSandbox, conformance: ConformanceRecorder
) -> None:
    trigger = sandbox.issue_trigger_id(ALICE)

    opened = await client.views_open(trigger_id=trigger, view=MODAL)

    assert opened["view"]["callback_id"] == "declare"
    assert [view["id"] for view in sandbox.open_views(ALICE)] == [opened["view"]["id"]]
    assert await error_of(client.views_open(trigger_id=trigger, view=MODAL)) == (
        "exchanged_trigger_id"
    )


async def test_trigger_ids_expire(
    client: AsyncWebClient, sandbox: SlackSandbox, clock: FakeClock
) -> None:
    trigger = sandbox.issue_trigger_id(ALICE)
    clock.advance(3.5)

    assert await error_of(client.views_open(trigger_id=trigger, view=MODAL)) == (
        "expired_trigger_id"
    )
    assert await error_of(client.views_open(trigger_id="123.456.abc", view=MODAL)) == (
        "invalid_trigger_id"
    )
    assert sandbox.open_views(ALICE) == []


async def test_views_update_push_and_hash(
    client: AsyncWebClient, sandbox: SlackSandbox, conformance: ConformanceRecorder
) -> None:
    opened = await client.views_open(trigger_id=sandbox.issue_trigger_id(ALICE), view=MODAL)
    view_id = opened["view"]["id"]
    retitled = {**MODAL, "title": {"type": "plain_text", "text": "Declared"}}

    updated = await client.views_update(view_id=view_id, view=retitled)
    stale = client.views_update(view_id=view_id, view=MODAL, hash=opened["view"]["hash"])
    pushed = await client.views_push(trigger_id=sandbox.issue_trigger_id(ALICE), view=MODAL)

    assert updated["view"]["title"]["text"] == "Declared"
    assert await error_of(stale) == "hash_conflict"
    assert pushed["view"]["root_view_id"] == view_id
    assert [view["id"] for view in sandbox.open_views(ALICE)] == [view_id, pushed["view"]["id"]]
    assert await error_of(client.views_update(view_id="V_NONE", view=MODAL)) == "not_found"


async def test_home_tab(client: AsyncWebClient, sandbox: SlackSandbox) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }

    await client.views_publish(user_id=ALICE, view=home)

    published = sandbox.home_view(ALICE)
    assert published is not None
    assert published["blocks"][0]["text"]["text"] == "hi"


async def test_file_upload_shares_a_message(
    client: AsyncWebClient, sandbox: SlackSandbox, conformance: ConformanceRecorder
) -> None:
    channel_id = (await client.conversations_create(name="inc-files"))["channel"]["id"]

    uploaded = await client.files_upload_v2(
        channel=channel_id,
        content="# Post-mortem\n",
        filename="postmortem.md",
        title="Post-mortem",
        initial_comment="Draft post-mortem attached",
    )

    file_id = uploaded["file"]["id"]
    assert sandbox.uploaded(file_id) == b"# Post-mortem\n"
    [message] = sandbox.messages(channel_id)
    assert message["text"] == "Draft post-mortem attached"
    assert message["files"][0]["title"] == "Post-mortem"


async def test_completing_an_upload_without_bytes_fails(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    started = await client.files_getUploadURLExternal(filename="x.txt", length=3)

    assert started["upload_url"].startswith(f"{sandbox.base_url}/upload/")
    assert (
        await error_of(client.files_completeUploadExternal(files=[{"id": started["file_id"]}]))
        == "file_not_found"
    )
