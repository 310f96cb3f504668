"""What every alert parser needs: reading JSON fields with precise error paths, the size
limits, timestamps, hashes, links and header look-ups.

Limits, and what happens beyond them:

- a body over `MAX_BODY_BYTES` (4 MiB) is refused; so is one that the strict JSON reader
  (bot/domain/json_input.py) refuses: nested over 32 levels, a lone surrogate, NaN, a number
  out of range — a poison delivery, answered 400 so that its sender stops retrying it;
- more than `MAX_ALERTS` (1000) alerts in one delivery is refused: Alertmanager and Grafana
  send far fewer (they truncate themselves and say so in `truncatedAlerts`);
- a label or annotation map with more than `MAX_MAP_ENTRIES` (256) entries, or a key longer
  than `MAX_KEY_CHARS` (256), is refused: that is not a real alert;
- a label value over `MAX_LABEL_BYTES` (1 KiB) or an annotation value over
  `MAX_ANNOTATION_BYTES` (4 KiB) is cut at a UTF-8 character boundary and ends with "…".
  Values are truncated, not refused, because a monitor that writes a long description is
  still reporting a real problem, and losing the alert would be worse than losing its tail;
- links that are not http(s) URLs, or longer than `MAX_LINK_CHARS`, are dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import NoReturn

from bot.domain.errors import UsageError
from bot.domain.json_input import JsonInputError, read_json

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_ALERTS = 1000
MAX_MAP_ENTRIES = 256
MAX_KEY_CHARS = 256
MAX_LABEL_BYTES = 1024
MAX_ANNOTATION_BYTES = 4096
MAX_ID_CHARS = 256  # fingerprints, delivery ids
MAX_NAME_CHARS = 200
MAX_SUMMARY_CHARS = 300
MAX_LINK_CHARS = 2048
MAX_LINKS = 10

JsonObject = dict[str, object]


class AlertPayloadError(UsageError):
    """A webhook body we cannot read; the message names the field (`alerts[2].labels: …`).
    The web layer answers it with HTTP 400, so the sender does not retry it forever."""


def fail(path: str, problem: str) -> NoReturn:
    raise AlertPayloadError(f"{path}: {problem}")


def load_json_object(body: bytes) -> JsonObject:
    if len(body) > MAX_BODY_BYTES:
        fail("body", f"larger than {MAX_BODY_BYTES} bytes")
    try:
        value = read_json(body)
    except JsonInputError as error:
        fail("body", str(error))
    return as_object(value, "body")


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def as_object(value: object, path: str) -> JsonObject:
    if not isinstance(value, dict):
        fail(path, f"must be an object, not {type_name(value)}")
    return value


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return key if path in ("", "body") else f"{path}.{key}"


def optional_object(obj: JsonObject, key: str, path: str) -> JsonObject:
    """A missing or null object reads as empty (Go encodes a nil map as null)."""
    value = obj.get(key)
    return {} if value is None else as_object(value, join(path, key))


def required_object(obj: JsonObject, key: str, path: str) -> JsonObject:
    if obj.get(key) is None:
        fail(join(path, key), "missing")
    return as_object(obj[key], join(path, key))


def required_list(obj: JsonObject, key: str, path: str, limit: int) -> list[object]:
    where = join(path, key)
    value = obj.get(key)
    if value is None:
        fail(where, "missing")
    if not isinstance(value, list):
        fail(where, f"must be an array, not {type_name(value)}")
    if len(value) > limit:
        fail(where, f"more than {limit} entries ({len(value)})")
    return value


def optional_str(obj: JsonObject, key: str, path: str, max_chars: int | None = None) -> str | None:
    """A missing, null or empty string reads as None."""
    value = obj.get(key)
    if value is None:
        return None
    where = join(path, key)
    if not isinstance(value, str):
        fail(where, f"must be a string, not {type_name(value)}")
    if max_chars is not None and len(value) > max_chars:
        fail(where, f"longer than {max_chars} characters")
    return value or None


def required_str(obj: JsonObject, key: str, path: str, max_chars: int | None = None) -> str:
    value = optional_str(obj, key, path, max_chars)
    if value is None or not value.strip():
        fail(join(path, key), "missing or empty")
    return value


def optional_count(obj: JsonObject, key: str, path: str) -> int:
    value = obj.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        fail(join(path, key), f"must be a whole number ≥ 0, not {type_name(value)}")
    return value


def choice(value: str | None, allowed: Iterable[str], path: str) -> str:
    options = tuple(allowed)
    if value not in options:
        fail(path, f"must be one of {', '.join(options)}, not {value!r}")
    return value


def string_map(value: object, path: str, value_bytes: int) -> dict[str, str]:
    """Labels or annotations: an object of strings, null meaning empty; long values cut."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        fail(path, "must be an object of strings")
    if len(value) > MAX_MAP_ENTRIES:
        fail(path, f"more than {MAX_MAP_ENTRIES} entries ({len(value)})")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not key or len(key) > MAX_KEY_CHARS:
            fail(path, f"key {key[:40]!r} must be 1 to {MAX_KEY_CHARS} characters")
        if not isinstance(item, str):
            fail(f"{path}.{key}", f"must be a string, not {type_name(item)}")
        result[key] = clip(item, value_bytes)
    return result


def clip(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max_bytes - 3].decode("utf-8", "ignore") + "…"


def one_line(text: str, max_chars: int = MAX_SUMMARY_CHARS) -> str:
    """The first non-blank line, shortened for a Slack message."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= max_chars else line[: max_chars - 1].rstrip() + "…"


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def timestamp(obj: JsonObject, key: str, path: str) -> datetime | None:
    """An RFC 3339 time as aware UTC. Missing, null, empty and Go's zero time
    ("0001-01-01T00:00:00Z", what Alertmanager and Grafana send for "not ended") are None."""
    text = optional_str(obj, key, path, max_chars=64)
    if text is None:
        return None
    where = join(path, key)
    if not _RFC3339.fullmatch(text):
        fail(where, f"must be an RFC 3339 time with a zone like 2026-11-22T09:00:00Z, not {text!r}")
    # fromisoformat keeps microseconds; Go writes up to nanoseconds.
    whole, dot, rest = text.upper().replace(" ", "T").partition(".")
    if dot:
        digits = re.match(r"\d+", rest)
        fraction = digits.group() if digits else ""
        whole = f"{whole}.{fraction[:6].ljust(6, '0')}{rest[len(fraction) :]}"
    try:
        moment = datetime.fromisoformat(whole)
    except ValueError:
        fail(where, f"not a valid date and time: {text!r}")
    if moment.year <= 1:
        return None
    return moment.astimezone(UTC)


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def labels_hash(labels: Mapping[str, str]) -> str:
    """A stable fingerprint for an alert its sender did not fingerprint: its sorted labels."""
    canonical = json.dumps(sorted(labels.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def links(*candidates: str | None) -> tuple[str, ...]:
    """The http(s) URLs among the candidates, in order, without blanks or repeats."""
    kept: list[str] = []
    for url in candidates:
        if not url or len(url) > MAX_LINK_CHARS or url in kept:
            continue
        if url.lower().startswith(("https://", "http://")):
            kept.append(url)
    return tuple(kept[:MAX_LINKS])


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case (Starlette's Headers are case-insensitive already;
    a plain dict in a test is not)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def same_secret(expected: str, provided: str) -> bool:
    """Constant-time comparison that never raises (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), provided.encode("utf-8", "surrogatepass")
    )


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_bearer_token(token: str, headers: Mapping[str, str]) -> bool:
    """`Authorization: Bearer <token>`: what Alertmanager's webhook `http_config.authorization`
    and Grafana's "Authorization header" setting send, and what the generic format expects.
    An empty configured token never matches."""
    if not token:
        return False
    scheme, _, credentials = (header(headers, "Authorization") or "").strip().partition(" ")
    return scheme.lower() == "bearer" and same_secret(token, credentials.strip())
