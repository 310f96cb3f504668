"""The signed-webhook driver: POST the action to a URL the team runs, and let its answer decide.

Wire contract (what a receiver sees):

- `POST <url>` with the JSON of `bot.drivers.payload.action_payload` as the body and headers
  `Content-Type: application/json`, `User-Agent: steadyhand`,
  `Idempotency-Key: <request id>:<attempt>` (the same on this driver's own retries of one
  attempt, so a receiver can drop repeats; a new attempt after a failure gets a new key),
  `X-Steadyhand-Timestamp: <unix seconds>` and
  `X-Steadyhand-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`.
- 2xx: applied. 4xx (and any other non-5xx answer): failed at once, with the receiver's text.
  5xx, connection errors and timeouts: retried with a short backoff, up to `max_attempts` in all.

Receivers written in Python can check a request with `verify_signature`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from bot.domain.actions import ActionRequest
from bot.domain.drivers import DriverResult, WebhookDriverSpec
from bot.drivers.payload import action_payload, excerpt

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Steadyhand-Timestamp"
SIGNATURE_HEADER = "X-Steadyhand-Signature"
SIGNATURE_VERSION = "v1"
FIRST_BACKOFF_SECONDS = 0.2

Sleep = Callable[[float], Awaitable[None]]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Steadyhand-Signature` value for a body sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def verify_signature(
    secret: str, timestamp: str, body: bytes, header: str, now: float, tolerance: int = 300
) -> bool:
    """For receivers: True when `header` (X-Steadyhand-Signature) signs the raw `body` with
    `timestamp` (X-Steadyhand-Timestamp), and the timestamp is within `tolerance` seconds of
    `now`, so that a captured request cannot be replayed later."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), header.strip().encode())


class WebhookDriver:
    def __init__(
        self,
        spec: WebhookDriverSpec,
        client: httpx.AsyncClient,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._spec = spec
        self._client = client
        self._sleep = sleep
        self._clock = clock

    async def apply(self, request: ActionRequest) -> DriverResult:
        # Serialised once: every retry carries the same bytes, only the timestamp is fresh.
        body = json.dumps(action_payload(request), separators=(",", ":")).encode()
        attempts = max(1, self._spec.max_attempts)
        failure = DriverResult(applied=False, detail="not attempted")
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await self._sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 2))
            result, retry = await self._post(f"{request.id}:{request.attempts}", body)
            if not retry:
                return result
            failure = result
            log.warning(
                "webhook for request %s, attempt %d of %d: %s",
                request.id,
                attempt,
                attempts,
                result.detail,
            )
        suffix = "attempt" if attempts == 1 else "attempts"
        return DriverResult(
            applied=False,
            detail=f"{failure.detail} (gave up after {attempts} {suffix})",
            timed_out=failure.timed_out,
        )

    async def _post(self, idempotency_key: str, body: bytes) -> tuple[DriverResult, bool]:
        """One delivery: its result, and whether it is worth trying again."""
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "steadyhand",
            "Idempotency-Key": idempotency_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._spec.secret, timestamp, body),
        }
        try:
            response = await self._client.post(
                self._spec.url, content=body, headers=headers, timeout=self._spec.timeout_seconds
            )
        except httpx.TimeoutException:
            seconds = f"{self._spec.timeout_seconds:g}"
            return DriverResult(False, f"no answer within {seconds} s", timed_out=True), True
        except httpx.TransportError as error:
            return DriverResult(False, f"could not reach the webhook: {_describe(error)}"), True
        status = response.status_code
        text = excerpt(response.text)
        if response.is_success:
            return DriverResult(True, text or f"HTTP {status}"), False
        detail = f"HTTP {status}: {text}" if text else f"HTTP {status}"
        return DriverResult(False, detail), status >= 500


def _describe(error: httpx.TransportError) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
