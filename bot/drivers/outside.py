"""The one httpx client that every driver and verification check calls out with."""

from __future__ import annotations

import httpx


class OutsideClient:
    """Made by the first driver or check that calls out, not at start.

    Building an httpx client loads its TLS context (certifi's CA bundle): about 30 ms, a third
    of building the runtime (bench/startup.py), for actions that may not come for days.
    """

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    @property
    def made(self) -> bool:
        return self._client is not None

    def __call__(self) -> httpx.AsyncClient:
        if self._client is None:
            # Each call sets its own timeouts.
            self._client = httpx.AsyncClient(follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
