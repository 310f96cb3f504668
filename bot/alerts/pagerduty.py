"""PagerDuty V3 webhooks (webhook subscriptions) and their signature.

Each delivery carries one event: `{"event": {"id", "event_type", "resource_type",
"occurred_at", "agent", "client", "data": {...}}}`. For incident events `data` is the
incident: `id`, `html_url`, `number`, `status`, `incident_key`, `created_at`, `title`,
`service`, `assignees`, `escalation_policy`, `teams`, `priority`, `urgency`, ….

Mapping, one Alert per incident event:
- fingerprint: the incident id (`data.id`), the same for every event of that incident;
- status from `event_type`: `incident.triggered`, `.reopened` and `.unacknowledged` are
  firing (the last two put the incident back to "triggered" in PagerDuty), `.acknowledged`
  is acknowledged, `.resolved` is resolved;
- name and summary: `data.title`; starts_at: `data.created_at`; occurred_at:
  `event.occurred_at` (deliveries can arrive late or out of order, so every event is dated by
  it), also ends_at when resolved; link: `data.html_url`;
- labels: `service` (= `data.service.summary`), `pagerduty_service_id`, `urgency`, and
  `priority` (= `data.priority.summary`) when present;
- annotations: `pagerduty_incident_number`, `pagerduty_incident_key`,
  `pagerduty_escalation_policy`, `pagerduty_event_type`.

Every other event type (`incident.annotated`, `incident.priority_updated`,
`incident.escalated`, `service.updated`, the `pagey.ping` test …) is accepted and ignored: a
Notification with no alerts, so PagerDuty sees a 2xx and does not retry or disable the
subscription. Delivery key: `pagerduty:<event.id>`.

Signature: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>`, several
comma-separated `v1=` values while a secret is being rotated; any match is enough.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.alerts.common import (
    MAX_ANNOTATION_BYTES,
    MAX_ID_CHARS,
    MAX_LABEL_BYTES,
    MAX_NAME_CHARS,
    JsonObject,
    clip,
    fail,
    header,
    hmac_sha256_hex,
    links,
    load_json_object,
    one_line,
    optional_object,
    optional_str,
    required_object,
    required_str,
    same_secret,
    timestamp,
)
from bot.domain.alerts import Alert, AlertSource, AlertStatus, Notification

SIGNATURE_HEADER = "X-PagerDuty-Signature"
MAX_SIGNATURES = 16

STATUS_BY_EVENT = {
    "incident.triggered": AlertStatus.FIRING,
    "incident.reopened": AlertStatus.FIRING,
    "incident.unacknowledged": AlertStatus.FIRING,
    "incident.acknowledged": AlertStatus.ACKNOWLEDGED,
    "incident.resolved": AlertStatus.RESOLVED,
}


def parse(body: bytes) -> Notification:
    root = load_json_object(body)
    event = required_object(root, "event", "")
    event_id = required_str(event, "id", "event", max_chars=MAX_ID_CHARS)
    event_type = required_str(event, "event_type", "event", max_chars=MAX_ID_CHARS)
    status = STATUS_BY_EVENT.get(event_type)
    alerts = () if status is None else (_incident_alert(event, status),)
    return Notification(
        source=AlertSource.PAGERDUTY, delivery_key=f"pagerduty:{event_id}", alerts=alerts
    )


def _incident_alert(event: JsonObject, status: AlertStatus) -> Alert:
    data = required_object(event, "data", "event")
    kind = optional_str(data, "type", "event.data")
    if kind is not None and kind != "incident":
        fail("event.data.type", f"must be 'incident' for {event['event_type']}, not {kind!r}")
    path = "event.data"
    title = optional_str(data, "title", path) or "PagerDuty incident"
    service = optional_object(data, "service", path)
    priority = optional_object(data, "priority", path)
    policy = optional_object(data, "escalation_policy", path)
    number = data.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        fail("event.data.number", "must be a whole number")
    labels = _present(
        {
            "service": optional_str(service, "summary", f"{path}.service"),
            "pagerduty_service_id": optional_str(service, "id", f"{path}.service"),
            "urgency": optional_str(data, "urgency", path),
            "priority": optional_str(priority, "summary", f"{path}.priority"),
        },
        MAX_LABEL_BYTES,
    )
    annotations = _present(
        {
            "pagerduty_incident_number": None if number is None else str(number),
            "pagerduty_incident_key": optional_str(data, "incident_key", path),
            "pagerduty_escalation_policy": optional_str(
                policy, "summary", f"{path}.escalation_policy"
            ),
            "pagerduty_event_type": str(event["event_type"]),
        },
        MAX_ANNOTATION_BYTES,
    )
    occurred_at = timestamp(event, "occurred_at", "event")
    resolved = status is AlertStatus.RESOLVED
    return Alert(
        source=AlertSource.PAGERDUTY,
        fingerprint=required_str(data, "id", path, max_chars=MAX_ID_CHARS),
        status=status,
        name=one_line(title, MAX_NAME_CHARS),
        summary=one_line(title),
        labels=labels,
        annotations=annotations,
        starts_at=timestamp(data, "created_at", path),
        ends_at=occurred_at if resolved else None,
        occurred_at=occurred_at,
        links=links(optional_str(data, "html_url", path)),
    )


def _present(values: Mapping[str, str | None], max_bytes: int) -> dict[str, str]:
    return {key: clip(value, max_bytes) for key, value in values.items() if value}


def verify_pagerduty_signature(
    secret: str | Sequence[str], body: bytes, headers: Mapping[str, str]
) -> bool:
    """True if any `v1=` signature in the header is the HMAC of the body under any of our
    secrets (a list lets us rotate on our side too). Unknown versions are skipped."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    secrets = [s for s in secrets if s]
    value = header(headers, SIGNATURE_HEADER)
    if not secrets or not value:
        return False
    provided = [
        part.strip()[3:].lower()
        for part in value.split(",")[:MAX_SIGNATURES]
        if part.strip().startswith("v1=")
    ]
    expected = [hmac_sha256_hex(s, body) for s in secrets]
    # No early exit: every pair is compared, so timing says nothing about which matched.
    matches = [same_secret(e, p) for e in expected for p in provided]
    return any(matches)
