"""Fakes for the sandbox's own tests."""

from __future__ import annotations


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, now: float = 1_763_800_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
