"""Which driver applies an action: chosen per service from its settings in steadyhand.yml."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bot.domain.drivers import BuiltinDriverSpec, DriverSpec, UnleashDriverSpec, WebhookDriverSpec
from bot.drivers.unleash import UnleashDriver
from bot.drivers.webhook import WebhookDriver
from bot.ports import Driver


class HttpDrivers:
    """Every outside driver over one shared httpx client (connection reuse across actions),
    asked for when a driver is made (bot/drivers/outside.py)."""

    def __init__(self, client: Callable[[], httpx.AsyncClient]) -> None:
        self._client = client

    def __call__(self, spec: DriverSpec) -> Driver:
        match spec:
            case WebhookDriverSpec():
                return WebhookDriver(spec, self._client())
            case UnleashDriverSpec():
                return UnleashDriver(spec, self._client())
            case BuiltinDriverSpec():
                # The services apply built-in actions themselves, in the registry.
                raise ValueError("the built-in store needs no driver")
