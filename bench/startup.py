"""How long `steadyhand serve` takes to answer, next to a bare app that opens the same database.

Each start is a new process, timed from its launch to the first 200 from GET /healthz:
- bare: a Starlette app on uvicorn whose /healthz runs `SELECT 1` on the SQLite file through
  SQLAlchemy's asyncio engine (aiosqlite), opened before it listens, as Steadyhand does;
- steadyhand: `python -m bot.cli serve` on the same file, its schema already up to date (the
  usual restart), the shipped runbooks, no steadyhand.yml, and no auth.test call to Slack
  (STEADYHAND_SKIP_SLACK_CHECK: that is the network's time, not the bot's).
The two alternate, several times each, so that a busy moment on this shared machine falls on
both. The ratio to watch is the median over the pairs (each steadyhand start against the bare
start just before it); the ratio of the CPU times the processes used is printed beside it, as
the other work on a shared machine moves it less. One more start, on an empty database
(Alembic creates the schema), shows what the first start of a new installation costs.

Both run with their bytecode cached, as an installed bot's is (pip compiles what it installs):
in a checkout with PYTHONDONTWRITEBYTECODE set, every start would also compile Steadyhand's
200-odd modules from source. The cache goes to a temporary folder (PYTHONPYCACHEPREFIX), and a
first start of each app, not measured, fills it.

    python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import free_port, fresh_database

from bot.store.migrations import upgrade_database

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.005
GIVE_UP_SECONDS = 60


def serve_bare(database_url: str, port: int) -> None:
    import uvicorn
    from sqlalchemy.ext.asyncio import create_async_engine
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    engine = create_async_engine(database_url)

    async def health(request: Request) -> JSONResponse:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
        return JSONResponse({"ok": True})

    async def main() -> None:
        async with engine.connect() as connection:  # opened before listening, as the bot does
            await connection.exec_driver_sql("SELECT 1")
        web = Starlette(routes=[Route("/healthz", health)])
        config = uvicorn.Config(web, host="0.0.0.0", port=port, log_level="warning")
        await uvicorn.Server(config).serve()

    asyncio.run(main())


@dataclass(frozen=True)
class Start:
    seconds: float  # from launch to the first 200 on /healthz
    cpu_seconds: float  # the process's own CPU time, its shutdown included


def first_200(command: list[str], port: int, env: dict[str, str]) -> Start:
    """Launch `command`, wait for its first 200 on /healthz, stop it."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "LOG_LEVEL": "WARNING", **env})
    try:
        while time.perf_counter() - started < GIVE_UP_SECONDS:
            if process.poll() is not None:
                raise RuntimeError(f"{command} stopped with exit code {process.returncode}")
            if _healthy(port):
                seconds = time.perf_counter() - started
                break
            time.sleep(POLL_SECONDS)
        else:
            raise RuntimeError(f"{command} did not answer 200 on /healthz in {GIVE_UP_SECONDS} s")
    except BaseException:
        process.kill()
        process.wait()
        raise
    process.terminate()
    # wait4, not Popen.wait: it also says how much CPU the process used, a number that the
    # other work on this shared machine disturbs far less than the wall-clock time.
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped here; stops Popen from waiting for it again
    return Start(seconds, usage.ru_utime + usage.ru_stime)


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def start_bare(database_url: str) -> Start:
    port = free_port()
    command = [sys.executable, __file__, "--serve-bare", database_url, "--port", str(port)]
    return first_200(command, port, {})


def start_steadyhand(database_url: str) -> Start:
    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-signing-secret",
        "STEADYHAND_SKIP_SLACK_CHECK": "1",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "RUNBOOKS_DIR": str(ROOT / "runbooks"),
        "STEADYHAND_CONFIG": "",
    }
    return first_200([sys.executable, "-m", "bot.cli", "serve"], port, env)


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="steadyhand-bench-bytecode-") as bytecode:
        # For the children (see the docstring).
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = bytecode
        await measure(runs)


async def measure(runs: int) -> None:
    async with fresh_database(None) as url:
        await upgrade_database(url)
        # Once each, not measured: these compile the bytecode and warm the file cache.
        start_bare(url)
        start_steadyhand(url)
        bare: list[Start] = []
        steadyhand: list[Start] = []
        for _ in range(runs):
            bare.append(start_bare(url))
            steadyhand.append(start_steadyhand(url))
    async with fresh_database(None) as fresh_url:
        first_start = start_steadyhand(fresh_url)
    for name, starts in (("bare", bare), ("steadyhand", steadyhand)):
        times = [start.seconds for start in starts]
        print(
            f"{name:<11} starts={len(times)} to first 200 on /healthz: "
            f"median={statistics.median(times):.3f} s min={min(times):.3f} s "
            f"max={max(times):.3f} s; CPU median={_median_cpu(starts):.3f} s"
        )
    pairs = [s.seconds / b.seconds for b, s in zip(bare, steadyhand, strict=True)]
    print(
        f"ratio      per pair: median={statistics.median(pairs):.2f}x "
        f"min={min(pairs):.2f}x max={max(pairs):.2f}x; of the medians: "
        f"{_median(steadyhand) / _median(bare):.2f}x; CPU: "
        f"{_median_cpu(steadyhand) / _median_cpu(bare):.2f}x (target: <= 2)"
    )
    print(
        f"first start on an empty database (migrates): {first_start.seconds:.3f} s, "
        f"CPU {first_start.cpu_seconds:.3f} s"
    )


def _median(starts: list[Start]) -> float:
    return statistics.median(start.seconds for start in starts)


def _median_cpu(starts: list[Start]) -> float:
    return statistics.median(start.cpu_seconds for start in starts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--serve-bare", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.port)
    else:
        asyncio.run(main(args.runs))
