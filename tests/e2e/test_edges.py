"""The edges (issue 10, findings 3-6): every input is bounded and validated before anything is
read whole, stored or acted on, and a bad stored row never breaks a read for others.

Over real HTTP against the real bot, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from slack_bolt.async_app import AsyncBoltRequest
from sqlalchemy import func, insert, select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.sandbox import serve_app
from bot.sandbox.driver import slack_signature
from bot.services.ofrep_snapshot import refresh_snapshot
from bot.stage import SIGNING_SECRET, Stage
from bot.store.models import (
    AlertRow,
    ChangeRow,
    FlagStateRow,
    KnownGoodRow,
    RegisteredServiceRow,
    RegistryVersionRow,
)
from tests.e2e.conftest import START, StageFactory
from tests.e2e.registry_stage import AUTH
from tests.e2e.test_alert_sources import bearer, fixture, pagerduty_signed, sources_stage
from tests.e2e.test_alert_sources import post as post_alert

FLAGS = "/ofrep/v1/evaluate/flags"
MiB = 1024 * 1024


async def call(stage: Stage, method: str, path: str, **kw: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stage.base_url, timeout=30) as client:
        return await client.request(method, path, **kw)  # type: ignore[arg-type]


async def count(stage: Stage, table: type) -> int:
    async with stage.runtime.engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(table))).scalar_one()


async def serves_ofrep(stage: Stage) -> None:
    """The bulk read every AI service polls, and the kill switch on its own."""
    bulk = await call(stage, "POST", FLAGS, headers=AUTH, json={})
    assert bulk.status_code == 200, bulk.text
    keys = {flag["key"] for flag in bulk.json()["flags"]}
    assert {"support-bot.kill_switch", "support-bot.prompt"} <= keys
    kill = await call(stage, "POST", f"{FLAGS}/support-bot.kill_switch", headers=AUTH, json={})
    assert (kill.status_code, kill.json()["value"]) == (200, False)
    listed = await call(stage, "GET", "/api/services", headers=AUTH)
    assert listed.status_code == 200, listed.text


# Finding 3: one bad registration broke OFREP for everyone.

LONE_SURROGATE = b'"\\ud800"'


async def test_a_registration_with_a_lone_surrogate_is_refused_and_not_stored(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        body = b'{"name": "billing-bot", "components": {"prompt": %s}, "actor": "ci"}'
        response = await call(
            stage,
            "POST",
            "/api/services",
            headers={**AUTH, "Content-Type": "application/json"},
            content=body % LONE_SURROGATE,
        )
        assert response.status_code == 400, response.text
        assert "surrogate" in response.json()["error"]
        assert await count(stage, RegisteredServiceRow) == 0
        await serves_ofrep(stage)


async def test_a_bad_stored_registration_is_skipped_and_logged(
    make_stage: StageFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        # Written past every check, as an older version or a hand-edited database could.
        bad = [
            ("surrogate-bot", {"prompt": "\ud800"}, {}),
            ("unknown-component", {"vibes": "v1"}, {}),
            ("bad-flag", {}, {"ramp": {"kind": "sometimes", "default": 3}}),
            ("bad name with spaces", {}, {}),
        ]
        good = ("billing-bot", {"prompt": "p1"}, {"ramp": {"kind": "percentage", "default": 5}})
        async with stage.runtime.engine.begin() as connection:
            for name, components, flags in [*bad, good]:
                await connection.execute(
                    insert(RegisteredServiceRow).values(
                        name=name,
                        components=components,
                        flags=flags,
                        environment="production",
                        registered_by="ci",
                        registered_at=START,
                        updated_by="ci",
                        updated_at=START,
                    )
                )
            # Whatever writes the registry bumps its version, so that OFREP serves it.
            version = RegistryVersionRow.version
            await connection.execute(update(RegistryVersionRow).values(version=version + 1))
        with caplog.at_level(logging.WARNING):
            await refresh_snapshot(stage.runtime.deps)  # as the registry watch does, each second
            listed = await call(stage, "GET", "/api/services", headers=AUTH)
        assert listed.status_code == 200, listed.text
        names = [s["name"] for s in listed.json()["services"]]
        assert names == ["support-bot", "search", "billing-bot"]
        for name, _, _ in bad:
            assert any(name in r.getMessage() for r in caplog.records), name
        await serves_ofrep(stage)
        ramp = await call(stage, "POST", f"{FLAGS}/billing-bot.ramp", headers=AUTH, json={})
        assert ramp.json()["value"] == 5


async def test_a_bad_stored_change_is_skipped_and_logged(
    make_stage: StageFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        good = {"service": "support-bot", "component": "prompt", "version": "v13", "actor": "ci"}
        assert (await call(stage, "POST", "/api/changes", headers=AUTH, json=good)).is_success
        async with stage.runtime.engine.begin() as connection:
            for number, (component, version) in enumerate(
                [("prompt", "v14 and more"), ("vibes", "v1"), ("model", "")]
            ):
                await connection.execute(
                    insert(ChangeRow).values(
                        id=f"bad-{number}",
                        service="support-bot",
                        component=component,
                        from_version=None,
                        to_version=version,
                        actor="ci",
                        at=START.replace(hour=10),
                        source=None,
                        eval_score=None,
                        recorded_at=START.replace(hour=10),
                    )
                )
            await connection.execute(
                insert(KnownGoodRow).values(
                    service="support-bot",
                    component="prompt",
                    version="v9 with spaces",
                    marked_by="ci",
                    at=START,
                    reason="by hand",
                )
            )
            await connection.execute(
                insert(FlagStateRow).values(
                    service="support-bot",
                    name="kill_switch",
                    kind="sometimes",
                    value=7,
                    updated_by="ci",
                    updated_at=START,
                )
            )
        with caplog.at_level(logging.WARNING):
            await serves_ofrep(stage)
            prompt = await call(stage, "POST", f"{FLAGS}/support-bot.prompt", headers=AUTH)
            current = await call(stage, "GET", "/api/services/support-bot/current", headers=AUTH)
        assert prompt.json()["value"] == "v13"  # the last good change
        assert current.status_code == 200 and current.json()["versions"]["model"] == "gpt-x"
        assert current.json()["known_good"] == {}
        assert current.json()["flags"]["kill_switch"] is False
        assert any("bad-0" in r.getMessage() for r in caplog.records)


# Finding 4: an unsigned request made the bot POST to any URL.


@asynccontextmanager
async def listener() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A local URL that records every request it gets, as an attacker's server would."""
    hits: list[bytes] = []

    async def record(request: Request) -> Response:
        hits.append(await request.body())
        return Response("ok")

    app = Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST"])])
    async with serve_app(app) as base_url:
        yield f"{base_url}/hook", hits


@pytest.mark.parametrize("timestamp", ["abc", "1.5", "", "+1700000000", "1e9", "-5", None])
async def test_a_malformed_slack_timestamp_gets_401_and_no_side_effect(
    stage: Stage, timestamp: str | None
) -> None:
    async with listener() as (hook, hits):
        form = {
            "command": "/incident",
            "text": "open cost x",
            "user_id": "U0ALICE",
            "channel_id": "C0GENERAL",
            "team_id": "T0SANDBOX",
            "trigger_id": "1.2.3",
            "response_url": hook,
        }
        body = urlencode(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp
            headers["X-Slack-Signature"] = slack_signature(SIGNING_SECRET, timestamp, body)
        response = await call(stage, "POST", "/slack/events", content=body, headers=headers)
        assert response.status_code == 401, response.text
        await stage.settle()
        assert hits == []
    assert stage.sandbox.calls_to("conversations.create") == []


async def test_a_block_action_signed_with_a_float_timestamp_reaches_no_url(stage: Stage) -> None:
    async with listener() as (hook, hits):
        payload = {"type": "block_actions", "response_url": hook, "actions": [{"x": 1}]}
        body = urlencode({"payload": json.dumps(payload)})
        stamp = f"{time.time():.3f}"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": slack_signature(SIGNING_SECRET, stamp, body),
        }
        response = await call(stage, "POST", "/slack/events", content=body, headers=headers)
        assert response.status_code == 401
        await stage.settle()
        assert hits == []


async def test_the_error_handler_answers_no_response_url_of_an_unverified_request(
    stage: Stage,
) -> None:
    """Behind the edge: a request handed to Bolt unverified (here straight to dispatch, with
    the timestamp that crashed Bolt's own check) never makes the bot call its response_url."""
    async with listener() as (hook, hits):
        body = urlencode({"command": "/incident", "text": "help", "response_url": hook})
        request = AsyncBoltRequest(
            body=body,
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "x-slack-request-timestamp": "abc",
                "x-slack-signature": slack_signature(SIGNING_SECRET, "abc", body),
            },
        )
        response = await stage.runtime.bolt.async_dispatch(request)
        assert response.status == 500  # Bolt's own answer; the edge never lets this through
        await stage.settle()
        assert hits == []


# Finding 5: an unbounded body was read whole before the signature check.

EVERY_ENDPOINT = [
    ("POST", "/slack/events"),
    ("POST", "/alerts/alertmanager"),
    ("POST", "/alerts/generic"),
    ("POST", "/api/changes"),
    ("POST", "/api/services"),
    ("POST", "/api/known-good"),
    ("GET", "/api/services"),
    ("POST", FLAGS),
    ("POST", f"{FLAGS}/support-bot.kill_switch"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
]


@pytest.mark.parametrize(("method", "path"), EVERY_ENDPOINT)
async def test_a_declared_huge_body_is_refused_before_it_is_sent(
    stage: Stage, method: str, path: str
) -> None:
    """Only the headers go out; the answer comes without waiting for a single body byte."""
    address = urlsplit(stage.base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"Authorization: {AUTH['Authorization']}\r\nContent-Length: {200 * MiB}\r\n\r\n".encode()
    )
    await writer.drain()
    # A guard so that a bot waiting for the body fails the test instead of hanging it.
    async with asyncio.timeout(60):
        status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"413", status_line


async def test_a_huge_streamed_body_is_cut_at_the_cap(stage: Stage) -> None:
    """An unsigned 200 MiB chunked body: the bot answers 413 and stops reading long before its
    end (a sender is only ever held in the sockets' buffers)."""
    reset_peak_memory()
    before = peak_memory()
    address = urlsplit(stage.base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nTransfer-Encoding: chunked\r\n\r\n")
    answer = asyncio.create_task(reader.readline())
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"x" * 64 * 1024)
    sent = 0
    try:
        while sent < 200 * MiB and not answer.done():
            writer.write(chunk)
            await writer.drain()
            sent += 64 * 1024
    except ConnectionError:
        pass  # the bot closed the connection on the rest of the body, unread
    async with asyncio.timeout(60):  # a guard against hanging, not a timed assertion
        status_line = await answer
    writer.close()
    assert status_line.split()[1] == b"413", status_line
    # The cap (1 MiB) plus what the sockets' buffers hold; nowhere near 200 MiB.
    assert sent < 32 * MiB, sent
    # The bot runs in this process: its peak memory did not grow by the body's size.
    assert peak_memory() - before < 64 * MiB, peak_memory() - before


def reset_peak_memory() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


def peak_memory() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


# Finding 6: deep nesting, lone surrogates, NaN and wrong types answered 5xx.

DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"context": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001


@pytest.mark.parametrize(
    "path", ["/api/changes", "/api/services", "/api/known-good", FLAGS, f"{FLAGS}/x.kill_switch"]
)
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
async def test_deeply_nested_json_gets_400_on_the_api(
    make_stage: StageFactory, tmp_path: Path, path: str, body: bytes
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        response = await call(stage, "POST", path, headers=AUTH, content=body)
        assert response.status_code == 400, response.text
        assert "nested" in response.text


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("version", b'"v\\udc00"'),
        ("eval_score", b"NaN"),
        ("eval_score", b"Infinity"),
        ("eval_score", b"1e999"),
        ("eval_score", b"1" + b"0" * 5000),
        ("version", b"12"),
        ("at", b"[]"),
    ],
)
async def test_an_invalid_change_is_refused_and_not_stored(
    make_stage: StageFactory, tmp_path: Path, field: str, raw: bytes
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        good = {"service": "support-bot", "component": "prompt", "version": "v13", "actor": "ci"}
        fields = {k: json.dumps(v).encode() for k, v in good.items()} | {field: raw}
        body = b"{" + b",".join(b'"%s": %s' % (k.encode(), v) for k, v in fields.items()) + b"}"
        response = await call(stage, "POST", "/api/changes", headers=AUTH, content=body)
        assert response.status_code in (400, 422), response.text
        assert response.json()["error"]
        assert await count(stage, ChangeRow) == 0
        await serves_ofrep(stage)


async def test_a_poison_alert_gets_400_so_its_sender_stops_retrying(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        generic = fixture("generic-firing.json").replace(b'"eu"', b'"eu\\ud800"')
        response = await post_alert(stage, "generic", generic, bearer())
        assert response.status_code == 400, response.text
        assert "surrogate" in response.json()["error"]

        pd = fixture("pagerduty-triggered.json").replace(b'"title": "', b'"title": "\\udfff')
        assert b"\\udfff" in pd
        response = await post_alert(
            stage, "pagerduty", pd, pagerduty_signed(pd, "pagerduty-secret-new")
        )
        assert response.status_code == 400, response.text

        # PostgreSQL cannot hold a NUL in text: it failed the write with a 500, retried forever.
        nul = fixture("generic-firing.json").replace(b"Answer quality", b"Answer\\u0000quality")
        response = await post_alert(stage, "generic", nul, bearer())
        assert response.status_code == 400, response.text
        assert "NUL" in response.json()["error"]

        deep = b'{"alerts": ' + b"[" * 5000 + b"]" * 5000 + b"}"
        response = await post_alert(stage, "alertmanager", deep, bearer())
        assert response.status_code == 400, response.text
        assert await count(stage, AlertRow) == 0


@pytest.mark.parametrize(
    "path",
    ["/api/incidents/%00/postmortem", "/api/services/a%00b/current", "/api/services?x=%00"],
)
async def test_a_nul_in_the_path_or_query_gets_400(
    make_stage: StageFactory, tmp_path: Path, path: str
) -> None:
    async with sources_stage(make_stage, tmp_path) as stage:
        response = await call(stage, "GET", path, headers=AUTH)
        assert response.status_code == 400, response.text
        assert "NUL" in response.json()["error"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "payload=%7Bnot%20json"),
        ("application/x-www-form-urlencoded", "payload=%5B1%2C2%5D"),
        ("application/x-www-form-urlencoded", "payload=" + "%5B" * 5000),
        ("application/json", "[1, 2]"),
        ("application/json", '{"type": "event_callback", "event": 5}'),
        ("application/json", '{"type": "event_callback", "event": {"type": 5}}'),
        ("application/json", '{"type": "block_actions", "actions": [5], "user": 5}'),
        ("application/json", '{"type": "event_callback", "event": {"type": "\\ud800"}}'),
        ("application/json", "{"),
    ],
)
async def test_a_malformed_signed_slack_body_gets_4xx(
    stage: Stage, content_type: str, body: str
) -> None:
    response = await call(
        stage, "POST", "/slack/events", content=body, headers=signed(body.encode(), content_type)
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    await stage.settle()


async def test_a_signed_body_that_is_not_utf8_gets_400(stage: Stage) -> None:
    body = b"command=%2Fincident&text=\xff\xfe"
    headers = signed(body, "application/x-www-form-urlencoded")
    response = await call(stage, "POST", "/slack/events", content=body, headers=headers)
    assert response.status_code == 400, response.text


def signed(body: bytes, content_type: str) -> dict[str, str]:
    """Slack's headers for `body`, signed over its bytes as they are."""
    stamp = str(int(time.time()))
    base = b"v0:%s:%s" % (stamp.encode(), body)
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


@pytest.mark.parametrize("missing", ["trigger_id", "user_id", "channel_id"])
async def test_a_signed_slash_command_without_its_ids_gets_400_and_no_slack_call(
    stage: Stage, missing: str
) -> None:
    """Found by the fuzz suite: without a trigger_id the bot called views.open with none."""
    form = {
        "command": "/incident",
        "text": "open",
        "user_id": "U_ALICE",
        "channel_id": "C_GENERAL",
        "team_id": "T_SANDBOX",
        "trigger_id": "1.2.3",
        missing: "",
    }
    body = urlencode(form).encode()
    headers = signed(body, "application/x-www-form-urlencoded")
    response = await call(stage, "POST", "/slack/events", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert missing in response.json()["error"]
    await stage.settle()
    assert stage.sandbox.calls_to("views.open") == []


async def test_a_slash_command_whose_text_says_payload_is_handled(stage: Stage) -> None:
    """Bolt took any form holding the word "payload" for an interaction and dropped it (404
    "unhandled request"); the edge hands it the form Slack sent."""
    response = await stage.command("alice", "#general", "frobnicate the payload service")
    assert response.status_code == 200, response.text
    assert "`open`" in response.json()["text"]  # the unknown-subcommand help
