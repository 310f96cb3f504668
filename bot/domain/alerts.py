"""Alerts from monitors, in one shape whatever sent them.

Each source (Alertmanager, Grafana, PagerDuty, our own generic JSON) has a parser in
`bot/alerts/` that turns one webhook delivery into a Notification: one or more Alerts, each
with a fingerprint that stays the same across repeats of that alert, its status, labels and
annotations, and the alert's own timestamps, so time to detect can be measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AlertSource(StrEnum):
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    PAGERDUTY = "pagerduty"
    GENERIC = "generic"


class AlertStatus(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"  # PagerDuty only: someone took it; still a problem
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    source: AlertSource
    fingerprint: str  # the same for every notification of this alert; unique per source
    status: AlertStatus
    name: str  # alertname, rule title, PagerDuty incident title …
    summary: str  # one line for people
    labels: dict[str, str] = field(default_factory=dict)  # what mapping rules match on
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None  # when the monitor saw it start (aware UTC)
    ends_at: datetime | None = None  # when it resolved, if it did
    value: str | None = None  # the measured value, as the source wrote it ("0.62")
    threshold: str | None = None
    links: tuple[str, ...] = ()  # generator, dashboard, panel, runbook, PagerDuty incident


@dataclass(frozen=True)
class Notification:
    """One webhook delivery. `delivery_key` is the same when the sender retries the same
    delivery, and different for a new one, so a retry is never handled twice."""

    source: AlertSource
    delivery_key: str
    alerts: tuple[Alert, ...]
    group_key: str | None = None  # Alertmanager's groupKey, Grafana's groupKey
    truncated_alerts: int = 0  # alerts the sender left out (Alertmanager's truncatedAlerts)
