"""The drivers' shared client is made by the first driver or check that calls out."""

from __future__ import annotations

from bot.domain.drivers import WebhookDriverSpec
from bot.drivers.factory import HttpDrivers
from bot.drivers.outside import OutsideClient
from bot.drivers.verification import HttpVerifier


async def test_the_client_is_made_once_by_the_first_driver_that_needs_it() -> None:
    outside = OutsideClient()
    drivers, _ = HttpDrivers(outside), HttpVerifier(outside)
    assert not outside.made
    drivers(WebhookDriverSpec(url="http://127.0.0.1:9/apply", secret="s" * 32))
    assert outside.made
    client = outside()
    assert outside() is client
    await outside.aclose()
    assert client.is_closed


async def test_closing_a_client_never_made_makes_none() -> None:
    outside = OutsideClient()
    await outside.aclose()
    assert not outside.made
