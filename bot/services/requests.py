"""Exactly-once handling of externally triggered requests (Slack retries, double delivery)."""

from __future__ import annotations

from bot.services.deps import Deps


async def first_delivery(deps: Deps, key: str) -> bool:
    """True the first time `key` is seen by any replica; repeats get False and do nothing."""
    async with deps.uow() as uow:
        first = await uow.idempotency.claim(key, deps.clock.now())
        await uow.commit()
    return first
