"""Alerts from monitors, in one shape whatever sent them.

Each source (Alertmanager, Grafana, PagerDuty, our own generic JSON) has a parser in
`bot/alerts/` that turns one webhook delivery into a Notification: one or more Alerts, each
with a fingerprint that stays the same across repeats of that alert, its status, labels and
annotations, and the alert's own timestamps, so time to detect can be measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    # When the source says this notification's event happened (PagerDuty's occurred_at), for
    # sources whose deliveries can come late or out of order; None: when we hear it.
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Notification:
    """One webhook delivery. `delivery_key` is the same when the sender retries the same
    delivery, and different for a new one, so a retry is never handled twice."""

    source: AlertSource
    delivery_key: str
    alerts: tuple[Alert, ...]
    group_key: str | None = None  # Alertmanager's groupKey, Grafana's groupKey
    truncated_alerts: int = 0  # alerts the sender left out (Alertmanager's truncatedAlerts)
    # A key made from the body's bytes means "a retry" only for a short while: Alertmanager
    # repeats an unchanged group with the very same bytes, and a repeat must count.
    retry_window: timedelta | None = None  # None: the key names this delivery for ever


CONTENT_KEY_RETRY_WINDOW = timedelta(seconds=30)


class Heard(StrEnum):
    """What one more notification of a tracked alert did to it."""

    CHANGED = "changed"  # its status changed (it resolved, was acknowledged, came back)
    REPEATED = "repeated"  # the same status again: counted, not a new event
    LATE = "late"  # an event older than the status it has (PagerDuty may reorder): not applied


@dataclass(frozen=True)
class RepeatRun:
    """Notifications that repeated an alert's status, between two changes of it."""

    count: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class Repeats:
    """Notifications that only repeated one tracked alert's status, taken together (a storm
    writes many at once): how many, when the first and last came, and the last one itself,
    whose summary, value and links the alert keeps."""

    last: Alert
    count: int
    first_at: datetime
    last_at: datetime
    firing: int  # of them firing: each adds one to the alert's firing streak
    occurred_at: datetime | None  # the newest source time among them

    @classmethod
    def one(cls, alert: Alert, now: datetime) -> Repeats:
        firing = 1 if alert.status is AlertStatus.FIRING else 0
        return cls(alert, 1, now, now, firing, alert.occurred_at)

    def then(self, alert: Alert, now: datetime) -> Repeats:
        """These and one more, heard after them."""
        newest = max(
            (t for t in (self.occurred_at, alert.occurred_at) if t is not None), default=None
        )
        firing = self.firing + (1 if alert.status is AlertStatus.FIRING else 0)
        return Repeats(alert, self.count + 1, self.first_at, now, firing, newest)


@dataclass
class TrackedAlert:
    """An alert as we keep it: which incident it joined, how often and when it came.

    A notification that only repeats the alert's status is counted here (`repeats`, with the
    first and last time it came) rather than written to the timeline: a storm repeats the same
    few alerts thousands of times, and the post-mortem says "repeated N times between t1 and
    t2" instead of listing each one."""

    source: AlertSource
    fingerprint: str
    incident_id: str
    name: str
    summary: str
    service: str | None
    kind: str
    severity: str
    status: AlertStatus
    starts_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = None
    notifications: int = 1
    firing_streak: int = 0
    value: str | None = None
    threshold: str | None = None
    links: tuple[str, ...] = ()
    # The source's own time of the newest event applied (PagerDuty's occurred_at); None when
    # the source dates nothing. An older event must not undo a newer one.
    status_at: datetime | None = None
    repeats: int = 0  # notifications since the status last changed that repeated it
    repeated_from: datetime | None = None
    repeated_until: datetime | None = None

    @property
    def repeat_run(self) -> RepeatRun | None:
        """The repeats of its current status, if there were any."""
        if self.repeats and self.repeated_from and self.repeated_until:
            return RepeatRun(self.repeats, self.repeated_from, self.repeated_until)
        return None

    def would_repeat(self, alert: Alert) -> bool:
        """Whether `alert` only repeats the status this alert has."""
        return alert.status is self.status

    def hear(self, alert: Alert, now: datetime) -> Heard:
        """Another notification of this alert."""
        if self.would_repeat(alert):
            self.add_repeats(Repeats.one(alert, now))
            return Heard.REPEATED
        self.notifications += 1
        self.last_seen = now
        self.summary, self.value, self.threshold = alert.summary, alert.value, alert.threshold
        self.links = alert.links or self.links
        if self._older_than_status(alert):
            return Heard.LATE  # a late delivery of an earlier event: heard, not applied
        self.repeats, self.repeated_from, self.repeated_until = 0, None, None
        self.status_at = alert.occurred_at
        if alert.status is AlertStatus.RESOLVED:
            self.status, self.firing_streak = AlertStatus.RESOLVED, 0
            self.resolved_at = alert.ends_at or now
            return Heard.CHANGED
        self.resolved_at = None  # acknowledged or firing: not (or no longer) resolved
        self.status = alert.status
        self.firing_streak += 1 if alert.status is AlertStatus.FIRING else 0
        return Heard.CHANGED

    def add_repeats(self, repeats: Repeats) -> None:
        """Notifications that only repeated its status (SqlAlertRepo.repeat does the same in
        one UPDATE)."""
        alert = repeats.last
        self.notifications += repeats.count
        self.repeats += repeats.count
        self.repeated_from = self.repeated_from or repeats.first_at
        self.repeated_until = self.last_seen = repeats.last_at
        self.summary, self.value, self.threshold = alert.summary, alert.value, alert.threshold
        self.links = alert.links or self.links
        self.firing_streak += repeats.firing
        newest = repeats.occurred_at
        if newest is not None and (self.status_at is None or newest > self.status_at):
            self.status_at = newest

    def start_again(self, alert: Alert, incident_id: str, now: datetime) -> None:
        """It fired again after its incident ended: a new chapter, in `incident_id`."""
        self.incident_id, self.notifications = incident_id, 1
        self.first_seen = self.last_seen = now
        self.starts_at, self.status_at = alert.starts_at, alert.occurred_at
        self.status, self.resolved_at = alert.status, None
        self.firing_streak = 1 if alert.status is AlertStatus.FIRING else 0
        self.repeats, self.repeated_from, self.repeated_until = 0, None, None
        self.summary, self.value, self.threshold = alert.summary, alert.value, alert.threshold
        self.links = alert.links or self.links

    def _older_than_status(self, alert: Alert) -> bool:
        if alert.occurred_at is None:
            return False
        # Rows kept before status_at existed know the time of a resolution only.
        newest = self.status_at or (
            self.resolved_at if self.status is AlertStatus.RESOLVED else None
        )
        return newest is not None and alert.occurred_at < newest


@dataclass(frozen=True)
class AlertGroup:
    key: str  # see group_key
    incident_id: str | None
    last_alert_at: datetime | None


def group_key(service: str | None, kind: str, alert_name: str) -> str:
    """Alerts for one service and kind join one incident: `<service>|<kind>`, where the service
    is the one the alert names, declared in steadyhand.yml or not. An alert that names no
    service is grouped by its own name (`?|<kind>|<name>`): a crash loop in one namespace and a
    CPU alert in another have nothing in common but what they lack."""
    if service:
        return f"{service}|{kind}"
    return f"?|{kind}|{alert_name}"
