"""Checks that an action worked, over HTTP.

`http`: GET the URL; any 2xx passes. `eval`: POST the action (the same JSON a webhook receives)
and read `{"score": 0..1, "detail": "…"}` from the answer; a score at or above the threshold
passes. Every way a check can go wrong is a failed result with a one-line summary, never an
exception: the summary is what the channel reads.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TypeGuard

import httpx

from bot.domain.actions import ActionRequest
from bot.domain.drivers import VerificationResult, VerificationSpec
from bot.drivers.payload import action_payload, excerpt


class HttpVerifier:
    def __init__(self, client: Callable[[], httpx.AsyncClient]) -> None:
        self._client = client  # asked for at each check (bot/drivers/outside.py)

    async def verify(self, spec: VerificationSpec, request: ActionRequest) -> VerificationResult:
        if spec.kind == "http":
            return await self._http(spec)
        if spec.kind == "eval":
            return await self._eval(spec, request)
        return _failed(f"unknown verification kind {spec.kind!r} (expected http or eval)")

    async def _http(self, spec: VerificationSpec) -> VerificationResult:
        answer = await self._send("GET", spec)
        if isinstance(answer, VerificationResult):
            return answer
        return VerificationResult(passed=True, summary=f"HTTP {answer.status_code} from {spec.url}")

    async def _eval(self, spec: VerificationSpec, request: ActionRequest) -> VerificationResult:
        if spec.threshold is None:
            # The config layer requires one; without it there is nothing to pass against.
            return _failed(f"eval check {spec.url} has no threshold to compare the score with")
        answer = await self._send("POST", spec, action_payload(request))
        if isinstance(answer, VerificationResult):
            return answer
        try:
            document = json.loads(answer.content)
        except ValueError:
            return _failed(f"eval answer from {spec.url} is not JSON: {excerpt(answer.text)}")
        score = document.get("score") if isinstance(document, dict) else None
        if not _is_score(score):
            return _failed(
                f"eval answer from {spec.url} has no numeric score between 0 and 1: "
                f"{excerpt(answer.text)}"
            )
        passed = score >= spec.threshold
        sign = "≥" if passed else "<"
        summary = f"eval score {score:g} {sign} {spec.threshold:g}"
        detail = document.get("detail")
        if isinstance(detail, str) and detail.strip():
            summary += f": {excerpt(detail)}"
        return VerificationResult(passed=passed, summary=summary, score=float(score))

    async def _send(
        self, method: str, spec: VerificationSpec, payload: object = None
    ) -> httpx.Response | VerificationResult:
        """The 2xx answer, or the failed result that says why there is none."""
        try:
            response = await self._client().request(
                method,
                spec.url,
                json=payload,
                headers={"User-Agent": "steadyhand"},
                timeout=spec.timeout_seconds,
            )
        except httpx.TimeoutException:
            return _failed(f"timed out after {spec.timeout_seconds:g} s waiting for {spec.url}")
        except httpx.TransportError as error:
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            return _failed(f"could not reach {spec.url}: {reason}")
        if not response.is_success:
            text = excerpt(response.text)
            return _failed(
                f"HTTP {response.status_code} from {spec.url}" + (f": {text}" if text else "")
            )
        return response


def _is_score(value: object) -> TypeGuard[float]:
    # bool is an int in Python, but `"score": true` is not a score.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and 0 <= value <= 1


def _failed(summary: str) -> VerificationResult:
    return VerificationResult(passed=False, summary=summary)
