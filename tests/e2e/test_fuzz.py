"""Fuzzing every HTTP endpoint with valid auth (issue 10): hostile JSON (deep nesting, lone
surrogates, NaN, huge numbers, wrong types), mutations of the real payload shapes and raw
bytes. No answer may be a 5xx, and the registry must still serve OFREP afterwards.

The real bot runs under uvicorn on SQLite, as in the other e2e tests, but on a loop of its own
in a thread, so that hypothesis drives it with plain synchronous requests. Reproducible in CI:
derandomized, no example database, a bounded number of examples per endpoint family.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.sandbox import SlackSandbox
from bot.sandbox.seed import ALICE, GENERAL_CHANNEL, TEAM_ID
from bot.stage import BOT_TOKEN, SIGNING_SECRET, Stage, sandbox_stage
from tests.e2e.conftest import RUNBOOKS, START
from tests.e2e.registry_stage import AUTH, CONFIG, TOKEN
from tests.e2e.test_alert_sources import (
    ALERT_TOKEN,
    FIXTURES,
    GRAFANA_SECRET,
    PD_NEW,
    RULES,
    SECRETS,
    SIGNED,
    TIMESTAMP_HEADER,
)
from tests.support.databases import fresh_database
from tests.support.slack_specs import conforming

# Per endpoint family: ~1,000 bodies in all. For a longer hunt, or on PostgreSQL:
# STEADYHAND_FUZZ_EXAMPLES=5000 STEADYHAND_FUZZ_DATABASE=postgres.
EXAMPLES = int(os.environ.get("STEADYHAND_FUZZ_EXAMPLES", "200"))
DATABASE = os.environ.get("STEADYHAND_FUZZ_DATABASE", "sqlite")
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
JSON = Any


# The bot, running in a thread


@dataclass
class Bot:
    stage: Stage
    loop: asyncio.AbstractEventLoop
    http: httpx.Client
    sent: list[int]

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        self.sent[0] += 1
        response = self.http.request(method, path, **kw)
        assert response.status_code < 500, (method, path, response.status_code, response.text)
        return response


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    config = tmp_path_factory.mktemp("fuzz") / "steadyhand.yml"
    config.write_text(CONFIG + RULES + SIGNED)
    env = {
        "STEADYHAND_CONFIG": str(config),
        "STEADYHAND_API_TOKENS": TOKEN,
        "STEADYHAND_ALERT_TOKENS": ALERT_TOKEN,
        **SECRETS,
    }
    started: list[tuple[Stage, asyncio.AbstractEventLoop, asyncio.Event]] = []
    failed: list[BaseException] = []
    ready = threading.Event()

    async def serve() -> None:
        clock = ManualClock(START)
        sandbox = SlackSandbox(BOT_TOKEN, clock=lambda: clock.now().timestamp())
        stop = asyncio.Event()
        with conforming(sandbox):
            async with (
                fresh_database(DATABASE) as url,
                sandbox_stage(url, clock, runbooks_dir=RUNBOOKS, env=env, sandbox=sandbox) as stage,
            ):
                started.append((stage, asyncio.get_running_loop(), stop))
                ready.set()
                await stop.wait()
                await stage.settle()

    def thread_main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread below
            failed.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=thread_main, name="fuzzed bot")
    thread.start()
    ready.wait()
    if failed:
        raise failed[0]
    stage, loop, stop = started[0]
    sent = [0]
    began = time.perf_counter()
    with httpx.Client(base_url=stage.base_url, timeout=60) as http:
        yield Bot(stage, loop, http, sent)
    loop.call_soon_threadsafe(stop.set)
    thread.join()
    print(f"\nfuzz: {sent[0]} requests in {time.perf_counter() - began:.1f} s")
    if failed:
        raise failed[0]


def serves_ofrep(bot: Bot) -> None:
    bulk = bot.request("POST", "/ofrep/v1/evaluate/flags", headers=AUTH, json={})
    assert bulk.status_code == 200
    assert "support-bot.kill_switch" in {f["key"] for f in bulk.json()["flags"]}
    kill = bot.request(
        "POST", "/ofrep/v1/evaluate/flags/support-bot.kill_switch", headers=AUTH, json={}
    )
    assert (kill.status_code, kill.json()["value"]) == (200, False)


# Strategies

SURROGATES = st.sampled_from(["\ud800", "\udfff", "a\udc00b", "\ud83d", "a\x00b"])
STRINGS = st.one_of(st.text(max_size=30), SURROGATES, st.sampled_from(["", " ", "v1", "prompt"]))
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=10**25, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, STRINGS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(STRINGS, inner, max_size=4),
    max_leaves=12,
)


def dumps(value: JSON) -> bytes:
    # ensure_ascii writes lone surrogates as \\udXXX escapes; allow_nan writes NaN, Infinity.
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    levels = draw(st.integers(min_value=30, max_value=6000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
    return opener * levels + b"1" + closer * levels


RAW_TOKENS = st.sampled_from(
    [b"NaN", b"-Infinity", b"1e999", b"1" * 5000, b'"\\ud800"', b"{", b"", b"\xff\xfe", b"[]"]
)


@st.composite
def mutated(draw: st.DrawFn, shapes: list[JSON]) -> bytes:
    """A real payload with one to three values replaced, removed or retyped."""
    doc = copy.deepcopy(draw(st.sampled_from(shapes)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc, ()))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _at(doc, path[:-1])
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(VALUES)
    body = dumps(doc)
    token = draw(st.none() | RAW_TOKENS)
    if token is not None and b"1" in body:  # a raw token JSON cannot encode, in place of a 1
        body = body.replace(b"1", token, 1)
    return body


def _paths(doc: JSON, prefix: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    )
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _at(doc: JSON, path: tuple[Any, ...]) -> JSON:
    for key in path:
        doc = doc[key]
    return doc


def bodies(*shapes: JSON) -> st.SearchStrategy[bytes]:
    return st.one_of(
        mutated(list(shapes)),
        VALUES.map(dumps),
        deep(),
        RAW_TOKENS,
        st.binary(max_size=64),
    )


# /api/* and OFREP

CHANGE = {"service": "support-bot", "component": "prompt", "version": "v13", "actor": "ci"}
KNOWN_GOOD = {"service": "support-bot", "component": "prompt", "version": "v12", "by": "U1"}
SERVICE = {
    "name": "billing-bot",
    "components": {"prompt": "p1", "model": "gpt-x"},
    "flags": {"ramp": {"kind": "percentage", "default": 25}},
    "environment": "staging",
    "actor": "ci",
}
CONTEXT = {"context": {"targetingKey": "user-7", "tenant": "acme"}}
PATH_TEXT = st.one_of(st.text(max_size=20), st.sampled_from(["support-bot", "search", "x" * 300]))


@FUZZ
@given(
    path=st.sampled_from(["/api/changes", "/api/known-good", "/api/services"]),
    body=bodies(CHANGE, KNOWN_GOOD, SERVICE),
)
def test_fuzz_api_writes(bot: Bot, path: str, body: bytes) -> None:
    headers = {**AUTH, "Content-Type": "application/json", "Idempotency-Key": "k"}
    bot.request("POST", path, headers=headers, content=body)


@FUZZ
@given(
    route=st.sampled_from(
        [
            "/api/services",
            "/api/services/{}/current",
            "/api/incidents/{}/postmortem",
            "/api/incidents/{}/examples",
            "/api/incidents/{}/examples?set={}",
        ]
    ),
    name=PATH_TEXT,
    query=PATH_TEXT,
)
def test_fuzz_api_reads(bot: Bot, route: str, name: str, query: str) -> None:
    path = route.format(quote(name, safe=""), quote(query, safe=""))
    bot.request("GET", path, headers=AUTH)


@FUZZ
@given(key=st.none() | PATH_TEXT, body=bodies(CONTEXT, {}))
def test_fuzz_ofrep(bot: Bot, key: str | None, body: bytes) -> None:
    path = "/ofrep/v1/evaluate/flags" + ("" if key is None else "/" + quote(key, safe=""))
    bot.request("POST", path, headers={**AUTH, "Content-Type": "application/json"}, content=body)


# /alerts/{source}


def fixture_shapes(prefix: str) -> list[JSON]:
    return [json.loads(p.read_text()) for p in sorted(FIXTURES.glob(f"{prefix}-*.json"))]


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _bearer(body: bytes) -> dict[str, str]:
    return {"Authorization": f"Bearer {ALERT_TOKEN}"}


def _grafana(body: bytes) -> dict[str, str]:
    stamp = str(int(START.timestamp()))  # the bot's clock is the stage's
    signature = _hex(GRAFANA_SECRET, stamp.encode() + b":" + body)
    return {"X-Grafana-Alerting-Signature": signature, TIMESTAMP_HEADER: stamp}


def _pagerduty(body: bytes) -> dict[str, str]:
    return {"X-PagerDuty-Signature": f"v1={_hex(PD_NEW, body)}"}


ALERT_SOURCES: dict[str, tuple[Callable[[bytes], dict[str, str]], st.SearchStrategy[bytes]]] = {
    source: (sign, bodies(*fixture_shapes(source)))
    for source, sign in [
        ("alertmanager", _bearer),
        ("grafana", _grafana),
        ("pagerduty", _pagerduty),
        ("generic", _bearer),
    ]
}


@FUZZ
@given(data=st.data(), source=st.sampled_from(sorted(ALERT_SOURCES)))
def test_fuzz_alerts(bot: Bot, data: st.DataObject, source: str) -> None:
    sign, strategy = ALERT_SOURCES[source]
    body = data.draw(strategy)
    headers = {"Content-Type": "application/json", **sign(body)}
    bot.request("POST", f"/alerts/{source}", headers=headers, content=body)


# /slack/events, signed with the real secret

COMMAND = {
    "token": "sandbox-verification-token",
    "team_id": TEAM_ID,
    "channel_id": GENERAL_CHANNEL,
    "user_id": ALICE,
    "command": "/incident",
    "text": "help",
    "api_app_id": "A_SANDBOX",
    "is_enterprise_install": "false",
    "trigger_id": "1.2.3",
}
INTERACTION = {
    "type": "block_actions",
    "team": {"id": TEAM_ID, "domain": "sandbox"},
    "user": {"id": ALICE, "username": "alice", "team_id": TEAM_ID},
    "api_app_id": "A_SANDBOX",
    "trigger_id": "1.2.3",
    "channel": {"id": GENERAL_CHANNEL, "name": "general"},
    "container": {"type": "message", "message_ts": "1.0", "channel_id": GENERAL_CHANNEL},
    "actions": [{"action_id": "checklist.toggle", "block_id": "step-0", "type": "checkboxes"}],
    "view": {"id": "V1", "callback_id": "open_incident", "state": {"values": {}}},
}
EVENT = {
    "type": "event_callback",
    "team_id": TEAM_ID,
    "api_app_id": "A_SANDBOX",
    "event": {
        "type": "reaction_added",
        "user": ALICE,
        "reaction": "pushpin",
        "item": {"type": "message", "channel": GENERAL_CHANNEL, "ts": "1.0"},
        "event_ts": "1.0",
    },
    "event_id": "Ev1",
    "event_time": 1,
}
COMMAND_TEXT = st.one_of(
    st.text(max_size=40),
    SURROGATES,
    st.sampled_from(["help", "status", "update ", "running ", "changes ", "open"]).flatmap(
        lambda verb: st.text(max_size=20).map(lambda rest: verb + rest)
    ),
)


@st.composite
def slack_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    form = "application/x-www-form-urlencoded"
    kind = draw(st.sampled_from(["command", "interaction", "event", "raw"]))
    if kind == "command":
        fields = {**COMMAND, "text": draw(COMMAND_TEXT)}
        field = draw(st.sampled_from(sorted(fields)))
        fields[field] = draw(STRINGS)
        encoded = urlencode(fields, encoding="utf-8", errors="surrogatepass")
        return form, encoded.encode()
    if kind == "interaction":
        return form, urlencode({"payload": draw(mutated([INTERACTION]))}).encode()
    if kind == "event":
        return "application/json", draw(mutated([EVENT]))
    return draw(st.sampled_from([form, "application/json", "text/plain"])), draw(bodies(EVENT))


@FUZZ
@given(request=slack_bodies())
def test_fuzz_slack_events(bot: Bot, request: tuple[str, bytes]) -> None:
    content_type, body = request
    stamp = str(int(time.time()))
    signature = "v0=" + _hex(SIGNING_SECRET, b"v0:" + stamp.encode() + b":" + body)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }
    bot.request("POST", "/slack/events", headers=headers, content=body)


# /healthz and /metrics, and the registry afterwards


@settings(FUZZ, max_examples=20)
@given(path=st.sampled_from(["/healthz", "/metrics"]), query=PATH_TEXT)
def test_fuzz_health_and_metrics(bot: Bot, path: str, query: str) -> None:
    bot.request("GET", f"{path}?{quote(query)}", headers=AUTH)


def test_the_registry_still_serves_ofrep_after_the_fuzzing(bot: Bot) -> None:
    bot.run(bot.stage.settle())
    serves_ofrep(bot)
