"""`/incident running`, `/incident changes`, `/incident known-good`, and the five questions
pre-filled from the registry, through the real bot and the sandbox Slack."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.sandbox.seed import ALICE, GENERAL_CHANNEL
from bot.services import registry
from bot.slack.ids import ACTION_OPEN_TRIAGE, CALLBACK_OPEN_INCIDENT, FIELD_Q2_DETAIL
from bot.stage import Stage
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import only_incident_channel, text_of, with_action
from tests.e2e.registry_stage import registry_stage


async def reply(stage: Stage, channel: str, text: str) -> str:
    await stage.command("alice", channel, text)
    return text_of(stage.sandbox.ephemerals(ALICE, channel)[-1])


async def test_running_changes_and_known_good(make_stage: StageFactory, tmp_path: Path) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        deps = stage.runtime.deps
        await registry.record_change(deps, "support-bot", "prompt", "v13", "U_BOB", eval_score=0.7)
        stage.clock.advance(timedelta(hours=2))

        shown = await reply(stage, GENERAL_CHANNEL, "running support-bot")
        assert "`v13`" in shown and "`idx-7`" in shown and "<@U_BOB>" in shown
        assert "`new-retriever` 30%" in shown

        shown = await reply(stage, GENERAL_CHANNEL, "changes support-bot 24h")
        assert "`v12` → `v13`" in shown and "eval 0.70" in shown
        assert "No changes" in await reply(stage, GENERAL_CHANNEL, "changes 90m")

        shown = await reply(stage, GENERAL_CHANNEL, "known-good support-bot prompt v12")
        assert "Marked support-bot prompt `v12` known-good" in shown
        assert "known-good `v12`" in await reply(stage, GENERAL_CHANNEL, "running support-bot")


async def test_unknown_names_list_the_valid_ones(make_stage: StageFactory, tmp_path: Path) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        assert "support-bot, search" in await reply(stage, GENERAL_CHANNEL, "running")
        assert "support-bot, search" in await reply(stage, GENERAL_CHANNEL, "running billing")
        shown = await reply(stage, GENERAL_CHANNEL, "known-good support-bot promt v1")
        assert "retrieval_index" in shown
        shown = await reply(stage, GENERAL_CHANNEL, "known-good support-bot prompt v99")
        assert "Recent versions: `v12`" in shown
        assert "`24h`" in await reply(stage, GENERAL_CHANNEL, "changes search soon")


async def test_an_incident_on_a_service_prefills_questions_two_and_three(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        deps = stage.runtime.deps
        await registry.record_change(deps, "support-bot", "prompt", "v13", "ci", eval_score=0.6)
        await registry.mark_known_good(deps, "support-bot", "prompt", "v12", "U1", "evals")
        stage.clock.advance(timedelta(minutes=20))
        await stage.command("alice", "#general", "open")
        view = stage.sandbox.open_views(ALICE)[-1]
        assert view["callback_id"] == CALLBACK_OPEN_INCIDENT
        values = {"kind": "quality", "title": "Refunds wrong", "service": "support-bot"}
        await stage.driver.view_submission("alice", view["id"], values=values)
        await stage.settle()
        channel = only_incident_channel(stage.sandbox)

        questions = with_action(stage.sandbox.messages(channel.id), ACTION_OPEN_TRIAGE)[0]
        assert "Recent changes:" in text_of(questions) and "v12 → v13 by ci" in text_of(questions)
        assert "prompt → v12" in text_of(questions)

        await stage.driver.click("alice", channel.id, questions["ts"], ACTION_OPEN_TRIAGE)
        await stage.settle()
        form = stage.sandbox.open_views(ALICE)[-1]
        q2 = next(b for b in form["blocks"] if b.get("block_id") == FIELD_Q2_DETAIL)
        assert "v12 → v13" in q2["element"]["initial_value"]

        # Changes made while the incident is open go on its timeline, then the post-mortem.
        await registry.record_change(deps, "support-bot", "prompt", "v12", "U_ALICE")
        running = await reply(stage, channel.id, "running")  # the incident's service
        assert "`v12`" in running and "support-bot" in running
        async with deps.uow() as uow:
            incident = await uow.incidents.get_by_channel(channel.id)
            assert incident is not None
            events = await uow.timeline.for_incident(incident.id)
        assert events[-1].text == "support-bot prompt: v13 → v12"


async def test_a_clean_day_marks_the_version_known_good(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        deps = stage.runtime.deps
        await registry.record_change(deps, "search", "routing", "r2", "ci")
        stage.clock.advance(timedelta(hours=24))
        await stage.run_due_work()
        assert stage.runtime.metrics.value("steadyhand_known_good_marked_total") == 1
        assert "known-good `r2`" in await reply(stage, GENERAL_CHANNEL, "running search")
