"""The draft post-mortem delivered through the real bot and the sandbox Slack: uploaded on
resolution, uploaded again by `/incident postmortem`, and the review reminder."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.domain.timeline import EventType
from bot.sandbox.seed import ALICE, BOB
from bot.services.pending_work import Delivered, deliver_pending
from bot.stage import Stage
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import incident_of, only_incident_channel, text_of
from tests.e2e.test_alerts import timeline
from tests.e2e.test_pending_slack_work import settle_slack


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


async def test_a_refused_upload_leaves_the_incident_resolved_and_is_tried_again(
    stage: Stage,
) -> None:
    await stage.command("alice", "#general", "open cost Spend tripled")
    channel = only_incident_channel(stage.sandbox)
    stage.sandbox.fail_next("files.getUploadURLExternal", "invalid_arguments")

    await stage.command("alice", channel.id, "resolve")

    assert files_in(stage, channel.id) == []
    assert "resolved" in stage.sandbox.channel(channel.id).topic.value
    told = stage.sandbox.ephemerals(ALICE, channel.id)[-1]["text"]
    assert "as soon as Slack answers again" in told
    await settle_slack(stage)
    assert len(files_in(stage, channel.id)) == 2

    await stage.command("alice", channel.id, "postmortem")
    assert len(files_in(stage, channel.id)) == 4


# Delivered once, whatever Slack answers (issue 10): the upload is pending Slack work.


async def assert_shared_once(stage: Stage, channel_id: str) -> None:
    [markdown, picture] = files_in(stage, channel_id)
    assert markdown["name"].startswith("postmortem-") and markdown["name"].endswith(".md")
    assert picture["name"].endswith(".png")
    assert not any(
        "could not be uploaded" in text_of(m) for m in stage.sandbox.messages(channel_id)
    )
    incident = await incident_of(stage, stage.sandbox.channel(channel_id))
    posted = [
        e for e in await timeline(stage, incident.id) if e.type is EventType.POSTMORTEM_POSTED
    ]
    assert [e.data["file_id"] for e in posted] == [markdown["id"]]
    async with stage.runtime.deps.uow() as uow:
        assert await uow.pending_work.pending(incident.id) == []


async def test_an_upload_slack_fails_to_complete_is_shared_once_later(stage: Stage) -> None:
    await stage.command("alice", "#general", "open tool Search tool schema errors")
    channel = only_incident_channel(stage.sandbox)
    stage.sandbox.fail_next("files.completeUploadExternal", "internal_error", status=500)
    await stage.command("alice", channel.id, "resolve Tool schema v7 restored")
    assert files_in(stage, channel.id) == []
    await settle_slack(stage)
    await assert_shared_once(stage, channel.id)


async def test_a_slow_upload_is_given_back_within_its_lease_and_shared_once(
    stage: Stage, clock: ManualClock
) -> None:
    """A step that outlived its lease would be claimed and done again by another replica while
    it still ran: a second upload. So a step is given back before its lease runs out."""
    await stage.command("alice", "#general", "open tool Search tool schema errors")
    channel = only_incident_channel(stage.sandbox)
    # The first try fails at once, so the upload waits as pending work for the next run.
    stage.sandbox.fail_next("files.getUploadURLExternal", "internal_error", status=500)
    await stage.command("alice", channel.id, "resolve Tool schema v7 restored")
    incident = await incident_of(stage, stage.sandbox.channel(channel.id))
    slow = stage.sandbox.hold_next_answer("files.completeUploadExternal")  # shared, not answered
    clock.advance(timedelta(minutes=1))  # past the backoff
    # The real limit is 45 s within a 60 s lease; a short one here so the test need not wait.
    quick = replace(stage.runtime.deps, step_time_limit=timedelta(milliseconds=200))

    delivered = await deliver_pending(quick, incident.id)

    assert delivered == Delivered(done=0, failed=1)
    assert not slow.is_set()  # given back while Slack still held the answer
    async with stage.runtime.deps.uow() as uow:
        [owed] = await uow.pending_work.pending(incident.id)
    assert owed.last_error is not None and "did not finish" in owed.last_error
    slow.set()
    await settle_slack(stage)  # the next try finds the file the slow one shared
    await assert_shared_once(stage, channel.id)


@pytest.mark.parametrize("status", [500, 504])
async def test_an_upload_shared_without_our_hearing_back_is_not_shared_again(
    stage: Stage, status: int
) -> None:
    await stage.command("alice", "#general", "open tool Search tool schema errors")
    channel = only_incident_channel(stage.sandbox)
    stage.sandbox.lose_next_answer("files.completeUploadExternal", status=status)
    await stage.command("alice", channel.id, "resolve Tool schema v7 restored")
    await settle_slack(stage)
    await assert_shared_once(stage, channel.id)


async def test_an_upload_left_pending_is_shared_once_after_a_restart(
    make_stage: StageFactory,
) -> None:
    async with make_stage() as first:
        await first.command("alice", "#general", "open tool Search tool schema errors")
        channel = only_incident_channel(first.sandbox)
        first.sandbox.fail_next(
            "files.completeUploadExternal", "internal_error", status=500, times=3
        )
        await first.command("alice", channel.id, "resolve Tool schema v7 restored")
        assert files_in(first, channel.id) == []
    async with make_stage() as second:  # a new process on the same database
        await settle_slack(second)
        await assert_shared_once(second, channel.id)


async def test_an_upload_slack_keeps_refusing_is_given_up_with_the_way_to_try_again(
    stage: Stage,
) -> None:
    await stage.command("alice", "#general", "open cost Spend tripled")
    channel = only_incident_channel(stage.sandbox)
    stage.sandbox.fail_next("files.getUploadURLExternal", "file_type_not_allowed", times=3)
    await stage.command("alice", channel.id, "resolve")
    await settle_slack(stage)

    assert files_in(stage, channel.id) == []
    told = [text_of(m) for m in stage.sandbox.messages(channel.id) if "could not be" in text_of(m)]
    assert len(told) == 1 and "/incident postmortem" in told[0], told
    assert "file_type_not_allowed" in told[0]
    await stage.command("alice", channel.id, "postmortem")
    assert len(files_in(stage, channel.id)) == 2
