"""Rollbacks and flag flips through the real bot: ask, approve (or not), apply, see it served."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.domain.timeline import EventType
from bot.sandbox.seed import ALICE, BOB, CAROL
from bot.services.registry import running
from bot.slack import ids
from bot.stage import Stage
from tests.e2e.action_stage import AUTH, action_stage, card, cards, open_incident, refusal
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import action_ids, text_of


async def events(stage: Stage, incident_id: str) -> list[EventType]:
    async with stage.runtime.deps.uow() as uow:
        return [e.type for e in await uow.timeline.for_incident(incident_id)]


async def served(stage: Stage, path: str) -> Any:
    async with httpx.AsyncClient(base_url=stage.base_url, headers=AUTH) as client:
        response = await client.get(path) if "ofrep" not in path else await client.post(path)
        response.raise_for_status()
        return response.json()


async def test_a_high_risk_rollback_waits_for_an_approver_then_is_served(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with action_stage(make_stage, tmp_path) as stage:
        incident = await open_incident(stage)
        channel = incident.channel_id
        assert channel is not None
        await stage.command("alice", channel, "rollback prompt because refusals stopped")

        asked = card(stage, incident)
        assert "Approval needed" in text_of(asked) and "prompt v13 → v12" in text_of(asked)
        assert "refusals stopped" in text_of(asked) and "<!subteam^S_MANAGERS>" in text_of(asked)
        assert action_ids(asked) == {ids.ACTION_APPROVE, ids.ACTION_REJECT}

        # The requester cannot approve; nor can a responder who is not an approver.
        await stage.driver.click("alice", channel, asked["ts"], ids.ACTION_APPROVE)
        await stage.settle()
        assert "another approver" in refusal(stage, incident, ALICE)
        await stage.driver.click("bob", channel, asked["ts"], ids.ACTION_APPROVE)
        await stage.settle()
        assert "Only approvers" in refusal(stage, incident, BOB)
        assert (await running(stage.runtime.deps, "support-bot")).versions["prompt"] == "v13"

        await stage.driver.click("carol", channel, asked["ts"], ids.ACTION_APPROVE)
        await stage.settle()
        done = card(stage, incident)
        assert done["ts"] == asked["ts"]  # the same card, updated in place
        assert "Applied" in text_of(done) and "<@U_CAROL>" in text_of(done)
        assert action_ids(done) == set()

        current = await served(stage, "/api/services/support-bot/current")
        assert current["versions"]["prompt"] == "v12"
        flag = await served(stage, "/ofrep/v1/evaluate/flags/support-bot.prompt")
        assert flag["value"] == "v12"
        assert (await events(stage, incident.id))[-3:] == [
            EventType.ACTION_REQUESTED,
            EventType.ACTION_APPROVED,
            EventType.ACTION_APPLIED,
        ]


async def test_a_low_risk_flag_flip_runs_at_once_and_is_served(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with action_stage(make_stage, tmp_path) as stage:
        incident = await open_incident(stage)
        assert incident.channel_id is not None
        await stage.command("bob", incident.channel_id, "flag new-retriever 0% because noisy")
        flipped = card(stage, incident)
        assert "Applied" in text_of(flipped) and "low risk, no approval" not in text_of(flipped)
        assert "new-retriever 30% → 0%" in text_of(flipped)
        flag = await served(stage, "/ofrep/v1/evaluate/flags/support-bot.new-retriever")
        assert flag["value"] == 0

        await stage.command("bob", incident.channel_id, "kill")
        assert (await served(stage, "/ofrep/v1/evaluate/flags/support-bot.kill_switch"))["value"]
        await stage.command("bob", incident.channel_id, "dry-run on")
        assert (await served(stage, "/ofrep/v1/evaluate/flags/support-bot.dry_run"))["value"]
        assert len(cards(stage, incident)) == 3


async def test_rejection_and_expiry_close_requests_and_say_so(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with action_stage(make_stage, tmp_path) as stage:
        incident = await open_incident(stage)
        channel = incident.channel_id
        assert channel is not None
        await stage.command("alice", channel, "rollback prompt")
        first = card(stage, incident)
        await stage.driver.click("carol", channel, first["ts"], ids.ACTION_REJECT)
        await stage.settle()
        assert "Rejected by <@U_CAROL>" in text_of(card(stage, incident))
        assert action_ids(card(stage, incident)) == set()

        await stage.command("alice", channel, "rollback prompt v12")
        second = card(stage, incident)
        assert second["ts"] != first["ts"]
        stage.clock.advance(timedelta(minutes=16))
        await stage.run_due_work()
        assert "Expired without approval" in text_of(card(stage, incident))
        await stage.command("alice", channel, "rollback prompt v12")
        third = card(stage, incident)
        stage.clock.advance(timedelta(minutes=15))  # expired, but the job has not run yet
        await stage.driver.click("carol", channel, third["ts"], ids.ACTION_APPROVE)
        await stage.settle()
        assert "expired" in refusal(stage, incident, CAROL)
        assert "Expired without approval" in text_of(card(stage, incident))
        assert (await running(stage.runtime.deps, "support-bot")).versions["prompt"] == "v13"
        kinds = await events(stage, incident.id)
        assert kinds.count(EventType.ACTION_REJECTED) == 1
        assert kinds.count(EventType.ACTION_EXPIRED) == 2
        assert EventType.ACTION_APPLIED not in kinds


async def test_approvals_clicked_together_apply_once(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    """Two approvers, a double click and a Slack retry, all at once: one change."""
    async with action_stage(make_stage, tmp_path, approvers="[S_MANAGERS, U_BOB]") as stage:
        incident = await open_incident(stage)
        channel = incident.channel_id
        assert channel is not None
        await stage.command("alice", channel, "rollback prompt")
        asked = card(stage, incident)
        first = await stage.driver.click("carol", channel, asked["ts"], ids.ACTION_APPROVE)
        await asyncio.gather(
            stage.driver.redeliver(first),
            stage.driver.click("carol", channel, asked["ts"], ids.ACTION_APPROVE),
            stage.driver.click("bob", channel, asked["ts"], ids.ACTION_APPROVE),
            stage.driver.click("bob", channel, asked["ts"], ids.ACTION_APPROVE),
        )
        await stage.settle()

        async with stage.runtime.deps.uow() as uow:
            rollbacks = await uow.registry.changes("support-bot", limit=10)
        moves = [(c.from_version, c.to_version) for c in rollbacks]
        assert moves == [("v13", "v12"), ("v12", "v13")]  # the rollback, once; CI's change
        kinds = await events(stage, incident.id)
        assert kinds.count(EventType.ACTION_APPROVED) == 1
        assert kinds.count(EventType.ACTION_APPLIED) == 1
        assert "Applied" in text_of(card(stage, incident))
        assert "already" in refusal(stage, incident, BOB)


async def test_the_changes_list_and_runbook_steps_offer_their_actions(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with action_stage(make_stage, tmp_path) as stage:
        incident = await open_incident(stage)
        channel = incident.channel_id
        assert channel is not None
        await stage.command("alice", channel, "changes")
        listed = stage.sandbox.ephemerals(ALICE, channel)[-1]
        button = f"{ids.ACTION_ROLLBACK_CHANGE}.0"
        assert button in action_ids(listed) and "Roll back to v12" in text_of(listed)
        await stage.driver.click("alice", channel, listed["ts"], button)
        await stage.settle()
        assert "prompt v13 → v12" in text_of(card(stage, incident))
        assert "undo prompt v12 → v13" in text_of(card(stage, incident))

        # The policy runbook's Safe fallbacks: "turn on the strict guardrail profile".
        page = next(
            m
            for m in stage.sandbox.messages(channel)
            if any(a.startswith(ids.ACTION_RUN_STEP) for a in action_ids(m))
        )
        step = next(
            e
            for b in page["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if "strict-guardrails" in e["text"]["text"]
        )
        await stage.driver.click("bob", channel, page["ts"], step["action_id"])
        await stage.settle()
        flipped = card(stage, incident)
        assert "Applied" in text_of(flipped) and "strict-guardrails off → on" in text_of(flipped)
        assert "runbook step: Turn on the strict guardrail profile" in text_of(flipped)

        # Outside an incident channel the list has no buttons: actions land on a timeline.
        await stage.command("alice", "#general", "changes support-bot")
        assert not action_ids(stage.sandbox.ephemerals(ALICE, "C_GENERAL")[-1])


async def test_unknown_names_and_missing_roles_are_refused_with_the_choices(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with action_stage(make_stage, tmp_path) as stage:
        incident = await open_incident(stage)
        channel = incident.channel_id
        assert channel is not None
        for text, expected in [
            ("rollback support-bot promt", "Valid components: model, prompt"),
            ("rollback billing prompt", "Known services: support-bot"),
            ("rollback prompt v99", "Recent versions: `v13`, `v12`"),
            ("rollback model", "no known-good version"),
            ("flag nope on", "Its flags: dry_run, kill_switch, new-retriever"),
            ("flag new-retriever maybe", "give 0-100%"),
            ("flag strict-guardrails 20%", "is on or off"),
            ("rollback to 2026-11-22T09:00Z", "nothing to restore"),
            ("rollback to 2026-11-23T09:00Z", "a moment in the past"),
            ("dry-run off", "already off"),
        ]:
            await stage.command("alice", channel, text)
            assert expected in refusal(stage, incident), text
        await stage.command("carol", channel, "kill")  # an approver, but not a responder
        assert "kill switch support-bot kill_switch off → on" in text_of(card(stage, incident))
        await stage.command("alice", channel, "rollback to 1d because the whole release")
        assert "restore support-bot prompt v13 → v12" in text_of(card(stage, incident))
        await stage.command("alice", "#general", "rollback support-bot prompt")
        assert "not an incident channel" in text_of(
            stage.sandbox.ephemerals(ALICE, "C_GENERAL")[-1]
        )
        assert (await running(stage.runtime.deps, "support-bot")).versions["prompt"] == "v13"
