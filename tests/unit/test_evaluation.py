"""Evaluating OFREP keys: the pure rules, then the use case over the in-memory fakes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.domain.evaluation import (
    Evaluation,
    FlagNotFound,
    evaluate,
    evaluate_all,
    keys,
    service_of,
)
from bot.domain.registry import Component, FlagKind, FlagState, KnownGood, Running
from bot.domain.registry_snapshot import build_snapshot
from bot.services import registry
from bot.services.ofrep_snapshot import refresh_snapshot
from tests.unit.test_registry_services import SUPPORT_BOT, make_deps

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def running(**flag_values: bool | int) -> Running:
    flags = {
        name: FlagState("support-bot", name, spec.kind, flag_values.get(name, spec.default))
        for name, spec in SUPPORT_BOT.flags.items()
    }
    known = KnownGood("support-bot", Component.PROMPT, "v11", "U1", AT, "marked by <@U1>")
    versions = {Component.PROMPT: "v12", Component.MODEL: "gpt-x"}
    return Running(SUPPORT_BOT, versions, flags, {}, {Component.PROMPT: known})


def test_on_off_flags_are_booleans_with_on_and_off_variants() -> None:
    now = running(kill_switch=True)
    assert evaluate("support-bot.kill_switch", now) == Evaluation(
        "support-bot.kill_switch",
        True,
        "on",
        {"service": "support-bot", "flag": "kill_switch", "kind": "kill_switch"},
    )
    dry_run = evaluate("support-bot.dry_run", now)
    assert isinstance(dry_run, Evaluation)
    assert (dry_run.value, dry_run.variant) == (False, "off")


def test_a_percentage_flag_is_its_percentage() -> None:
    found = evaluate("support-bot.new-retriever", running(**{"new-retriever": 45}))
    assert isinstance(found, Evaluation)
    assert (found.value, found.variant, found.metadata["kind"]) == (45, "45%", "percentage")
    assert found.value is not True  # an int, never a bool, so typed clients read it as one


def test_a_component_is_its_pinned_version_with_the_known_good_one() -> None:
    now = running()
    assert evaluate("support-bot.prompt", now) == Evaluation(
        "support-bot.prompt",
        "v12",
        "v12",
        {"service": "support-bot", "component": "prompt", "known_good": "v11"},
    )
    model = evaluate("support-bot.model", now)
    assert isinstance(model, Evaluation) and "known_good" not in model.metadata


def test_an_unknown_key_lists_the_service_keys() -> None:
    for key in ("support-bot.memory", "support-bot.kill-switch", "support-bot", "other.prompt"):
        found = evaluate(key, running())
        assert isinstance(found, FlagNotFound) and found.key == key
        assert "support-bot.kill_switch, support-bot.dry_run, support-bot.new-retriever" in (
            found.details
        )
        assert "support-bot.prompt, support-bot.model" in found.details


def test_an_unknown_service_lists_the_services() -> None:
    catalog = make_deps().catalog
    assert service_of("support-bot.prompt", catalog) is catalog.service("support-bot")
    missing = service_of("billing.prompt", catalog)
    assert isinstance(missing, FlagNotFound)
    assert "Known services: support-bot, search" in missing.details


def test_evaluate_all_gives_flags_then_versions() -> None:
    assert [e.key for e in evaluate_all(running())] == [
        "support-bot.kill_switch",
        "support-bot.dry_run",
        "support-bot.new-retriever",
        "support-bot.prompt",
        "support-bot.model",
    ]


async def test_the_snapshot_reads_changes_and_stored_flag_states() -> None:
    deps = make_deps()
    await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    async with deps.uow() as uow:
        await uow.registry.set_flag(FlagState("support-bot", "dry_run", FlagKind.DRY_RUN, True))
        await uow.commit()
    snapshot = await refresh_snapshot(deps)
    prompt = snapshot.answer("support-bot.prompt")
    dry_run = snapshot.answer("support-bot.dry_run")
    assert isinstance(prompt, bytes) and json.loads(prompt)["value"] == "v13"
    assert isinstance(dry_run, bytes) and json.loads(dry_run)["value"] is True
    assert isinstance(snapshot.answer("billing.prompt"), FlagNotFound)
    every = {f["key"]: f["value"] for f in json.loads(snapshot.bulk)["flags"]}
    assert every["support-bot.prompt"] == "v13" and every["support-bot.kill_switch"] is False
    assert len(every) == 5  # 3 flags + 2 components; `search` declares neither here


async def test_an_unchanged_registry_is_not_read_again() -> None:
    deps = make_deps()
    first = await refresh_snapshot(deps)
    assert await refresh_snapshot(deps) is first and deps.served.loads == 1
    await registry.record_change(deps, "support-bot", "prompt", "v13", "ci")
    moved = await refresh_snapshot(deps)
    assert moved.version > first.version and moved.etag != first.etag
    assert deps.served.loads == 2


def test_a_snapshot_holds_every_answer_as_bytes_and_tags_the_bulk_by_its_content() -> None:
    snapshot = build_snapshot(7, [running(kill_switch=True)])
    answer = snapshot.answer("support-bot.kill_switch")
    assert isinstance(answer, bytes)
    assert json.loads(answer) == {
        "key": "support-bot.kill_switch",
        "value": True,
        "reason": "STATIC",
        "variant": "on",
        "metadata": {"service": "support-bot", "flag": "kill_switch", "kind": "kill_switch"},
    }
    assert [f["key"] for f in json.loads(snapshot.bulk)["flags"]] == keys(running())
    # Another version of the same content (another replica, a restart) gives the same tag.
    assert build_snapshot(8, [running(kill_switch=True)]).etag == snapshot.etag
    assert build_snapshot(8, [running()]).etag != snapshot.etag
    missing = snapshot.answer("support-bot.temperature")
    assert (
        isinstance(missing, FlagNotFound) and "Its keys: support-bot.kill_switch" in missing.details
    )
    other = snapshot.answer("billing.prompt")
    assert isinstance(other, FlagNotFound) and "Known services: support-bot" in other.details
