"""Steadyhand's own alert format, for monitors that are not Alertmanager, Grafana or
PagerDuty: eval pipelines, cost trackers, a cron job with curl.

### Generic alert webhook: `POST /alerts/generic`

One alert:

```json
{
  "service": "support-bot",
  "kind": "quality",
  "severity": "sev2",
  "summary": "Answer quality fell below the 0.85 eval threshold",
  "value": 0.62,
  "threshold": 0.85,
  "fingerprint": "eval-drop-support-bot",
  "status": "firing",
  "starts_at": "2026-11-22T09:00:00Z",
  "labels": {"team": "assistants", "region": "eu"},
  "links": ["https://evals.example.com/runs/4812"],
  "id": "eval-run-4812"
}
```

Several at once: `{"alerts": [ {...}, {...} ], "id": "optional delivery id"}`.

Fields:

- `service` (required): the AI service in trouble, as named in Steadyhand (`support-bot`).
- `summary` (required): one line for people.
- `kind`: `quality`, `retrieval`, `tool`, `policy`, `cost` or `latency`.
- `severity`: `sev1` … `sev4`.
- `status`: `firing` (the default) or `resolved`.
- `fingerprint` (recommended): the same string every time you report this problem, and when
  you resolve it. Without one, a hash of service, kind, severity and labels is used.
- `name`: a short name for the alert; the summary if left out.
- `value`, `threshold`: numbers or strings, shown as written.
- `starts_at`, `ends_at`: RFC 3339 times with a zone (`2026-11-22T09:00:00Z`).
- `labels`: an object of strings, matched by the service rules.
- `links`: up to 10 http(s) URLs (dashboards, eval runs, runbooks).
- `id`: a delivery id. Send the same `id` when you retry a request and a new one otherwise,
  so a retry is never handled twice. Without it, the same bytes count as a retry.

`service`, `kind` and `severity` become the labels `service`, `ai_incident_kind` and
`severity` (replacing labels of those names), so the same rules apply as to alerts from
Alertmanager or Grafana carrying those labels. Unknown fields are ignored. At most 1000
alerts per request; label values over 1 KiB are shortened.
"""

from __future__ import annotations

from bot.alerts.common import (
    MAX_ALERTS,
    MAX_ID_CHARS,
    MAX_LABEL_BYTES,
    MAX_LINK_CHARS,
    MAX_LINKS,
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
    optional_str,
    required_list,
    required_str,
    string_map,
    timestamp,
    type_name,
)
from bot.domain.alerts import (
    CONTENT_KEY_RETRY_WINDOW,
    Alert,
    AlertSource,
    AlertStatus,
    Notification,
)
from bot.domain.kinds import IncidentKind, Severity

KIND_LABEL = "ai_incident_kind"
STATUSES = (AlertStatus.FIRING.value, AlertStatus.RESOLVED.value)


def parse(body: bytes) -> Notification:
    root = load_json_object(body)
    if "alerts" in root:
        items = required_list(root, "alerts", "", MAX_ALERTS)
        alerts = tuple(
            _alert(as_object(item, f"alerts[{i}]"), f"alerts[{i}]") for i, item in enumerate(items)
        )
    else:
        alerts = (_alert(root, ""),)
    delivery_id = optional_str(root, "id", "", max_chars=MAX_ID_CHARS)
    if delivery_id:
        return Notification(AlertSource.GENERIC, f"generic:{delivery_id}", alerts)
    return Notification(
        AlertSource.GENERIC,
        f"generic:{content_hash(body)}",
        alerts,
        retry_window=CONTENT_KEY_RETRY_WINDOW,
    )


def _alert(item: JsonObject, path: str) -> Alert:
    service = required_str(item, "service", path, max_chars=MAX_NAME_CHARS)
    summary = one_line(required_str(item, "summary", path, max_chars=10_000))
    status = choice(optional_str(item, "status", path) or "firing", STATUSES, join(path, "status"))
    labels = string_map(item.get("labels"), join(path, "labels"), MAX_LABEL_BYTES)
    labels["service"] = service
    kind = _word(item, "kind", path, [k.value for k in IncidentKind.classified()])
    if kind:
        labels[KIND_LABEL] = kind
    severity = _word(item, "severity", path, [s.value for s in Severity])
    if severity:
        labels["severity"] = severity
    fingerprint = optional_str(item, "fingerprint", path, max_chars=MAX_ID_CHARS)
    name = optional_str(item, "name", path, max_chars=MAX_NAME_CHARS)
    return Alert(
        source=AlertSource.GENERIC,
        fingerprint=fingerprint or labels_hash(labels),
        status=AlertStatus(status),
        name=one_line(name or summary, MAX_NAME_CHARS),
        summary=summary,
        labels=labels,
        starts_at=timestamp(item, "starts_at", path),
        ends_at=timestamp(item, "ends_at", path),
        value=_number_text(item, "value", path),
        threshold=_number_text(item, "threshold", path),
        links=_links(item, path),
    )


def _word(item: JsonObject, key: str, path: str, words: list[str]) -> str:
    text = optional_str(item, key, path, max_chars=64)
    if text is None:
        return ""
    return choice(text.strip().lower(), words, join(path, key))


def _number_text(item: JsonObject, key: str, path: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        fail(join(path, key), f"must be a number or a string, not {type_name(value)}")
    text = value if isinstance(value, str) else repr(value)
    return one_line(text, 64) or None


def _links(item: JsonObject, path: str) -> tuple[str, ...]:
    value = item.get("links")
    where = join(path, "links")
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_LINKS:
        fail(where, f"must be an array of at most {MAX_LINKS} URLs")
    urls: list[str] = []
    for i, url in enumerate(value):
        if not isinstance(url, str) or len(url) > MAX_LINK_CHARS:
            fail(f"{where}[{i}]", f"must be a URL of at most {MAX_LINK_CHARS} characters")
        if not url.lower().startswith(("https://", "http://")):
            fail(f"{where}[{i}]", f"must start with https:// or http://, not {url[:40]!r}")
        urls.append(url)
    return links(*urls)
