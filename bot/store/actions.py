"""SqlActionRepo: action requests, each moved from status to status by exactly one caller."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.domain.actions import (
    Action,
    ActionKind,
    ActionRequest,
    FlagMove,
    Move,
    RequestStatus,
    Risk,
    VersionMove,
)
from bot.domain.registry import Component, FlagKind
from bot.store.models import ActionRequestRow


class SqlActionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, request: ActionRequest) -> None:
        await self._session.execute(
            insert(ActionRequestRow).values(
                id=request.id,
                incident_id=request.incident_id,
                channel_id=request.channel_id,
                service=request.action.service,
                kind=request.action.kind.value,
                moves=[_move_json(m) for m in request.action.moves],
                risk=request.risk.value,
                reason=request.reason,
                requested_by=request.requested_by,
                requested_at=request.requested_at,
                expires_at=request.expires_at,
                status=request.status.value,
                decided_by=request.decided_by,
                decided_at=request.decided_at,
                message_ts=request.message_ts,
                outcome=request.outcome,
                attempts=request.attempts,
                verification=request.verification,
                applying_since=request.applying_since,
            )
        )

    async def get(self, request_id: str) -> ActionRequest | None:
        row = await self._session.get(ActionRequestRow, request_id, populate_existing=True)
        return None if row is None else _request(row)

    async def transition(
        self,
        request_id: str,
        from_statuses: Sequence[RequestStatus],
        to: RequestStatus,
        *,
        by: str | None = None,
        at: datetime | None = None,
        started: datetime | None = None,
    ) -> bool:
        # A compare-and-set: on PostgreSQL the second of two concurrent updates waits for the
        # first to commit, re-reads the row, finds the status moved on and updates nothing.
        values: dict[str, Any] = {"status": to.value}
        if by is not None:
            values["decided_by"] = by
        if at is not None:
            values["decided_at"] = at
        if to is RequestStatus.APPLYING:
            values["attempts"] = ActionRequestRow.attempts + 1
            values["applying_since"] = started
        result = await self._session.execute(
            update(ActionRequestRow)
            .where(
                ActionRequestRow.id == request_id,
                ActionRequestRow.status.in_([s.value for s in from_statuses]),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def save_outcome(self, request: ActionRequest) -> None:
        await self._session.execute(
            update(ActionRequestRow)
            .where(ActionRequestRow.id == request.id)
            .values(
                message_ts=request.message_ts,
                outcome=request.outcome,
                verification=request.verification,
            )
            .execution_options(synchronize_session=False)
        )

    async def claim_expired(self, now: datetime, limit: int = 50) -> list[ActionRequest]:
        return await self._claim(
            RequestStatus.PENDING,
            ActionRequestRow.expires_at,
            now,
            limit,
            status=RequestStatus.EXPIRED.value,
            decided_at=now,
        )

    async def claim_stuck(self, before: datetime, outcome: str) -> list[ActionRequest]:
        return await self._claim(
            RequestStatus.APPLYING,
            ActionRequestRow.applying_since,
            before,
            50,
            status=RequestStatus.FAILED.value,
            outcome=outcome,
        )

    async def _claim(
        self,
        from_status: RequestStatus,
        due: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
        by: datetime,
        limit: int,
        **values: Any,
    ) -> list[ActionRequest]:
        """Requests in `from_status` whose `due` time is at or before `by`, moved by `values`, for
        this process alone (SKIP LOCKED on PostgreSQL), oldest first."""
        # Lock the batch first, then update exactly it: PostgreSQL may re-run a LIMIT subquery
        # inside `UPDATE … WHERE id IN (…)` once per row, which would ignore the limit.
        ids = list(
            await self._session.scalars(
                select(ActionRequestRow.id)
                .where(ActionRequestRow.status == from_status.value, due <= by)
                .order_by(due, ActionRequestRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        # SQLite takes no lock on the SELECT: the guard on status and RETURNING keep to the
        # rows this process really claimed when another one got there first.
        ids = list(
            await self._session.scalars(
                update(ActionRequestRow)
                .where(ActionRequestRow.id.in_(ids), ActionRequestRow.status == from_status.value)
                .values(**values)
                .returning(ActionRequestRow.id)
                .execution_options(synchronize_session=False)
            )
        )
        if not ids:
            return []
        rows = await self._session.scalars(
            select(ActionRequestRow)
            .where(ActionRequestRow.id.in_(ids))
            .order_by(due, ActionRequestRow.id)
            .execution_options(populate_existing=True)
        )
        return [_request(row) for row in rows]

    async def for_incident(self, incident_id: str) -> list[ActionRequest]:
        rows = await self._session.scalars(
            select(ActionRequestRow)
            .where(ActionRequestRow.incident_id == incident_id)
            .order_by(ActionRequestRow.requested_at, ActionRequestRow.id)
        )
        return [_request(row) for row in rows]


def _move_json(move: Move) -> dict[str, Any]:
    if isinstance(move, VersionMove):
        return {"component": move.component.value, "before": move.before, "after": move.after}
    return {"flag": move.flag, "kind": move.kind.value, "before": move.before, "after": move.after}


def _move(data: dict[str, Any]) -> Move:
    if "component" in data:
        return VersionMove(Component(data["component"]), data["before"], data["after"])
    return FlagMove(data["flag"], FlagKind(data["kind"]), data["before"], data["after"])


def _request(row: ActionRequestRow) -> ActionRequest:
    action = Action(ActionKind(row.kind), row.service, tuple(_move(m) for m in row.moves))
    return ActionRequest(
        id=row.id,
        incident_id=row.incident_id,
        channel_id=row.channel_id,
        action=action,
        risk=Risk(row.risk),
        reason=row.reason,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        expires_at=row.expires_at,
        status=RequestStatus(row.status),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        message_ts=row.message_ts,
        outcome=row.outcome,
        attempts=row.attempts,
        verification=row.verification,
        applying_since=row.applying_since,
    )
