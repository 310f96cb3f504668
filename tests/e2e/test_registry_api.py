"""`/api/changes`, `/api/known-good` and `/api/services/{service}/current` over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from bot.stage import Stage
from tests.e2e.conftest import START, StageFactory
from tests.e2e.registry_stage import AUTH, TOKEN, registry_stage

CHANGE = {
    "service": "support-bot",
    "component": "prompt",
    "version": "v13",
    "actor": "github-actions",
    "eval_score": 0.71,
    "source": "https://ci.example.com/run/42",
}


async def call(
    stage: Stage, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stage.base_url) as client:
        return await client.request(method, path, headers=headers, **kw)


async def stored_changes(stage: Stage) -> int:
    async with stage.runtime.deps.uow() as uow:
        return len(await uow.registry.changes())


async def test_record_read_back_and_mark_known_good(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        response = await call(stage, "POST", "/api/changes", AUTH, json=CHANGE)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["from_version"] == "v12" and body["to_version"] == "v13"
        assert body["at"] == START.isoformat() and body["eval_score"] == 0.71

        mark = {"service": "support-bot", "component": "prompt", "version": "v12", "by": "U1"}
        response = await call(stage, "POST", "/api/known-good", AUTH, json=mark)
        assert response.status_code == 201, response.text

        current = await call(stage, "GET", "/api/services/support-bot/current", AUTH)
        assert current.json() == {
            "service": "support-bot",
            "versions": {"prompt": "v13", "model": "gpt-x", "retrieval_index": "idx-7"},
            "flags": {"kill_switch": False, "dry_run": False, "new-retriever": 30},
            "known_good": {"prompt": "v12"},
        }
        missing = await call(stage, "GET", "/api/services/billing/current", AUTH)
        assert missing.status_code == 404
        assert "support-bot, search" in missing.json()["error"]


async def test_a_retry_with_the_same_idempotency_key_stores_one_change(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        headers = {**AUTH, "Idempotency-Key": "deploy-42"}
        first = await call(stage, "POST", "/api/changes", headers, json=CHANGE)
        again = await call(stage, "POST", "/api/changes", headers, json=CHANGE)
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert await stored_changes(stage) == 1


async def test_without_a_valid_token_nothing_is_stored(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = await call(stage, "POST", "/api/changes", headers, json=CHANGE)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        response = await call(stage, "GET", "/api/services/support-bot/current")
        assert response.status_code == 401
        assert await stored_changes(stage) == 0


async def test_with_no_tokens_configured_the_api_is_closed(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path, tokens="") as stage:
        response = await call(stage, "POST", "/api/changes", AUTH, json=CHANGE)
        assert response.status_code == 503
        assert "no API tokens configured" in response.json()["error"]
        assert await stored_changes(stage) == 0


async def test_bad_bodies_get_the_reason_and_store_nothing(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    cases: list[tuple[bytes, int, str]] = [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b"x" * (64 * 1024 + 1), 413, "larger than"),
        (json.dumps({**CHANGE, "colour": "red"}).encode(), 422, "`colour`"),
        (json.dumps({**CHANGE, "version": 13}).encode(), 422, "`version` must be a string"),
        (json.dumps({**CHANGE, "eval_score": "high"}).encode(), 422, "`eval_score`"),
        (json.dumps({**CHANGE, "eval_score": 71}).encode(), 422, "0 to 1"),
        (json.dumps({**CHANGE, "at": "2026-11-22T09:00"}).encode(), 422, "UTC offset"),
        (json.dumps({k: v for k, v in CHANGE.items() if k != "actor"}).encode(), 422, "`actor`"),
        (json.dumps({**CHANGE, "service": "billing"}).encode(), 422, "support-bot, search"),
        (json.dumps({**CHANGE, "component": "promt"}).encode(), 422, "retrieval_index"),
        (json.dumps({**CHANGE, "version": "v12"}).encode(), 422, "already runs"),
    ]
    async with registry_stage(make_stage, tmp_path) as stage:
        for content, status, says in cases:
            headers = {**AUTH, "Content-Type": "application/json"}
            response = await call(stage, "POST", "/api/changes", headers, content=content)
            assert (response.status_code, says in response.json()["error"]) == (status, True), (
                content[:80],
                response.text,
            )
        assert await stored_changes(stage) == 0


async def test_a_change_at_a_given_time_and_known_good_of_an_unknown_version(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        at = {**CHANGE, "at": "2026-11-22T10:30:00+01:00"}
        response = await call(stage, "POST", "/api/changes", AUTH, json=at)
        assert response.json()["at"] == "2026-11-22T09:30:00+00:00"
        mark = {"service": "support-bot", "component": "prompt", "version": "v9", "by": "U1"}
        response = await call(stage, "POST", "/api/known-good", AUTH, json=mark)
        assert response.status_code == 422
        assert "Recent versions: `v13`, `v12`" in response.json()["error"]
