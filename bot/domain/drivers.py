"""How an action reaches the real system (drivers), and how its effect is checked
(verification): the settings a service declares, and what each reports back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DriverResult:
    """What a driver reports. `detail` is the target system's own text on failure."""

    applied: bool
    detail: str
    timed_out: bool = False


@dataclass(frozen=True)
class VerificationSpec:
    """After an action: `http` passes on a 2xx answer; `eval` POSTs the action and reads a
    `score` from the JSON answer, passing at or above `threshold`."""

    kind: str  # "http" or "eval"
    url: str
    threshold: float | None = None
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class VerificationResult:
    passed: bool
    summary: str  # "HTTP 200 from …", "score 0.91 ≥ 0.85", "timed out after 10 s"
    score: float | None = None


@dataclass(frozen=True)
class BuiltinDriverSpec:
    """Steadyhand's own store is the system: versions and flags are served over OFREP."""


@dataclass(frozen=True)
class WebhookDriverSpec:
    """POST the action as JSON, signed with HMAC-SHA256 over `<timestamp>.<body>`."""

    url: str
    secret: str
    timeout_seconds: float = 5.0
    max_attempts: int = 3


@dataclass(frozen=True)
class UnleashDriverSpec:
    """Flags only, through Unleash's admin API; the feature is named `<service>.<flag>`."""

    url: str
    token: str
    project: str = "default"
    environment: str = "production"
    timeout_seconds: float = 5.0


DriverSpec = BuiltinDriverSpec | WebhookDriverSpec | UnleashDriverSpec
BUILTIN_DRIVER = BuiltinDriverSpec()
