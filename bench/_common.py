"""What the benchmarks share: ports, a fresh database per run, percentiles.

Named with a leading underscore so that `python3 dev.py bench` does not run it as a benchmark.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.store.database import normalize_url

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def child(*args: str, env: dict[str, str], first_line: str | None = None) -> Iterator[None]:
    """`python *args` from the repository, quiet (LOG_LEVEL=ERROR), told `first_line` on its
    stdin; stopped with SIGTERM when the block ends."""
    process = subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.PIPE,
        text=True,
        env={**os.environ, "LOG_LEVEL": "ERROR", "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
    )
    try:
        if first_line is not None:
            assert process.stdin is not None
            process.stdin.write(first_line + "\n")
            process.stdin.flush()
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_for_port(port: int) -> None:
    for _ in range(600):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"steadyhand did not listen on port {port}")


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


@asynccontextmanager
async def fresh_database(url: str | None) -> AsyncIterator[str]:
    """A throwaway SQLite file, or a new database on the PostgreSQL server `url` names."""
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="steadyhand-bench-") as folder:
            yield url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    server = normalize_url(url)
    name = f"steadyhand_bench_{secrets.token_hex(6)}"
    # CREATE/DROP DATABASE refuse to run inside a transaction.
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()
