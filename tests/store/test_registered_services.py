"""The registered-services part of the RegistryRepo contract, against the fakes and each real
database."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.drivers import WebhookDriverSpec
from bot.domain.registry import Component, FlagKind, FlagSpec, ServiceSpec, built_in_flags
from bot.ports import UnitOfWorkFactory
from tests.store.examples import T0

BILLING = ServiceSpec(
    "billing-bot",
    {Component.RETRIEVAL_INDEX: "idx-7", Component.PROMPT: "p1"},
    {
        **built_in_flags(),
        "ramp": FlagSpec("ramp", FlagKind.PERCENTAGE, 30),
        "new-ui": FlagSpec("new-ui", FlagKind.BOOLEAN, True),
    },
    environment="staging",
)


async def test_saved_services_come_back_oldest_registration_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        assert await uow.registry.registered_services() == []
        await uow.registry.save_service(BILLING, "ci", T0 + timedelta(minutes=1))
        await uow.registry.save_service(ServiceSpec("ledger", {}, built_in_flags()), "U1", T0)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.registry.registered_services()
    assert [s.name for s in found] == ["ledger", "billing-bot"]
    assert found[1] == BILLING
    assert list(found[1].components) == [Component.RETRIEVAL_INDEX, Component.PROMPT]
    assert found[0] == ServiceSpec("ledger", {}, built_in_flags())


async def test_saving_again_updates_the_service_and_keeps_its_place(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.registry.save_service(BILLING, "ci", T0)
        await uow.registry.save_service(ServiceSpec("ledger"), "ci", T0 + timedelta(minutes=1))
        await uow.commit()
    updated = ServiceSpec("billing-bot", {Component.MODEL: "gpt-y"}, built_in_flags())
    async with uow_factory() as uow:
        await uow.registry.save_service(updated, "U2", T0 + timedelta(hours=1))
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.registry.registered_services()
    assert found == [updated, ServiceSpec("ledger", {}, built_in_flags())]


async def test_drivers_are_never_stored(uow_factory: UnitOfWorkFactory) -> None:
    webhook = WebhookDriverSpec(url="https://deploy.example.com/hook", secret="s3cret")
    async with uow_factory() as uow:
        await uow.registry.save_service(ServiceSpec("ledger", driver=webhook), "ci", T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.registry.registered_services() == [
            ServiceSpec("ledger", {}, built_in_flags())
        ]


async def test_without_commit_nothing_is_saved(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.registry.save_service(BILLING, "ci", T0)
    async with uow_factory() as uow:
        assert await uow.registry.registered_services() == []
