"""Opening an incident from Slack, by command and by form, end to end."""

from __future__ import annotations

from pathlib import Path

from bot.domain.kinds import IncidentKind, Severity
from bot.domain.timeline import EventType
from bot.sandbox.seed import ALICE, BOT_USER_ID, GENERAL_CHANNEL
from bot.slack.ids import ACTION_OPEN_TRIAGE, ACTION_TOGGLE_STEP, CALLBACK_OPEN_INCIDENT
from bot.stage import Stage
from tests.e2e.conftest import ROOT, StageFactory
from tests.e2e.helpers import (
    incident_channels,
    incident_of,
    only_incident_channel,
    step_positions,
    text_of,
    with_action,
)


async def test_open_by_command_creates_the_channel_and_posts_everything(stage: Stage) -> None:
    response = await stage.command("alice", "#general", "open quality Answers degraded")
    assert response.status_code == 200

    channel = only_incident_channel(stage.sandbox)
    assert channel.name == "inc-20261122-answers-degraded"
    assert set(channel.members) == {BOT_USER_ID, ALICE}
    assert "Quality drift" in channel.topic.value and "SEV2" in channel.topic.value

    messages = stage.sandbox.messages(channel.id)
    header = messages[0]
    assert header["blocks"][0]["type"] == "header"
    for expected in ("Quality drift", "SEV2", "Investigating", f"<@{ALICE}>", "How to recognize"):
        assert expected in text_of(header), expected
    assert "Online eval pass rate" in text_of(header)  # the runbook's summary
    pages = with_action(messages, ACTION_TOGGLE_STEP)
    incident = await incident_of(stage, channel)
    assert [p for page in pages for p in step_positions(page)] == list(range(len(incident.steps)))
    assert with_action(messages, ACTION_OPEN_TRIAGE) == [messages[-1]]

    confirmation = stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)
    assert len(confirmation) == 1 and channel.id in confirmation[0]["text"]

    async with stage.runtime.deps.uow() as uow:
        events = await uow.timeline.for_incident(incident.id)
    assert [e.type for e in events] == [
        EventType.OPENED,
        EventType.CHANNEL_CREATED,
        EventType.QUESTIONS_ASKED,
    ]
    assert events[0].actor == ALICE and events[0].at.tzinfo is not None


async def test_open_by_form(stage: Stage) -> None:
    await stage.command("alice", "#general", "open")
    view = stage.sandbox.open_views(ALICE)[-1]
    assert view["callback_id"] == CALLBACK_OPEN_INCIDENT
    response = await stage.driver.view_submission(
        "alice",
        view["id"],
        values={
            "kind": "retrieval",
            "title": "Wrong sources cited",
            "severity": "sev1",
            "service": "support-bot",
        },
    )
    assert response.status_code == 200
    await stage.settle()
    channel = only_incident_channel(stage.sandbox)
    incident = await incident_of(stage, channel)
    assert (incident.kind, incident.severity, incident.service) == (
        IncidentKind.RETRIEVAL,
        Severity.SEV1,
        "support-bot",
    )
    assert "SEV1" in text_of(stage.sandbox.messages(channel.id)[0])
    assert stage.sandbox.open_views(ALICE) == []


async def test_form_with_a_missing_title_stays_open_with_the_error(stage: Stage) -> None:
    await stage.command("alice", "#general", "open")
    view = stage.sandbox.open_views(ALICE)[-1]
    response = await stage.driver.view_submission(
        "alice",
        view["id"],
        values={
            "kind": "cost",
            "title": "   ",
        },
    )
    await stage.settle()
    assert response.json()["response_action"] == "errors"
    assert "title" in response.json()["errors"]
    assert incident_channels(stage.sandbox) == []
    assert stage.sandbox.open_views(ALICE)


async def test_a_taken_name_gets_a_suffix(stage: Stage) -> None:
    stage.sandbox.add_channel("inc-20261122-answers-degraded")
    await stage.command("alice", "#general", "open quality Answers degraded")
    names = sorted(c.name for c in incident_channels(stage.sandbox))
    assert names == ["inc-20261122-answers-degraded", "inc-20261122-answers-degraded-2"]
    incident = await incident_of(stage, stage.sandbox.channel("inc-20261122-answers-degraded-2"))
    assert incident.title == "Answers degraded"


async def test_a_long_checklist_is_split_across_messages(make_stage: StageFactory) -> None:
    async with make_stage(runbooks_dir=ROOT / "tests" / "fixtures" / "runbooks_long") as stage:
        await stage.command("alice", "#general", "open quality Long checklist")
        channel = only_incident_channel(stage.sandbox)
        pages = with_action(stage.sandbox.messages(channel.id), ACTION_TOGGLE_STEP)
        incident = await incident_of(stage, channel)
        assert len(incident.steps) > 120 and len(pages) >= 3
        assert all(len(p["blocks"]) <= 50 for p in pages)
        assert [p for page in pages for p in step_positions(page)] == list(
            range(len(incident.steps))
        )


async def test_a_broken_runbook_never_stops_the_bot(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    (tmp_path / "tool.md").write_text((ROOT / "runbooks" / "tool.md").read_text())
    (tmp_path / "quality.md").write_text("---\nkind: quality\n---\n# no sections\n")
    async with make_stage(runbooks_dir=tmp_path) as stage:
        health = await stage.get("/healthz")
        assert health.json()["broken_runbooks"] == [str(tmp_path / "quality.md")]
        await stage.command("alice", "#general", "open tool Search tool times out")
        await stage.command("alice", "#general", "open quality Answers degraded")
        tool, quality = sorted(incident_channels(stage.sandbox), key=lambda c: c.name)[::-1]
        assert with_action(stage.sandbox.messages(tool.id), ACTION_TOGGLE_STEP)
        header = stage.sandbox.messages(quality.id)[0]
        assert "quality.md" in text_of(header) and "runbooks lint" in text_of(header)
        assert not with_action(stage.sandbox.messages(quality.id), ACTION_TOGGLE_STEP)
