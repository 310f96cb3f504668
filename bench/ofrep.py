"""How fast Steadyhand answers OFREP, next to a bare Starlette app returning the same bytes.

AI services read their flags in their own request path, so OFREP should cost what serving a
few kilobytes costs. This starts the real `steadyhand serve` (a throwaway SQLite file, or a
fresh PostgreSQL database with --database-url) with three services declaring 20 keys, reads
its answers once, and starts a bare Starlette app, under the same uvicorn settings, that
returns those very bytes (and the same 304). Then, for each case (bulk, single key, bulk with
a current `If-None-Match` → 304) at 1, 20 and 100 connections, it sends the same requests to
each app in turn (four rounds each, alternating) and prints requests/s, p50 and p99, and
Steadyhand's ratio to the bare app.

Each app runs in its own process; this process only sends and times.

    python bench/ofrep.py [--requests 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from _common import ROOT, child, free_port, fresh_database, percentile, wait_for_port

TOKEN = "bench-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
BODY = b'{"context": {"targetingKey": "user-7"}}'
BULK = "/ofrep/v1/evaluate/flags"
ONE = "/ofrep/v1/evaluate/flags/support-bot.prompt"
CONNECTIONS = (1, 20, 100)
WARMUP = 100  # per round
ROUNDS = 4
TARGET_RATIO, TARGET_P99_MS = 0.5, 20.0  # at 20 connections
CONFIG = """
services:
  support-bot:
    components: {prompt: v12, model: gpt-x, retrieval_index: idx-7, embedding_model: emb-3}
    flags:
      new-retriever: {kind: percentage, default: 30}
      strict-guardrails: {kind: boolean}
  search:
    components: {routing: r1, chunking: c4, retrieval_index: idx-2}
    flags:
      rerank: {kind: boolean, default: true}
  billing-bot:
    components: {model: gpt-y, prompt: b3, output_schema: s2}
    flags:
      ramp: {kind: percentage, default: 10}
"""


# The bare app, started as `python bench/ofrep.py --serve bare`: told the bytes on stdin.


async def serve_bare() -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    answers = json.loads(sys.stdin.readline())
    bulk, one, etag = answers["bulk"].encode(), answers["one"].encode(), answers["etag"]

    async def evaluate_bulk(request: Request) -> Response:
        await request.body()
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(bulk, media_type="application/json", headers={"ETag": etag})

    async def evaluate_one(request: Request) -> Response:
        await request.body()
        return Response(one, media_type="application/json")

    web = Starlette(
        routes=[
            Route(BULK, evaluate_bulk, methods=["POST"]),
            Route("/ofrep/v1/evaluate/flags/{key}", evaluate_one, methods=["POST"]),
        ]
    )
    port = int(os.environ["PORT"])
    # As `steadyhand serve` runs uvicorn (bot/server.py).
    config = uvicorn.Config(web, host="0.0.0.0", port=port, log_level="error", lifespan="on")
    await uvicorn.Server(config).serve()


# The load.


async def measure(
    base_url: str, path: str, headers: dict[str, str], expect: int, requests: int, connections: int
) -> tuple[float, list[float]]:
    """Requests/s and each request's seconds, after a warm-up."""
    latencies: list[float] = []
    counter = iter(range(requests + WARMUP))
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base_url=base_url, connector=connector) as client:

        async def worker() -> None:
            for n in counter:
                started = time.perf_counter()
                async with client.post(path, data=BODY, headers=headers) as answer:
                    await answer.read()
                    status = answer.status
                elapsed = time.perf_counter() - started
                if status != expect:
                    raise RuntimeError(f"{base_url}{path} #{n}: HTTP {status}, not {expect}")
                if n == WARMUP - 1:
                    first.append(time.perf_counter())
                if n >= WARMUP:
                    latencies.append(elapsed)

        first: list[float] = []
        await asyncio.gather(*(worker() for _ in range(connections)))
        seconds = time.perf_counter() - (first[0] if first else 0)
    return len(latencies) / seconds, latencies


@asynccontextmanager
async def steadyhand(database_url: str) -> AsyncIterator[str]:
    """The real `steadyhand serve`, offline (no Slack check), with CONFIG's services."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "steadyhand.yml"
        config.write_text(CONFIG)
        port = free_port()
        settings = {
            "DATABASE_URL": database_url,
            "STEADYHAND_CONFIG": str(config),
            "STEADYHAND_API_TOKENS": TOKEN,
            "STEADYHAND_SKIP_SLACK_CHECK": "1",
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench-signing-secret",
            "RUNBOOKS_DIR": str(ROOT / "runbooks"),
            "PORT": str(port),
        }
        with child("-m", "bot.cli", "serve", env=settings):
            await wait_for_port(port)
            yield f"http://127.0.0.1:{port}"


@asynccontextmanager
async def bare(answers: dict[str, str]) -> AsyncIterator[str]:
    port = free_port()
    with child(
        __file__, "--serve", "bare", env={"PORT": str(port)}, first_line=json.dumps(answers)
    ):
        await wait_for_port(port)
        yield f"http://127.0.0.1:{port}"


async def compare(
    apps: dict[str, str],
    path: str,
    headers: dict[str, str],
    expect: int,
    requests: int,
    connections: int,
) -> dict[str, tuple[float, float, float]]:
    """Per app: requests/s, p50 and p99 in ms. The apps take turns over ROUNDS short rounds,
    so that a burst of other work on this shared machine hits both rather than one."""
    seconds = dict.fromkeys(apps, 0.0)
    latencies: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(ROUNDS):
        for name, base_url in apps.items():
            rate, found = await measure(
                base_url, path, headers, expect, requests // ROUNDS, connections
            )
            seconds[name] += len(found) / rate
            latencies[name] += found
    return {
        name: (
            len(latencies[name]) / seconds[name],
            percentile(latencies[name], 0.5) * 1000,
            percentile(latencies[name], 0.99) * 1000,
        )
        for name in apps
    }


async def answers_of(base_url: str) -> dict[str, str]:
    async with aiohttp.ClientSession(base_url=base_url) as client:
        async with client.post(BULK, data=BODY, headers=AUTH) as answer:
            assert answer.status == 200, await answer.text()
            bulk, etag = await answer.text(), answer.headers["ETag"]
        async with client.post(ONE, data=BODY, headers=AUTH) as answer:
            assert answer.status == 200, await answer.text()
            one = await answer.text()
    return {"bulk": bulk, "one": one, "etag": etag}


async def main(requests: int, database_url: str | None) -> None:
    async with fresh_database(database_url) as url, steadyhand(url) as bot:
        answers = await answers_of(bot)
        keys = len(json.loads(answers["bulk"])["flags"])
        print(
            f"bulk answer: {keys} keys, {len(answers['bulk'])} bytes; database {url.split(':')[0]}"
        )
        cases = {
            "bulk": (BULK, AUTH, 200),
            "single": (ONE, AUTH, 200),
            "304": (BULK, {**AUTH, "If-None-Match": answers["etag"]}, 304),
        }
        missed = []
        async with bare(answers) as reference:
            apps = {"bare": reference, "steadyhand": bot}
            for case, (path, headers, expect) in cases.items():
                for connections in CONNECTIONS:
                    row = await compare(apps, path, headers, expect, requests, connections)
                    for name, (rate, p50, p99) in row.items():
                        print(
                            f"{case:<7} conns={connections:<4} {name:<11} {rate:8.0f}/s "
                            f"p50={p50:6.1f} ms p99={p99:6.1f} ms"
                        )
                    ratio = row["steadyhand"][0] / row["bare"][0]
                    print(f"{case:<7} conns={connections:<4} ratio {ratio:.2f}")
                    if connections == 20 and (
                        ratio < TARGET_RATIO or row["steadyhand"][2] > TARGET_P99_MS
                    ):
                        missed.append(f"{case} at 20 connections")
    target = f"ratio ≥ {TARGET_RATIO} and p99 under {TARGET_P99_MS:.0f} ms at 20 connections"
    print(f"target: {target}: " + ("met" if not missed else f"missed ({', '.join(missed)})"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database-url", help="a PostgreSQL server; default: a SQLite file")
    parser.add_argument("--serve", choices=["bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_bare())
    else:
        asyncio.run(main(args.requests, args.database_url))
