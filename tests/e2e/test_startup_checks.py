"""What the bot checks before it serves, so a misconfiguration shows at start and not at the
first incident: the bot token (Slack's auth.test), and a runbooks folder with at least one
usable runbook. Slack being down at start is not a misconfiguration: the bot starts anyway.
And what a start leaves out: on a database already migrated, neither Alembic nor matplotlib."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.domain.errors import ConfigError
from bot.sandbox import SlackSandbox, serve_app
from bot.store.migrations import HEAD_REVISION, current_revision, upgrade_database
from tests.e2e.conftest import ROOT, StageFactory
from tests.support.processes import free_port, stop, tail, wait_until_answers


@pytest.mark.parametrize(
    ("env", "refusal", "says"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-not-the-one"}, None, "invalid_auth"),
        ({}, "token_revoked", "token_revoked"),
        ({}, "account_inactive", "account_inactive"),
    ],
)
async def test_a_bot_token_slack_refuses_stops_the_start(
    make_stage: StageFactory,
    sandbox: SlackSandbox,
    env: dict[str, str],
    refusal: str | None,
    says: str,
) -> None:
    if refusal:
        sandbox.fail_next("auth.test", refusal)
    with pytest.raises(ConfigError) as caught:
        async with make_stage(env=env):
            pass
    assert caught.value.setting == "SLACK_BOT_TOKEN"
    assert says in str(caught.value) and "\n" not in str(caught.value)
    assert [c.method for c in sandbox.calls] == ["auth.test"]


async def test_the_token_check_can_be_skipped_for_an_offline_start(
    make_stage: StageFactory, sandbox: SlackSandbox
) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-not-the-one", "STEADYHAND_SKIP_SLACK_CHECK": "1"}
    async with make_stage(env=env) as stage:
        assert (await stage.get("/healthz")).status_code == 200
    assert [c.method for c in sandbox.calls] == []


async def test_a_good_token_is_checked_once_and_the_bot_starts(
    make_stage: StageFactory, sandbox: SlackSandbox
) -> None:
    async with make_stage() as stage:
        assert (await stage.get("/healthz")).status_code == 200
        assert [c.method for c in sandbox.calls] == ["auth.test"]
        assert sandbox.calls[0].error is None


@pytest.mark.parametrize(
    ("error", "status"),
    [("internal_error", 500), ("service_unavailable", 503), ("ratelimited", None)],
)
async def test_slack_failing_at_start_is_a_warning_not_a_stop(
    make_stage: StageFactory,
    sandbox: SlackSandbox,
    caplog: pytest.LogCaptureFixture,
    error: str,
    status: int | None,
) -> None:
    # Slack being down must not keep the door alerts come in by closed.
    sandbox.fail_next("auth.test", error, status=status, retry_after=0)
    with caplog.at_level(logging.WARNING):
        async with make_stage() as stage:
            assert (await stage.get("/healthz")).status_code == 200
    [warning] = [r for r in caplog.records if "SLACK_BOT_TOKEN" in r.getMessage()]
    assert "not checked" in warning.getMessage()


async def test_slack_unreachable_at_start_is_a_warning_not_a_stop(
    make_stage: StageFactory, caplog: pytest.LogCaptureFixture
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/api/"
    with caplog.at_level(logging.WARNING):
        async with make_stage(env={"SLACK_API_URL": nobody}) as stage:
            assert (await stage.get("/healthz")).status_code == 200
    assert any("SLACK_BOT_TOKEN" in r.getMessage() for r in caplog.records)


async def test_a_slack_api_url_that_is_not_slack_stops_the_start(make_stage: StageFactory) -> None:
    async with serve_app(Starlette()) as elsewhere:  # answers 404 to everything
        with pytest.raises(ConfigError) as caught:
            async with make_stage(env={"SLACK_API_URL": f"{elsewhere}/api/"}):
                pass
    assert caught.value.setting == "SLACK_API_URL" and "HTTP 404" in str(caught.value)


@pytest.mark.parametrize("folder", ["missing", "empty", "only broken"])
async def test_no_usable_runbook_stops_the_start(
    make_stage: StageFactory, tmp_path: Path, folder: str
) -> None:
    runbooks = {
        "missing": tmp_path / "nowhere",
        "empty": tmp_path,
        "only broken": ROOT / "tests" / "fixtures" / "runbooks_broken",
    }[folder]
    with pytest.raises(ConfigError) as caught:
        async with make_stage(runbooks_dir=runbooks):
            pass
    assert caught.value.setting == "RUNBOOKS_DIR"
    assert str(runbooks) in str(caught.value)


# The real `steadyhand serve`, in its own process.


def serve_env(sandbox: SlackSandbox, tmp_path: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-not-the-one",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": sandbox.api_url,
        "DATABASE_URL": serve_env_database(tmp_path),
        "RUNBOOKS_DIR": str(ROOT / "runbooks"),
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "STEADYHAND_SKIP_SLACK_CHECK": "",
    }


def serve_env_database(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'steadyhand.db'}"


def steadyhand(*args: str, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd, stdout=out, stderr=out
        )


async def test_serve_with_a_refused_token_exits_with_one_line(
    sandbox: SlackSandbox, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    async with sandbox.serve():
        env = serve_env(sandbox, tmp_path, free_port())
        process = steadyhand("serve", env=env, cwd=tmp_path, log=log)
        code = await asyncio.to_thread(process.wait, 60)
    assert code == 2, tail(log)
    [line] = log.read_text().strip().splitlines()
    assert line.startswith("steadyhand: configuration error: SLACK_BOT_TOKEN:")
    assert "invalid_auth" in line


async def test_serve_skip_slack_check_starts_offline(sandbox: SlackSandbox, tmp_path: Path) -> None:
    async with serving_offline(sandbox, tmp_path):
        pass
    assert [c.method for c in sandbox.calls] == []


@asynccontextmanager
async def serving_offline(
    sandbox: SlackSandbox, tmp_path: Path, **more_env: str
) -> AsyncIterator[str]:
    """`steadyhand serve --skip-slack-check` in its own process, answering /healthz: its base
    URL. Its output goes to tmp_path/serve.log."""
    port, log = free_port(), tmp_path / "serve.log"
    async with sandbox.serve():
        env = {**serve_env(sandbox, tmp_path, port), **more_env}
        process = steadyhand("serve", "--skip-slack-check", env=env, cwd=tmp_path, log=log)
        try:
            base = f"http://127.0.0.1:{port}"
            await asyncio.to_thread(
                wait_until_answers, "steadyhand", f"{base}/healthz", process, log, 60
            )
            yield base
        finally:
            stop(process)


async def test_serve_freezes_what_start_up_built_before_the_first_request(
    sandbox: SlackSandbox, tmp_path: Path
) -> None:
    # A full garbage collection walking start-up's heap stopped the event loop for 60-100 ms
    # under load and held every Slack ack in flight (bench/ack.py). `serve` freezes that heap
    # before it listens.
    async with serving_offline(sandbox, tmp_path) as base, httpx.AsyncClient() as client:
        metrics = (await client.get(f"{base}/metrics")).text
    [frozen] = [
        float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("steadyhand_gc_frozen_objects ")
    ]
    assert frozen > 100_000, metrics


# Imported only when needed: Alembic (with Mako) when the schema is behind, matplotlib when a
# timeline picture is drawn. Together they took most of a start's time.
LATER = {"alembic", "mako", "matplotlib"}


async def test_serve_on_a_migrated_database_imports_neither_alembic_nor_matplotlib(
    sandbox: SlackSandbox, tmp_path: Path
) -> None:
    await upgrade_database(serve_env_database(tmp_path))
    imported = await modules_imported_until_healthy(sandbox, tmp_path)
    assert "sqlalchemy" in imported  # the list is real
    assert imported & LATER == set()


async def test_serve_on_an_empty_database_migrates_it_with_alembic(
    sandbox: SlackSandbox, tmp_path: Path
) -> None:
    imported = await modules_imported_until_healthy(sandbox, tmp_path)
    assert "alembic" in imported
    assert await current_revision(serve_env_database(tmp_path)) == HEAD_REVISION


async def modules_imported_until_healthy(sandbox: SlackSandbox, tmp_path: Path) -> set[str]:
    """The top-level packages `steadyhand serve` imported by the time /healthz answered 200."""
    # Python's -X importtime: one line on stderr (the log) per module imported.
    async with serving_offline(sandbox, tmp_path, PYTHONPROFILEIMPORTTIME="1"):
        pass
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in (tmp_path / "serve.log").read_text().splitlines()
        if line.startswith("import time:") and "cumulative" not in line
    }
