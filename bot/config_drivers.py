"""Each service's `driver`, `flag_driver` and `verify` in steadyhand.yml.

Secrets never go in the file: a driver names the environment variable that holds its secret or
token, and the value is read from the environment `load_settings` was given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from bot.domain.drivers import (
    BUILTIN_DRIVER,
    DriverSpec,
    UnleashDriverSpec,
    VerificationSpec,
    WebhookDriverSpec,
)
from bot.domain.errors import ConfigError
from bot.domain.known_keys import check_keys

_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WEBHOOK_KEYS = ("kind", "url", "secret_env", "timeout_seconds", "max_attempts")
_UNLEASH_KEYS = ("kind", "url", "token_env", "project", "environment", "timeout_seconds")
_VERIFY_KEYS = ("kind", "url", "threshold", "timeout_seconds")
_MAX_TIMEOUT_SECONDS = 120
_MAX_ATTEMPTS = 10


def parse_driver(key: str, raw: Any, environ: Mapping[str, str], *, for_flags: bool) -> DriverSpec:
    kinds = "builtin, webhook, unleash" if for_flags else "builtin, webhook"
    body = {"kind": raw} if isinstance(raw, str) else raw
    if not isinstance(body, dict):
        raise ConfigError(key, f"must be `builtin` or a mapping with a kind ({kinds}).")
    kind = body.get("kind")
    if kind == "builtin":
        check_keys(key, body, ("kind",), "builtin driver setting")
        return BUILTIN_DRIVER
    if kind == "webhook":
        check_keys(key, body, _WEBHOOK_KEYS, "webhook driver setting")
        return WebhookDriverSpec(
            url=_url(f"{key}.url", body.get("url")),
            secret=_secret(key, body, "secret_env", environ),
            timeout_seconds=_seconds(f"{key}.timeout_seconds", body.get("timeout_seconds", 5.0)),
            max_attempts=_attempts(f"{key}.max_attempts", body.get("max_attempts", 3)),
        )
    if kind == "unleash" and not for_flags:
        raise ConfigError(f"{key}.kind", "Unleash drives flags only; set it as flag_driver.")
    if kind == "unleash":
        check_keys(key, body, _UNLEASH_KEYS, "unleash driver setting")
        return UnleashDriverSpec(
            url=_url(f"{key}.url", body.get("url")),
            token=_secret(key, body, "token_env", environ),
            project=_word(f"{key}.project", body.get("project", "default")),
            environment=_word(f"{key}.environment", body.get("environment", "production")),
            timeout_seconds=_seconds(f"{key}.timeout_seconds", body.get("timeout_seconds", 5.0)),
        )
    raise ConfigError(f"{key}.kind", f"`{kind}` is not a driver kind; valid: {kinds}.")


def parse_verification(key: str, raw: Any) -> VerificationSpec:
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a mapping like `{kind: http, url: https://…/healthz}`.")
    check_keys(key, raw, _VERIFY_KEYS, "verify setting")
    kind = raw.get("kind")
    if kind not in ("http", "eval"):
        raise ConfigError(f"{key}.kind", f"`{kind}` is not a check; valid: http, eval.")
    threshold = raw.get("threshold")
    if kind == "eval":
        if threshold is None:
            raise ConfigError(f"{key}.threshold", "is required for eval: the lowest passing score.")
        if not _is_number(threshold) or not 0 <= threshold <= 1:
            raise ConfigError(f"{key}.threshold", "must be a score from 0 to 1, e.g. 0.85.")
        threshold = float(threshold)
    elif threshold is not None:
        raise ConfigError(f"{key}.threshold", "only eval checks have one; http passes on any 2xx.")
    return VerificationSpec(
        kind=kind,
        url=_url(f"{key}.url", raw.get("url")),
        threshold=threshold,
        timeout_seconds=_seconds(f"{key}.timeout_seconds", raw.get("timeout_seconds", 10.0)),
    )


def _secret(key: str, body: dict[Any, Any], field: str, environ: Mapping[str, str]) -> str:
    name = body.get(field)
    if not isinstance(name, str) or not _ENV_VAR.match(name):
        raise ConfigError(
            f"{key}.{field}",
            "must name the environment variable that holds the secret, e.g. `HOOK_SECRET`.",
        )
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{key}.{field}", f"environment variable `{name}` is not set or empty.")
    return value


def _url(key: str, raw: Any) -> str:
    parsed = urlparse(raw) if isinstance(raw, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(key, f"`{raw}` is not an http(s) URL with a host.")
    return str(raw)


def _seconds(key: str, raw: Any) -> float:
    if not _is_number(raw) or not 0 < raw <= _MAX_TIMEOUT_SECONDS:
        raise ConfigError(
            key, f"must be a number of seconds above 0, at most {_MAX_TIMEOUT_SECONDS}."
        )
    return float(raw)


def _attempts(key: str, raw: Any) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= _MAX_ATTEMPTS:
        raise ConfigError(key, f"must be a whole number from 1 to {_MAX_ATTEMPTS}.")
    return raw


def _word(key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or any(c.isspace() for c in raw.strip()):
        raise ConfigError(key, "must be one word, e.g. `default`.")
    return raw.strip()


def _is_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)
