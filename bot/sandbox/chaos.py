"""The chaos scenario: the real `steadyhand serve` under alerts and slash commands while the
sandbox Slack fails a seeded share of every call, killed with SIGKILL once mid-run and started
again on the same database. Afterwards: what was accepted, opened, half-opened, lost, doubled.

One module for bench/chaos.py and tests/e2e/test_chaos.py, so both play the same scenario:

- The bot runs in its own process (`python -m bot.cli serve`, scheduler included), as in
  production; Slack (the sandbox), the monitors and the people run in this one.
- Monitors send alert notifications in their real payload shapes (Alertmanager webhook v4,
  Grafana, PagerDuty V3 webhooks signed, the generic format) and retry as they do: a 5xx, a
  429 or no answer is sent again with backoff; a 4xx is a rejection and is not retried.
- Responders run `/incident open`, `update`, `rollback` (a manager clicks Approve on the card)
  and `resolve` through signed requests; an answer that is not an ack within 3 s is sent again
  with `X-Slack-Retry-Num`, up to Slack's three retries (sooner than Slack's 1 and 5 minutes).
- When the traffic is over, Slack heals (chaos off) and the bot's scheduler runs until the
  sandbox has been quiet a while, within a bound; then the database and the sandbox are read.

What counts: an alert notification answered 2xx or a command acked is *accepted*. An incident
is *half-opened* when its row has no channel, or its channel lacks the topic, the header, the
checklist or the five questions (or the bot made a channel no incident row names, the ruins of
an opening). *Lost*: an accepted alert in no fully opened incident; an acked open that left no
incident; an acked update missing from the timeline or the channel; an acked resolve not done.
*Duplicated*: two incidents for one alert group or one `/incident open`, a second channel for
an incident, a header, checklist step or five-questions message posted twice in a channel, an
update twice in the channel or on the timeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.sandbox.activity import Delivery
from bot.sandbox.driver import SlackDriver
from bot.sandbox.entities import JSON
from bot.sandbox.failures import Chaos
from bot.sandbox.sandbox import SlackSandbox
from bot.sandbox.seed import BOT_USER_ID
from bot.store.database import normalize_url
from bot.store.models import AlertRow, ChecklistStepRow, IncidentRow, TimelineEventRow

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-chaos"
SIGNING_SECRET = "chaos-signing-secret"
ALERT_TOKEN = "chaos-alert-token-0123456789"
API_TOKEN = "chaos-api-token-0123456789"
PAGERDUTY_SECRET = "chaos-pagerduty-secret"
STATUS_UPDATE = "status.update"  # bot.domain.timeline.EventType.STATUS_UPDATE
APPROVE = "action.approve"  # bot.slack.ids.ACTION_APPROVE
FIVE_QUESTIONS = "triage.open"  # bot.slack.ids.ACTION_OPEN_TRIAGE

# Slack waits 3 s for an ack, then retries up to three times (after about 0 s, 1 min and
# 5 min); compressed here so a run stays short, still spanning the bot's restart.
ACK_TIMEOUT_S = 3.0
SLACK_RETRY_DELAYS_S = (1.0, 5.0, 15.0)
# Alertmanager's webhook retries with backoff until the notification is delivered.
ALERT_TIMEOUT_S = 15.0
ALERT_RETRY_FOR_S = 120.0
BOT_START_TIMEOUT_S = 60.0
BOT_RESTARTS = 5  # a supervisor restarts a bot that exits at start (e.g. Slack unreachable)

CONFIG = """
roles:
  responders: [S_ONCALL]
  approvers: [S_MANAGERS]
policy:
  default_risk: high
  rules:
    - {risk: low, action: flag}
services:
  support-bot:
    components: {model: gpt-4o-2024-08-06, prompt: v12, retrieval_index: kb-2026-11-01}
  search:
    components: {retrieval_index: idx-2026-11-01}
  agents:
    components: {tool_permissions: tp-7}
DRILLS
alerts:
  pagerduty_secret_env: CHAOS_PAGERDUTY_SECRET
  rules:
    - {match: {team: assistants}, kind: quality}
    - {match: {team: search}, kind: retrieval}
    - {match: {team: agents}, kind: tool}
    - {match: {pagerduty_service_id: PAGENTS}, service: agents, kind: latency}
"""


def steadyhand_yml(plans: list[CommandPlan]) -> str:
    """The config: three services alerts are about, and one per responder's drill, so that
    each rolls back its own prompt without racing the others."""
    drills = "\n".join(f"  {p.service}:\n    components: {{prompt: v12}}" for p in plans)
    return CONFIG.replace("DRILLS", drills)


@dataclass(frozen=True)
class Scenario:
    notifications: int = 300
    commands: int = 100
    seed: int = 1
    chaos: Chaos = field(default_factory=Chaos)
    traffic_seconds: float = 30.0  # alerts and commands are spread over this long
    kill_after: float | None = 0.5  # share of traffic_seconds after which the bot is killed
    alert_concurrency: int = 8
    # After the traffic, the scheduler runs at least this long (an opening cut off is taken
    # over 60 s after its alert, on a 5 s tick), then until Slack saw no call for quiet_s.
    settle_min_s: float = 75.0
    settle_quiet_s: float = 10.0
    settle_max_s: float = 180.0

    def __post_init__(self) -> None:
        if self.notifications < 1 or self.commands < 4:
            raise ValueError("the scenario needs a notification and four commands at least")


# What is sent


@dataclass(frozen=True)
class AlertDelivery:
    source: str  # the path under /alerts/
    body: bytes
    alerts: tuple[str, ...]  # "source:fingerprint" of each alert it carries
    group: str  # "service/kind": alerts of one group belong in one incident
    headers: dict[str, str]


@dataclass(frozen=True)
class _Monitored:
    name: str
    service: str
    team: str
    component: str


# Alertmanager, Grafana and the generic format each own some alert groups; PagerDuty one.
_ALERTMANAGER = (
    [_Monitored(n, "support-bot", "assistants", "prompt") for n in ("RefusalRateHigh", "EvalDrop")]
    + [_Monitored("AnswerLengthAnomaly", "support-bot", "assistants", "prompt")]
    + [_Monitored(n, "search", "search", "index") for n in ("RecallDrop", "EmptyResults")]
    + [_Monitored("IndexStale", "search", "search", "index")]
)
_GRAFANA = [
    _Monitored(n, "agents", "agents", "tools")
    for n in ("ToolErrorRateHigh", "ToolTimeouts", "ToolSchemaRejects")
]
_GENERIC = ["token-spend", "cache-misses", "retries-cost"]
_PAGERDUTY = ["PCHAOS1", "PCHAOS2", "PCHAOS3", "PCHAOS4"]
GROUP_OF_TEAM = {"assistants": "support-bot/quality", "search": "search/retrieval"}


def alert_deliveries(scenario: Scenario, rng: random.Random) -> list[AlertDelivery]:
    """`scenario.notifications` deliveries across the four sources, every body different."""
    now = datetime.now(UTC)
    stamp = f"{scenario.seed}-{int(now.timestamp())}"
    started = (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    makers: list[Callable[[int], AlertDelivery]] = [
        lambda n: _alertmanager(rng, n, started, stamp, "assistants"),
        lambda n: _alertmanager(rng, n, started, stamp, "search"),
        lambda n: _grafana(rng, n, started, stamp),
        lambda n: _pagerduty(rng, n, stamp),
        lambda n: _generic(rng, n, stamp),
    ]
    return [makers[rng.randrange(len(makers))](n) for n in range(scenario.notifications)]


def _bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"}


def _alertmanager(rng: random.Random, n: int, started: str, stamp: str, team: str) -> AlertDelivery:
    group = [a for a in _ALERTMANAGER if a.team == team]
    alerts = rng.sample(group, rng.randint(1, len(group)))
    first = alerts[0]
    # Prometheus re-sends firing alerts with a fresh endsAt: no two deliveries are the same.
    ends = (datetime.now(UTC) + timedelta(minutes=4, microseconds=n)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    labels = {"service": first.service, "component": first.component}
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{component="{first.component}", service="{first.service}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "steadyhand",
        "groupLabels": labels,
        "commonLabels": {**labels, "team": team},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": a.name,
                    "service": a.service,
                    "team": a.team,
                    "component": a.component,
                    "severity": "critical",
                },
                "annotations": {"summary": f"{a.name} on {a.service}"},
                "startsAt": started,
                "endsAt": ends,
                "generatorURL": f"http://prometheus.example:9090/graph?g0.expr={a.name}",
                "fingerprint": _fingerprint(stamp, a.name),
            }
            for a in alerts
        ],
    }
    keys = tuple(f"alertmanager:{_fingerprint(stamp, a.name)}" for a in alerts)
    return AlertDelivery(
        "alertmanager", json.dumps(body).encode(), keys, GROUP_OF_TEAM[team], _bearer()
    )


def _grafana(rng: random.Random, n: int, started: str, stamp: str) -> AlertDelivery:
    alerts = rng.sample(_GRAFANA, rng.randint(1, len(_GRAFANA)))
    body = {
        "receiver": "steadyhand",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": a.name, "team": a.team, "service": a.service},
                "annotations": {"summary": f"{a.name} on {a.service}"},
                "startsAt": started,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://grafana.example/alerting/grafana/chaos/view",
                "fingerprint": _fingerprint(stamp, a.name),
                "silenceURL": "https://grafana.example/alerting/silence/new",
                "dashboardURL": "",
                "panelURL": "",
                "values": {"B": 0.4 + n / 10_000, "C": 1},
            }
            for a in alerts
        ],
        "groupLabels": {},
        "commonLabels": {"team": "agents", "service": "agents"},
        "commonAnnotations": {},
        "externalURL": "https://grafana.example/",
        "version": "1",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "title": f"[FIRING:{len(alerts)}] (agents)",
        "state": "alerting",
        "message": f"Notification {n}",
    }
    keys = tuple(f"grafana:{_fingerprint(stamp, a.name)}" for a in alerts)
    return AlertDelivery("grafana", json.dumps(body).encode(), keys, "agents/tool", _bearer())


def _pagerduty(rng: random.Random, n: int, stamp: str) -> AlertDelivery:
    incident = f"{rng.choice(_PAGERDUTY)}{stamp.replace('-', '')}"
    event = rng.choice(["incident.triggered", "incident.unacknowledged", "incident.reopened"])
    service = {"id": "PAGENTS", "summary": "agents", "type": "service_reference"}
    body = {
        "event": {
            "id": f"EV{stamp.replace('-', '')}{n:05d}",
            "event_type": event,
            "resource_type": "incident",
            "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "agent": None,
            "client": None,
            "data": {
                "id": incident,
                "type": "incident",
                "self": f"https://api.pagerduty.com/incidents/{incident}",
                "html_url": f"https://acme.pagerduty.com/incidents/{incident}",
                "number": n,
                "status": "triggered",
                "incident_key": hashlib.sha1(incident.encode()).hexdigest(),
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "title": f"Agent latency p95 over 8 s ({incident[:7]})",
                "service": service,
                "urgency": "high",
            },
        }
    }
    raw = json.dumps(body).encode()
    signature = hmac.new(PAGERDUTY_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-PagerDuty-Signature": f"v1={signature}"}
    return AlertDelivery("pagerduty", raw, (f"pagerduty:{incident}",), "agents/latency", headers)


def _generic(rng: random.Random, n: int, stamp: str) -> AlertDelivery:
    names = rng.sample(_GENERIC, rng.randint(1, len(_GENERIC)))
    body = {
        "id": f"cost-check-{stamp}-{n}",
        "alerts": [
            {
                "service": "support-bot",
                "kind": "cost",
                "severity": "sev3",
                "summary": f"{name} is over budget",
                "value": f"${400 + n}",
                "threshold": "$140",
                "fingerprint": _fingerprint(stamp, name),
                "status": "firing",
            }
            for name in names
        ],
    }
    keys = tuple(f"generic:{_fingerprint(stamp, name)}" for name in names)
    return AlertDelivery("generic", json.dumps(body).encode(), keys, "support-bot/cost", _bearer())


def _fingerprint(stamp: str, name: str) -> str:
    return f"{name.lower()}-{stamp}"


# The bot, in its own process


class BotProcess:
    """`steadyhand serve` on a fixed port: started, killed with SIGKILL, started again."""

    def __init__(self, env: dict[str, str], port: int, log: IO[str]) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start it and wait until /healthz answers; restart it (as a supervisor would) if it
        exits first, a few times at most."""
        for _ in range(BOT_RESTARTS):
            self.starts += 1
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                env={**os.environ, **self.env, "PORT": str(self.port)},
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self.log,
            )
            if await self._answers():
                return
        raise RuntimeError(f"steadyhand serve did not start in {BOT_RESTARTS} tries; see its log")

    async def _answers(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + BOT_START_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    return False
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return True
                await asyncio.sleep(0.1)
        await self.kill()
        return False

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                await self.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Slack's side: retrying what the bot did not ack


class RetryingDriver(SlackDriver):
    """Sends as Slack does: an answer other than 200 within 3 s is sent again with
    `X-Slack-Retry-Num`, up to three retries. Returns the last answer, or None if none came."""

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
    pass


# The run


@dataclass
class Sent:
    """What the monitors and people sent, and what the bot accepted."""

    deliveries: int = 0
    accepted_deliveries: int = 0
    rejected: Counter[int] = field(default_factory=Counter)  # 4xx status → deliveries
    gave_up: int = 0
    alert_retries: int = 0
    accepted_alerts: dict[str, str] = field(default_factory=dict)  # alert key → group
    commands: Counter[str] = field(default_factory=Counter)  # subcommand → sent
    acked: Counter[str] = field(default_factory=Counter)  # subcommand → acked
    refused: Counter[str] = field(default_factory=Counter)  # subcommand → acked with an error
    opens: dict[str, bool] = field(default_factory=dict)  # title → acked
    updates: list[str] = field(default_factory=list)  # text of each acked update
    resolves: list[str] = field(default_factory=list)  # titles whose resolve was acked
    cardless: list[str] = field(default_factory=list)  # acked rollbacks with no card to approve
    approvals: int = 0  # Approve clicks acked
    said: Counter[str] = field(default_factory=Counter)  # what acks and cards said, shortened
    skipped: int = 0  # commands not sent: their incident's channel never appeared
    slack_retries: int = 0
    killed_at: float = 0.0
    back_at: float = 0.0
    bot_starts: int = 0


@dataclass
class Outcome:
    sent: Sent
    database: str
    opened: int = 0  # incidents fully opened
    incidents: int = 0
    half_opened: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    slack_calls: int = 0
    settled_s: float = 0.0
    quiet: bool = False
    tracebacks: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # the bot log's exception lines
    log_tail: str = ""

    @property
    def met(self) -> bool:
        return not (self.half_opened or self.lost or self.duplicated)

    @property
    def killed(self) -> str:
        sent = self.sent
        if not sent.killed_at:
            return f"bot not killed ({sent.bot_starts} starts)"
        return (
            f"bot killed -9 at {sent.killed_at:.1f} s, listening again at {sent.back_at:.1f} s "
            f"({sent.bot_starts} starts)"
        )

    def report(self) -> str:
        sent = self.sent
        faults = ", ".join(f"{kind} ×{n}" for kind, n in sorted(self.faults.items()))
        acked = " ".join(f"{c}={sent.acked[c]}/{n}" for c, n in sorted(sent.commands.items()))
        lines = [
            f"chaos      database={self.database} {self.killed}",
            f"slack      {self.slack_calls} Web API calls; faults: {faults or 'none'}",
            f"accepted   alert notifications {sent.accepted_deliveries}/{sent.deliveries} "
            f"answered 2xx (retries {sent.alert_retries}, rejected 4xx "
            f"{sum(sent.rejected.values())}{dict(sent.rejected) or ''}, gave up {sent.gave_up})"
            f", distinct alerts {len(sent.accepted_alerts)}",
            f"           commands acked {sum(sent.acked.values())}/{sum(sent.commands.values())}"
            f" ({acked}; Slack retries {sent.slack_retries}); acked with an error "
            f"{sum(sent.refused.values())}{dict(sent.refused) or ''}; not sent (open not "
            f"accepted or no channel) {sent.skipped}; Approve clicks acked {sent.approvals}",
            f"settled    {self.settled_s:.0f} s after the traffic "
            f"({'quiet' if self.quiet else 'still busy at the bound'}); "
            f"bot log: {self.tracebacks} tracebacks",
            *(f"bot log    {n}× {line}" for line, n in self.errors.most_common(5)),
            *(f"ack said   {n}× {text}" for text, n in sent.said.most_common(6)),
            f"opened     {self.opened} of {self.incidents} incidents fully opened",
            *_listed("half-opened", self.half_opened),
            *_listed("lost", self.lost),
            *_listed("duplicated", self.duplicated),
            f"summary    accepted={sent.accepted_deliveries + sum(sent.acked.values())} "
            f"opened={self.opened} half_opened={len(self.half_opened)} lost={len(self.lost)} "
            f"duplicated={len(self.duplicated)}: target 0/0/0 "
            f"{'met' if self.met else 'NOT met'}",
        ]
        return "\n".join(lines)


def _listed(label: str, items: list[str], most: int = 12) -> Iterator[str]:
    yield f"{label:<10} {len(items)}"
    for item in items[:most]:
        yield f"             - {item}"
    if len(items) > most:
        yield f"             … and {len(items) - most} more"


async def run(scenario: Scenario, database_url: str) -> Outcome:
    """Play the scenario against a fresh database and say what became of everything sent."""
    rng = random.Random(scenario.seed)
    sandbox = SlackSandbox(BOT_TOKEN)
    sent = Sent()
    with (
        tempfile.TemporaryDirectory(prefix="steadyhand-chaos-") as folder,
        tempfile.TemporaryFile("w+") as log,
    ):
        config = Path(folder) / "steadyhand.yml"
        plans = command_plans(scenario, rng)
        config.write_text(steadyhand_yml(plans))
        async with sandbox.serve():
            bot = BotProcess(_bot_env(sandbox, database_url, config), free_port(), log)
            sandbox.unleash_chaos(scenario.chaos)
            try:
                await bot.start()
                began = time.monotonic()
                await _traffic(scenario, rng, plans, sandbox, bot, database_url, sent, began)
                assert sandbox.chaos is not None
                sandbox.chaos.enabled = False  # Slack answers again
                settled, quiet = await _settle(scenario, sandbox)
            finally:
                await bot.stop()
            sent.bot_starts = bot.starts
            outcome = Outcome(sent, database_url.split(":", 1)[0].split("+", 1)[0])
            outcome.settled_s, outcome.quiet = settled, quiet
            assert sandbox.chaos is not None
            outcome.faults = sandbox.chaos.drawn
            outcome.slack_calls = len(sandbox.calls)
            await _check(outcome, sandbox, database_url)
        log.seek(0)
        logged = log.read()
        outcome.tracebacks = logged.count("Traceback")
        outcome.errors = Counter(
            re.findall(r"^(\w[\w.]*(?:Error|Exception)\b[^\n]{0,90})", logged, re.MULTILINE)
        )
        outcome.log_tail = "\n".join(logged.splitlines()[-30:])
    return outcome


def _bot_env(sandbox: SlackSandbox, database_url: str, config: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": sandbox.api_url,
        "DATABASE_URL": database_url,
        "RUNBOOKS_DIR": str(ROOT / "runbooks"),
        "STEADYHAND_CONFIG": str(config),
        "STEADYHAND_ALERT_TOKENS": ALERT_TOKEN,
        "STEADYHAND_API_TOKENS": API_TOKEN,
        "CHAOS_PAGERDUTY_SECRET": PAGERDUTY_SECRET,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


async def _traffic(
    scenario: Scenario,
    rng: random.Random,
    plans: list[CommandPlan],
    sandbox: SlackSandbox,
    bot: BotProcess,
    database_url: str,
    sent: Sent,
    began: float,
) -> None:
    deliveries = alert_deliveries(scenario, rng)
    driver = RetryingDriver(f"{bot.url}/slack/events", sandbox)
    limit = asyncio.Semaphore(scenario.alert_concurrency)
    spacing = scenario.traffic_seconds / len(deliveries)

    async def deliver(n: int, delivery: AlertDelivery, client: httpx.AsyncClient) -> None:
        await _until(began + n * spacing)
        async with limit:
            await _send_alert(client, bot.url, delivery, sent)

    async def kill_and_restart() -> None:
        if scenario.kill_after is None:
            return
        await _until(began + scenario.traffic_seconds * scenario.kill_after)
        await bot.kill()
        sent.killed_at = time.monotonic() - began
        await bot.start()
        sent.back_at = time.monotonic() - began

    async with httpx.AsyncClient(timeout=ALERT_TIMEOUT_S, trust_env=False) as client:
        try:
            await asyncio.gather(
                kill_and_restart(),
                *(deliver(n, d, client) for n, d in enumerate(deliveries)),
                *(
                    _respond(plan, scenario, driver, client, bot, database_url, sent, began)
                    for plan in plans
                ),
            )
        finally:
            sent.slack_retries = driver.retries
            await driver.aclose()


async def _until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def _send_alert(
    client: httpx.AsyncClient, base_url: str, delivery: AlertDelivery, sent: Sent
) -> None:
    sent.deliveries += 1
    deadline = time.monotonic() + ALERT_RETRY_FOR_S
    backoff = 0.5
    while True:
        try:
            answer = await client.post(
                f"{base_url}/alerts/{delivery.source}",
                content=delivery.body,
                headers=delivery.headers,
            )
            status = answer.status_code
        except httpx.TransportError:
            status = 0  # no answer: refused while the bot is down, or timed out
        if 200 <= status < 300:
            sent.accepted_deliveries += 1
            for key in delivery.alerts:
                sent.accepted_alerts[key] = delivery.group
            return
        if 400 <= status < 500 and status != 429:
            sent.rejected[status] += 1
            return
        if time.monotonic() + backoff > deadline:
            sent.gave_up += 1
            return
        sent.alert_retries += 1
        await asyncio.sleep(backoff * (1 + random.random() / 2))
        backoff = min(backoff * 2, 5.0)


@dataclass(frozen=True)
class CommandPlan:
    """One responder's incident: open it, post updates, roll back (approved), resolve."""

    number: int
    kind: str
    title: str
    updates: tuple[str, ...]
    start: float  # share of the traffic time
    service: str  # the drill's own service, whose prompt it rolls back

    version = "v13"  # the prompt version CI ships before the rollback is asked for


def command_plans(scenario: Scenario, rng: random.Random) -> list[CommandPlan]:
    """`scenario.commands` commands: about ten per incident."""
    incidents = max(1, scenario.commands // 10)
    kinds = ["quality", "retrieval", "tool", "policy", "cost", "latency"]
    plans = []
    for n in range(incidents):
        count = scenario.commands // incidents + (n < scenario.commands % incidents)
        token = f"{scenario.seed}.{n}.{rng.randrange(10**6):06d}"
        plans.append(
            CommandPlan(
                number=n,
                kind=kinds[n % len(kinds)],
                title=f"Chaos drill {token}",
                updates=tuple(f"chaos update {token}/{k}" for k in range(count - 3)),
                start=rng.uniform(0.0, 0.35),
                service=f"drill-{n}",
            )
        )
    return plans


async def _respond(
    plan: CommandPlan,
    scenario: Scenario,
    driver: RetryingDriver,
    client: httpx.AsyncClient,
    bot: BotProcess,
    database_url: str,
    sent: Sent,
    began: float,
) -> None:
    total = scenario.traffic_seconds
    await _until(began + plan.start * total)
    steps = len(plan.updates) + 2
    gap = (0.95 - plan.start) * total / steps  # spread so that the kill falls among them

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
    await _ship(client, bot.url, plan.service, plan.version)
    if await command(channel, f"rollback {plan.service} prompt v12 because it went wrong"):
        card = await _card(driver.sandbox, channel, patience=20.0)
        if card is None:
            sent.cardless.append(plan.title)
        else:
            with contextlib.suppress(NotAcked):
                answer = await driver.click("carol", channel, card, APPROVE)
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
        rows = await _read(
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
            if APPROVE in _action_ids(message):
                return str(message["ts"])
        return None

    with contextlib.suppress(TimeoutError):
        return await sandbox.wait_until(offered, timeout=patience)
    return None


async def _settle(scenario: Scenario, sandbox: SlackSandbox) -> tuple[float, bool]:
    """Let the bot's scheduler finish what it owes: at least settle_min_s, then until Slack has
    seen no call for settle_quiet_s, at most settle_max_s. Returns (seconds, quiet)."""
    began = time.monotonic()
    calls, changed = len(sandbox.calls), time.monotonic()
    while True:
        await asyncio.sleep(0.5)
        now = time.monotonic()
        if len(sandbox.calls) != calls:
            calls, changed = len(sandbox.calls), now
        waited = now - began
        quiet = now - changed >= scenario.settle_quiet_s
        if waited >= scenario.settle_min_s and quiet:
            return waited, True
        if waited >= scenario.settle_max_s:
            return waited, False


# The check


async def _read(database_url: str, query: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    engine = create_async_engine(normalize_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return list((await query(connection)).all())
    finally:
        await engine.dispose()


async def _check(outcome: Outcome, sandbox: SlackSandbox, database_url: str) -> None:
    sent = outcome.sent
    incidents = await _read(
        database_url,
        lambda c: c.execute(
            select(
                IncidentRow.id,
                IncidentRow.title,
                IncidentRow.kind,
                IncidentRow.service,
                IncidentRow.status,
                IncidentRow.channel_id,
            )
        ),
    )
    alerts = await _read(
        database_url,
        lambda c: c.execute(select(AlertRow.source, AlertRow.fingerprint, AlertRow.incident_id)),
    )
    steps = Counter(
        row.incident_id
        for row in await _read(
            database_url, lambda c: c.execute(select(ChecklistStepRow.incident_id))
        )
    )
    updates = await _read(
        database_url,
        lambda c: c.execute(
            select(TimelineEventRow.incident_id, TimelineEventRow.text).where(
                TimelineEventRow.type == STATUS_UPDATE
            )
        ),
    )
    outcome.incidents = len(incidents)
    complete: set[str] = set()
    named_channels = {str(i.channel_id) for i in incidents if i.channel_id}
    for incident in incidents:
        label = f"“{incident.title}” ({incident.kind}, {incident.service or 'no service'})"
        missing, doubled = opening_gaps(sandbox, incident, steps[incident.id])
        if missing:
            outcome.half_opened.append(f"{label}: no {', no '.join(missing)}")
        else:
            complete.add(incident.id)
        outcome.duplicated += [f"{label}: {what}" for what in doubled]
    outcome.opened = len(complete)

    # Channels the bot made that no incident names: an opening cut off and started over
    # (a second channel), or one abandoned (half-opened).
    titles = [str(i.title) for i in incidents if i.channel_id]
    for channel in sandbox.workspace.channels.values():
        if channel.creator != BOT_USER_ID or channel.id in named_channels:
            continue
        same = [t for t in titles if _named_for(channel.name, t)]
        if same:
            outcome.duplicated.append(f"#{channel.name}: a second channel for “{same[0]}”")
        else:
            outcome.half_opened.append(f"#{channel.name}: a channel no incident names")

    # Alerts: each accepted one in exactly one fully opened incident, each group in one.
    incident_of = {f"{a.source}:{a.fingerprint}": str(a.incident_id) for a in alerts}
    for key, group in sorted(sent.accepted_alerts.items(), key=lambda item: item[1]):
        if incident_of.get(key) not in complete:
            why = "not stored" if key not in incident_of else "its incident is not fully opened"
            outcome.lost.append(f"accepted alert {key} ({group}): {why}")
    by_group: dict[str, set[str]] = {}
    for key, group in sent.accepted_alerts.items():
        if key in incident_of:
            by_group.setdefault(group, set()).add(incident_of[key])
    outcome.duplicated += [
        f"alert group {group}: {len(ids)} incidents"
        for group, ids in by_group.items()
        if len(ids) > 1
    ]

    # Commands.
    by_title = Counter(str(i.title) for i in incidents)
    resolved = {str(i.title) for i in incidents if i.status == "resolved"}
    for title, acked in sent.opens.items():
        if acked and not by_title[title]:
            outcome.lost.append(f"acked `/incident open` “{title}”: no incident")
        if by_title[title] > 1:
            outcome.duplicated.append(f"`/incident open` “{title}”: {by_title[title]} incidents")
    recorded = Counter(str(u.text) for u in updates)
    shown = _shown_updates(sandbox)
    for text in sent.updates:
        where = [
            w for w, count in (("timeline", recorded[text]), ("channel", shown[text])) if not count
        ]
        if where:
            outcome.lost.append(f"acked update “{text}”: not in the {' nor the '.join(where)}")
        twice = [
            w for w, count in (("timeline", recorded[text]), ("channel", shown[text])) if count > 1
        ]
        if twice:
            outcome.duplicated.append(f"update “{text}”: twice in the {' and the '.join(twice)}")
    for title in sent.cardless:
        outcome.lost.append(f"acked `/incident rollback` in “{title}”: no card to approve (20 s)")
    for title in sent.resolves:
        if title not in resolved:
            outcome.lost.append(f"acked `/incident resolve` of “{title}”: still open")


def opening_gaps(sandbox: SlackSandbox, incident: Any, steps: int) -> tuple[list[str], list[str]]:
    """What an incident's channel lacks of a full opening, and what it has twice."""
    if not incident.channel_id:
        return ["channel"], []
    channel = sandbox.workspace.channels.get(str(incident.channel_id))
    if channel is None:
        return ["channel in Slack"], []
    messages = sandbox.messages(channel.id)
    headers = [m for m in messages if any(b.get("type") == "header" for b in m.get("blocks", []))]
    questions = [m for m in messages if FIVE_QUESTIONS in _action_ids(m)]
    positions = Counter(
        block["block_id"]
        for m in messages
        for block in m.get("blocks", [])
        if str(block.get("block_id", "")).startswith("step-")
    )
    missing = []
    if not channel.topic.value:
        missing.append("topic")
    if not headers:
        missing.append("header")
    if len(positions) < steps:
        missing.append(f"checklist ({len(positions)} of {steps} steps)")
    if not questions:
        missing.append("five questions")
    doubled = []
    if len(headers) > 1:
        doubled.append(f"{len(headers)} headers")
    if len(questions) > 1:
        doubled.append(f"{len(questions)} five-questions messages")
    if any(n > 1 for n in positions.values()):
        doubled.append("checklist posted twice")
    return missing, doubled


def _shown_updates(sandbox: SlackSandbox) -> Counter[str]:
    """How often each status update appears across the incident channels."""
    shown: Counter[str] = Counter()
    for channel in sandbox.workspace.channels.values():
        for message in sandbox.messages(channel.id):
            text = str(message.get("text", ""))
            if text.startswith("Status update: "):
                shown[text.removeprefix("Status update: ")] += 1
    return shown


def _action_ids(message: JSON) -> set[str]:
    found = set()
    for block in message.get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and "action_id" in element:
                found.add(str(element["action_id"]))
    return found


def _named_for(channel: str, title: str) -> bool:
    """Whether the bot would name `channel` so for `title` (`inc-YYYYMMDD-slug[-n]`)."""
    slug = re.sub(r"[^a-z0-9_]+", "-", title.lower()).strip("-_")[:60]
    return re.fullmatch(rf"inc-\d{{8}}-{re.escape(slug)}.*?(-\d+)?", channel) is not None
