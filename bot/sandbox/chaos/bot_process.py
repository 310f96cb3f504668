"""The bot under test in its own process: `python -m bot.cli serve`, scheduler included."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from typing import IO

import httpx

from bot.sandbox.chaos.shared import ROOT

BOT_START_TIMEOUT_S = 60.0
BOT_RESTARTS = 5  # a supervisor restarts a bot that exits at start (e.g. Slack unreachable)


class BotProcess:
    """`steadyhand serve` on a fixed port: started, killed with SIGKILL, started again."""

    def __init__(self, env: dict[str, str], port: int, log: IO[str]) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start it and wait until /healthz answers; restart it (as a supervisor would) if it
        exits first, a few times at most."""
        for _ in range(BOT_RESTARTS):
            self.starts += 1
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                env={**os.environ, **self.env, "PORT": str(self.port)},
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.log,
            )
            if await self._answers():
                return
        raise RuntimeError(f"steadyhand serve did not start in {BOT_RESTARTS} tries; see its log")

    async def _answers(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + BOT_START_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    return False
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return True
                await asyncio.sleep(0.1)
        await self.kill()
        return False

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                await self.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
