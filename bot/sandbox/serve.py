"""Serve an ASGI app on a free loopback port inside the running event loop.

Tests, the demo and the benchmarks serve both the sandbox and the bot this way: the kernel picks
the port (no fixed ports to collide), and readiness is signalled by uvicorn's own startup rather
than by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


class ServeError(RuntimeError):
    """The app could not be served (its lifespan startup failed, or the port would not bind)."""


class _Server(uvicorn.Server):
    """uvicorn.Server that says when it is listening and leaves signals to its host."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()
        self._exit_requested = asyncio.Event()

    def request_exit(self) -> None:
        self.should_exit = True
        self._exit_requested.set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        except SystemExit as exit_:
            # uvicorn exits the process when startup fails; here that would kill the test run.
            raise ServeError("the app failed to start; see the log above") from exit_
        self.listening.set()

    async def main_loop(self) -> None:
        # uvicorn's loop notices should_exit on its next 0.1 s tick; waking at once on exit
        # keeps each served test from idling that long.
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_requested.wait(), timeout=0.1)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The program embedding the server (pytest, the CLI) owns Ctrl+C, not this server.
        yield


@contextlib.asynccontextmanager
async def serve_app(
    app: ASGIApp,
    host: str = "127.0.0.1",
    *,
    lifespan: Literal["auto", "on", "off"] = "auto",
    log_level: str = "warning",
) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yields its base URL, e.g. "http://127.0.0.1:54321"."""
    config = uvicorn.Config(
        app,
        host=host,
        port=0,
        lifespan=lifespan,
        log_level=log_level,
        # Leave the host program's logging set-up alone.
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve(), name=f"uvicorn {host}")
    listening = asyncio.create_task(server.listening.wait())
    await asyncio.wait({serving, listening}, return_when=asyncio.FIRST_COMPLETED)
    if not server.listening.is_set():
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        serving.result()  # raises what stopped the server
        raise ServeError("the server stopped before it listened")
    try:
        yield _url(host, server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.request_exit()
        await serving


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
