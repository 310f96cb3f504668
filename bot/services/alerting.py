"""Alert notifications in: deduplicated, grouped into incidents, opening new ones.

Most notifications in a storm only repeat alerts already tracked, in open incidents. Those are
read first, without locks, and then counted in one short burst of writes: claim the delivery
key (a sender's retry is recognised and changes nothing), one UPDATE per alert that adds to its
counters without reading it (so concurrent repeats add up), the summary marked stale. A repeat
writes no timeline event; the alert row counts it, and the post-mortem says "repeated N times
between t1 and t2". Should an alert have changed between the read and the write, nothing is
written and the notification runs again.

Anything else (a new alert, a change of status, an incident that ended) takes the careful path:
one unit of work claims the key, locks the alert rows and the groups, decides where each alert
goes, holding the group's row lock so that two processes given the same new alert open one
incident, and writes a timeline event for each change. A new incident is stored in that same
unit of work, with the Slack work its opening owes: once the sender is answered 2xx, the
opening is durable. Slack is only called after the commit; what it does not finish then, the
scheduler finishes (bot/services/pending_work.py).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.alert_rules import Classification, classify
from bot.domain.alerts import (
    Alert,
    AlertGroup,
    AlertStatus,
    Heard,
    Notification,
    RepeatRun,
    TrackedAlert,
    group_key,
)
from bot.domain.incidents import MAX_TITLE
from bot.domain.kinds import IncidentKind
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.ports import Contention, UnitOfWork
from bot.services.alert_repeats import RepeatJob
from bot.services.auto_actions import run_auto_actions
from bot.services.deps import Deps
from bot.services.opening import OpenIncident, add_opening, new_incident
from bot.services.pending_work import deliver_now
from bot.services.timeline import record

CONTENTION_ATTEMPTS = 4


@dataclass
class Ingested:
    duplicate: bool = False
    opened: list[str] = field(default_factory=list)  # incident IDs
    joined: list[str] = field(default_factory=list)
    ignored: int = 0  # resolved notifications of alerts never seen firing
    # Of those opened, the ones Slack has not finished setting up (the scheduler will).
    pending: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _ToOpen:
    incident_id: str
    classification: Classification
    alert: Alert
    unknown_service: str | None


async def ingest_notification(deps: Deps, notification: Notification) -> Ingested:
    result, heard = await _stored(deps, notification)
    # Committed: from here on nothing is lost, and nothing below may run the notification
    # again (its delivery key is claimed).
    for incident_id in result.opened:
        if await deliver_now(deps, incident_id) is not None:
            result.pending.append(incident_id)
    await run_auto_actions(deps, heard)
    return result


async def _stored(deps: Deps, notification: Notification) -> tuple[Ingested, list[TrackedAlert]]:
    # A deadlock or a busy SQLite leaves nothing written: the whole notification runs again.
    for attempt in range(CONTENTION_ATTEMPTS):
        try:
            return await _ingest(deps, notification)
        except Contention:
            if attempt == CONTENTION_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.02 * 2**attempt * (1 + random.random()))
    raise AssertionError("unreachable")


async def _ingest(deps: Deps, notification: Notification) -> tuple[Ingested, list[TrackedAlert]]:
    now = deps.clock.now()
    alerts = sorted(notification.alerts, key=lambda a: (a.source, a.fingerprint))
    if alerts:
        job = RepeatJob(_delivery(notification), notification.retry_window, alerts, now)
        written = await deps.repeats.write(deps.uow, job)
        if written.duplicate:
            return Ingested(duplicate=True), []
        if written.repeated:
            return Ingested(joined=written.incidents), written.heard
    return await _place_all(deps, notification, alerts, now)


def _delivery(notification: Notification) -> str:
    return f"alert:{notification.source.value}:{notification.delivery_key}"


async def _place_all(
    deps: Deps, notification: Notification, alerts: list[Alert], now: datetime
) -> tuple[Ingested, list[TrackedAlert]]:
    result = Ingested()
    to_open: dict[str, _ToOpen] = {}
    heard: list[TrackedAlert] = []
    async with deps.uow() as uow:
        if not await uow.idempotency.claim(_delivery(notification), now, notification.retry_window):
            return Ingested(duplicate=True), []
        # Locks are always taken in one order — alert rows, then groups, then summaries,
        # each sorted — so two notifications never wait on each other in a circle.
        place = _Placement(deps, uow, now, to_open)
        found = await uow.alerts.get_many(
            [(a.source, a.fingerprint) for a in alerts], for_update=True
        )
        for alert in alerts:
            place.tracked[alert.fingerprint] = found.get((alert.source, alert.fingerprint))
        await place.lock_groups(alerts)
        touched: set[str] = set()
        for alert in alerts:
            earlier = place.tracked[alert.fingerprint]
            # Read before hearing it: a change ends the run of repeats of the status before.
            run, was_in = (earlier.repeat_run, earlier.incident_id) if earlier else (None, None)
            tracked, grouping, what = await place.place(alert)
            if tracked is None:
                result.ignored += 1
                continue
            if tracked.incident_id != was_in:
                run = None  # a new chapter: those repeats belong to the incident before
            await uow.alerts.save(tracked)
            if what is not Heard.REPEATED:
                await _record(uow, tracked, alert, grouping, now, what, run)
            touched.add(tracked.incident_id)
            heard.append(tracked)
            if tracked.incident_id not in to_open and tracked.incident_id not in result.joined:
                result.joined.append(tracked.incident_id)
        for incident_id in sorted(touched):
            await uow.alerts.mark_summary_stale(incident_id, now)
        for opening in to_open.values():
            await _add_opening(deps, uow, opening)
        await uow.commit()
    result.opened = list(to_open)
    return result, heard


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
            # Locking it now would take an alert row after a group, against the lock order,
            # and deadlock with a notification holding it and wanting ours: start again, and
            # it is locked with the others, first.
            if (
                self.tracked[alert.fingerprint] is None
                and keys
                and await self.uow.alerts.get(alert.source, alert.fingerprint) is not None
            ):
                raise Contention(f"alert {alert.fingerprint} was recorded meanwhile")

    async def place(self, alert: Alert) -> tuple[TrackedAlert | None, str, Heard]:
        now = self.now
        tracked = self.tracked[alert.fingerprint]
        if tracked is not None and await self.still_open(tracked.incident_id):
            return tracked, "same alert", tracked.hear(alert, now)
        if alert.status is AlertStatus.RESOLVED:
            if tracked is not None:  # its incident is over; keep the record straight anyway
                return tracked, "resolved after its incident", tracked.hear(alert, now)
            return None, "never seen firing", Heard.LATE
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
            tracked.start_again(alert, incident_id, now)
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
                status_at=alert.occurred_at,
            )
        self.tracked[alert.fingerprint] = tracked
        return tracked, grouping, Heard.CHANGED

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
    uow: UnitOfWork,
    tracked: TrackedAlert,
    alert: Alert,
    grouping: str,
    now: datetime,
    what: Heard,
    run: RepeatRun | None,
) -> None:
    """A change of the alert's status (or a late event, in its place in time); `run`: the
    repeats of the status it changed from, which the post-mortem shows collapsed."""
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
        verb = "firing" if first or what is Heard.LATE else "firing again"
    repeated = (
        {"count": run.count, "from": _iso(run.first_at), "until": _iso(run.last_at)}
        if run is not None and what is Heard.CHANGED
        else None
    )
    await record(
        uow,
        tracked.incident_id,
        EventType.ALERT_RESOLVED if resolved else EventType.ALERT_FIRING,
        f"alert:{alert.source.value}",
        at,
        f"Alert {alert.name} {verb}: {alert.summary}",
        source=alert.source.value,
        fingerprint=alert.fingerprint,
        name=alert.name,
        status=alert.status.value,
        applied=what is not Heard.LATE,
        repeated=repeated,
        grouping=grouping,
        notifications=tracked.notifications,
        starts_at=_iso(alert.starts_at),
        ends_at=_iso(alert.ends_at),
        received_at=_iso(now),
        value=alert.value,
        threshold=alert.threshold,
        labels=alert.labels,
    )


async def _add_opening(deps: Deps, uow: UnitOfWork, opening: _ToOpen) -> None:
    c, alert = opening.classification, opening.alert
    page = deps.policy.alerts.page
    # A user group is asked for its members when the channel is there to invite them to; the
    # summary mentions the group itself.
    invite: dict[str, Any] | None = None
    if page and page.startswith("S"):
        invite = {"users": [], "group": page}
    elif page:
        invite = {"users": [page]}
    title = " ".join((alert.summary or alert.name).split())[:MAX_TITLE] or alert.name[:MAX_TITLE]
    incident = new_incident(
        deps,
        OpenIncident(
            c.kind,
            title,
            BOT_ACTOR,
            severity=c.severity,
            service=c.service,
            incident_id=opening.incident_id,
            default_service=opening.unknown_service is None,
        ),
    )
    summary = {"page": page, "service_unknown": opening.unknown_service}
    await add_opening(deps, uow, incident, invite=invite, alert_summary=summary)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
