"""A real Prometheus Alertmanager from the Debian package, sending webhooks to a test's receiver.

`alertmanager_binary()` uses an `alertmanager` already installed (on PATH, or Debian's
`/usr/bin/prometheus-alertmanager`), and otherwise installs the Debian package with
`apt-get install` when it runs as root (CI installs it up front). Unpacking the package
without installing it is not enough: Debian's build reads its templates from
/usr/share/prometheus/alertmanager and has no flag to look elsewhere.

`running_alertmanager()` starts it on a free loopback port, with clustering off, and one route
whose one receiver is a webhook to the given URL; tests inject alerts through `/api/v2/alerts`.

Skipped, with the reason, when no binary can be had; CI sets STEADYHAND_REQUIRE_ALERTMANAGER=1
so that there a missing prerequisite fails instead.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import free_port, stop, unavailable, wait_until_answers

PACKAGE = "prometheus-alertmanager"
SYSTEM_BINARY = Path("/usr/bin/prometheus-alertmanager")
APT_TIMEOUT_SECONDS = 600
START_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class AlertmanagerServer:
    url: str  # e.g. http://127.0.0.1:54321

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Inject alerts as Prometheus does: {labels, annotations, startsAt, endsAt, generatorURL}.

        Alertmanager fills a missing startsAt with the time it receives the alert, and a
        missing endsAt with that time plus resolve_timeout (5 minutes): the alert fires.
        """
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            response = await http.post(f"{self.url}/api/v2/alerts", json=alerts)
            response.raise_for_status()

    async def resolve(self, alerts: list[dict[str, Any]]) -> None:
        """Post the same alerts again, ending now, as Prometheus does when a rule stops firing."""
        # The wall clock, not an injected one: Alertmanager compares endsAt with its own clock.
        now = datetime.now(UTC).isoformat()
        await self.post_alerts([{**alert, "endsAt": now} for alert in alerts])

    async def alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds, from `GET /api/v2/alerts`."""
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            response = await http.get(f"{self.url}/api/v2/alerts")
            response.raise_for_status()
            held: list[dict[str, Any]] = response.json()
            return held


@contextmanager
def running_alertmanager(
    webhook_url: str,
    bearer_token: str,
    work_dir: Path,
    *,
    group_wait: str = "100ms",
    group_interval: str = "1s",
    repeat_interval: str = "1m",
) -> Iterator[AlertmanagerServer]:
    """A started Alertmanager that sends every alert group to `webhook_url` with the token.

    The short intervals keep tests fast: a new group is sent after `group_wait`, changes to it
    (new or resolved alerts) after `group_interval`, and an unchanged group again only after
    `repeat_interval`. Its configuration, data and log go to `work_dir`.
    """
    binary = alertmanager_binary()
    config_path = work_dir / "alertmanager.yml"
    config = _config(webhook_url, bearer_token, group_wait, group_interval, repeat_interval)
    config_path.write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML
    port = free_port()
    log_path = work_dir / "alertmanager.log"
    command = [
        str(binary),
        f"--config.file={config_path}",
        f"--storage.path={work_dir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip, so no second port
        "--log.level=debug",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answers(
            "alertmanager", f"{url}/-/ready", process, log_path, START_TIMEOUT_SECONDS
        )
        yield AlertmanagerServer(url)
    finally:
        stop(process)


@functools.cache
def alertmanager_binary() -> Path:
    """The installed Alertmanager, installing Debian's package first when root may."""
    for name in ("alertmanager", PACKAGE):
        found = shutil.which(name)
        if found is not None:
            return Path(found)
    if SYSTEM_BINARY.exists():
        return SYSTEM_BINARY
    if shutil.which("apt-get") is None:
        unavailable(
            "Alertmanager",
            "STEADYHAND_REQUIRE_ALERTMANAGER",
            f"no alertmanager on PATH, and no apt-get to install {PACKAGE}",
        )
    if os.geteuid() != 0:
        unavailable(
            "Alertmanager",
            "STEADYHAND_REQUIRE_ALERTMANAGER",
            f"no alertmanager on PATH; run `sudo apt-get install {PACKAGE}`",
        )
    install = ("install", "-y", "--no-install-recommends", PACKAGE)
    if not _apt(*install):  # no package lists yet, as on a fresh machine
        _apt("update")
        if not _apt(*install):
            unavailable(
                "Alertmanager",
                "STEADYHAND_REQUIRE_ALERTMANAGER",
                f"apt-get install {PACKAGE} failed, even after apt-get update",
            )
    return SYSTEM_BINARY


def _apt(*arguments: str) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return _run(["apt-get", "-q", *arguments], env=env).returncode == 0


def _run(
    command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=APT_TIMEOUT_SECONDS,
        check=False,
    )


def _config(
    webhook_url: str,
    bearer_token: str,
    group_wait: str,
    group_interval: str,
    repeat_interval: str,
) -> dict[str, Any]:
    webhook = {
        "url": webhook_url,
        "send_resolved": True,
        "max_alerts": 0,  # all of them
        # `authorization` since Alertmanager 0.22; `bearer_token` before and still accepted.
        "http_config": {"authorization": {"type": "Bearer", "credentials": bearer_token}},
    }
    return {
        "route": {
            "receiver": "steadyhand",
            "group_by": ["alertname", "service"],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        },
        "receivers": [{"name": "steadyhand", "webhook_configs": [webhook]}],
    }
