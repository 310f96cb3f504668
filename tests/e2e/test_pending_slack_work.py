"""Slack failing part-way: what the bot owes Slack is kept, finished once Slack answers again,
and never done twice (issue 10, findings 1, 2 and 7)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.kinds import IncidentKind
from bot.domain.pending_work import REFUSALS_BEFORE_GIVING_UP
from bot.domain.timeline import EventType
from bot.ports import ChatError
from bot.sandbox.entities import Channel
from bot.sandbox.seed import ALICE, BOB, GENERAL_CHANNEL
from bot.services.registry import running
from bot.slack import ids
from bot.slack.ids import ACTION_OPEN_TRIAGE, ACTION_TOGGLE_STEP
from bot.stage import Stage
from tests.e2e.action_stage import CONFIG, action_stage, card, cards
from tests.e2e.action_stage import open_incident as open_action_incident
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import (
    incident_channels,
    incident_of,
    only_incident_channel,
    step_positions,
    text_of,
    with_action,
)
from tests.e2e.registry_stage import TOKEN
from tests.e2e.test_alerts import ALERTS, alert_stage, generic, send, timeline
from tests.e2e.test_checklist_and_questions import answer

# More 500s in a row than slack_sdk's own retries absorb.
OUTLASTING_SLACK_SDK = 3


async def settle_slack(stage: Stage, rounds: int = 6) -> None:
    """Slack answers again: let time pass and the scheduler run, as it would every 5 s."""
    for _ in range(rounds):
        # Past the first few backoffs, short of the five questions' 15-minute reminder.
        stage.clock.advance(timedelta(minutes=1))
        await stage.run_due_work()


async def assert_fully_opened(stage: Stage, channel: Channel, *, alert: bool) -> None:
    """One header, the whole checklist once, the five questions once, (the alert summary
    once), the topic, and nothing still owed."""
    incident = await incident_of(stage, channel)
    messages = stage.sandbox.messages(channel.id)
    headers = [m for m in messages if m.get("blocks", [{}])[0].get("type") == "header"]
    assert len(headers) == 1, [text_of(m)[:80] for m in messages]
    assert incident.header_ts == headers[0]["ts"]
    pages = with_action(messages, ACTION_TOGGLE_STEP)
    assert [p for page in pages for p in step_positions(page)] == list(range(len(incident.steps)))
    assert incident.checklist_ts == [page["ts"] for page in pages]
    [questions] = with_action(messages, ACTION_OPEN_TRIAGE)
    assert incident.questions_ts == questions["ts"]
    assert incident.title in channel.topic.value
    summaries = [m for m in messages if ":rotating_light: *Alerts*" in text_of(m)]
    assert len(summaries) == (1 if alert else 0)
    async with stage.runtime.deps.uow() as uow:
        assert await uow.pending_work.pending(incident.id) == []
    events = await timeline(stage, incident.id)
    assert [e.type for e in events].count(EventType.CHANNEL_CREATED) == 1
    assert [e.type for e in events].count(EventType.QUESTIONS_ASKED) == 1


def failed_calls(stage: Stage, method: str) -> int:
    return sum(1 for call in stage.sandbox.calls if call.method == method and call.error)


# Finding 1: an alert is never lost


async def test_an_alert_whose_channel_slack_fails_to_create_is_opened_later(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        stage.sandbox.fail_next("conversations.create", "internal_error")
        first = await send(stage, generic("eval-drop"))
        # Stored with its opening: the sender must not retry, and nothing is lost if it does.
        assert first.status_code == 200, first.text
        [incident_id] = first.json()["opened"]
        assert first.json()["pending"] == [incident_id]
        assert incident_channels(stage.sandbox) == []
        retry = await send(stage, generic("eval-drop"))
        assert retry.status_code == 200 and retry.json()["duplicate"] is True

        await settle_slack(stage)
        channel = only_incident_channel(stage.sandbox)
        assert (await incident_of(stage, channel)).id == incident_id
        assert {ALICE, BOB} <= set(channel.members)  # paged
        await assert_fully_opened(stage, channel, alert=True)


async def test_an_alert_paging_a_group_slack_does_not_know_still_opens(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    path = tmp_path / "steadyhand.yml"
    config = CONFIG.replace("{approvers}", "[S_MANAGERS]")
    path.write_text(config + ALERTS.replace("page: S_ONCALL", "page: S_NOBODY"))
    env = {"STEADYHAND_CONFIG": str(path), "STEADYHAND_API_TOKENS": TOKEN}
    async with make_stage(env=env) as stage:
        response = await send(stage, generic("eval-drop"))
        assert response.status_code == 200, response.text
        await settle_slack(stage)
        channel = only_incident_channel(stage.sandbox)
        await assert_fully_opened(stage, channel, alert=True)
        incident = await incident_of(stage, channel)
        dropped = [
            e for e in await timeline(stage, incident.id) if e.type is EventType.SLACK_WORK_DROPPED
        ]
        assert [e.data["step"] for e in dropped] == ["invite"]
        assert "no_such_subteam" in dropped[0].text


# Finding 2: never half-opened


async def test_an_alert_opening_cut_off_after_the_channel_exists_is_finished(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        stage.sandbox.fail_next(
            "chat.postMessage", "internal_error", status=500, times=OUTLASTING_SLACK_SDK
        )
        response = await send(stage, generic("eval-drop"))
        assert response.status_code == 200, response.text
        assert response.json()["pending"] == response.json()["opened"]
        channel = only_incident_channel(stage.sandbox)
        assert stage.sandbox.messages(channel.id) == []  # half-opened, for now

        await settle_slack(stage)
        assert only_incident_channel(stage.sandbox) is channel
        await assert_fully_opened(stage, channel, alert=True)


async def test_an_open_command_cut_off_after_the_channel_exists_is_finished(
    stage: Stage,
) -> None:
    stage.sandbox.fail_next(
        "chat.postMessage", "internal_error", status=500, times=OUTLASTING_SLACK_SDK
    )
    await stage.command("alice", "#general", "open quality Answers degraded")
    channel = only_incident_channel(stage.sandbox)
    [told] = stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)
    assert "will be finished as soon as Slack answers again" in told["text"]

    await settle_slack(stage)
    await assert_fully_opened(stage, channel, alert=False)
    assert set(channel.members) >= {ALICE}


async def test_a_restart_finishes_an_opening_another_process_left(
    make_stage: StageFactory,
) -> None:
    async with make_stage() as first:
        first.sandbox.fail_next(
            "conversations.setTopic", "internal_error", status=500, times=OUTLASTING_SLACK_SDK
        )
        await first.command("alice", "#general", "open quality Answers degraded")
    async with make_stage() as second:  # a new process on the same database
        await settle_slack(second)
        await assert_fully_opened(second, only_incident_channel(second.sandbox), alert=False)


# Half-done steps are finished, not repeated


async def test_a_channel_made_without_our_hearing_back_is_adopted(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        stage.sandbox.lose_next_answer("conversations.create")
        response = await send(stage, generic("eval-drop"))
        assert response.status_code == 200, response.text
        await settle_slack(stage)
        channel = only_incident_channel(stage.sandbox)  # not a second, "-2" channel
        assert not channel.name.endswith("-2")
        await assert_fully_opened(stage, channel, alert=True)


async def test_a_message_posted_without_our_hearing_back_is_not_posted_again(
    stage: Stage,
) -> None:
    stage.sandbox.lose_next_answer("chat.postMessage")  # the header lands; the answer is lost
    await stage.command("alice", "#general", "open quality Answers degraded")
    await settle_slack(stage)
    await assert_fully_opened(stage, only_incident_channel(stage.sandbox), alert=False)


# Finding 7: an update is never dropped


async def test_an_update_slack_fails_to_post_is_posted_once_later(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    config = tmp_path / "steadyhand.yml"
    config.write_text(f"stakeholder_channel: {GENERAL_CHANNEL}\n")
    async with make_stage(env={"STEADYHAND_CONFIG": str(config)}) as stage:
        await stage.command("alice", "#general", "open cost Spend per request tripled")
        channel = only_incident_channel(stage.sandbox)
        stage.sandbox.fail_next(
            "chat.postMessage", "internal_error", status=500, times=OUTLASTING_SLACK_SDK
        )
        await stage.command("alice", channel.id, "update Routed long prompts to the small model")
        told = stage.sandbox.ephemerals(ALICE, channel.id)[-1]
        assert "It will be posted in the channel as soon as Slack answers again" in told["text"]
        incident = await incident_of(stage, channel)
        updates = [
            e for e in await timeline(stage, incident.id) if e.type is EventType.STATUS_UPDATE
        ]
        assert [e.text for e in updates] == ["Routed long prompts to the small model"]
        assert posts_saying(stage, channel.id, "Routed long prompts") == 0

        await settle_slack(stage)
        assert posts_saying(stage, channel.id, "Routed long prompts") == 1
        assert posts_saying(stage, GENERAL_CHANNEL, "Routed long prompts") == 1
        updates = [
            e for e in await timeline(stage, incident.id) if e.type is EventType.STATUS_UPDATE
        ]
        assert len(updates) == 1


def posts_saying(stage: Stage, channel: str, words: str) -> int:
    messages: list[dict[str, Any]] = stage.sandbox.messages(channel)
    return sum(1 for m in messages if words in text_of(m))


# The same for handing over and resolving


async def test_a_handover_and_a_resolution_slack_fails_to_announce_are_announced_once(
    stage: Stage,
) -> None:
    await stage.command("alice", "#general", "open tool Search tool schema errors")
    channel = only_incident_channel(stage.sandbox)
    stage.sandbox.fail_next(
        "conversations.invite", "internal_error", status=500, times=OUTLASTING_SLACK_SDK
    )
    await stage.command("alice", channel.id, "commander <@U_BOB|bob>")
    assert "It will be announced" in stage.sandbox.ephemerals(ALICE, channel.id)[-1]["text"]
    assert (await incident_of(stage, channel)).commander == BOB  # recorded all the same
    assert BOB not in stage.sandbox.channel(channel.id).members

    stage.sandbox.fail_next("chat.update", "internal_error", status=500, times=OUTLASTING_SLACK_SDK)
    await settle_slack(stage)
    assert BOB in stage.sandbox.channel(channel.id).members
    assert posts_saying(stage, channel.id, "handed the incident commander role") == 1
    assert f"<@{BOB}>" in text_of(stage.sandbox.messages(channel.id)[0])  # the header

    stage.sandbox.fail_next(
        "conversations.setTopic", "internal_error", status=500, times=OUTLASTING_SLACK_SDK
    )
    await stage.command("bob", channel.id, "resolve Tool schema v7 restored")
    assert "It will be announced" in stage.sandbox.ephemerals(BOB, channel.id)[-1]["text"]
    await settle_slack(stage)
    assert "resolved" in stage.sandbox.channel(channel.id).topic.value
    assert posts_saying(stage, channel.id, "Tool schema v7 restored") == 1


# Action cards and their edits


async def test_an_action_card_and_its_edit_slack_fails_on_are_delivered_once(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with action_stage(make_stage, tmp_path) as stage:
        incident = await open_action_incident(stage)
        channel = incident.channel_id
        assert channel is not None
        stage.sandbox.fail_next(
            "chat.postMessage", "internal_error", status=500, times=OUTLASTING_SLACK_SDK
        )
        await stage.command("alice", channel, "rollback prompt because refusals stopped")
        assert cards(stage, incident) == []  # the request is recorded; its card is owed
        await settle_slack(stage)
        [asked] = cards(stage, incident)
        assert "Approval needed" in text_of(asked)

        stage.sandbox.fail_next(
            "chat.update", "internal_error", status=500, times=OUTLASTING_SLACK_SDK
        )
        await stage.driver.click("carol", channel, asked["ts"], ids.ACTION_APPROVE)
        await stage.settle()
        assert (await running(stage.runtime.deps, "support-bot")).versions["prompt"] == "v12"
        assert "Approval needed" in text_of(card(stage, incident))  # the edit is owed
        await settle_slack(stage)
        [done] = cards(stage, incident)
        assert done["ts"] == asked["ts"] and "Applied" in text_of(done)


async def test_all_alerts_resolved_is_told_once_though_slack_failed_the_first_time(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        await send(stage, generic("eval-drop"))
        await send(stage, generic("eval-drop", status="resolved", id="r1"))
        stage.sandbox.fail_next(
            "chat.postMessage", "internal_error", status=500, times=OUTLASTING_SLACK_SDK
        )
        await stage.run_due_work()
        channel = only_incident_channel(stage.sandbox)
        assert posts_saying(stage, channel.id, "The alert is resolved") == 0
        await settle_slack(stage)
        assert posts_saying(stage, channel.id, "The alert is resolved") == 1
        incident = await incident_of(stage, channel)
        kinds = [e.type for e in await timeline(stage, incident.id)]
        assert kinds.count(EventType.ALERTS_ALL_RESOLVED) == 1


async def test_one_slack_500_on_an_edit_is_retried_by_slack_sdk_at_once(stage: Stage) -> None:
    await stage.command("alice", "#general", "open tool Search tool schema errors")
    channel = only_incident_channel(stage.sandbox)
    stage.sandbox.fail_next("chat.update", "internal_error", status=500)
    await stage.command("alice", channel.id, "commander <@U_BOB|bob>")
    assert f"<@{BOB}>" in text_of(stage.sandbox.messages(channel.id)[0])  # no waiting
    assert stage.sandbox.ephemerals(ALICE, channel.id) == []  # nothing to apologise for
    assert failed_calls(stage, "chat.update") == 1


# slack_sdk's own retries never repeat what Slack did without telling us: a new message, a
# new channel is left to the pending work, whose next try looks for it first.


async def test_a_post_slack_made_but_answered_500_is_in_the_channel_once(stage: Stage) -> None:
    await stage.command("alice", "#general", "open cost Spend per request tripled")
    channel = only_incident_channel(stage.sandbox)
    stage.sandbox.lose_next_answer("chat.postMessage", status=500)
    await stage.command("alice", channel.id, "update Routed long prompts to the small model")
    await settle_slack(stage)
    assert posts_saying(stage, channel.id, "Routed long prompts") == 1
    incident = await incident_of(stage, channel)
    async with stage.runtime.deps.uow() as uow:
        assert await uow.pending_work.pending(incident.id) == []


async def test_a_channel_slack_made_but_answered_500_is_made_once(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        stage.sandbox.lose_next_answer("conversations.create", status=500)
        response = await send(stage, generic("eval-drop"))
        assert response.status_code == 200, response.text
        await settle_slack(stage)
        channel = only_incident_channel(stage.sandbox)  # no empty "-2" channel beside it
        assert not channel.name.endswith("-2")
        await assert_fully_opened(stage, channel, alert=True)


async def test_a_burst_of_failures_on_every_method_still_opens_each_incident_once(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with alert_stage(make_stage, tmp_path) as stage:
        # Refused, failed, or done without our hearing back, whatever is asked.
        stage.sandbox.fail_next("*", "internal_error", status=500, times=7)
        stage.sandbox.lose_next_answer("conversations.create")
        stage.sandbox.lose_next_answer("chat.postMessage", times=2)
        stage.sandbox.lose_next_answer("conversations.setTopic")
        kinds = ("quality", "latency", "cost")
        for kind in kinds:
            alert = generic(f"{kind}-alert", name=f"{kind}Alert", kind=kind, summary=f"{kind} bad")
            response = await send(stage, alert)
            assert response.status_code == 200, response.text
            assert len(response.json()["opened"]) == 1, kind
        await settle_slack(stage, rounds=10)
        channels = incident_channels(stage.sandbox)
        assert sorted(c.name for c in channels) == sorted(f"inc-20261122-{k}-bad" for k in kinds)
        for channel in channels:
            await assert_fully_opened(stage, channel, alert=True)


# Messages posted later: failed examples, follow-ups, the runbook switch offer, reminders, the
# post-mortem on demand (each recorded first, then owed to Slack as a pending post).


def slack_fails(stage: Stage, method: str) -> None:
    """Slack answers `method` with 500s, more of them than slack_sdk's own retries absorb."""
    stage.sandbox.fail_next(method, "internal_error", status=500, times=OUTLASTING_SLACK_SDK)


async def opened(stage: Stage, what: str) -> Channel:
    await stage.command("alice", "#general", f"open {what}")
    return only_incident_channel(stage.sandbox)


async def test_an_example_and_a_follow_up_slack_fails_to_post_are_posted_once_later(
    stage: Stage,
) -> None:
    channel = await opened(stage, "quality Answers degraded")
    slack_fails(stage, "chat.postMessage")
    await stage.command("alice", channel.id, "example refunds in CHF quote EUR")
    await stage.command("bob", channel.id, "followup <@U_CAROL|carol> gate prompts on refunds")
    told = [text_of(e) for e in stage.sandbox.ephemerals(ALICE, channel.id)]
    assert "It will be posted in the channel as soon as Slack answers again" in told[-1]
    assert posts_saying(stage, channel.id, "Failed example #1") == 0
    incident = await incident_of(stage, channel)
    kinds = [e.type for e in await timeline(stage, incident.id)]
    assert EventType.EXAMPLE_ADDED in kinds and EventType.FOLLOW_UP_ADDED in kinds

    await settle_slack(stage)
    assert posts_saying(stage, channel.id, "Failed example #1") == 1
    assert posts_saying(stage, channel.id, "Follow-up #1") == 1
    [card] = [m for m in stage.sandbox.messages(channel.id) if "Failed example #1" in text_of(m)]
    async with stage.runtime.deps.uow() as uow:
        example = await uow.findings.example(incident.id, 1)
        assert await uow.pending_work.pending(incident.id) == []
    assert example is not None and example.card_ts == card["ts"]
    await stage.command("carol", channel.id, "example #1 backlog")  # edits the card it kept
    first = stage.sandbox.message(channel.id, card["ts"])
    assert "*Backlog*" in text_of(first.to_slack(stage.sandbox.workspace.team))


async def test_an_example_card_posted_without_our_hearing_back_is_posted_once(
    stage: Stage,
) -> None:
    channel = await opened(stage, "quality Answers degraded")
    stage.sandbox.lose_next_answer("chat.postMessage")  # the card lands; the answer is lost
    await stage.command("alice", channel.id, "example refunds in CHF quote EUR")
    await settle_slack(stage)
    [card] = [m for m in stage.sandbox.messages(channel.id) if "Failed example #1" in text_of(m)]
    incident = await incident_of(stage, channel)
    async with stage.runtime.deps.uow() as uow:
        example = await uow.findings.example(incident.id, 1)
    assert example is not None and example.card_ts == card["ts"]


async def test_a_reminder_slack_fails_to_post_is_sent_once_after_a_restart(
    make_stage: StageFactory,
) -> None:
    async with make_stage() as first:
        channel = await opened(first, "quality Answers degraded")
        first.clock.advance(timedelta(minutes=15))
        slack_fails(first, "chat.postMessage")
        await first.run_due_work()
        await first.run_due_work()  # the scheduler again, Slack still failing
        assert posts_saying(first, channel.id, "unanswered") == 0
    async with make_stage() as second:  # a new process on the same database
        await settle_slack(second)
        assert posts_saying(second, channel.id, "unanswered") == 1
        incident = await incident_of(second, channel)
        kinds = [e.type for e in await timeline(second, incident.id)]
        assert kinds.count(EventType.REMINDER_SENT) == 1


async def test_a_postmortem_asked_for_while_slack_fails_is_uploaded_once_later(
    stage: Stage,
) -> None:
    channel = await opened(stage, "cost Spend tripled")
    slack_fails(stage, "files.getUploadURLExternal")
    await stage.command("bob", channel.id, "postmortem")
    told = stage.sandbox.ephemerals(BOB, channel.id)[-1]["text"]
    assert "It will be uploaded in the channel as soon as Slack answers again" in told

    await settle_slack(stage)
    shared = [f for m in stage.sandbox.messages(channel.id) for f in m.get("files", [])]
    assert [f["name"].endswith(".md") for f in shared] == [True, False]  # and its picture
    incident = await incident_of(stage, channel)
    posted = [
        e for e in await timeline(stage, incident.id) if e.type is EventType.POSTMORTEM_POSTED
    ]
    assert [(e.actor, e.data["file_id"]) for e in posted] == [(BOB, shared[0]["id"])]


async def test_a_runbook_switch_offered_and_made_while_slack_fails_is_shown_once(
    stage: Stage,
) -> None:
    channel = await opened(stage, "quality Answers degraded")
    before = await incident_of(stage, channel)
    slack_fails(stage, "chat.postMessage")
    await answer(stage, channel, "bob", q1="retrieval")
    assert with_action(stage.sandbox.messages(channel.id), ids.ACTION_SWITCH_RUNBOOK) == []
    await settle_slack(stage)
    [offer] = with_action(stage.sandbox.messages(channel.id), ids.ACTION_SWITCH_RUNBOOK)

    slack_fails(stage, "chat.postMessage")
    await stage.driver.click("bob", channel.id, offer["ts"], ids.ACTION_SWITCH_RUNBOOK)
    await stage.settle()
    assert (await incident_of(stage, channel)).kind is IncidentKind.RETRIEVAL  # kept
    await settle_slack(stage)
    after = await incident_of(stage, channel)
    pages = with_action(stage.sandbox.messages(channel.id), ACTION_TOGGLE_STEP)
    assert [page["ts"] for page in pages] == after.checklist_ts  # the new ones, once
    assert [p for page in pages for p in step_positions(page)] == list(range(len(after.steps)))
    messages = {m["ts"]: m for m in stage.sandbox.messages(channel.id)}
    assert "replaced" in text_of(messages[before.checklist_ts[0]])
    assert "Retrieval" in stage.sandbox.channel(channel.id).topic.value


async def test_a_slack_call_never_answered_fails_within_the_clients_time_limit(
    stage: Stage,
) -> None:
    # slack_sdk applies its `timeout` only to sessions it makes itself; the bot's shared one
    # waited aiohttp's default five minutes for an answer that never came.
    stage.sandbox.hold_next_answer("conversations.create")
    with pytest.raises(ChatError) as failed:
        await stage.runtime.deps.chat.create_channel("inc-never-answered")
    assert failed.value.passing  # tried again later, as pending work


@pytest.mark.parametrize("refusal", ["restricted_action", "invalid_name"])
async def test_a_channel_slack_refuses_for_good_cancels_the_opening_and_tells_the_opener(
    stage: Stage, refusal: str
) -> None:
    stage.sandbox.fail_next("conversations.create", refusal, times=REFUSALS_BEFORE_GIVING_UP)
    await stage.command(ALICE, GENERAL_CHANNEL, "open quality answers went wrong")
    await settle_slack(stage)

    creates = [c for c in stage.sandbox.calls if c.method == "conversations.create"]
    assert len(creates) == REFUSALS_BEFORE_GIVING_UP
    assert incident_channels(stage.sandbox) == []
    async with stage.runtime.engine.connect() as connection:
        [incident_id] = (await connection.exec_driver_sql("SELECT id FROM incidents")).scalars()
    async with stage.runtime.deps.uow() as uow:
        assert await uow.pending_work.pending(incident_id) == []  # nothing left to retry
        incident = await uow.incidents.get(incident_id)
    assert incident is not None and not incident.is_open  # cancelled: alerts open a new one
    events = await timeline(stage, incident_id)
    [dropped] = [e for e in events if e.type is EventType.SLACK_WORK_DROPPED]
    assert refusal in dropped.text
    # The opener is told what Slack said, in a direct message: there is no channel to tell.
    dm = stage.sandbox.workspace.dm_channel(ALICE, stage.sandbox.bot_user_id)
    [told] = [text_of(m) for m in stage.sandbox.messages(dm.id)]
    assert refusal in told and "answers went wrong" in told

    await settle_slack(stage)  # and it stays given up
    assert len([c for c in stage.sandbox.calls if c.method == "conversations.create"]) == 3


async def test_an_alert_whose_channel_slack_refuses_for_good_is_told_to_the_stakeholders(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    extra = f"stakeholder_channel: {GENERAL_CHANNEL}\n"
    async with alert_stage(make_stage, tmp_path, extra) as stage:
        refusals = REFUSALS_BEFORE_GIVING_UP
        stage.sandbox.fail_next("conversations.create", "restricted_action", times=refusals)
        first = await send(stage, generic("eval-drop"))
        [incident_id] = first.json()["opened"]
        await settle_slack(stage)

        async with stage.runtime.deps.uow() as uow:
            incident = await uow.incidents.get(incident_id)
            assert await uow.pending_work.pending(incident_id) == []
        assert incident is not None and not incident.is_open
        told = [text_of(m) for m in stage.sandbox.messages(GENERAL_CHANNEL)]
        assert [t for t in told if "restricted_action" in t and "eval-drop is bad" in t], told

        # The group's next alert opens a new incident, which Slack now lets through.
        again = await send(stage, generic("eval-drop-2"))
        [reopened] = again.json()["opened"]
        assert reopened != incident_id
        await settle_slack(stage)
        only_incident_channel(stage.sandbox)
