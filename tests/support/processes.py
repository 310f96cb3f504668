"""Running a real third-party server from the tests: a free port, waiting until it answers,
stopping it, and skipping (or, where CI requires it, failing) when it cannot be had."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

STOP_TIMEOUT_SECONDS = 10
POLL_SECONDS = 0.05


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_answers(
    name: str, url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> None:
    """Poll `url` until it answers 200; fail with the log's tail if the server exits first."""
    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode} before it answered; "
                    f"its log ends:\n{tail(log_path)}"
                )
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(POLL_SECONDS)
    raise RuntimeError(
        f"{name} did not answer {url} within {timeout} s; its log ends:\n{tail(log_path)}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tail(log_path: Path, lines: int = 40) -> str:
    text = log_path.read_text(errors="replace") if log_path.exists() else "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def unavailable(what: str, required_by: str, reason: str) -> NoReturn:
    """Skip; but where CI sets `required_by`=1, fail, so the tests cannot quietly stop running."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{what} tests are required here, but {reason}")
    pytest.skip(reason)
