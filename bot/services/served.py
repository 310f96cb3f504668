"""The registry snapshot this process serves OFREP from, swapped whole on every change."""

from __future__ import annotations

import asyncio

from bot.domain.registry_snapshot import EMPTY, RegistrySnapshot


class ServedRegistry:
    """`current` is replaced, never changed: a request that read it keeps a consistent answer
    whatever is swapped in meanwhile. One refresh at a time (`lock`), so a slower, older read
    of the registry can never replace a newer one."""

    def __init__(self) -> None:
        self.current: RegistrySnapshot = EMPTY
        self.lock = asyncio.Lock()
        self.loads = 0  # snapshots built, for metrics and tests: unchanged state builds none

    @property
    def loaded(self) -> bool:
        return self.current is not EMPTY
