"""The people: responders run `/incident open`, `update`, `rollback` and `resolve` through
signed requests, a manager clicks Approve, CI ships the version to roll back from; Slack sends
again what the bot did not ack, with `X-Slack-Retry-Num`."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import select

from bot.sandbox.activity import Delivery
from bot.sandbox.chaos.shared import Sent, action_ids, read_rows, until
from bot.sandbox.driver import SlackDriver
from bot.sandbox.sandbox import SlackSandbox
from bot.slack.ids import ACTION_APPROVE
from bot.store.models import IncidentRow

SIGNING_SECRET = "chaos-signing-secret"
API_TOKEN = "chaos-api-token-0123456789"
# Slack waits 3 s for an ack, then retries up to three times (after about 0 s, 1 min and
# 5 min); compressed here so a run stays short, still spanning the bot's restart.
ACK_TIMEOUT_S = 3.0
SLACK_RETRY_DELAYS_S = (1.0, 5.0, 15.0)
# Longer than a Slack call held past the bot's client timeout, so one such call is waited out.
CARD_PATIENCE_S = 40.0


class RetryingDriver(SlackDriver):
    """Sends as Slack does: an answer other than 200 within 3 s is sent again with
    `X-Slack-Retry-Num`, up to three retries. Returns the last answer; raises NotAcked when no
    attempt got one."""

    def __init__(self, events_url: str, sandbox: SlackSandbox) -> None:
        super().__init__(
            events_url,
            SIGNING_SECRET,
            sandbox,
            client=httpx.AsyncClient(timeout=ACK_TIMEOUT_S, trust_env=False),
        )
        self.retries = 0

    async def _send(self, body: str, content_type: str, delivery: Delivery) -> httpx.Response:
        last: httpx.Response | None = None
        reason = "http_timeout"
        for attempt, delay in enumerate((0.0, *SLACK_RETRY_DELAYS_S)):
            await asyncio.sleep(delay)
            if attempt:
                self.retries += 1
                delivery = {**delivery, "retry_num": attempt, "retry_reason": reason}
            try:
                last = await super()._send(body, content_type, delivery)
            except httpx.TransportError as error:
                reason = (
                    "http_timeout" if isinstance(error, httpx.TimeoutException) else "http_error"
                )
                continue
            if last.status_code == 200:
                return last
            reason = "http_error"
        if last is None:
            raise NotAcked("no answer from the bot")
        return last

    async def aclose(self) -> None:
        await self._client.aclose()


class NotAcked(Exception):
    """No attempt got an HTTP answer from the bot."""


@dataclass(frozen=True)
class CommandPlan:
    """One responder's incident: open it, post updates, roll back (approved), resolve."""

    kind: str
    title: str
    updates: tuple[str, ...]
    start: float  # share of the traffic time
    service: str  # the drill's own service, whose prompt it rolls back

    version = "v13"  # the prompt version CI ships before the rollback is asked for


def command_plans(commands: int, seed: int, rng: random.Random) -> list[CommandPlan]:
    """`commands` commands: about ten per incident."""
    incidents = max(1, commands // 10)
    kinds = ["quality", "retrieval", "tool", "policy", "cost", "latency"]
    plans = []
    for n in range(incidents):
        count = commands // incidents + (n < commands % incidents)
        token = f"{seed}.{n}.{rng.randrange(10**6):06d}"
        plans.append(
            CommandPlan(
                kind=kinds[n % len(kinds)],
                title=f"Chaos drill {token}",
                updates=tuple(f"chaos update {token}/{k}" for k in range(count - 3)),
                start=rng.uniform(0.0, 0.35),
                service=f"drill-{n}",
            )
        )
    return plans


async def respond(
    plan: CommandPlan,
    traffic_seconds: float,
    driver: RetryingDriver,
    client: httpx.AsyncClient,
    base_url: str,
    database_url: str,
    sent: Sent,
    began: float,
) -> None:
    await until(began + plan.start * traffic_seconds)
    steps = len(plan.updates) + 2  # after the open: the updates, the rollback, the resolve
    # Spread over the rest of the traffic time, so that the kill falls among them.
    gap = (0.95 - plan.start) * traffic_seconds / steps

    async def command(channel: str, text: str) -> bool:
        """Whether the bot acked the command without saying it failed."""
        sub = text.split(maxsplit=1)[0]
        sent.commands[sub] += 1
        try:
            answer = await driver.slash_command("alice", channel, text)
        except NotAcked:
            return False
        if answer.status_code != 200:
            return False
        said = _ack_text(answer)
        if said:
            sent.said[f"{sub}: {said}"] += 1
        if _refused(said):
            sent.refused[sub] += 1
            return False
        sent.acked[sub] += 1
        return True

    sent.opens[plan.title] = await command("#general", f"open {plan.kind} {plan.title}")
    if not sent.opens[plan.title]:
        sent.skipped += steps
        return
    channel = await _channel_of(database_url, plan.title, patience=max(30.0, gap * 3))
    if channel is None:
        sent.skipped += steps
        return
    for text in plan.updates:
        await asyncio.sleep(gap)
        if await command(channel, f"update {text}"):
            sent.updates.append(text)
    await asyncio.sleep(gap)
    await _ship(client, base_url, plan.service, plan.version)
    if await command(channel, f"rollback {plan.service} prompt v12 because it went wrong"):
        card = await _card(driver.sandbox, channel, patience=CARD_PATIENCE_S)
        if card is None:
            sent.cardless[plan.title] = channel
        else:
            with contextlib.suppress(NotAcked):
                answer = await driver.click("carol", channel, card, ACTION_APPROVE)
                sent.approvals += answer.status_code == 200
    await asyncio.sleep(gap)
    if await command(channel, f"resolve {plan.title} is over"):
        sent.resolves.append(plan.title)


def _refused(ack: str) -> bool:
    """An ack that tells the person the command failed: Bolt's when it could not authorize
    the request, or the bot's own error notice. They know to try again; it is not accepted."""
    return ack.startswith(":warning:") or ack.startswith("We apologize")


def _ack_text(answer: httpx.Response) -> str:
    if not answer.content:
        return ""
    try:
        body = answer.json()
    except ValueError:
        body = answer.text
    text = str(body.get("text", body) if isinstance(body, dict) else body)
    return re.sub(r"\s+", " ", text)[:100]


async def _channel_of(database_url: str, title: str, patience: float) -> str | None:
    """The channel of the incident titled `title` once the bot has stored it."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        rows = await read_rows(
            database_url,
            lambda c: c.execute(
                select(IncidentRow.channel_id).where(
                    IncidentRow.title == title, IncidentRow.channel_id.is_not(None)
                )
            ),
        )
        if rows:
            return str(rows[0].channel_id)
        await asyncio.sleep(0.5)
    return None


async def _ship(client: httpx.AsyncClient, base_url: str, service: str, version: str) -> None:
    """CI records a new prompt version (retrying as a pipeline step would), so that there is
    something to roll back."""
    for _ in range(20):
        with contextlib.suppress(httpx.TransportError):
            answer = await client.post(
                f"{base_url}/api/changes",
                json={
                    "service": service,
                    "component": "prompt",
                    "version": version,
                    "actor": "github-actions",
                },
                headers={"Authorization": f"Bearer {API_TOKEN}"},
            )
            if answer.status_code < 500:
                return
        await asyncio.sleep(1.0)


async def _card(sandbox: SlackSandbox, channel: str, patience: float) -> str | None:
    """The newest message in `channel` offering Approve, once the bot has posted it."""

    def offered() -> str | None:
        for message in reversed(sandbox.messages(channel)):
            if ACTION_APPROVE in action_ids(message):
                return str(message["ts"])
        return None

    with contextlib.suppress(TimeoutError):
        return await sandbox.wait_until(offered, timeout=patience)
    return None
