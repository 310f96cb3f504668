"""Status, updates, handing over command, resolving, help, and the complete timeline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.domain.kinds import IncidentStatus
from bot.domain.timeline import EventType
from bot.sandbox.seed import ALICE, BOB, CAROL, GENERAL_CHANNEL
from bot.slack.help import HELP_LINES
from bot.stage import Stage
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import incident_of, only_incident_channel, text_of


async def test_status_shows_progress_answers_and_elapsed_time(
    stage: Stage, clock: ManualClock
) -> None:
    await stage.command("alice", "#general", "open latency p95 doubled")
    channel = only_incident_channel(stage.sandbox)
    clock.advance(timedelta(minutes=65))
    await stage.command("bob", channel.id, "status")
    report = stage.sandbox.ephemerals(BOB, channel.id)[-1]
    for expected in ("1h 05m", "0/", "not answered", f"<@{ALICE}>"):
        assert expected.lower() in text_of(report).lower(), expected


async def test_update_is_posted_and_copied_to_the_stakeholder_channel(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    config = tmp_path / "steadyhand.yml"
    config.write_text(f"stakeholder_channel: {GENERAL_CHANNEL}\n")
    async with make_stage(env={"STEADYHAND_CONFIG": str(config)}) as stage:
        await stage.command("alice", "#general", "open cost Spend per request tripled")
        channel = only_incident_channel(stage.sandbox)
        await stage.command("alice", channel.id, "update Routed long prompts to the small model")
        assert "Routed long prompts" in text_of(stage.sandbox.messages(channel.id)[-1])
        copy = stage.sandbox.messages(GENERAL_CHANNEL)[-1]  # the bot joined #general to post
        assert "Routed long prompts" in text_of(copy) and channel.id in text_of(copy)


async def test_commander_handover_and_resolve(stage: Stage, clock: ManualClock) -> None:
    await stage.command("alice", "#general", "open tool Search tool schema errors")
    channel = only_incident_channel(stage.sandbox)
    await stage.command("alice", channel.id, "commander <@U_BOB|bob>")
    assert BOB in stage.sandbox.channel(channel.id).members
    header = stage.sandbox.messages(channel.id)[0]
    assert f"<@{BOB}>" in text_of(header)

    clock.advance(timedelta(minutes=30))
    await stage.command("bob", channel.id, "resolve Tool schema v7 restored")
    incident = await incident_of(stage, channel)
    assert (
        incident.status is IncidentStatus.RESOLVED and incident.summary == "Tool schema v7 restored"
    )
    assert "Resolved" in text_of(stage.sandbox.messages(channel.id)[0])
    assert "resolved" in stage.sandbox.channel(channel.id).topic.value
    resolved = stage.sandbox.messages(channel.id)[-2]  # the post-mortem's file comes last
    assert "Tool schema v7 restored" in text_of(resolved)

    await stage.command("bob", channel.id, "resolve again")
    assert "resolved" in stage.sandbox.ephemerals(BOB, channel.id)[-1]["text"].lower()


async def test_subcommands_outside_an_incident_channel_say_so(stage: Stage) -> None:
    for text in ("status", "update hello", "resolve", "commander <@U_BOB|bob>"):
        await stage.command("alice", "#general", text)
        reply = stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)[-1]
        assert "not an incident channel" in reply["text"], text


async def test_help_lists_every_subcommand_with_an_example(stage: Stage) -> None:
    response = await stage.command("alice", "#general", "help")
    assert response.json()["response_type"] == "ephemeral"
    shown = text_of(stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)[-1])
    for line in HELP_LINES:
        assert line.usage.split(" <")[0].split(" [")[0] in shown
        assert line.example.replace("<", "&lt;").replace(">", "&gt;") in shown or (
            line.example in shown
        )


async def test_the_timeline_records_everything_with_actor_and_time(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    from bot.demo import demo_config, script

    async with demo_config(tmp_path) as env, make_stage(env=env) as stage:
        await script(stage)
        channel = only_incident_channel(stage.sandbox)
        incident = await incident_of(stage, channel)
        async with stage.runtime.deps.uow() as uow:
            events = await uow.timeline.for_incident(incident.id)
    assert [e.type for e in events] == [
        EventType.OPENED,
        EventType.CHANNEL_CREATED,
        EventType.QUESTIONS_ASKED,
        EventType.STEP_CHECKED,
        EventType.STEP_CHECKED,
        EventType.REMINDER_SENT,
        EventType.QUESTIONS_ANSWERED,
        EventType.EXAMPLE_ADDED,
        EventType.EXAMPLE_SORTED,
        EventType.NOTE_ADDED,
        EventType.ACTION_REQUESTED,
        EventType.ACTION_APPROVED,
        EventType.ACTION_APPLIED,
        EventType.ACTION_VERIFIED,
        EventType.STATUS_UPDATE,
        EventType.COMMANDER_CHANGED,
        EventType.FOLLOW_UP_ADDED,
        EventType.RESOLVED,
        EventType.POSTMORTEM_POSTED,
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.at.utcoffset() == timedelta(0) for e in events)
    assert {e.actor for e in events} == {ALICE, BOB, CAROL, "steadyhand"}
    assert events[6].data["examples_destination"] == "blocking"
    assert events[8].data["set"] == "blocking" and events[8].actor == BOB  # the card's button
    applied = events[12].data
    assert applied["moves"] == [{"component": "prompt", "before": "v13", "after": "v12"}]
    assert events[11].actor == CAROL and events[13].data["score"] == 0.91
