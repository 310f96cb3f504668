"""SqlAlertRepo: alerts, their groups, the storm summaries and automatic-action marks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.alerts import AlertGroup, AlertSource, AlertStatus, Repeats, TrackedAlert
from bot.domain.kinds import IncidentStatus
from bot.store import upsert
from bot.store.models import (
    AlertGroupRow,
    AlertRow,
    AlertSummaryRow,
    AutoActionMarkRow,
    IncidentRow,
)

RESOLVED = IncidentStatus.RESOLVED.value


class SqlAlertRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, source: AlertSource, fingerprint: str, *, for_update: bool = False
    ) -> TrackedAlert | None:
        row = await self._session.get(
            AlertRow,
            (source.value, fingerprint),
            populate_existing=True,
            with_for_update=for_update or None,
        )
        return None if row is None else _alert(row)

    async def get_many(
        self, keys: Sequence[tuple[AlertSource, str]], *, for_update: bool = False
    ) -> dict[tuple[AlertSource, str], TrackedAlert]:
        if not keys:
            return {}
        wanted = [(source.value, fingerprint) for source, fingerprint in keys]
        query = (
            select(AlertRow)
            .where(tuple_(AlertRow.source, AlertRow.fingerprint).in_(wanted))
            # Locked in one order, whoever asks: two notifications never wait in a circle.
            .order_by(AlertRow.source, AlertRow.fingerprint)
            .execution_options(populate_existing=True)
        )
        if for_update:
            query = query.with_for_update()
        rows = await self._session.scalars(query)
        return {(AlertSource(row.source), row.fingerprint): _alert(row) for row in rows}

    async def in_open_incidents(
        self, keys: Sequence[tuple[AlertSource, str]]
    ) -> dict[tuple[AlertSource, str], TrackedAlert]:
        if not keys:
            return {}
        wanted = [(source.value, fingerprint) for source, fingerprint in keys]
        rows = await self._session.scalars(
            select(AlertRow)
            .outerjoin(IncidentRow, IncidentRow.id == AlertRow.incident_id)
            .where(
                tuple_(AlertRow.source, AlertRow.fingerprint).in_(wanted),
                # No row yet: the incident is still being opened, which counts as open.
                IncidentRow.status.is_(None) | (IncidentRow.status != RESOLVED),
            )
        )
        return {(AlertSource(row.source), row.fingerprint): _alert(row) for row in rows}

    async def repeat(self, repeats: Repeats, incident_id: str) -> TrackedAlert | None:
        # What TrackedAlert.add_repeats does, in one UPDATE that reads nothing first:
        # concurrent repeats of one alert add up instead of overwriting each other. Times inside
        # SQL expressions are typed, so SQLite stores them as UTC text like every other.
        alert, moment = repeats.last, AlertRow.repeated_from.type
        values: dict[str, Any] = {
            "notifications": AlertRow.notifications + repeats.count,
            "repeats": AlertRow.repeats + repeats.count,
            "repeated_from": func.coalesce(
                AlertRow.repeated_from, literal(repeats.first_at, moment)
            ),
            "repeated_until": repeats.last_at,
            "last_seen": repeats.last_at,
            "summary": alert.summary,
            "value": alert.value,
            "threshold": alert.threshold,
        }
        if alert.links:
            values["links"] = list(alert.links)
        if repeats.firing:
            values["firing_streak"] = AlertRow.firing_streak + repeats.firing
        if repeats.occurred_at is not None:
            occurred = literal(repeats.occurred_at, moment)
            newer = AlertRow.status_at.is_(None) | (AlertRow.status_at < occurred)
            values["status_at"] = case((newer, occurred), else_=AlertRow.status_at)
        row = await self._session.scalar(
            update(AlertRow)
            .where(
                AlertRow.source == alert.source.value,
                AlertRow.fingerprint == alert.fingerprint,
                AlertRow.incident_id == incident_id,
                AlertRow.status == alert.status.value,
            )
            .values(**values)
            .returning(AlertRow)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return None if row is None else _alert(row)

    async def save(self, alert: TrackedAlert) -> None:
        values: dict[str, Any] = {
            "incident_id": alert.incident_id,
            "name": alert.name,
            "summary": alert.summary,
            "service": alert.service,
            "kind": alert.kind,
            "severity": alert.severity,
            "status": alert.status.value,
            "starts_at": alert.starts_at,
            "first_seen": alert.first_seen,
            "last_seen": alert.last_seen,
            "resolved_at": alert.resolved_at,
            "notifications": alert.notifications,
            "firing_streak": alert.firing_streak,
            "value": alert.value,
            "threshold": alert.threshold,
            "links": list(alert.links),
            "status_at": alert.status_at,
            "repeats": alert.repeats,
            "repeated_from": alert.repeated_from,
            "repeated_until": alert.repeated_until,
        }
        stmt = upsert.insert(self._session, AlertRow).values(
            source=alert.source.value, fingerprint=alert.fingerprint, **values
        )
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[AlertRow.source, AlertRow.fingerprint], set_=values
            )
        )

    async def for_incident(self, incident_id: str) -> list[TrackedAlert]:
        rows = await self._session.scalars(
            select(AlertRow)
            .where(AlertRow.incident_id == incident_id)
            .order_by(AlertRow.first_seen, AlertRow.fingerprint)
        )
        return [_alert(row) for row in rows]

    async def lock_group(self, key: str) -> AlertGroup:
        # Create it if new (a concurrent creator waits on the primary key, then finds it),
        # then hold its row lock until the caller commits.
        await self._session.execute(
            upsert.insert(self._session, AlertGroupRow)
            .values(key=key, incident_id=None, last_alert_at=None)
            .on_conflict_do_nothing(index_elements=[AlertGroupRow.key])
        )
        row = (
            await self._session.execute(
                select(AlertGroupRow)
                .where(AlertGroupRow.key == key)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        return AlertGroup(row.key, row.incident_id, row.last_alert_at)

    async def set_group(self, group: AlertGroup) -> None:
        await self._session.execute(
            update(AlertGroupRow)
            .where(AlertGroupRow.key == group.key)
            .values(incident_id=group.incident_id, last_alert_at=group.last_alert_at)
            .execution_options(synchronize_session=False)
        )

    async def summary(self, incident_id: str) -> tuple[str | None, bool]:
        row = await self._session.get(AlertSummaryRow, incident_id, populate_existing=True)
        return (None, False) if row is None else (row.message_ts, row.all_resolved_told)

    async def mark_summary_stale(self, incident_id: str, at: datetime) -> None:
        stmt = upsert.insert(self._session, AlertSummaryRow).values(
            incident_id=incident_id, message_ts=None, stale_since=at, all_resolved_told=False
        )
        # Keep the earliest moment it fell behind: that is how long readers have waited.
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[AlertSummaryRow.incident_id],
                set_={"stale_since": func.coalesce(AlertSummaryRow.stale_since, at)},
            )
        )

    async def claim_stale_summaries(self, limit: int = 20) -> list[str]:
        ids = list(
            await self._session.scalars(
                select(AlertSummaryRow.incident_id)
                .where(AlertSummaryRow.stale_since.is_not(None))
                .order_by(AlertSummaryRow.stale_since)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        # SQLite takes no lock on the SELECT: the guard and RETURNING keep to what we claimed.
        claimed = set(
            await self._session.scalars(
                update(AlertSummaryRow)
                .where(
                    AlertSummaryRow.incident_id.in_(ids), AlertSummaryRow.stale_since.is_not(None)
                )
                .values(stale_since=None)
                .returning(AlertSummaryRow.incident_id)
                .execution_options(synchronize_session=False)
            )
        )
        return [i for i in ids if i in claimed]

    async def save_summary(
        self, incident_id: str, message_ts: str, all_resolved_told: bool
    ) -> None:
        stmt = upsert.insert(self._session, AlertSummaryRow).values(
            incident_id=incident_id,
            message_ts=message_ts,
            stale_since=None,
            all_resolved_told=all_resolved_told,
        )
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[AlertSummaryRow.incident_id],
                set_={"message_ts": message_ts, "all_resolved_told": all_resolved_told},
            )
        )

    async def claim_auto_action(
        self, service: str, target: str, now: datetime, min_interval: timedelta
    ) -> bool:
        stmt = upsert.insert(self._session, AutoActionMarkRow).values(
            service=service, target=target, last_at=now
        )
        claimed = await self._session.scalar(
            stmt.on_conflict_do_update(
                index_elements=[AutoActionMarkRow.service, AutoActionMarkRow.target],
                set_={"last_at": now},
                where=AutoActionMarkRow.last_at <= now - min_interval,
            ).returning(AutoActionMarkRow.last_at)
        )
        return claimed is not None


def _alert(row: AlertRow) -> TrackedAlert:
    return TrackedAlert(
        source=AlertSource(row.source),
        fingerprint=row.fingerprint,
        incident_id=row.incident_id,
        name=row.name,
        summary=row.summary,
        service=row.service,
        kind=row.kind,
        severity=row.severity,
        status=AlertStatus(row.status),
        starts_at=row.starts_at,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        resolved_at=row.resolved_at,
        notifications=row.notifications,
        firing_streak=row.firing_streak,
        value=row.value,
        threshold=row.threshold,
        links=tuple(row.links),
        status_at=row.status_at,
        repeats=row.repeats,
        repeated_from=row.repeated_from,
        repeated_until=row.repeated_until,
    )
