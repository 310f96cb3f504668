"""Prometheus Alertmanager's webhook (`webhook_config`), payload version "4".

    {"version": "4", "groupKey": "...", "truncatedAlerts": 0, "status": "firing",
     "receiver": "...", "groupLabels": {...}, "commonLabels": {...},
     "commonAnnotations": {...}, "externalURL": "...",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...},
                 "startsAt": "<rfc3339>", "endsAt": "<rfc3339>",
                 "generatorURL": "...", "fingerprint": "..."}]}

Per alert: the fingerprint is Alertmanager's own (a hash of the labels, so it is the same
when the alert fires and when it resolves); an alert without one gets a hash of its sorted
labels. The name is `labels.alertname`; the summary is the `summary` annotation, else
`description`, else the name; `value` and `threshold` come from annotations of those names;
the links are `generatorURL` and the `runbook_url` and `dashboard_url` annotations.
`endsAt` of "0001-01-01T00:00:00Z" (Go's zero time) means "not ended": `ends_at` is None.

Delivery key: a hash of the body bytes. Same bytes means the sender retried one delivery
(Alertmanager retries a failed POST with the very same body), so it must not be handled
twice. A repeat notification (`repeat_interval`) is a new delivery that says "still firing";
it usually differs in bytes (Prometheus refreshes `endsAt` of firing alerts), but a
byte-identical repeat is possible, so whoever stores delivery keys should forget them after
less than the shortest `repeat_interval` in use (Alertmanager's default is 4 h).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.alerts.common import (
    MAX_ALERTS,
    MAX_ANNOTATION_BYTES,
    MAX_ID_CHARS,
    MAX_LABEL_BYTES,
    MAX_NAME_CHARS,
    JsonObject,
    as_object,
    choice,
    content_hash,
    fail,
    join,
    labels_hash,
    links,
    load_json_object,
    one_line,
    optional_count,
    optional_str,
    required_list,
    string_map,
    timestamp,
)
from bot.domain.alerts import (
    CONTENT_KEY_RETRY_WINDOW,
    Alert,
    AlertSource,
    AlertStatus,
    Notification,
)

VERSION = "4"
STATUSES = (AlertStatus.FIRING.value, AlertStatus.RESOLVED.value)

# Reads what a source adds to the common alert shape: (alert object, its path, annotations)
# -> (value, extra links). Grafana uses it for `values`, `valueString` and its URLs.
Extras = Callable[[JsonObject, str, dict[str, str]], tuple[str | None, tuple[str | None, ...]]]


def parse(body: bytes) -> Notification:
    root = load_json_object(body)
    check_version(root, VERSION, "Alertmanager", "grafana")
    return parse_group(AlertSource.ALERTMANAGER, root, body)


def check_version(root: JsonObject, expected: str, sender: str, other: str) -> None:
    version = optional_str(root, "version", "")
    if version is not None and version != expected:
        fail(
            "version",
            f"{sender} sends version {expected!r}, this body says {version!r}"
            f" (is it meant for /alerts/{other}?)",
        )


def parse_group(
    source: AlertSource, root: JsonObject, body: bytes, extras: Extras | None = None
) -> Notification:
    """The group shape Alertmanager and Grafana share."""
    group_status = optional_str(root, "status", "")
    items = required_list(root, "alerts", "", MAX_ALERTS)
    alerts = tuple(
        parse_alert(source, as_object(item, f"alerts[{i}]"), f"alerts[{i}]", group_status, extras)
        for i, item in enumerate(items)
    )
    return Notification(
        source=source,
        delivery_key=f"{source.value}:{content_hash(body)}",
        retry_window=CONTENT_KEY_RETRY_WINDOW,
        alerts=alerts,
        group_key=optional_str(root, "groupKey", "", max_chars=4096),
        truncated_alerts=optional_count(root, "truncatedAlerts", ""),
    )


def parse_alert(
    source: AlertSource,
    item: JsonObject,
    path: str,
    group_status: str | None,
    extras: Extras | None,
) -> Alert:
    # An alert always carries its own status; the group's is a fallback for hand-made bodies.
    status = optional_str(item, "status", path) or group_status
    status = choice(status, STATUSES, join(path, "status"))
    labels = string_map(item.get("labels"), join(path, "labels"), MAX_LABEL_BYTES)
    annotations = string_map(
        item.get("annotations"), join(path, "annotations"), MAX_ANNOTATION_BYTES
    )
    fingerprint = optional_str(item, "fingerprint", path, max_chars=MAX_ID_CHARS)
    name = one_line(labels.get("alertname", ""), MAX_NAME_CHARS) or "alert"
    summary = annotations.get("summary") or annotations.get("description") or name
    value, extra_links = extras(item, path, annotations) if extras else (None, ())
    return Alert(
        source=source,
        fingerprint=fingerprint or labels_hash(labels),
        status=AlertStatus(status),
        name=name,
        summary=one_line(summary) or name,
        labels=labels,
        annotations=annotations,
        starts_at=timestamp(item, "startsAt", path),
        ends_at=timestamp(item, "endsAt", path),
        value=annotations.get("value") or value,
        threshold=annotations.get("threshold"),
        links=links(
            optional_str(item, "generatorURL", path),
            *extra_links,
            annotations.get("runbook_url"),
            annotations.get("dashboard_url"),
        ),
    )
