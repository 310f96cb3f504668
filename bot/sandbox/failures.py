"""Failure injection: make calls fail the way Slack can fail.

FailurePlan fails the next calls of a method, as a test plans them; RandomFailures (chaos) fails
a seeded random share of all calls with 429, 500 or a timeout, as Slack does on a bad day.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from bot.sandbox.errors import SlackError

ANY_METHOD = "*"


@dataclass
class _PlannedFailure:
    method: str
    error: str
    remaining: int
    retry_after: int
    status: int | None

    def as_error(self) -> SlackError:
        if self.error == "ratelimited":
            # Slack's rate limiting is an HTTP 429 that says when to come back.
            return SlackError(
                self.error,
                status=self.status or 429,
                headers={"Retry-After": str(self.retry_after)},
            )
        return SlackError(self.error, status=self.status or 200)


class FailurePlan:
    def __init__(self) -> None:
        self._planned: list[_PlannedFailure] = []

    def add(
        self, method: str, error: str, *, times: int, retry_after: int, status: int | None
    ) -> None:
        if times < 1:
            raise ValueError("a failure must happen at least once")
        self._planned.append(_PlannedFailure(method, error, times, retry_after, status))

    def take(self, method: str) -> SlackError | None:
        """The error planned for this call, if any; plans are used in the order made."""
        for planned in self._planned:
            if planned.method in (method, ANY_METHOD):
                planned.remaining -= 1
                if planned.remaining == 0:
                    self._planned.remove(planned)
                return planned.as_error()
        return None

    def clear(self) -> None:
        self._planned.clear()


# Chaos: a seeded random share of every call fails, the ways Slack fails under load.


class FaultKind(StrEnum):
    RATELIMITED = "ratelimited"  # HTTP 429 with Retry-After; the call did nothing
    SERVER_ERROR = "server_error"  # HTTP 500; the call did nothing
    TIMEOUT = "timeout"  # no answer: held past the client's timeout, or the connection dropped


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    # A timeout after Slack did the work (posted the message, created the channel): the caller
    # cannot tell it from one before, which is how a careless retry posts twice.
    performed: bool = False
    # Seconds the answer is held before the connection drops (0: dropped at once).
    hold_seconds: float = 0.0


@dataclass(frozen=True)
class Chaos:
    """How often and how calls fail; the same seed fails the same calls (the n-th call of each
    method), whatever the timing of the run."""

    seed: int = 0
    share: float = 0.2  # of all calls, to every method
    # Relative weights of 429, 500 and timeouts among the failed calls.
    ratelimited: float = 1.0
    server_error: float = 1.0
    timeout: float = 1.0
    performed_share: float = 0.5  # of timeouts, those that happen after the call took effect
    held_share: float = 0.25  # of timeouts, those held past the client's timeout (others drop)
    hold_seconds: float = 31.0  # slack_sdk's default client timeout is 30 s
    retry_after: int = 1

    def __post_init__(self) -> None:
        for name in ("share", "performed_share", "held_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if min(self.ratelimited, self.server_error, self.timeout) < 0:
            raise ValueError("fault weights cannot be negative")


class RandomFailures:
    """Draws a fault (or none) for each call under `Chaos`, and counts what it drew."""

    def __init__(self, chaos: Chaos) -> None:
        self.chaos = chaos
        self.enabled = True
        self.drawn: Counter[str] = Counter()
        self._calls: Counter[str] = Counter()

    def draw(self, method: str) -> Fault | None:
        if not self.enabled:
            return None
        self._calls[method] += 1
        # One generator per call, seeded by the method and its call number: reproducible even
        # though concurrent callers reach the sandbox in a different order each run.
        dice = random.Random(f"{self.chaos.seed}:{method}:{self._calls[method]}")
        if dice.random() >= self.chaos.share:
            return None
        chaos = self.chaos
        (kind,) = dice.choices(
            list(FaultKind), weights=[chaos.ratelimited, chaos.server_error, chaos.timeout]
        )
        fault = Fault(kind)
        if kind is FaultKind.TIMEOUT:
            held = dice.random() < chaos.held_share
            fault = Fault(
                kind,
                performed=dice.random() < chaos.performed_share,
                hold_seconds=chaos.hold_seconds if held else 0.0,
            )
        self.drawn[_label(fault)] += 1
        return fault

    def refusal(self, fault: Fault) -> SlackError:
        """The answer to a 429 or 500 fault."""
        if fault.kind is FaultKind.RATELIMITED:
            return SlackError(
                "ratelimited", status=429, headers={"Retry-After": str(self.chaos.retry_after)}
            )
        return SlackError("internal_error", status=500)


def _label(fault: Fault) -> str:
    if fault.kind is not FaultKind.TIMEOUT:
        return fault.kind.value
    when = "after the call" if fault.performed else "before the call"
    how = "held" if fault.hold_seconds else "dropped"
    return f"timeout ({how}, {when})"
