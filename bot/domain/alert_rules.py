"""From an alert's labels to (service, incident kind, severity), and what to do automatically.

Rules come from the `alerts:` section of steadyhand.yml. The first rule whose `match` labels
all equal the alert's decides what it sets; what no rule sets comes from the alert's own labels
(`service`, `ai_incident_kind`, `severity` by default), then from the defaults. A kind nobody
can tell is UNKNOWN: the incident opens and asks the responder to classify it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain.alerts import Alert
from bot.domain.kinds import IncidentKind, Severity


@dataclass(frozen=True)
class AlertRule:
    match: dict[str, str]  # label → value; every one must equal the alert's (the name: `alertname`)
    service: str | None = None
    kind: IncidentKind | None = None
    severity: Severity | None = None

    def matches(self, alert: Alert) -> bool:
        labels = {"alertname": alert.name, **alert.labels}
        return all(labels.get(key) == value for key, value in self.match.items())


@dataclass(frozen=True)
class AutoAction:
    """After `after` consecutive firing notifications of a matching alert, ask for `action`
    (runbook action syntax: `rollback prompt`, `flag new-retriever off`, `kill`, …)."""

    service: str
    action: str
    match: dict[str, str] = field(default_factory=dict)  # as AlertRule.match
    after: int = 1  # 1: on the first firing notification
    min_interval: timedelta = timedelta(minutes=30)  # per service and target: no flapping
    dry_run: bool = False  # announce what it would do, do nothing

    def matches(self, alert: Alert, service: str | None) -> bool:
        labels = {"alertname": alert.name, **alert.labels}
        return service == self.service and all(
            labels.get(key) == value for key, value in self.match.items()
        )


@dataclass(frozen=True)
class AlertSettings:
    rules: tuple[AlertRule, ...] = ()
    service_label: str = "service"
    kind_label: str = "ai_incident_kind"
    severity_label: str = "severity"
    # Label values monitors commonly use, and ours.
    severities: dict[str, Severity] = field(
        default_factory=lambda: {
            "critical": Severity.SEV1,
            "page": Severity.SEV1,
            "error": Severity.SEV2,
            "high": Severity.SEV2,
            "warning": Severity.SEV3,
            "medium": Severity.SEV3,
            "info": Severity.SEV4,
            "low": Severity.SEV4,
            **{s.value: s for s in Severity},
        }
    )
    default_severity: Severity = Severity.SEV2
    group_window: timedelta = timedelta(minutes=30)  # same service and kind: one incident
    page: str | None = None  # the user group (S…) or user paged in a new alert incident
    auto_actions: tuple[AutoAction, ...] = ()
    resolve_when_all_resolved: bool = False  # otherwise the bot only suggests it


@dataclass(frozen=True)
class Classification:
    service: str | None
    kind: IncidentKind
    severity: Severity


def classify(settings: AlertSettings, alert: Alert) -> Classification:
    rule = next((r for r in settings.rules if r.matches(alert)), AlertRule({}))
    labels = alert.labels
    service = rule.service or labels.get(settings.service_label) or None
    kind = rule.kind or _kind(labels.get(settings.kind_label, ""))
    severity = (
        rule.severity
        or settings.severities.get(labels.get(settings.severity_label, "").lower())
        or settings.default_severity
    )
    return Classification(service, kind, severity)


def _kind(text: str) -> IncidentKind:
    try:
        return IncidentKind(text.strip().lower())
    except ValueError:
        return IncidentKind.UNKNOWN
