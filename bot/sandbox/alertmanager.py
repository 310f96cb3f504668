"""Alertmanager's webhook notification (payload version 4), as a monitor sends it to
/alerts/alertmanager: the chaos scenario's monitors and bench/alert_storm.py both send these."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class FiringAlert:
    name: str  # the alertname label
    service: str
    team: str
    component: str
    starts_at: str  # as Alertmanager writes it, e.g. 2026-11-22T09:00:00.000000Z
    fingerprint: str
    runbook_url: str | None = None  # an annotation, when the rule has one


def alertmanager_body(alerts: Sequence[FiringAlert], n: int) -> bytes:
    """The `n`-th notification of a group of firing alerts, grouped by the first one's service
    and component."""
    first = alerts[0]
    # Prometheus re-sends firing alerts with a fresh endsAt, so no two deliveries are the same.
    ends = (datetime.now(UTC) + timedelta(minutes=4, microseconds=n)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    group = {"service": first.service, "component": first.component}
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{component="{first.component}", service="{first.service}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "steadyhand",
            "groupLabels": group,
            "commonLabels": {**group, "team": first.team},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {
                        "alertname": a.name,
                        "service": a.service,
                        "team": a.team,
                        "component": a.component,
                        "severity": "critical",
                    },
                    "annotations": _annotations(a),
                    "startsAt": a.starts_at,
                    "endsAt": ends,
                    "generatorURL": f"http://prometheus.example:9090/graph?g0.expr={a.name}",
                    "fingerprint": a.fingerprint,
                }
                for a in alerts
            ],
        }
    ).encode()


def _annotations(alert: FiringAlert) -> dict[str, str]:
    annotations = {"summary": f"{alert.name} on {alert.service}"}
    if alert.runbook_url is not None:
        annotations["runbook_url"] = alert.runbook_url
    return annotations
