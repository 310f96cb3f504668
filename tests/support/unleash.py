"""A real unleash-server from npm, on a fresh PostgreSQL database, for the Unleash driver tests.

`running_unleash()` installs unleash-server once per machine and version into
`~/.cache/steadyhand/unleash-<version>` (or `$XDG_CACHE_HOME/steadyhand/…`; outside git, so it
survives between runs; delete it to reinstall), creates a fresh database, starts the server with
node on a free loopback port, waits for `/health`, and stops everything at the end. Unleash reads
its configuration from the environment; the admin and backend tokens are created at start by
INIT_ADMIN_API_TOKENS and INIT_BACKEND_API_TOKENS.

Skipped, with the reason, when node or npm is missing, when STEADYHAND_TEST_POSTGRES_URL is
unset, or when that PostgreSQL does not accept connections.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from tests.support.databases import POSTGRES_URL_VARIABLE, fresh_database
from tests.support.processes import free_port, stop, unavailable, wait_until_answers

UNLEASH_VERSION = "7.5.1"  # 7.6 and later need Node 22
ADMIN_TOKEN = "*:*.steadyhand-test-admin"
BACKEND_TOKEN = "*:production.steadyhand-test-backend"
INSTALL_TIMEOUT_SECONDS = 600
START_TIMEOUT_SECONDS = 90
ENVIRONMENT = "production"  # the Unleash environment the tests drive


@dataclass(frozen=True)
class UnleashServer:
    url: str  # e.g. http://127.0.0.1:54321
    admin_token: str  # for /api/admin
    backend_token: str  # for /api/client, scoped to the production environment


@contextmanager
def running_unleash(log_dir: Path) -> Iterator[UnleashServer]:
    """A started unleash-server with an empty database; its output goes to `log_dir`."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable(
            "Unleash",
            "STEADYHAND_REQUIRE_UNLEASH",
            "node and npm are needed to run unleash-server; install Node.js 20 or later",
        )
    postgres = os.environ.get(POSTGRES_URL_VARIABLE)
    if not postgres:
        unavailable(
            "Unleash",
            "STEADYHAND_REQUIRE_UNLEASH",
            f"{POSTGRES_URL_VARIABLE} is not set; Unleash needs PostgreSQL",
        )
    _skip_unless_reachable(postgres)
    server_js = install_unleash(npm)
    with _fresh_postgres() as database_url:
        port = free_port()
        log_path = log_dir / "unleash.log"
        env = {
            **os.environ,
            "TZ": "UTC",
            "NODE_ENV": "production",
            "DATABASE_URL": database_url,
            "DATABASE_SSL": "false",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "INIT_ADMIN_API_TOKENS": ADMIN_TOKEN,
            "INIT_BACKEND_API_TOKENS": BACKEND_TOKEN,
            # The client API answers from a cache by default; tests read back at once.
            "CLIENT_FEATURE_CACHING_ENABLED": "false",
            "CHECK_VERSION": "false",
            "SEND_TELEMETRY": "false",
            "LOG_LEVEL": "info",
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [node, str(server_js)],
                cwd=server_js.parent,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_answers(
                "unleash-server", f"{url}/health", process, log_path, START_TIMEOUT_SECONDS
            )
            yield UnleashServer(url, ADMIN_TOKEN, BACKEND_TOKEN)
        finally:
            stop(process)


def install_unleash(npm: str, version: str = UNLEASH_VERSION) -> Path:
    """The path of unleash-server's `dist/server.js`, installing it first when missing."""
    target = cache_dir() / f"unleash-{version}"
    server_js = target / "node_modules" / "unleash-server" / "dist" / "server.js"
    if server_js.exists():
        return server_js
    target.parent.mkdir(parents=True, exist_ok=True)
    # Install beside the target and rename, so an interrupted install is never taken for one.
    staging = Path(tempfile.mkdtemp(prefix=f"unleash-{version}.", dir=target.parent))
    try:
        (staging / "package.json").write_text('{"private": true}\n')
        command = [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact"]
        completed = subprocess.run(
            [*command, f"unleash-server@{version}"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
        if completed.returncode != 0:
            output = (completed.stdout + completed.stderr).strip().splitlines()
            raise RuntimeError(
                f"npm install unleash-server@{version} failed:\n" + "\n".join(output[-30:])
            )
        try:
            staging.rename(target)
        except OSError:
            if not server_js.exists():  # another session finished first otherwise
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return server_js


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "steadyhand"


def _skip_unless_reachable(postgres: str) -> None:
    url = make_url(postgres)
    host, port = url.host or "127.0.0.1", url.port or 5432
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as error:
        unavailable(
            "Unleash",
            "STEADYHAND_REQUIRE_UNLEASH",
            f"PostgreSQL at {host}:{port} ({POSTGRES_URL_VARIABLE}) is unreachable: {error}",
        )


@contextmanager
def _fresh_postgres() -> Iterator[str]:
    """`fresh_database("postgres")` for this synchronous fixture, as a URL node's pg reads."""
    database = fresh_database("postgres")
    with asyncio.Runner() as runner:
        url = runner.run(database.__aenter__())
        try:
            yield make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        finally:
            runner.run(database.__aexit__(None, None, None))


@dataclass
class Admin:
    """What the Unleash admin does by hand, and what an SDK would read."""

    server: UnleashServer
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, body: object = None) -> Any:
        response = await self.http.request(
            method,
            f"{self.server.url}/api/admin/projects/default{path}",
            json=body,
            headers={"Authorization": self.server.admin_token},
        )
        response.raise_for_status()
        return response.json() if response.content else None

    async def create_feature(
        self, name: str, *, rollout: int | None = None, on: bool = False
    ) -> None:
        await self.call("POST", "/features", {"name": name, "type": "release"})
        if rollout is not None:
            parameters = {"rollout": str(rollout), "stickiness": "default", "groupId": name}
            strategy = {"name": "flexibleRollout", "parameters": parameters}
            await self.call("POST", f"{self._environment(name)}/strategies", strategy)
        if on:
            await self.call("POST", f"{self._environment(name)}/on")

    async def environment(self, name: str) -> dict[str, Any]:
        settings: dict[str, Any] = await self.call("GET", self._environment(name))
        return settings

    async def client_feature(self, name: str) -> dict[str, Any]:
        """The feature as an SDK with a production backend token sees it."""
        response = await self.http.get(
            f"{self.server.url}/api/client/features/{name}",
            headers={"Authorization": self.server.backend_token},
        )
        response.raise_for_status()
        feature: dict[str, Any] = response.json()
        return feature

    def _environment(self, name: str) -> str:
        return f"/features/{name}/environments/{ENVIRONMENT}"
