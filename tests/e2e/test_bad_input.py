"""Forged, stale, repeated and malformed requests: a clear answer, and nothing changed."""

from __future__ import annotations

import asyncio
import time

import httpx

from bot.sandbox.seed import ALICE, GENERAL_CHANNEL
from bot.slack.ids import CALLBACK_OPEN_INCIDENT
from bot.stage import Stage
from tests.e2e.helpers import incident_channels, only_incident_channel


async def nothing_happened(stage: Stage) -> None:
    await stage.settle()
    assert incident_channels(stage.sandbox) == []
    assert stage.sandbox.calls_to("conversations.create") == []
    async with stage.runtime.deps.uow() as uow:
        assert await uow.incidents.get_by_channel("any") is None


async def test_a_forged_signature_gets_401_and_changes_nothing(stage: Stage) -> None:
    response = await stage.driver.slash_command("alice", "#general", "open cost x", forge=True)
    assert response.status_code == 401
    await nothing_happened(stage)


async def test_a_signature_older_than_five_minutes_gets_401(stage: Stage) -> None:
    stale = int(time.time()) - 6 * 60
    response = await stage.driver.slash_command("alice", "#general", "open cost x", timestamp=stale)
    assert response.status_code == 401
    await nothing_happened(stage)


async def test_an_unsigned_garbage_body_gets_401(stage: Stage) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{stage.base_url}/slack/events", content=b"\x00{not json")
    assert response.status_code == 401
    await nothing_happened(stage)


async def test_an_unknown_subcommand_lists_the_valid_ones(stage: Stage) -> None:
    response = await stage.command("alice", "#general", "reopen everything")
    body = response.json()
    assert body["response_type"] == "ephemeral"
    for sub in ("open", "status", "update", "commander", "resolve", "help"):
        assert f"`{sub}`" in body["text"]
    assert stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)[-1]["text"] == body["text"]
    await nothing_happened(stage)


async def test_an_unknown_kind_lists_the_valid_ones(stage: Stage) -> None:
    response = await stage.command("alice", "#general", "open vibes answers feel off")
    text = response.json()["text"]
    for kind in ("quality", "retrieval", "tool", "policy", "cost", "latency"):
        assert kind in text
    await nothing_happened(stage)


async def test_a_retried_command_opens_one_incident_and_posts_once(stage: Stage) -> None:
    first = await stage.command("alice", "#general", "open quality Answers degraded")
    again = await stage.driver.redeliver(first, retry_num=1)
    late = await stage.driver.redeliver(first, retry_num=2, retry_reason="http_error")
    assert again.status_code == late.status_code == 200
    await stage.settle()
    channel = only_incident_channel(stage.sandbox)
    assert len(stage.sandbox.calls_to("conversations.create")) == 1
    assert len(stage.sandbox.messages(channel.id)) == 3  # header, checklist, questions


async def test_a_retry_racing_the_original_still_opens_one_incident(stage: Stage) -> None:
    original = await stage.driver.slash_command("alice", "#general", "open cost Spend tripled")
    await asyncio.gather(*(stage.driver.redeliver(original, retry_num=n) for n in (1, 2, 3)))
    await stage.settle()
    assert len(incident_channels(stage.sandbox)) == 1


async def test_a_resubmitted_form_opens_one_incident(stage: Stage) -> None:
    await stage.command("alice", "#general", "open")
    view = stage.sandbox.open_views(ALICE)[-1]
    assert view["callback_id"] == CALLBACK_OPEN_INCIDENT
    first = await stage.driver.view_submission(
        "alice",
        view["id"],
        values={
            "kind": "policy",
            "title": "Refusals stopped",
        },
    )
    await stage.driver.redeliver(first, retry_num=1)
    await stage.settle()
    assert len(incident_channels(stage.sandbox)) == 1


async def test_slack_rate_limits_are_waited_out(stage: Stage) -> None:
    stage.sandbox.fail_next("conversations.create", "ratelimited", retry_after=1)
    await stage.command("alice", "#general", "open latency p95 doubled")
    assert only_incident_channel(stage.sandbox).name == "inc-20261122-p95-doubled"


async def test_a_slack_failure_is_reported_to_the_user_and_nothing_is_stored(
    stage: Stage,
) -> None:
    stage.sandbox.fail_next("conversations.create", "restricted_action")
    await stage.command("alice", "#general", "open latency p95 doubled")
    reply = stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)[-1]
    assert "restricted_action" in reply["text"]
    await stage.settle()
    assert incident_channels(stage.sandbox) == []


async def test_health_and_metrics(stage: Stage) -> None:
    health = await stage.get("/healthz")
    assert health.status_code == 200 and health.json()["ok"] is True
    assert health.json()["database"] == "ok"
    assert set(health.json()["runbooks"]) == {
        "quality",
        "retrieval",
        "tool",
        "policy",
        "cost",
        "latency",
    }
    await stage.command("alice", "#general", "help")
    metrics = (await stage.get("/metrics")).text
    assert "# TYPE steadyhand_slack_requests_total counter" in metrics
    assert "steadyhand_slack_requests_total 1" in metrics
