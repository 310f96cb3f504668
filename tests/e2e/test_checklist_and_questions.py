"""Working an incident: ticking steps, the five questions, the runbook switch, the reminder."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.domain.kinds import IncidentKind
from bot.domain.timeline import EventType
from bot.domain.triage import ExampleSet, YesNoUnknown
from bot.sandbox.entities import Channel
from bot.sandbox.seed import BOB
from bot.slack.ids import (
    ACTION_KEEP_RUNBOOK,
    ACTION_OPEN_TRIAGE,
    ACTION_SWITCH_RUNBOOK,
    ACTION_TOGGLE_STEP,
    CALLBACK_FIVE_QUESTIONS,
    step_action_id,
)
from bot.stage import Stage
from tests.e2e.conftest import START, StageFactory
from tests.e2e.helpers import (
    checked_steps,
    incident_of,
    only_incident_channel,
    step_positions,
    text_of,
    with_action,
)

ANSWERS = {
    "q1": "quality",
    "q2": "yes",
    "q2_detail": "prompt v13 at 08:40",
    "q3": "yes",
    "q3_detail": "flag support-bot.prompt",
    "q4": "unknown",
    "q5": "blocking",
}


async def opened(stage: Stage, kind: str = "quality") -> Channel:
    await stage.command("alice", "#general", f"open {kind} Answers degraded")
    return only_incident_channel(stage.sandbox)


async def answer(stage: Stage, channel: Channel, user: str, **changes: str) -> None:
    questions = with_action(stage.sandbox.messages(channel.id), ACTION_OPEN_TRIAGE)[0]
    await stage.driver.click(user, channel.id, questions["ts"], ACTION_OPEN_TRIAGE)
    await stage.settle()
    found = stage.sandbox.workspace.user_by_name(user)
    assert found is not None
    user_id = found.id
    view = stage.sandbox.open_views(user_id)[-1]
    assert view["callback_id"] == CALLBACK_FIVE_QUESTIONS
    await stage.driver.view_submission(user, view["id"], values={**ANSWERS, **changes})
    await stage.settle()


async def test_ticking_a_step_shows_who_and_when_to_everyone(
    stage: Stage, clock: ManualClock
) -> None:
    channel = await opened(stage)
    incident = await incident_of(stage, channel)
    page = with_action(stage.sandbox.messages(channel.id), ACTION_TOGGLE_STEP)[0]
    clock.advance(timedelta(minutes=3))

    await stage.driver.tick("bob", channel.id, page["ts"], step_action_id(2), f"{incident.id}:2")
    await stage.settle()
    page = stage.sandbox.messages(channel.id)[1]
    assert checked_steps(page) == [2]
    assert f"<@{BOB}>" in text_of(page)
    stored = await incident_of(stage, channel)
    assert stored.steps[2].checked_by == BOB
    assert stored.steps[2].checked_at == START + timedelta(minutes=3)

    await stage.driver.tick(
        "alice", channel.id, page["ts"], step_action_id(2), f"{incident.id}:2", checked=False
    )
    await stage.settle()
    assert checked_steps(stage.sandbox.messages(channel.id)[1]) == []
    assert not (await incident_of(stage, channel)).steps[2].done
    async with stage.runtime.deps.uow() as uow:
        events = await uow.timeline.for_incident(incident.id)
    toggles = [(e.type, e.actor) for e in events if e.type.value.startswith("checklist.")]
    assert toggles == [(EventType.STEP_CHECKED, BOB), (EventType.STEP_UNCHECKED, "U_ALICE")]


async def test_ticks_on_different_steps_at_once_are_all_kept(stage: Stage) -> None:
    import asyncio

    channel = await opened(stage)
    incident = await incident_of(stage, channel)
    page = with_action(stage.sandbox.messages(channel.id), ACTION_TOGGLE_STEP)[0]
    positions = step_positions(page)[:5]
    await asyncio.gather(
        *(
            stage.driver.tick(
                "bob", channel.id, page["ts"], step_action_id(p), f"{incident.id}:{p}"
            )
            for p in positions
        )
    )
    await stage.settle()
    stored = await incident_of(stage, channel)
    assert [s.position for s in stored.steps if s.done] == positions


async def test_answering_the_five_questions(stage: Stage) -> None:
    channel = await opened(stage)
    await answer(stage, channel, "bob")
    stored = await incident_of(stage, channel)
    assert stored.answers is not None
    assert stored.answers.failure_layer is IncidentKind.QUALITY
    assert stored.answers.recent_change.choice is YesNoUnknown.YES
    assert stored.answers.recent_change.detail == "prompt v13 at 08:40"
    assert stored.answers.human_review_needed.choice is YesNoUnknown.UNKNOWN
    assert stored.answers.examples_destination is ExampleSet.BLOCKING
    assert stored.answers.answered_by == BOB
    questions = with_action(stage.sandbox.messages(channel.id), ACTION_OPEN_TRIAGE)[0]
    assert "prompt v13 at 08:40" in text_of(questions) and "Blocking set" in text_of(questions)
    assert not with_action(stage.sandbox.messages(channel.id), ACTION_SWITCH_RUNBOOK)


async def test_a_missing_answer_keeps_the_form_open(stage: Stage) -> None:
    channel = await opened(stage)
    questions = with_action(stage.sandbox.messages(channel.id), ACTION_OPEN_TRIAGE)[0]
    await stage.driver.click("bob", channel.id, questions["ts"], ACTION_OPEN_TRIAGE)
    await stage.settle()
    view = stage.sandbox.open_views(BOB)[-1]
    response = await stage.driver.view_submission("bob", view["id"], values={"q2": "yes"})
    await stage.settle()
    assert response.json()["response_action"] == "errors"
    assert {"q1", "q3", "q4", "q5"} <= set(response.json()["errors"])
    assert (await incident_of(stage, channel)).answers is None


async def test_another_layer_offers_the_other_runbook_and_switches(stage: Stage) -> None:
    channel = await opened(stage)
    before = await incident_of(stage, channel)
    await answer(stage, channel, "bob", q1="retrieval")
    offer = with_action(stage.sandbox.messages(channel.id), ACTION_SWITCH_RUNBOOK)
    assert len(offer) == 1 and "retrieval" in text_of(offer[0]).lower()

    await stage.driver.click("bob", channel.id, offer[0]["ts"], ACTION_SWITCH_RUNBOOK)
    await stage.settle()
    after = await incident_of(stage, channel)
    assert after.kind is IncidentKind.RETRIEVAL and after.runbook_key == "retrieval"
    assert after.checklist_ts and set(after.checklist_ts).isdisjoint(before.checklist_ts)
    messages = {m["ts"]: m for m in stage.sandbox.messages(channel.id)}
    assert "replaced" in text_of(messages[before.checklist_ts[0]])
    assert not with_action([messages[before.checklist_ts[0]]], ACTION_TOGGLE_STEP)
    assert "Retrieval failure" in text_of(messages[after.header_ts or ""])
    assert not with_action(stage.sandbox.messages(channel.id), ACTION_SWITCH_RUNBOOK)
    assert "Retrieval" in stage.sandbox.channel(channel.id).topic.value


async def test_keeping_the_runbook(stage: Stage) -> None:
    channel = await opened(stage)
    await answer(stage, channel, "bob", q1="cost")
    offer = with_action(stage.sandbox.messages(channel.id), ACTION_KEEP_RUNBOOK)[0]
    await stage.driver.click("bob", channel.id, offer["ts"], ACTION_KEEP_RUNBOOK)
    await stage.settle()
    assert (await incident_of(stage, channel)).kind is IncidentKind.QUALITY
    assert "kept" in text_of(stage.sandbox.messages(channel.id)[-1])


async def test_the_reminder_survives_a_restart_and_fires_once(
    make_stage: StageFactory, clock: ManualClock
) -> None:
    async with make_stage() as first:
        channel = await opened(first)
        clock.advance(timedelta(minutes=14))
        await first.run_due_work()
    assert not [m for m in first.sandbox.messages(channel.id) if "unanswered" in m["text"]]

    clock.advance(timedelta(minutes=1))
    async with make_stage() as second:  # a new process on the same database
        await second.run_due_work()
        await second.run_due_work()
        reminders = [m for m in second.sandbox.messages(channel.id) if "unanswered" in m["text"]]
        assert len(reminders) == 1
        assert with_action(reminders, ACTION_OPEN_TRIAGE)
        assert second.runtime.metrics.value("steadyhand_reminders_sent_total") == 1


async def test_no_reminder_once_answered(stage: Stage, clock: ManualClock) -> None:
    channel = await opened(stage)
    await answer(stage, channel, "bob")
    clock.advance(timedelta(minutes=20))
    await stage.run_due_work()
    assert not [m for m in stage.sandbox.messages(channel.id) if "unanswered" in m["text"]]
