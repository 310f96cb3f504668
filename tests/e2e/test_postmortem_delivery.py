"""The draft post-mortem delivered through the real bot and the sandbox Slack: uploaded on
resolution, uploaded again by `/incident postmortem`, and the review reminder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.clock import ManualClock
from bot.sandbox.seed import ALICE, BOB
from bot.stage import Stage
from tests.e2e.helpers import only_incident_channel, text_of


def files_in(stage: Stage, channel_id: str) -> list[dict[str, Any]]:
    return [f for message in stage.sandbox.messages(channel_id) for f in message.get("files", [])]


def content(stage: Stage, file: dict[str, Any]) -> str:
    uploaded = stage.sandbox.uploaded(file["id"])
    assert uploaded is not None
    return uploaded.decode("utf-8")


async def test_resolving_uploads_the_post_mortem_and_the_command_uploads_it_again(
    stage: Stage, clock: ManualClock
) -> None:
    await stage.command("alice", "#general", "open tool Search tool schema errors")
    channel = only_incident_channel(stage.sandbox)
    clock.advance(timedelta(minutes=30))
    await stage.command("alice", channel.id, "resolve Tool schema v7 restored")

    [first, picture] = files_in(stage, channel.id)  # in one message; the picture has its test
    assert picture["name"].startswith("timeline-") and picture["name"].endswith(".png")
    shared_with = stage.sandbox.messages(channel.id)[-1]
    assert first["name"].startswith("postmortem-") and first["name"].endswith(".md")
    assert first["title"] == "Post-mortem: Search tool schema errors"
    assert content(stage, first).startswith("# Post-mortem: Search tool schema errors")
    assert shared_with["text"].endswith("· resolve 30m 00s.")  # the measures, one line

    clock.advance(timedelta(hours=2))
    await stage.command("bob", channel.id, "postmortem")

    files = files_in(stage, channel.id)
    assert len(files) == 4 and files[2]["id"] != first["id"]
    assert content(stage, files[2]).startswith("# Post-mortem: Search tool schema errors")
    assert stage.sandbox.ephemerals(BOB, channel.id) == []  # the file is the answer


async def test_the_review_reminder_fires_when_due(stage: Stage, clock: ManualClock) -> None:
    await stage.command("alice", "#general", "open quality Answers drift")
    channel = only_incident_channel(stage.sandbox)
    clock.advance(timedelta(minutes=20))
    await stage.command("alice", channel.id, "resolve")
    before = len(stage.sandbox.messages(channel.id))

    clock.advance(timedelta(days=3) - timedelta(minutes=1))
    await stage.run_due_work()
    assert len(stage.sandbox.messages(channel.id)) == before
    clock.advance(timedelta(minutes=1))
    await stage.run_due_work()
    await stage.run_due_work()  # fired once only

    [reminder] = stage.sandbox.messages(channel.id)[before:]
    assert f"<@{ALICE}>" in reminder["text"] and "post-mortem review is due" in reminder["text"]
    assert "/incident postmortem" in text_of(reminder)


async def test_a_refused_upload_leaves_the_incident_resolved_and_says_what_to_run(
    stage: Stage,
) -> None:
    await stage.command("alice", "#general", "open cost Spend tripled")
    channel = only_incident_channel(stage.sandbox)
    stage.sandbox.fail_next("files.getUploadURLExternal", "invalid_arguments")

    await stage.command("alice", channel.id, "resolve")

    assert files_in(stage, channel.id) == []
    last = text_of(stage.sandbox.messages(channel.id)[-1])
    assert "could not be uploaded" in last and "/incident postmortem" in last
    assert "resolved" in stage.sandbox.channel(channel.id).topic.value

    await stage.command("alice", channel.id, "postmortem")
    assert len(files_in(stage, channel.id)) == 2
