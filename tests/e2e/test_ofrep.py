"""The OFREP flag API over real HTTP: single and bulk evaluation, 304s, errors, auth."""

from __future__ import annotations

from pathlib import Path

from bot.domain.registry import FlagKind, FlagState
from bot.stage import Stage
from tests.e2e.conftest import START, StageFactory
from tests.e2e.registry_stage import AUTH, registry_stage
from tests.e2e.test_registry_api import CHANGE, call

FLAGS = "/ofrep/v1/evaluate/flags"


async def set_flag(stage: Stage, name: str, kind: FlagKind, value: bool | int) -> None:
    async with stage.runtime.deps.uow() as uow:
        await uow.registry.set_flag(FlagState("support-bot", name, kind, value, "U1", START))
        await uow.commit()


async def test_single_keys_answer_flags_and_pinned_versions(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        prompt = await call(stage, "POST", f"{FLAGS}/support-bot.prompt", AUTH, json={})
        assert prompt.status_code == 200, prompt.text
        assert prompt.json() == {
            "key": "support-bot.prompt",
            "value": "v12",
            "reason": "STATIC",
            "variant": "v12",
            "metadata": {"service": "support-bot", "component": "prompt"},
        }
        context = {"context": {"targetingKey": "user-7", "plan": "pro"}}
        path = f"{FLAGS}/support-bot.new-retriever"
        rollout = await call(stage, "POST", path, AUTH, json=context)
        assert (rollout.json()["value"], rollout.json()["variant"]) == (30, "30%")
        # No body at all is an evaluation without context.
        kill = await call(stage, "POST", f"{FLAGS}/support-bot.kill_switch", AUTH)
        assert (kill.json()["value"], kill.json()["variant"]) == (False, "off")

        await set_flag(stage, "kill_switch", FlagKind.KILL_SWITCH, True)
        kill = await call(stage, "POST", f"{FLAGS}/support-bot.kill_switch", AUTH, json={})
        assert (kill.json()["value"], kill.json()["variant"]) == (True, "on")


async def test_bulk_answers_every_key_with_an_etag_and_304_until_something_changes(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        first = await call(stage, "POST", FLAGS, AUTH, json={"context": {}})
        assert first.status_code == 200, first.text
        values = {f["key"]: f["value"] for f in first.json()["flags"]}
        assert values == {
            "support-bot.kill_switch": False,
            "support-bot.dry_run": False,
            "support-bot.new-retriever": 30,
            "support-bot.prompt": "v12",
            "support-bot.model": "gpt-x",
            "support-bot.retrieval_index": "idx-7",
            "search.kill_switch": False,
            "search.dry_run": False,
            "search.routing": "r1",
        }
        etag = first.headers["ETag"]
        same = await call(stage, "POST", FLAGS, {**AUTH, "If-None-Match": etag}, json={})
        assert (same.status_code, same.content, same.headers["ETag"]) == (304, b"", etag)
        weak = await call(stage, "POST", FLAGS, {**AUTH, "If-None-Match": f'"x", W/{etag}'})
        assert weak.status_code == 304

        assert (await call(stage, "POST", "/api/changes", AUTH, json=CHANGE)).status_code == 201
        moved = await call(stage, "POST", FLAGS, {**AUTH, "If-None-Match": etag}, json={})
        assert moved.status_code == 200 and moved.headers["ETag"] != etag
        prompt = next(f for f in moved.json()["flags"] if f["key"] == "support-bot.prompt")
        assert prompt["value"] == "v13"


async def test_an_unknown_key_is_404_flag_not_found_with_what_exists(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        wrong_flag = await call(stage, "POST", f"{FLAGS}/support-bot.kill-switch", AUTH, json={})
        assert wrong_flag.status_code == 404
        body = wrong_flag.json()
        assert (body["key"], body["errorCode"]) == ("support-bot.kill-switch", "FLAG_NOT_FOUND")
        assert "support-bot.kill_switch" in body["errorDetails"]
        assert "support-bot.prompt" in body["errorDetails"]
        wrong_service = await call(stage, "POST", f"{FLAGS}/billing.prompt", AUTH, json={})
        assert wrong_service.status_code == 404
        assert "Known services: support-bot, search" in wrong_service.json()["errorDetails"]


async def test_bad_bodies_are_400_with_the_ofrep_error_code(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    cases = [
        (b"{not json", "PARSE_ERROR"),
        (b"[1]", "PARSE_ERROR"),
        (b'{"context": "user-7"}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": 7}}', "INVALID_CONTEXT"),
    ]
    async with registry_stage(make_stage, tmp_path) as stage:
        for content, code in cases:
            headers = {**AUTH, "Content-Type": "application/json"}
            one = await call(stage, "POST", f"{FLAGS}/support-bot.prompt", headers, content=content)
            assert (one.status_code, one.json()["errorCode"]) == (400, code), content
            assert one.json()["key"] == "support-bot.prompt"
            bulk = await call(stage, "POST", FLAGS, headers, content=content)
            assert (bulk.status_code, bulk.json()["errorCode"]) == (400, code), content
        huge = await call(stage, "POST", FLAGS, AUTH, content=b" " * (64 * 1024 + 1))
        assert huge.status_code == 413 and "larger than" in huge.json()["errorDetails"]


async def test_a_wrong_token_is_401_and_no_tokens_is_503(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
            for path in (FLAGS, f"{FLAGS}/support-bot.prompt"):
                response = await call(stage, "POST", path, headers, json={})
                assert response.status_code == 401, path
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                assert "errorDetails" in response.json()
    async with registry_stage(make_stage, tmp_path, tokens="") as stage:
        for path in (FLAGS, f"{FLAGS}/support-bot.prompt"):
            response = await call(stage, "POST", path, AUTH, json={})
            assert response.status_code == 503
            assert "no API tokens configured" in response.json()["errorDetails"]
