"""Services registered over the API: the Catalog's two parts, and the use cases over fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.errors import Conflict, NotFound, UsageError
from bot.domain.registry import Catalog, Component, FlagKind, FlagSpec, ServiceSpec
from bot.services import registry
from bot.services.service_catalog import refresh_catalog, register_service
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.test_registry_services import START, SUPPORT_BOT, clock, make_deps

BILLING = {
    "name": "billing-bot",
    "components": {"prompt": "p1", "model": "gpt-x"},
    "flags": {"new-ui": {"kind": "boolean", "default": True}, "ramp": {"kind": "percentage"}},
    "environment": "staging",
}


def test_a_catalog_covers_declared_then_registered_services() -> None:
    catalog = Catalog([SUPPORT_BOT])
    catalog.set_registered([ServiceSpec("billing-bot"), ServiceSpec("ledger")])
    assert catalog.names == ("support-bot", "billing-bot", "ledger")
    assert [s.name for s in catalog] == ["support-bot", "billing-bot", "ledger"]
    assert catalog.service("ledger") == ServiceSpec("ledger")
    assert catalog.is_declared("support-bot") and not catalog.is_declared("ledger")

    catalog.set_registered([ServiceSpec("ledger")])  # replaces the whole registered part
    assert catalog.names == ("support-bot", "ledger")
    with pytest.raises(NotFound, match="Known services: support-bot, ledger"):
        catalog.service("billing-bot")


def test_a_declared_name_always_wins() -> None:
    catalog = Catalog([SUPPORT_BOT])
    catalog.set_registered([ServiceSpec("support-bot", environment="staging")])
    assert catalog.service("support-bot") is SUPPORT_BOT and catalog.names == ("support-bot",)
    with pytest.raises(ValueError, match="declared"):
        catalog.put_registered(ServiceSpec("support-bot"))


def test_put_replaces_one_service_in_place_and_a_stale_load_is_ignored() -> None:
    catalog = Catalog([])
    catalog.set_registered([ServiceSpec("a"), ServiceSpec("b")])
    seen = catalog.generation
    catalog.put_registered(ServiceSpec("a", environment="staging"))
    assert catalog.names == ("a", "b") and catalog.service("a").environment == "staging"
    # A load that began before the put would undo it: it is skipped.
    assert not catalog.set_registered([ServiceSpec("a")], seen)
    assert catalog.service("a").environment == "staging"
    assert catalog.set_registered([ServiceSpec("c")], catalog.generation)
    assert catalog.names == ("c",)


def test_an_empty_catalog_says_where_services_come_from() -> None:
    with pytest.raises(NotFound, match=r"none are declared in steadyhand\.yml or registered"):
        Catalog([]).service("x")


async def test_register_then_use_it_like_a_declared_one() -> None:
    deps = make_deps()
    spec, created = await register_service(deps, BILLING, "github-actions")
    assert created
    assert spec.components == {Component.PROMPT: "p1", Component.MODEL: "gpt-x"}
    assert spec.environment == "staging"
    assert spec.flags["new-ui"] == FlagSpec("new-ui", FlagKind.BOOLEAN, True)
    assert spec.flags["ramp"] == FlagSpec("ramp", FlagKind.PERCENTAGE, 0)
    assert spec.flags["kill_switch"].kind is FlagKind.KILL_SWITCH and "dry_run" in spec.flags
    assert deps.catalog.service("billing-bot") == spec  # at once, in this process

    change = await registry.record_change(deps, "billing-bot", "prompt", "p2", "ci")
    assert (change.from_version, change.to_version) == ("p1", "p2")
    now = await registry.running(deps, "billing-bot")
    assert now.versions[Component.PROMPT] == "p2" and now.flags["ramp"].value == 0


async def test_registering_again_updates_it() -> None:
    deps = make_deps()
    await register_service(deps, BILLING, "ci")
    clock(deps).advance(timedelta(minutes=5))
    spec, created = await register_service(
        deps, {"name": "billing-bot", "components": {"prompt": "p9"}}, "U1"
    )
    assert not created
    assert spec.components == {Component.PROMPT: "p9"} and spec.environment == "production"
    assert set(spec.flags) == {"kill_switch", "dry_run"}
    assert deps.catalog.service("billing-bot") == spec
    async with deps.uow() as uow:
        assert await uow.registry.registered_services() == [spec]


async def test_another_process_sees_a_registration_after_a_refresh() -> None:
    here = make_deps()
    there = replace(here, catalog=Catalog([SUPPORT_BOT]))  # another replica, same database
    spec, _ = await register_service(here, BILLING, "ci")
    with pytest.raises(NotFound):
        there.catalog.service("billing-bot")
    assert await refresh_catalog(there) == 1
    assert there.catalog.service("billing-bot") == spec
    assert there.catalog.names == ("support-bot", "billing-bot")


async def test_a_name_declared_in_steadyhand_yml_cannot_be_registered() -> None:
    deps = make_deps()
    with pytest.raises(Conflict, match=r"declared in steadyhand\.yml; change it there"):
        await register_service(deps, {"name": "support-bot"}, "ci")
    assert deps.catalog.service("support-bot") is SUPPORT_BOT


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"name": None}, "`name` is required"),
        ({"name": "a.b"}, "`name`: `a.b` is not a service name"),
        ({"components": {"promt": "v1"}}, "`components.promt`: is not a component"),
        ({"components": {"prompt": "v 1"}}, "`components.prompt`: A version is one word"),
        ({"components": ["prompt"]}, "`components`: must be a mapping"),
        ({"flags": {"x": {"kind": "dial"}}}, "`flags.x.kind`: must be one of: boolean"),
        ({"flags": {"x": {"kind": "percentage", "default": 130}}}, "0 to 100"),
        ({"flags": {"kill_switch": {"kind": "boolean"}}}, "built in"),
        ({"flags": {"prompt": {"kind": "boolean"}}}, "component's name"),
        ({"environment": "prod env"}, "`environment`: `prod env` is not an environment"),
        ({"driver": "builtin"}, "set driver/flag_driver/verify in steadyhand.yml"),
        ({"flag_driver": {"kind": "unleash"}}, "`flag_driver` cannot be registered"),
        ({"verify": {"kind": "http"}}, "`verify` cannot be registered"),
        ({"owner": "me"}, "Unknown field `owner`; valid fields: name, components"),
    ],
)
async def test_bad_registrations_name_the_field_and_store_nothing(
    change: dict[str, Any], says: str
) -> None:
    deps = make_deps()
    with pytest.raises(UsageError) as caught:
        await register_service(deps, {**BILLING, **change}, "ci")
    assert says in str(caught.value)
    assert isinstance(deps.uow, FakeUnitOfWorkFactory)
    assert deps.uow.db.tables.registered_services == {}
    assert deps.catalog.names == ("support-bot", "search")


async def test_who_registers_is_required() -> None:
    with pytest.raises(UsageError, match="who registers"):
        await register_service(make_deps(), BILLING, "  ")


async def test_the_first_registration_time_is_kept() -> None:
    deps = make_deps()
    await register_service(deps, {"name": "b"}, "ci")
    clock(deps).advance(timedelta(minutes=1))
    await register_service(deps, {"name": "a"}, "ci")
    clock(deps).advance(timedelta(minutes=1))
    await register_service(deps, {"name": "b", "environment": "staging"}, "ci")
    assert isinstance(deps.uow, FakeUnitOfWorkFactory)
    assert deps.uow.db.tables.registered_services["b"][0] == START
    assert deps.catalog.names == ("support-bot", "search", "b", "a")
