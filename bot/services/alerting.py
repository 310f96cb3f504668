"""Alert notifications in: deduplicated, grouped into incidents, opening new ones.

One unit of work per notification claims its delivery key (a sender's retry is recognised and
changes nothing), records each alert and decides where it goes, holding the group's row lock so
that two processes given the same new alert open one incident. Slack is only called after the
commit: the incident is opened with an ID chosen inside the transaction, and if that opening is
cut off, `open_waiting_incidents` finishes it on the next scheduler tick.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.alert_rules import Classification, classify
from bot.domain.alerts import (
    Alert,
    AlertGroup,
    AlertStatus,
    Notification,
    TrackedAlert,
    group_key,
)
from bot.domain.incidents import MAX_TITLE
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.messages import AlertSummary
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import Contention, UnitOfWork
from bot.services.auto_actions import run_auto_actions
from bot.services.deps import Deps
from bot.services.opening import OpenIncident, open_incident
from bot.services.timeline import record

# An opening not finished this long after its alert is taken over by the scheduler.
OPENING_TAKEOVER_AFTER = timedelta(seconds=60)
CONTENTION_ATTEMPTS = 4


@dataclass
class Ingested:
    duplicate: bool = False
    opened: list[str] = field(default_factory=list)  # incident IDs
    joined: list[str] = field(default_factory=list)
    ignored: int = 0  # resolved notifications of alerts never seen firing


@dataclass(frozen=True)
class _ToOpen:
    incident_id: str
    classification: Classification
    alert: Alert
    unknown_service: str | None


async def ingest_notification(deps: Deps, notification: Notification) -> Ingested:
    # A deadlock or a busy SQLite leaves nothing written: the whole notification runs again.
    for attempt in range(CONTENTION_ATTEMPTS):
        try:
            return await _ingest(deps, notification)
        except Contention:
            if attempt == CONTENTION_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.02 * 2**attempt * (1 + random.random()))
    raise AssertionError("unreachable")


async def _ingest(deps: Deps, notification: Notification) -> Ingested:
    now = deps.clock.now()
    result = Ingested()
    to_open: dict[str, _ToOpen] = {}
    heard: list[TrackedAlert] = []
    async with deps.uow() as uow:
        key = f"alert:{notification.source.value}:{notification.delivery_key}"
        if not await uow.idempotency.claim(key, now, notification.retry_window):
            return Ingested(duplicate=True)
        # Locks are always taken in one order — alert rows, then groups, then summaries,
        # each sorted — so two notifications never wait on each other in a circle.
        alerts = sorted(notification.alerts, key=lambda a: a.fingerprint)
        place = _Placement(deps, uow, now, to_open)
        for alert in alerts:
            place.tracked[alert.fingerprint] = await uow.alerts.get(
                alert.source, alert.fingerprint, for_update=True
            )
        await place.lock_groups(alerts)
        touched: set[str] = set()
        for alert in alerts:
            tracked, grouping = await place.place(alert)
            if tracked is None:
                result.ignored += 1
                continue
            await uow.alerts.save(tracked)
            await _record(uow, tracked, alert, grouping, now)
            touched.add(tracked.incident_id)
            heard.append(tracked)
            if tracked.incident_id not in to_open and tracked.incident_id not in result.joined:
                result.joined.append(tracked.incident_id)
        for incident_id in sorted(touched):
            await uow.alerts.mark_summary_stale(incident_id, now)
        await uow.commit()
    for opening in to_open.values():
        await _open(deps, opening)
        result.opened.append(opening.incident_id)
    await run_auto_actions(deps, heard)
    return result


async def open_waiting_incidents(deps: Deps) -> int:
    """Open the incidents whose opening was cut off (a crash, Slack down) after their alerts
    were stored: nothing an alert brought is lost."""
    before = deps.clock.now() - OPENING_TAKEOVER_AFTER
    async with deps.uow() as uow:
        waiting = await uow.alerts.groups_without_incident(before)
        firsts = []
        for group in waiting:
            assert group.incident_id is not None
            alerts = await uow.alerts.for_incident(group.incident_id)
            if alerts:
                firsts.append(alerts[0])
    for first in firsts:
        alert = Alert(first.source, first.fingerprint, first.status, first.name, first.summary)
        known = first.service if first.service in deps.catalog.names else None
        kind = IncidentKind(first.kind)
        classification = Classification(known, kind, Severity(first.severity))
        unknown = None if known else first.service
        await _open(deps, _ToOpen(first.incident_id, classification, alert, unknown))
    return len(firsts)


class _Placement:
    """Where each alert of one notification goes: its incident, its group's, or a new one."""

    def __init__(
        self, deps: Deps, uow: UnitOfWork, now: datetime, to_open: dict[str, _ToOpen]
    ) -> None:
        self.deps, self.uow, self.now, self.to_open = deps, uow, now, to_open
        self.tracked: dict[str, TrackedAlert | None] = {}
        self.groups: dict[str, AlertGroup] = {}
        self._open: dict[str, bool] = {}

    async def lock_groups(self, alerts: list[Alert]) -> None:
        keys = set()
        for alert in alerts:
            tracked = self.tracked[alert.fingerprint]
            if alert.status is AlertStatus.RESOLVED:
                continue
            if tracked is None or not await self.still_open(tracked.incident_id):
                keys.add(_group_key(*_classified(self.deps, alert), alert))
        for key in sorted(keys):
            self.groups[key] = await self.uow.alerts.lock_group(key)
        for alert in alerts:  # another process may have recorded one while we waited
            if self.tracked[alert.fingerprint] is None and keys:
                self.tracked[alert.fingerprint] = await self.uow.alerts.get(
                    alert.source, alert.fingerprint, for_update=True
                )

    async def place(self, alert: Alert) -> tuple[TrackedAlert | None, str]:
        now = self.now
        tracked = self.tracked[alert.fingerprint]
        if tracked is not None and await self.still_open(tracked.incident_id):
            tracked.hear(alert, now)
            return tracked, "same alert"
        if alert.status is AlertStatus.RESOLVED:
            if tracked is not None:  # its incident is over; keep the record straight anyway
                tracked.hear(alert, now)
                return tracked, "resolved after its incident"
            return None, "never seen firing"
        classification, unknown_service = _classified(self.deps, alert)
        group = self.groups[_group_key(classification, unknown_service, alert)]
        window = self.deps.policy.alerts.group_window
        if (
            group.incident_id is not None
            and group.last_alert_at is not None
            and group.last_alert_at >= now - window
            and await self.still_open(group.incident_id)
        ):
            incident_id, grouping = group.incident_id, "same service and kind"
        else:
            incident_id, grouping = self.deps.new_id(), "new incident"
            self.to_open[incident_id] = _ToOpen(incident_id, classification, alert, unknown_service)
        group = AlertGroup(group.key, incident_id, now)
        self.groups[group.key] = group
        await self.uow.alerts.set_group(group)
        if tracked is not None:  # it fired again after its incident ended: a new chapter
            tracked.incident_id, tracked.notifications, tracked.firing_streak = incident_id, 0, 0
            tracked.first_seen, tracked.starts_at = now, alert.starts_at
            tracked.hear(alert, now)
        else:
            tracked = TrackedAlert(
                source=alert.source,
                fingerprint=alert.fingerprint,
                incident_id=incident_id,
                name=alert.name,
                summary=alert.summary,
                service=unknown_service or classification.service,  # as the alert named it
                kind=classification.kind.value,
                severity=classification.severity.value,
                status=alert.status,
                starts_at=alert.starts_at,
                first_seen=now,
                last_seen=now,
                firing_streak=1 if alert.status is AlertStatus.FIRING else 0,
                value=alert.value,
                threshold=alert.threshold,
                links=alert.links,
            )
        self.tracked[alert.fingerprint] = tracked
        return tracked, grouping

    async def still_open(self, incident_id: str) -> bool:
        """Open, or still being opened (no row yet, or opened by this very notification)."""
        if incident_id in self.to_open:
            return True
        if incident_id not in self._open:
            self._open[incident_id] = await self.uow.incidents.is_open(incident_id) is not False
        return self._open[incident_id]


def _classified(deps: Deps, alert: Alert) -> tuple[Classification, str | None]:
    """An alert naming a service nobody declared still opens an incident, to be classified."""
    found = classify(deps.policy.alerts, alert)
    # With no services declared, any name is accepted, as `/incident open` does.
    if found.service is None or not deps.catalog.names or found.service in deps.catalog.names:
        return found, None
    return Classification(None, IncidentKind.UNKNOWN, found.severity), found.service


def _group_key(classification: Classification, unknown_service: str | None, alert: Alert) -> str:
    # An undeclared service groups under its own name, never with every other undeclared one.
    service = unknown_service or classification.service
    return group_key(service, classification.kind, alert.name)


async def _record(
    uow: UnitOfWork, tracked: TrackedAlert, alert: Alert, grouping: str, now: datetime
) -> None:
    resolved = alert.status is AlertStatus.RESOLVED
    first = tracked.notifications == 1
    # Dated when it happened: by the source's own time of the event when it gives one
    # (PagerDuty's occurred_at: its deliveries may come late or reordered); else the first
    # notification when the monitor saw the problem start, later ones when we heard them.
    at = alert.starts_at if first and alert.starts_at and alert.starts_at <= now else now
    if alert.occurred_at:
        at = min(alert.occurred_at, now)
    if resolved:
        at = min(alert.ends_at or now, now)
    if resolved:
        verb = "resolved"
    elif alert.status is AlertStatus.ACKNOWLEDGED:
        verb = "acknowledged"
    else:
        verb = "firing" if first else f"firing again (#{tracked.notifications})"
    await record(
        uow,
        tracked.incident_id,
        EventType.ALERT_RESOLVED if resolved else EventType.ALERT_FIRING,
        f"alert:{alert.source.value}",
        at,
        f"Alert {alert.name} {verb}: {alert.summary}",
        source=alert.source.value,
        fingerprint=alert.fingerprint,
        status=alert.status.value,
        grouping=grouping,
        notifications=tracked.notifications,
        starts_at=_iso(alert.starts_at),
        ends_at=_iso(alert.ends_at),
        received_at=_iso(now),
        value=alert.value,
        threshold=alert.threshold,
        labels=alert.labels,
    )


async def _open(deps: Deps, opening: _ToOpen) -> None:
    c, alert = opening.classification, opening.alert
    page = deps.policy.alerts.page
    invite: tuple[str, ...] = ()
    if page and page.startswith("S"):
        # A user group is invited member by member; the summary mentions the group itself.
        if deps.directory is not None:
            invite = tuple(sorted(await deps.directory.group_members(page)))
    elif page:
        invite = (page,)
    title = " ".join((alert.summary or alert.name).split())[:MAX_TITLE] or alert.name[:MAX_TITLE]
    incident = await open_incident(
        deps,
        OpenIncident(
            c.kind,
            title,
            BOT_ACTOR,
            severity=c.severity,
            service=c.service,
            incident_id=opening.incident_id,
            invite=invite,
            default_service=opening.unknown_service is None,
        ),
    )
    assert incident.channel_id is not None
    async with deps.uow() as uow:
        alerts = await uow.alerts.for_incident(incident.id)
    summary = AlertSummary(tuple(alerts), page, opening.unknown_service)
    ts = await deps.chat.post(incident.channel_id, summary)
    async with deps.uow() as uow:
        await uow.alerts.save_summary(incident.id, ts, all_resolved_told=False)
        await uow.commit()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
