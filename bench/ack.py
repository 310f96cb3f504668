"""How fast Steadyhand acks Slack, next to a bare Bolt app that only acks.

Slack wants an ack within 3 s. This measures, for each app, the time from sending a signed
request to receiving its HTTP answer, over many requests with many in flight. Half are
`/incident status` slash commands in an incident channel, half are checklist ticks: both ack
first and then do real work (database, Web API calls to the sandbox Slack) while the next
requests arrive, so the work competes with the acks as it would in production.

Each app runs in its own process; this process only sends and times.

    python bench/ack.py [--requests 1000] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from _common import free_port, percentile, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
WARMUP = 50


# The apps under test run in their own processes: the sandbox Slack, Steadyhand itself (the
# real `steadyhand serve`), and a bare Bolt app, started as `python bench/ack.py --serve <name>`.


async def serve_sandbox() -> None:
    """The sandbox Slack; once told where the bot listens, it opens the incident to tick."""
    from bot.sandbox import SlackDriver, SlackSandbox
    from bot.sandbox.seed import ALICE

    # Slack runs on Slack's machines, not beside the bot: on this small machine the sandbox
    # gives way, so that what is measured is the bot's own work.
    os.nice(15)
    sandbox = SlackSandbox(BOT_TOKEN)
    async with sandbox.serve() as api_url:
        await say({"api_url": sandbox.api_url, "base_url": api_url})
        events_url = (await hear()).strip()
        async with SlackDriver(events_url, SECRET, sandbox) as driver:
            await driver.slash_command("alice", "#general", "open quality Bench incident")
            page = await sandbox.wait_until(lambda: _checklist_page(sandbox), timeout=30)
        incident_id = next(
            block["accessory"]["options"][0]["value"].split(":")[0]
            for block in page["blocks"]
            if block.get("block_id", "").startswith("step-")
        )
        await say(
            {
                "events_url": events_url,
                "secret": SECRET,
                "channel": page["channel"],
                "user": ALICE,
                "incident": incident_id,
                "page_ts": page["ts"],
                "steps": 45,
                # Slack allows five answers per response_url; the bot answers /status once.
                "response_urls": [
                    sandbox.issue_response_url(ALICE, page["channel"]) for _ in range(5000)
                ],
            }
        )
        await hear()  # until the parent is done


def _checklist_page(sandbox: Any) -> dict[str, Any] | None:
    for channel in sandbox.workspace.channels.values():
        if channel.name.startswith("inc-"):
            for message in sandbox.messages(channel.id):
                if "checklist.toggle" in json.dumps(message.get("blocks", [])):
                    return {**message, "channel": channel.id}
    return None


async def serve_bare() -> None:
    import uvicorn
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from bot.sandbox import SlackSandbox, serve_app
    from bot.slack.ids import ACTION_TOGGLE_STEP_PATTERN

    sandbox = SlackSandbox()  # only answers Bolt's one auth.test
    async with sandbox.serve():
        from slack_sdk.web.async_client import AsyncWebClient

        app = AsyncApp(
            signing_secret=SECRET,
            client=AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url),
        )

        @app.command("/incident")
        async def command(ack: AsyncAck) -> None:
            await ack()

        @app.action(ACTION_TOGGLE_STEP_PATTERN)
        async def tick(ack: AsyncAck) -> None:
            await ack()

        handler = AsyncSlackRequestHandler(app)

        async def events(request: Request) -> Response:
            return await handler.handle(request)

        web = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
        del uvicorn  # serve_app wraps it
        async with serve_app(web) as base_url:
            await say(
                {
                    "events_url": f"{base_url}/slack/events",
                    "secret": SECRET,
                    "channel": "C_BENCH",
                    "user": "U_ALICE",
                    "incident": "bench",
                    "page_ts": "1.0",
                    "steps": 45,
                    "response_urls": [f"{sandbox.api_url}unused"] * 5000,
                }
            )
            await hear()


async def say(info: dict[str, Any]) -> None:
    print(json.dumps(info), flush=True)


async def hear() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


# The load.


def signed(secret: str, body: str) -> dict[str, str]:
    from bot.sandbox.driver import slack_signature

    timestamp = str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(secret, timestamp, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def request_body(info: dict[str, Any], n: int) -> str:
    if n % 2 == 0:
        return urllib.parse.urlencode(
            {
                "command": "/incident",
                "text": "status",
                "user_id": info["user"],
                "user_name": "alice",
                "channel_id": info["channel"],
                "team_id": "T_SANDBOX",
                "api_app_id": "A_STEADYHAND",
                "trigger_id": f"bench.{n}.{time.time_ns()}",
                "response_url": info["response_urls"][n // 2],
            }
        )
    position = (n // 2) % info["steps"]
    checked = (n // (2 * info["steps"])) % 2 == 0
    value = f"{info['incident']}:{position}"
    option = {"text": {"type": "plain_text", "text": "Done"}, "value": value}
    payload = {
        "type": "block_actions",
        "team": {"id": "T_SANDBOX"},
        "api_app_id": "A_STEADYHAND",
        "user": {"id": info["user"], "name": "alice", "team_id": "T_SANDBOX"},
        "container": {
            "type": "message",
            "channel_id": info["channel"],
            "message_ts": info["page_ts"],
        },
        "channel": {"id": info["channel"]},
        "trigger_id": f"bench.{n}",
        "response_url": info["response_urls"][n // 2],
        "actions": [
            {
                "type": "checkboxes",
                "action_id": f"checklist.toggle.{position}",
                "block_id": f"step-{position}",
                "selected_options": [option] if checked else [],
                "action_ts": str(time.time()),
            }
        ],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


async def measure(info: dict[str, Any], requests: int, concurrency: int) -> list[float]:
    # aiohttp, not httpx: httpx's connection pool alone caps a loopback client at a few hundred
    # requests a second with 20 in flight, which would measure the client, not the apps.
    latencies: list[float] = []
    counter = iter(range(requests + WARMUP))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def worker() -> None:
            for n in counter:
                body = request_body(info, n)
                headers = signed(info["secret"], body)
                started = time.perf_counter()
                async with client.post(info["events_url"], data=body, headers=headers) as answer:
                    await answer.read()
                    status = answer.status
                elapsed = time.perf_counter() - started
                if status != 200:
                    raise RuntimeError(f"request {n}: HTTP {status}")
                if n >= WARMUP:
                    latencies.append(elapsed)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


class Child:
    """A process of this script's, spoken to in JSON lines over its stdin and stdout."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, talks: bool = True) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.PIPE,
            text=True,
            stdout=subprocess.PIPE if talks else subprocess.DEVNULL,
            env={**os.environ, "LOG_LEVEL": "ERROR", "PYTHONPATH": str(ROOT), **(env or {})},
            cwd=ROOT,
        )

    async def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        loop = asyncio.get_running_loop()
        line = await loop.run_in_executor(None, self.process.stdout.readline)
        if not line:
            raise RuntimeError(f"{self.process.args} stopped early")
        return dict(json.loads(line))

    def write(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@asynccontextmanager
async def app_under_test(name: str) -> AsyncIterator[dict[str, Any]]:
    if name == "bare":
        bare = Child(__file__, "--serve", "bare")
        try:
            yield await bare.read()
        finally:
            bare.stop()
        return
    sandbox = Child(__file__, "--serve", "sandbox")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        bot = Child(
            "-m",
            "bot.cli",
            "serve",
            env={
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": (await sandbox.read())["api_url"],
                "PORT": str(port),
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
                "RUNBOOKS_DIR": str(ROOT / "runbooks"),
                "STEADYHAND_CONFIG": "",
            },
            talks=False,
        )
        try:
            events_url = f"http://127.0.0.1:{port}/slack/events"
            await wait_for_port(port)
            sandbox.write(events_url)
            yield await sandbox.read()
        finally:
            bot.stop()
            sandbox.stop()


async def work_drained(info: dict[str, Any]) -> float:
    """Seconds from now until the bot reports no acked work left (its /metrics gauge)."""
    metrics_url = info["events_url"].removesuffix("/slack/events") + "/metrics"
    started = time.perf_counter()
    async with aiohttp.ClientSession() as client:
        while True:
            async with client.get(metrics_url) as answer:
                text = await answer.text()
            if "\nsteadyhand_background_work 0\n" in text:
                return time.perf_counter() - started
            await asyncio.sleep(0.02)


async def main(requests: int, concurrency: int) -> None:
    results: dict[str, tuple[float, float]] = {}
    for name in ("bare", "steadyhand"):
        async with app_under_test(name) as info:
            latencies = await measure(info, requests, concurrency)
            drained = await work_drained(info) if name == "steadyhand" else None
        p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
        results[name] = (p50, p99)
        print(
            f"{name:<11} requests={len(latencies)} in_flight={concurrency} "
            f"p50={p50:.1f} ms p99={p99:.1f} ms"
        )
        if drained is not None:
            print(f"{'':<11} its work (database, Slack calls) all done {drained:.2f} s after")
    (bare50, bare99), (sh50, sh99) = results["bare"], results["steadyhand"]
    print(
        f"ratio      p50={sh50 / bare50:.2f}x p99={sh99 / bare99:.2f}x "
        f"(target: p99 within 1.5x of bare and under 100 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--serve", choices=["sandbox", "bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import logging

        logging.basicConfig(level=logging.ERROR)
        asyncio.run(serve_sandbox() if args.serve == "sandbox" else serve_bare())
    else:
        asyncio.run(main(args.requests, args.concurrency))
