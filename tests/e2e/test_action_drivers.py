"""Actions that reach outside systems through the real bot: a signed webhook receiver, an eval
endpoint that verifies, and a real unleash-server."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.domain.incidents import Incident
from bot.domain.timeline import EventType
from bot.drivers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from bot.sandbox import serve_app
from bot.services import registry
from bot.services.lookup import incident_in_channel
from bot.services.registry import running
from bot.slack import ids
from bot.stage import Stage
from tests.e2e.action_stage import action_stage, card, open_incident
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import action_ids, text_of
from tests.support.unleash import Admin, UnleashServer

SECRET = "webhook-secret-0123456789"


@dataclass
class Outside:
    """The team's deploy hook and eval service: scripted answers, every request kept."""

    deploy_answers: list[tuple[int, str]] = field(default_factory=list)
    eval_scores: list[float] = field(default_factory=list)
    deliveries: list[dict[str, object]] = field(default_factory=list)
    url: str = ""

    async def deploy(self, request: Request) -> Response:
        body = await request.body()
        headers = request.headers
        signed = verify_signature(
            SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], time.time()
        )
        if not signed:
            return PlainTextResponse("bad signature", status_code=401)
        self.deliveries.append(await request.json())
        status, text = self.deploy_answers.pop(0) if self.deploy_answers else (200, "deployed")
        return PlainTextResponse(text, status_code=status)

    async def evaluate(self, request: Request) -> Response:
        score = self.eval_scores.pop(0) if self.eval_scores else 0.9
        return JSONResponse({"score": score, "detail": "golden set"})


@asynccontextmanager
async def outside_systems() -> AsyncIterator[Outside]:
    outside = Outside()
    app = Starlette(
        routes=[
            Route("/deploy", outside.deploy, methods=["POST"]),
            Route("/eval", outside.evaluate, methods=["POST"]),
        ]
    )
    async with serve_app(app) as url:
        outside.url = url
        yield outside


def search_service(url: str) -> str:
    return f"""
  search:
    components: {{routing: r1}}
    driver: {{kind: webhook, url: "{url}/deploy", secret_env: DEPLOY_SECRET, max_attempts: 1}}
    verify: {{kind: eval, url: "{url}/eval", threshold: 0.8}}
"""


async def ask_search_rollback(stage: Stage) -> str:
    await registry.record_change(stage.runtime.deps, "search", "routing", "r2", "ci")
    incident = await open_incident(stage, bad_prompt=False)
    assert incident.channel_id is not None
    await stage.command("alice", incident.channel_id, "rollback search routing r1")
    await stage.driver.click(
        "carol", incident.channel_id, card(stage, incident)["ts"], ids.ACTION_APPROVE
    )
    await stage.settle()
    return incident.channel_id


async def test_a_refused_webhook_changes_nothing_and_can_be_retried(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with outside_systems() as outside:
        outside.deploy_answers = [(409, "deploy frozen by release manager")]
        env = {"DEPLOY_SECRET": SECRET}
        async with action_stage(make_stage, tmp_path, search_service(outside.url), env) as stage:
            channel = await ask_search_rollback(stage)
            incident = await stage_incident(stage, channel)
            failed = card(stage, incident)
            assert "Failed, nothing changed" in text_of(failed)
            assert "HTTP 409: deploy frozen by release manager" in text_of(failed)
            assert action_ids(failed) == {ids.ACTION_RETRY}
            assert (await running(stage.runtime.deps, "search")).versions["routing"] == "r2"

            await stage.driver.click("bob", channel, failed["ts"], ids.ACTION_RETRY)
            await stage.settle()
            assert "Applied" in text_of(card(stage, incident))
            assert (await running(stage.runtime.deps, "search")).versions["routing"] == "r1"
            assert [d["attempt"] for d in outside.deliveries] == [1, 2]
            assert outside.deliveries[1]["moves"] == [
                {"component": "routing", "from": "r2", "to": "r1"}
            ]
            assert outside.deliveries[1]["approved_by"] == "U_CAROL"


async def test_a_failed_verification_is_loud_and_offers_the_undo(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with outside_systems() as outside:
        outside.eval_scores = [0.55]
        env = {"DEPLOY_SECRET": SECRET}
        async with action_stage(make_stage, tmp_path, search_service(outside.url), env) as stage:
            channel = await ask_search_rollback(stage)
            report = stage.sandbox.messages(channel)[-1]
            assert "Verification FAILED" in text_of(report)
            assert "eval score 0.55 &lt; 0.8" in text_of(report)
            assert action_ids(report) == {ids.ACTION_UNDO}
            assert "*Escalation*" in text_of(report)  # the policy runbook's next steps
            incident = await stage_incident(stage, channel)
            assert "FAILED: eval score 0.55" in text_of(card(stage, incident))
            async with stage.runtime.deps.uow() as uow:
                verified = [
                    e
                    for e in await uow.timeline.for_incident(incident.id)
                    if e.type is EventType.ACTION_VERIFIED
                ]
            assert [(e.data["passed"], e.data["score"]) for e in verified] == [(False, 0.55)]

            await stage.driver.click("alice", channel, report["ts"], ids.ACTION_UNDO)
            await stage.settle()
            undo = card(stage, incident)
            assert "Approval needed" in text_of(undo) and "routing r1 → r2" in text_of(undo)


@pytest.mark.unleash
@pytest.mark.postgres
async def test_a_flag_flipped_in_slack_is_flipped_in_unleash(
    make_stage: StageFactory, tmp_path: Path, unleash: UnleashServer
) -> None:
    # One server serves the session (and both database backends): a service name of its own.
    agents = f"agents-{secrets.token_hex(3)}"
    extra = f"""
  {agents}:
    flags:
      new-planner: {{kind: boolean, default: true}}
    flag_driver: {{kind: unleash, url: "{unleash.url}", token_env: UNLEASH_TOKEN}}
"""
    async with httpx.AsyncClient() as http:
        admin = Admin(unleash, http)
        await admin.create_feature(f"{agents}.new-planner", on=True)
        await admin.create_feature(f"{agents}.kill_switch")
        env = {"UNLEASH_TOKEN": unleash.admin_token}
        async with action_stage(make_stage, tmp_path, extra, env) as stage:
            incident = await open_incident(stage, bad_prompt=False)
            assert incident.channel_id is not None
            await stage.command("bob", incident.channel_id, f"flag {agents} new-planner off")
            await stage.command("bob", incident.channel_id, f"kill {agents}")
            assert "Applied" in text_of(card(stage, incident))
            assert not (await admin.environment(f"{agents}.new-planner"))["enabled"]
            assert (await admin.client_feature(f"{agents}.kill_switch"))["enabled"]
            flags = (await running(stage.runtime.deps, agents)).flags
            assert (flags["new-planner"].value, flags["kill_switch"].value) == (False, True)

            await stage.command("bob", incident.channel_id, f"dry-run {agents} on")
            failed = card(stage, incident)
            assert f"Unleash has no feature `{agents}.dry_run`" in text_of(failed)
            flags = (await running(stage.runtime.deps, agents)).flags
            assert flags["dry_run"].value is False


async def stage_incident(stage: Stage, channel: str) -> Incident:
    return await incident_in_channel(stage.runtime.deps, channel)
