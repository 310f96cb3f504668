"""The real bot over Socket Mode (`steadyhand serve --socket-mode`) against the sandbox Slack.

Only the way Slack's requests arrive differs from the HTTP tests: every Web API call and every
payload the bot sends is still checked against Slack's published specifications.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.clock import ManualClock
from bot.domain.timeline import EventType
from bot.sandbox import SlackSandbox
from bot.sandbox.seed import ALICE, BOT_USER_ID, GENERAL_CHANNEL
from bot.services.lookup import incident_in_channel
from bot.slack.help import HELP_LINES
from bot.slack.ids import ACTION_OPEN_TRIAGE, ACTION_TOGGLE_STEP, step_action_id
from bot.stage import BOT_TOKEN
from bot.stage_socket import APP_TOKEN, SocketModeStage, socket_mode_stage
from bot.web.faults import TRUST_A_CHECK_SECONDS
from tests.e2e.conftest import RUNBOOKS, START
from tests.e2e.helpers import checked_steps, only_incident_channel, text_of, with_action
from tests.support.databases import fresh_database
from tests.support.slack_specs import conforming
from tests.support.tcp_proxy import TcpProxy, tcp_proxy


@pytest.fixture
async def stage() -> AsyncIterator[SocketModeStage]:
    sandbox = SlackSandbox(BOT_TOKEN, app_token=APP_TOKEN)
    with conforming(sandbox):
        async with (
            fresh_database("sqlite") as database_url,
            socket_mode_stage(
                database_url, ManualClock(START), runbooks_dir=RUNBOOKS, sandbox=sandbox
            ) as running,
        ):
            yield running


async def test_open_by_command_over_socket_mode(stage: SocketModeStage) -> None:
    ack = await stage.command("alice", "#general", "open quality Answers degraded")
    assert ack.acked

    envelope = stage.sandbox.socket_mode.envelope(ack.envelope_id)
    assert envelope["type"] == "slash_commands"
    channel = only_incident_channel(stage.sandbox)
    assert channel.name == "inc-20261122-answers-degraded"
    assert set(channel.members) == {BOT_USER_ID, ALICE}
    messages = stage.sandbox.messages(channel.id)
    assert "Quality drift" in text_of(messages[0]) and "SEV2" in text_of(messages[0])
    assert with_action(messages, ACTION_TOGGLE_STEP)
    assert with_action(messages, ACTION_OPEN_TRIAGE) == [messages[-1]]
    confirmation = stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)
    assert len(confirmation) == 1 and channel.id in confirmation[0]["text"]
    incident = await incident_in_channel(stage.runtime.deps, channel.id)
    async with stage.runtime.deps.uow() as uow:
        events = await uow.timeline.for_incident(incident.id)
    assert [e.type for e in events] == [
        EventType.OPENED,
        EventType.CHANNEL_CREATED,
        EventType.QUESTIONS_ASKED,
    ]


async def test_ticking_a_step_over_socket_mode(stage: SocketModeStage) -> None:
    await stage.command("alice", "#general", "open quality Answers degraded")
    channel = only_incident_channel(stage.sandbox)
    incident = await incident_in_channel(stage.runtime.deps, channel.id)
    page = with_action(stage.sandbox.messages(channel.id), ACTION_TOGGLE_STEP)[0]

    ack = await stage.driver.tick(
        "alice", channel.id, page["ts"], step_action_id(0), f"{incident.id}:0"
    )
    await stage.settle()

    assert ack.acked
    [ticked] = [m for m in stage.sandbox.messages(channel.id) if m["ts"] == page["ts"]]
    assert checked_steps(ticked) == [0]


async def test_help_is_the_ack(stage: SocketModeStage) -> None:
    ack = await stage.command("alice", "#general", "help")

    assert ack.acked and ack.payload["response_type"] == "ephemeral"
    for line in HELP_LINES:
        assert line.usage.split(" <")[0].split(" [")[0] in text_of(ack.payload)
    shown = stage.sandbox.ephemerals(ALICE, GENERAL_CHANNEL)
    assert [m["text"] for m in shown] == [ack.payload["text"]]


def test_serve_socket_mode_without_an_app_token_names_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    for name in ("SLACK_APP_TOKEN", "STEADYHAND_CONFIG"):
        monkeypatch.delenv(name, raising=False)

    assert main(["serve", "--socket-mode"]) == 2

    err = capsys.readouterr().err
    assert err.startswith("steadyhand: configuration error: SLACK_APP_TOKEN")
    assert "Traceback" not in err


@asynccontextmanager
async def proxied_socket_stage() -> AsyncIterator[tuple[SocketModeStage, TcpProxy]]:
    """The bot over Socket Mode on PostgreSQL reached through a proxy that can take it away."""
    sandbox = SlackSandbox(BOT_TOKEN, app_token=APP_TOKEN)
    async with fresh_database("postgres") as url:
        server = make_url(url)
        async with tcp_proxy(server.host or "127.0.0.1", server.port or 5432) as proxy:
            proxied = server.set(host="127.0.0.1", port=proxy.port)
            with conforming(sandbox):
                async with socket_mode_stage(
                    proxied.render_as_string(hide_password=False),
                    ManualClock(START),
                    runbooks_dir=RUNBOOKS,
                    sandbox=sandbox,
                ) as running:
                    yield running, proxy


@pytest.mark.postgres
async def test_with_the_database_away_socket_mode_acks_nothing_it_cannot_record() -> None:
    """Over HTTP Slack hears 503; over Socket Mode an ack is all Slack hears, so an event is
    left unacked (Slack sends it again) and a command is answered that nothing was done."""
    async with proxied_socket_stage() as (stage, proxy):
        await stage.command("alice", "#general", "open quality Answers degraded")
        channel = only_incident_channel(stage.sandbox)
        ts = stage.sandbox.say("bob", channel.id, "7 of 20 refund answers cite the 2023 policy")

        await proxy.refuse()
        # A check that passed is trusted for a second (bot/web/faults.py): the outage has
        # lasted longer than that, as any outage worth the name does.
        await asyncio.sleep(TRUST_A_CHECK_SECONDS)
        pinned = await stage.driver.react("alice", channel.id, ts, "pushpin")
        assert not pinned.acked  # Slack retries an event it got no ack for
        command = await stage.command("alice", channel.id, "status")
        assert command.acked
        told = str(command.payload.get("text", ""))
        assert "database" in told and "try again" in told, command.payload

        await proxy.accept()
        again = await stage.driver.redeliver(pinned)
        assert again.acked
        await stage.settle()
        incident = await incident_in_channel(stage.runtime.deps, channel.id)
        async with stage.runtime.deps.uow() as uow:
            [pin] = await uow.findings.pins(incident.id)  # the pin was not lost
        assert pin.message.ts == ts
