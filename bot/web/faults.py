"""Database outages over HTTP: 503 with `Retry-After` and the reason, on every endpoint.

One middleware around the whole app answers any request whose handling failed because the
database is not there (refused, cut, pool exhausted, locked, read-only), so no endpoint can
answer a bare 500 for it, whatever it catches itself. `/slack/events` also checks the database
(`DatabaseFaults.check_reachable`) once the signature is verified and before Bolt acks: a Slack
request is acked before its work runs, and an ack whose work cannot even be recorded is a
promise broken in silence. Answered 503 instead, Slack retries events, and shows the person a
failed command or click so they can try again. That check is trusted for a second
(`ReachabilityWatch`), so it costs the acks nothing while the database answers. Socket Mode's
requests, which never pass through here, ask the same watch before Bolt acks them
(bot/slack/outages.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.ports import DatabaseUnavailable
from bot.web.metrics import Metrics

OFREP_PREFIX = "/ofrep/"
LOG_EVERY_SECONDS = 60.0
TRUST_A_CHECK_SECONDS = 1.0

log = logging.getLogger(__name__)


def port_outage(exc: BaseException) -> DatabaseUnavailable | None:
    """Without the store's knowledge of driver errors: only what the store already named."""
    return exc if isinstance(exc, DatabaseUnavailable) else None


async def always_reachable() -> None:
    return None


@dataclass(frozen=True)
class DatabaseFaults:
    """What the store tells the web app: which failures are outages, and whether the
    database answers now."""

    outage_of: Callable[[BaseException], DatabaseUnavailable | None] = port_outage
    check_reachable: Callable[[], Awaitable[None]] = always_reachable


class ReachabilityWatch:
    """Whether the database answers, asked at most once a second while it does.

    Asking on every Slack request put a pooled connection's wait in front of every ack: with
    the background workers holding the pool, acks went from 12 to 35 ms at the median and from
    14 to 150 ms at p99 (bench/ack.py). So a check that passed is trusted for a second, one
    check runs at a time, and an outage the middleware hears of anywhere makes the next
    request check again. An ack slipped in at the very start of an outage still has its work
    fail loudly: the person is told it did not go through (bot/slack/replies.py).
    """

    def __init__(
        self,
        check: Callable[[], Awaitable[None]],
        trust_for: float = TRUST_A_CHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._trust_for = trust_for
        self._monotonic = monotonic
        self._passed_at: float | None = None
        self._checks_done = 0
        self._last_outage: DatabaseUnavailable | None = None  # what the last check found
        self._checking = asyncio.Lock()

    async def check(self) -> None:
        """Raise DatabaseUnavailable unless the database answered within the last second.

        The requests that queued behind a check get its answer, failed or passed, rather than
        each asking in turn: with a database that takes packets and answers none, each would
        wait out the probe's time limit after the one before. A request that comes later asks
        again, so the end of an outage is seen at once."""
        if self._trusted():
            return
        queued_behind = self._checks_done
        async with self._checking:  # the others wait for this one's answer
            if self._trusted():
                return
            if self._checks_done != queued_behind and self._last_outage is not None:
                known = self._last_outage  # a new one: a raised exception keeps its trace
                raise DatabaseUnavailable(str(known), known.retry_after)
            try:
                await self._check()
            except DatabaseUnavailable as outage:
                self._last_outage = outage
                raise
            except BaseException:  # not an outage: those queued behind ask for themselves
                self._last_outage = None
                raise
            finally:
                self._checks_done += 1
            self._passed_at, self._last_outage = self._monotonic(), None

    def outage_seen(self) -> None:
        self._passed_at = None

    def _trusted(self) -> bool:
        at = self._passed_at
        return at is not None and self._monotonic() - at < self._trust_for


class OutageLog:
    """One warning when the database goes away, then one a minute while it stays away, and
    never a traceback: an outage is news once, not at every request or tick."""

    def __init__(
        self,
        logger: logging.Logger,
        every_seconds: float = LOG_EVERY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._every = every_seconds
        self._monotonic = monotonic
        self._last: float | None = None
        self._unsaid = 0

    def warn(self, what: str, outage: DatabaseUnavailable) -> None:
        now = self._monotonic()
        if self._last is not None and now - self._last < self._every:
            self._unsaid += 1
            return
        since = f" ({self._unsaid} more since the last warning)" if self._unsaid else ""
        self._log.warning("%s: %s%s", what, outage, since)
        self._last, self._unsaid = now, 0


def unavailable_response(path: str, outage: DatabaseUnavailable) -> JSONResponse:
    # OFREP's general error shape carries `errorDetails`; every other endpoint says `error`.
    field = "errorDetails" if path.startswith(OFREP_PREFIX) else "error"
    headers = {"Retry-After": str(outage.retry_after)}
    return JSONResponse({field: str(outage)}, status_code=503, headers=headers)


class DatabaseFaultMiddleware:
    def __init__(
        self, app: ASGIApp, faults: DatabaseFaults, metrics: Metrics, watch: ReachabilityWatch
    ) -> None:
        self.app = app
        self.faults = faults
        self.metrics = metrics
        self.watch = watch
        self.outages = OutageLog(log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        path = str(scope.get("path", ""))
        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            outage = self.faults.outage_of(exc)
            if outage is None or started:
                raise
            self.watch.outage_seen()
            self.metrics.count("steadyhand_database_unavailable_total")
            self.outages.warn(f"Answered 503 to {scope.get('method')} {path}", outage)
            await unavailable_response(path, outage)(scope, receive, send)
