"""SqlIncidentRepo: an incident is one `incidents` row plus its steps and triage answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.checklists import ChecklistStep
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind, IncidentStatus, Severity
from bot.domain.triage import Answer, ExampleSet, TriageAnswers, YesNoUnknown
from bot.store import upsert
from bot.store.models import ChecklistStepRow, IncidentRow, TriageAnswersRow

# Reads refresh any row already in the session, so a read after a write in the same unit of
# work sees that write (writes below are statements, which bypass the identity map).
FRESH = {"populate_existing": True}
NO_SYNC = {"synchronize_session": False}


class SqlIncidentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, incident: Incident) -> None:
        await self._session.execute(insert(IncidentRow).values(id=incident.id, **_own(incident)))
        await self._insert_steps(incident.id, incident.steps)
        if incident.answers is not None:
            await self._session.execute(
                insert(TriageAnswersRow).values(_answers(incident.id, incident.answers))
            )

    async def get(self, incident_id: str) -> Incident | None:
        row = await self._session.scalar(
            select(IncidentRow).where(IncidentRow.id == incident_id).execution_options(**FRESH)
        )
        return None if row is None else await self._load(row)

    async def is_open(self, incident_id: str) -> bool | None:
        status = await self._session.scalar(
            select(IncidentRow.status).where(IncidentRow.id == incident_id)
        )
        return None if status is None else status != IncidentStatus.RESOLVED.value

    async def get_by_channel(self, channel_id: str) -> Incident | None:
        row = await self._session.scalar(
            select(IncidentRow)
            .where(IncidentRow.channel_id == channel_id)
            .execution_options(**FRESH)
        )
        return None if row is None else await self._load(row)

    async def holds_channel_name(self, name: str, other_than: str) -> bool:
        found = await self._session.scalar(
            select(IncidentRow.id)
            .where(
                IncidentRow.channel_name == name,
                IncidentRow.channel_id.is_not(None),
                IncidentRow.id != other_than,
            )
            .limit(1)
        )
        return found is not None

    async def update(self, incident: Incident) -> None:
        updated = await self._session.scalar(
            update(IncidentRow)
            .where(IncidentRow.id == incident.id)
            .values(_own(incident))
            .returning(IncidentRow.id)
            .execution_options(**NO_SYNC)
        )
        if updated is None:
            raise LookupError(f"no incident {incident.id!r} to update")
        if incident.answers is None:
            await self._session.execute(
                delete(TriageAnswersRow)
                .where(TriageAnswersRow.incident_id == incident.id)
                .execution_options(**NO_SYNC)
            )
            return
        values = _answers(incident.id, incident.answers)
        stmt = upsert.insert(self._session, TriageAnswersRow).values(values)
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[TriageAnswersRow.incident_id],
                set_={k: v for k, v in values.items() if k != "incident_id"},
            )
        )

    async def update_step(self, incident_id: str, step: ChecklistStep) -> None:
        updated = await self._session.scalar(
            update(ChecklistStepRow)
            .where(
                ChecklistStepRow.incident_id == incident_id,
                ChecklistStepRow.position == step.position,
            )
            .values(_step(incident_id, step))
            .returning(ChecklistStepRow.position)
            .execution_options(**NO_SYNC)
        )
        if updated is None:
            raise LookupError(f"incident {incident_id!r} has no step at position {step.position}")

    async def replace_steps(self, incident_id: str, steps: Sequence[ChecklistStep]) -> None:
        await self._session.execute(
            delete(ChecklistStepRow)
            .where(ChecklistStepRow.incident_id == incident_id)
            .execution_options(**NO_SYNC)
        )
        await self._insert_steps(incident_id, steps)

    async def open_ids_for_service(self, service: str) -> list[str]:
        rows = await self._session.scalars(
            select(IncidentRow.id)
            .where(
                IncidentRow.service == service,
                IncidentRow.status != IncidentStatus.RESOLVED.value,
            )
            .order_by(IncidentRow.opened_at)
        )
        return list(rows)

    async def any_opened_since(self, service: str, at: datetime) -> bool:
        found = await self._session.scalar(
            select(IncidentRow.id)
            .where(IncidentRow.service == service, IncidentRow.opened_at >= at)
            .limit(1)
        )
        return found is not None

    async def _insert_steps(self, incident_id: str, steps: Sequence[ChecklistStep]) -> None:
        if steps:
            await self._session.execute(
                insert(ChecklistStepRow), [_step(incident_id, s) for s in steps]
            )

    async def _load(self, row: IncidentRow) -> Incident:
        steps = await self._session.scalars(
            select(ChecklistStepRow)
            .where(ChecklistStepRow.incident_id == row.id)
            .order_by(ChecklistStepRow.position)
            .execution_options(**FRESH)
        )
        answers = await self._session.scalar(
            select(TriageAnswersRow)
            .where(TriageAnswersRow.incident_id == row.id)
            .execution_options(**FRESH)
        )
        return Incident(
            id=row.id,
            kind=IncidentKind(row.kind),
            title=row.title,
            severity=Severity(row.severity),
            opened_by=row.opened_by,
            commander=row.commander,
            opened_at=row.opened_at,
            runbook_key=row.runbook_key,
            runbook_version=row.runbook_version,
            service=row.service,
            status=IncidentStatus(row.status),
            channel_id=row.channel_id,
            channel_name=row.channel_name,
            header_ts=row.header_ts,
            questions_ts=row.questions_ts,
            checklist_ts=list(row.checklist_ts),
            steps=[_step_from_row(s) for s in steps],
            answers=None if answers is None else _answers_from_row(answers),
            resolved_at=row.resolved_at,
            summary=row.summary,
        )


def _own(incident: Incident) -> dict[str, Any]:
    """The incident's own columns, without its id: what `update` writes."""
    return {
        "kind": incident.kind.value,
        "title": incident.title,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "service": incident.service,
        "opened_by": incident.opened_by,
        "commander": incident.commander,
        "opened_at": incident.opened_at,
        "resolved_at": incident.resolved_at,
        "summary": incident.summary,
        "runbook_key": incident.runbook_key,
        "runbook_version": incident.runbook_version,
        "channel_id": incident.channel_id,
        "channel_name": incident.channel_name,
        "header_ts": incident.header_ts,
        "questions_ts": incident.questions_ts,
        "checklist_ts": list(incident.checklist_ts),
    }


def _step(incident_id: str, step: ChecklistStep) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "position": step.position,
        "section": step.section,
        "text": step.text,
        "action": step.action,
        "checked_by": step.checked_by,
        "checked_at": step.checked_at,
    }


def _step_from_row(row: ChecklistStepRow) -> ChecklistStep:
    return ChecklistStep(
        position=row.position,
        section=row.section,
        text=row.text,
        action=row.action,
        checked_by=row.checked_by,
        checked_at=row.checked_at,
    )


def _answers(incident_id: str, answers: TriageAnswers) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "failure_layer": answers.failure_layer.value,
        "recent_change_choice": answers.recent_change.choice.value,
        "recent_change_detail": answers.recent_change.detail,
        "rollback_available_choice": answers.rollback_available.choice.value,
        "rollback_available_detail": answers.rollback_available.detail,
        "human_review_needed_choice": answers.human_review_needed.choice.value,
        "human_review_needed_detail": answers.human_review_needed.detail,
        "examples_destination": answers.examples_destination.value,
        "answered_by": answers.answered_by,
        "answered_at": answers.answered_at,
    }


def _answers_from_row(row: TriageAnswersRow) -> TriageAnswers:
    return TriageAnswers(
        failure_layer=IncidentKind(row.failure_layer),
        recent_change=Answer(YesNoUnknown(row.recent_change_choice), row.recent_change_detail),
        rollback_available=Answer(
            YesNoUnknown(row.rollback_available_choice), row.rollback_available_detail
        ),
        human_review_needed=Answer(
            YesNoUnknown(row.human_review_needed_choice), row.human_review_needed_detail
        ),
        examples_destination=ExampleSet(row.examples_destination),
        answered_by=row.answered_by,
        answered_at=row.answered_at,
    )
