"""The RegistryRepo contract, and the incident queries the registry relies on, against the
fakes and each real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain.kinds import IncidentStatus
from bot.domain.registry import Change, Component, FlagKind, FlagState, KnownGood
from bot.ports import UnitOfWorkFactory
from tests.store.examples import T0, T0_UTC, incident


def change(n: int, component: Component = Component.PROMPT, **fields: object) -> Change:
    base = Change(
        f"ch-{n}",
        "support-bot",
        component,
        f"v{n - 1}" if n > 1 else None,
        f"v{n}",
        "github-actions",
        T0 + timedelta(minutes=n),
        "https://ci.example.com/run/7",
        0.87,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


async def test_changes_come_back_newest_first_and_filtered(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for c in (change(1), change(3), change(2, Component.MODEL), change(4, service="search")):
            await uow.registry.add_change(c)
        await uow.commit()
    async with uow_factory() as uow:
        everything = await uow.registry.changes()
        assert [c.id for c in everything] == ["ch-4", "ch-3", "ch-2", "ch-1"]
        assert everything[-1] == replace(change(1), at=T0_UTC + timedelta(minutes=1))
        assert [c.id for c in await uow.registry.changes("support-bot")] == [
            "ch-3",
            "ch-2",
            "ch-1",
        ]
        prompt = await uow.registry.changes("support-bot", component=Component.PROMPT, limit=1)
        assert [c.id for c in prompt] == ["ch-3"]
        since = await uow.registry.changes(since=T0 + timedelta(minutes=2, seconds=30))
        assert [c.id for c in since] == ["ch-4", "ch-3"]
        assert await uow.registry.latest_versions("support-bot") == {
            Component.PROMPT: "v3",
            Component.MODEL: "v2",
        }
        assert await uow.registry.get_change("ch-2") == change(2, Component.MODEL)
        assert await uow.registry.get_change("nope") is None


async def test_changes_at_one_moment_keep_the_order_they_were_recorded(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        for n, cid in enumerate(["zz", "aa", "mm"], start=1):
            await uow.registry.add_change(change(n, id=cid, at=T0))
            await uow.commit()
    async with uow_factory() as uow:
        assert await uow.registry.latest_versions("support-bot") == {Component.PROMPT: "v3"}


async def test_an_uncommitted_change_is_lost(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.registry.add_change(change(1))
    async with uow_factory() as uow:
        assert await uow.registry.changes() == []


async def test_known_good_newest_first_and_a_repeat_refreshes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first = KnownGood("support-bot", Component.PROMPT, "v1", "U1", T0, "marked by U1")
    second = replace(first, version="v2", at=T0 + timedelta(hours=1))
    async with uow_factory() as uow:
        await uow.registry.mark_known_good(first)
        await uow.registry.mark_known_good(second)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.registry.mark_known_good(replace(first, at=T0 + timedelta(hours=2), reason="x"))
        await uow.commit()
    async with uow_factory() as uow:
        marks = await uow.registry.known_good("support-bot", Component.PROMPT)
        assert [(k.version, k.reason) for k in marks] == [("v1", "x"), ("v2", "marked by U1")]
        assert await uow.registry.known_good("support-bot", Component.MODEL) == []


async def test_flag_states_round_trip_and_overwrite(uow_factory: UnitOfWorkFactory) -> None:
    rollout = FlagState("support-bot", "new-retriever", FlagKind.PERCENTAGE, 30, "U1", T0)
    kill = FlagState("support-bot", "kill_switch", FlagKind.KILL_SWITCH, True, "U1", T0)
    async with uow_factory() as uow:
        await uow.registry.set_flag(rollout)
        await uow.registry.set_flag(kill)
        await uow.registry.set_flag(replace(rollout, value=60))
        await uow.commit()
    async with uow_factory() as uow:
        states = await uow.registry.flag_states("support-bot")
        assert states == {
            "new-retriever": replace(rollout, value=60, updated_at=T0_UTC),
            "kill_switch": replace(kill, updated_at=T0_UTC),
        }
        assert states["kill_switch"].value is True
        assert await uow.registry.flag_states("search") == {}


async def test_open_incidents_of_a_service(uow_factory: UnitOfWorkFactory) -> None:
    resolved = incident("inc-2", "C2")
    investigating = replace(
        incident(), status=IncidentStatus.INVESTIGATING, resolved_at=None, summary=None
    )
    async with uow_factory() as uow:
        await uow.incidents.add(investigating)
        await uow.incidents.add(resolved)
        await uow.commit()
    service = incident().service
    assert service is not None
    async with uow_factory() as uow:
        assert await uow.incidents.open_ids_for_service(service) == ["inc-1"]
        assert await uow.incidents.open_ids_for_service("other") == []
        opened = incident().opened_at
        assert await uow.incidents.any_opened_since(service, opened)
        assert not await uow.incidents.any_opened_since(service, opened + timedelta(seconds=1))
        assert not await uow.incidents.any_opened_since("other", opened - timedelta(days=1))


async def test_the_version_moves_with_each_committed_registry_write_only(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async def version() -> int:
        async with uow_factory() as uow:
            return await uow.registry.version()

    start = await version()
    async with uow_factory() as uow:
        await uow.registry.add_change(change(1))
        await uow.registry.set_flag(FlagState("support-bot", "dry_run", FlagKind.DRY_RUN, True))
    assert await version() == start  # rolled back: nothing to serve
    async with uow_factory() as uow:
        await uow.incidents.add(incident("inc-1"))
        await uow.commit()
    assert await version() == start  # not the registry
    flag = FlagState("support-bot", "dry_run", FlagKind.DRY_RUN, True)
    mark = KnownGood("support-bot", Component.PROMPT, "v1", "U1", T0, "passed evals")
    for write in ("change", "flag", "known-good"):
        before = await version()
        async with uow_factory() as uow:
            if write == "change":
                await uow.registry.add_change(change(1))
            elif write == "flag":
                await uow.registry.set_flag(flag)
            else:
                await uow.registry.mark_known_good(mark)
            await uow.commit()
        assert await version() > before, write
