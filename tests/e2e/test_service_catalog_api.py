"""`POST /api/services` and `GET /api/services` over real HTTP: a registered service is then
known to Slack, to `/api/changes` and to OFREP, and survives a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.domain.registry import ServiceSpec, built_in_flags
from bot.sandbox.seed import ALICE, GENERAL_CHANNEL
from bot.stage import Stage
from bot.store.database import session_factory
from bot.store.uow import SqlUnitOfWorkFactory
from tests.e2e.conftest import START, StageFactory
from tests.e2e.helpers import text_of
from tests.e2e.registry_stage import AUTH, registry_stage
from tests.e2e.test_registry_api import call

FLAGS = "/ofrep/v1/evaluate/flags"
BILLING = {
    "name": "billing-bot",
    "components": {"prompt": "p1", "model": "gpt-x"},
    "flags": {"ramp": {"kind": "percentage", "default": 25}},
    "environment": "staging",
    "actor": "github-actions",
}


async def registered(stage: Stage) -> list[ServiceSpec]:
    async with stage.runtime.deps.uow() as uow:
        return await uow.registry.registered_services()


async def running(stage: Stage, service: str) -> str:
    await stage.command("alice", GENERAL_CHANNEL, f"running {service}")
    return text_of(stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)[-1])


async def test_a_registered_service_is_known_everywhere(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        response = await call(stage, "POST", "/api/services", AUTH, json=BILLING)
        assert response.status_code == 201, response.text
        assert response.json() == {
            "name": "billing-bot",
            "source": "api",
            "environment": "staging",
            "components": {"prompt": "p1", "model": "gpt-x"},
            "flags": {
                "kill_switch": {"kind": "kill_switch", "default": False},
                "dry_run": {"kind": "dry_run", "default": False},
                "ramp": {"kind": "percentage", "default": 25},
            },
        }

        shown = await running(stage, "billing-bot")
        assert "`p1`" in shown and "`gpt-x`" in shown and "`ramp` 25%" in shown

        change = {"service": "billing-bot", "component": "prompt", "version": "p2", "actor": "ci"}
        response = await call(stage, "POST", "/api/changes", AUTH, json=change)
        assert response.status_code == 201, response.text
        assert response.json()["from_version"] == "p1"

        prompt = await call(stage, "POST", f"{FLAGS}/billing-bot.prompt", AUTH, json={})
        assert (prompt.status_code, prompt.json()["value"]) == (200, "p2")
        ramp = await call(stage, "POST", f"{FLAGS}/billing-bot.ramp", AUTH, json={})
        assert ramp.json()["value"] == 25

        listed = await call(stage, "GET", "/api/services", AUTH)
        assert listed.status_code == 200
        assert [(s["name"], s["source"]) for s in listed.json()["services"]] == [
            ("support-bot", "steadyhand.yml"),
            ("search", "steadyhand.yml"),
            ("billing-bot", "api"),
        ]
        assert "driver" not in listed.json()["services"][0]


async def test_registering_again_updates_and_a_restart_remembers(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        assert (await call(stage, "POST", "/api/services", AUTH, json=BILLING)).status_code == 201
        update = {"name": "billing-bot", "components": {"prompt": "p7"}, "actor": "U1"}
        response = await call(stage, "POST", "/api/services", AUTH, json=update)
        assert response.status_code == 200, response.text
        assert response.json()["components"] == {"prompt": "p7"}
        assert response.json()["environment"] == "production"
    async with registry_stage(make_stage, tmp_path) as stage:
        assert stage.runtime.deps.catalog.names == ("support-bot", "search", "billing-bot")
        assert "`p7`" in await running(stage, "billing-bot")
        prompt = await call(stage, "POST", f"{FLAGS}/billing-bot.prompt", AUTH, json={})
        assert prompt.json()["value"] == "p7"


async def test_a_registration_by_another_replica_is_seen_by_the_next_tick_at_latest(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        # As another process would: its own unit of work, which tells this process nothing
        # (the registry watch may see it first; the scheduler's tick sees it at the latest).
        other = SqlUnitOfWorkFactory(session_factory(stage.runtime.engine))
        async with other() as uow:
            await uow.registry.save_service(ServiceSpec("ledger"), "other-replica", START)
            await uow.commit()
        await stage.run_due_work()
        assert stage.runtime.deps.catalog.service("ledger") == ServiceSpec(
            "ledger", {}, built_in_flags()
        )
        assert "Unknown service" not in await running(stage, "ledger")


async def test_bad_registrations_get_the_reason_and_store_nothing(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    def body(**change: Any) -> bytes:
        return json.dumps({**BILLING, **change}).encode()

    cases: list[tuple[bytes, int, str]] = [
        (b"{not json", 400, "not valid JSON"),
        (b'["billing-bot"]', 422, "JSON object"),
        (b"x" * (64 * 1024 + 1), 413, "larger than"),
        (body(colour="red"), 422, "unknown field `colour`; valid fields: actor, name"),
        (body(actor=None), 422, "`actor` is required"),
        (body(name="billing.bot"), 422, "`name`: `billing.bot` is not a service name"),
        (body(components={"promt": "p1"}), 422, "`components.promt`: is not a component"),
        (body(flags={"ramp": {"kind": "dial"}}), 422, "`flags.ramp.kind`: must be one of"),
        (body(driver="builtin"), 422, "set driver/flag_driver/verify in steadyhand.yml"),
        (body(verify={"kind": "http", "url": "https://x"}), 422, "`verify` cannot be"),
        (body(name="support-bot"), 409, "declared in steadyhand.yml; change it there"),
    ]
    async with registry_stage(make_stage, tmp_path) as stage:
        for content, status, says in cases:
            headers = {**AUTH, "Content-Type": "application/json"}
            response = await call(stage, "POST", "/api/services", headers, content=content)
            assert (response.status_code, says in response.json()["error"]) == (status, True), (
                content[:80],
                response.text,
            )
        assert await registered(stage) == []
        assert stage.runtime.deps.catalog.names == ("support-bot", "search")


async def test_without_a_valid_token_nothing_is_registered(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
            response = await call(stage, "POST", "/api/services", headers, json=BILLING)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await call(stage, "GET", "/api/services", headers)).status_code == 401
        assert await registered(stage) == []
