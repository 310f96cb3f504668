"""Rollbacks and flag flips through the real bot: ask, approve (or not), apply, see it served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from bot.domain.timeline import EventType
from bot.sandbox.seed import ALICE, BOB
from bot.services.registry import running
from bot.slack import ids
from bot.stage import Stage
from tests.e2e.action_stage import AUTH, action_stage, card, open_incident, refusal
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
