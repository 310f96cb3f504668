"""Grafana Alerting's webhook contact point, payload version "1", and its HMAC signature.

The body is Alertmanager's group shape plus `orgId`, `title`, `state` and `message` (the last
three are ignored: deprecated, and templated by whoever set up the contact point). Each alert
adds `values` ({"B": 44.2, "C": 1}), `valueString`, `silenceURL`, `dashboardURL`,
`panelURL` and `imageURL`. Mapping is Alertmanager's (see `bot.alerts.alertmanager`), plus:
the value is the `value` annotation, else `valueString`, else the `values` written out
("B=44.23943737541908, C=1"); the links add `dashboardURL`, `panelURL` and `imageURL`.
Grafana's `fingerprint` is a hash of the labels, the same when firing and when resolved.
The delivery key is a hash of the body bytes, as for Alertmanager.

Signature (the contact point's optional "HMAC Signature" settings, Grafana 12+): the header
(default `X-Grafana-Alerting-Signature`) carries the lowercase hex HMAC-SHA256 of the raw
body under the shared secret. If a "Timestamp header" is configured (it has no default name;
`X-Grafana-Alerting-Signature-Timestamp` is a fine choice) Grafana puts the Unix time in
seconds there and signs `<timestamp>:<body>` instead, which lets us refuse replays.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.alerts.alertmanager import check_version, parse_group
from bot.alerts.common import (
    JsonObject,
    fail,
    header,
    hmac_sha256_hex,
    join,
    load_json_object,
    optional_str,
    same_secret,
    type_name,
)
from bot.domain.alerts import AlertSource, Notification

VERSION = "1"
SIGNATURE_HEADER = "X-Grafana-Alerting-Signature"
# An early grafana/alerting revision defaulted to this name; accepted when the default is used.
LEGACY_SIGNATURE_HEADER = "X-Grafana-Alert-Signature"
MAX_VALUES = 64


def parse(body: bytes) -> Notification:
    root = load_json_object(body)
    check_version(root, VERSION, "Grafana", "alertmanager")
    return parse_group(AlertSource.GRAFANA, root, body, extras=_extras)


def _extras(
    item: JsonObject, path: str, annotations: dict[str, str]
) -> tuple[str | None, tuple[str | None, ...]]:
    values = _values_text(item, path)  # read even when unused, so a bad one is reported
    value = optional_str(item, "valueString", path) or values
    urls = tuple(optional_str(item, key, path) for key in ("dashboardURL", "panelURL", "imageURL"))
    return value, urls


def _values_text(item: JsonObject, path: str) -> str | None:
    values = item.get("values")
    where = join(path, "values")
    if values is None:
        return None
    if not isinstance(values, dict) or len(values) > MAX_VALUES:
        fail(where, f"must be an object of at most {MAX_VALUES} numbers")
    parts = []
    for key, number in values.items():
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, int | float):
            fail(f"{where}.{key}", f"must be a number, not {type_name(number)}")
        parts.append(f"{key}={number!r}")
    return ", ".join(parts) or None


def verify_grafana_signature(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    tolerance: timedelta = timedelta(minutes=5),
    *,
    signature_header: str = SIGNATURE_HEADER,
    timestamp_header: str | None = None,
) -> bool:
    """True if the body was signed with `secret`. With `timestamp_header` set (it must name
    the contact point's "Timestamp header"), the timestamp must also be within `tolerance`
    of `now`; without it Grafana signs the body alone and `now`/`tolerance` are not used, so
    a captured request can be replayed: configure a timestamp header in production."""
    if not secret:
        return False
    provided = header(headers, signature_header)
    if provided is None and signature_header == SIGNATURE_HEADER:
        provided = header(headers, LEGACY_SIGNATURE_HEADER)
    if provided is None:
        return False
    message = body
    if timestamp_header is not None:
        stamp = (header(headers, timestamp_header) or "").strip()
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            return False
        if abs(now.timestamp() - int(stamp)) > tolerance.total_seconds():
            return False
        message = stamp.encode() + b":" + body
    return same_secret(hmac_sha256_hex(secret, message), provided.strip().lower())
