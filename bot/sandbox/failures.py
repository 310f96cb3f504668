"""Failure injection: make the next calls of a method fail the way Slack can fail."""

from __future__ import annotations

from dataclasses import dataclass

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
