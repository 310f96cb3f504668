"""An incident of no known kind, as an alert opens it, classified with one click."""

from __future__ import annotations

from bot.domain.kinds import IncidentKind
from bot.domain.timeline import EventType
from bot.sandbox.seed import BOB
from bot.services.opening import OpenIncident, open_incident
from bot.slack.ids import ACTION_OPEN_TRIAGE, ACTION_SWITCH_RUNBOOK, ACTION_TOGGLE_STEP
from bot.stage import Stage
from tests.e2e.helpers import action_ids, incident_of, only_incident_channel, text_of, with_action

KINDS = [f"runbook.switch.{kind.value}" for kind in IncidentKind.classified()]


async def test_an_unknown_incident_is_classified_with_one_click(stage: Stage) -> None:
    opened = await open_incident(
        stage.runtime.deps, OpenIncident(IncidentKind.UNKNOWN, "Eval pass rate alert", "U_ALICE")
    )
    channel = only_incident_channel(stage.sandbox)
    assert channel.id == opened.channel_id
    header, offer, questions = stage.sandbox.messages(channel.id)
    assert "Needs classification" in text_of(header) and "Not classified yet" in text_of(header)
    assert sorted(action_ids(offer)) == sorted(KINDS)
    assert ACTION_OPEN_TRIAGE in action_ids(questions)
    assert not with_action(stage.sandbox.messages(channel.id), ACTION_TOGGLE_STEP)
    assert stage.sandbox.channel(channel.id).topic.value.startswith("Needs classification")
    await stage.command("bob", channel.id, "status")
    assert "none until classified" in text_of(stage.sandbox.ephemerals(BOB, channel.id)[-1])

    await stage.driver.click("bob", channel.id, offer["ts"], "runbook.switch.retrieval")
    await stage.settle()

    incident = await incident_of(stage, channel)
    assert incident.kind is IncidentKind.RETRIEVAL and incident.runbook_key == "retrieval"
    assert incident.steps and incident.checklist_ts
    messages = {m["ts"]: m for m in stage.sandbox.messages(channel.id)}
    assert "Retrieval failure" in text_of(messages[header["ts"]])
    assert "Not classified yet" not in text_of(messages[header["ts"]])
    replaced = messages[offer["ts"]]
    assert f"<@{BOB}> classified this incident as retrieval failure" in text_of(replaced)
    assert not with_action([replaced], ACTION_SWITCH_RUNBOOK)
    pages = with_action(stage.sandbox.messages(channel.id), ACTION_TOGGLE_STEP)
    assert [p["ts"] for p in pages] == incident.checklist_ts
    assert "Retrieval failure" in stage.sandbox.channel(channel.id).topic.value
    async with stage.runtime.deps.uow() as uow:
        events = await uow.timeline.for_incident(incident.id)
    switched = [e for e in events if e.type is EventType.RUNBOOK_SWITCHED]
    assert [(e.actor, e.data["previous"], e.data["current"]) for e in switched] == [
        (BOB, "unknown", "retrieval")
    ]
