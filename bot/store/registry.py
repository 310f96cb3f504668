"""SqlRegistryRepo: changes, known-good marks, flag states and registered services."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import service_rules
from bot.domain.errors import ConfigError, UsageError
from bot.domain.registry import (
    BUILT_IN_FLAGS,
    Change,
    Component,
    FlagKind,
    FlagState,
    KnownGood,
    ServiceSpec,
    built_in_flags,
    validate_version,
)
from bot.store import upsert
from bot.store.models import ChangeRow, FlagStateRow, KnownGoodRow, RegisteredServiceRow
from bot.store.registry_version import read_version

log = logging.getLogger(__name__)

_COMPONENTS = {c.value for c in Component}
_FLAG_KINDS = {k.value for k in FlagKind}
# How many of a component's newest changes to read for one that is valid.
_LOOK_BACK = 10


class SqlRegistryRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # Set by every write: the unit of work bumps the registry's version on commit.
        self.changed = False

    async def version(self) -> int:
        return await read_version(self._session)

    async def add_change(self, change: Change) -> None:
        self.changed = True
        await self._session.execute(
            insert(ChangeRow).values(
                id=change.id,
                service=change.service,
                component=change.component.value,
                from_version=change.from_version,
                to_version=change.to_version,
                actor=change.actor,
                at=change.at,
                source=change.source,
                eval_score=change.eval_score,
                # When we heard of it, to the microsecond on every backend (SQLite's
                # CURRENT_TIMESTAMP has whole seconds): it orders changes reported for one moment.
                recorded_at=datetime.now(UTC),
            )
        )

    async def get_change(self, change_id: str) -> Change | None:
        row = await self._session.get(ChangeRow, change_id)
        return None if row is None else _change(row)

    async def changes(
        self,
        service: str | None = None,
        *,
        component: Component | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Change]:
        query = select(ChangeRow)
        if service is not None:
            query = query.where(ChangeRow.service == service)
        if component is not None:
            query = query.where(ChangeRow.component == component.value)
        if since is not None:
            query = query.where(ChangeRow.at >= since)
        # recorded_at then id break ties between changes reported for the same moment.
        query = query.order_by(
            ChangeRow.at.desc(), ChangeRow.recorded_at.desc(), ChangeRow.id.desc()
        )
        rows = await self._session.scalars(query.limit(limit))
        return [change for row in rows if (change := _readable_change(row))]

    async def latest_versions(self, service: str) -> dict[Component, str]:
        # One indexed lookup per component the service has changes for: at most nine.
        components = await self._session.scalars(
            select(ChangeRow.component).where(ChangeRow.service == service).distinct()
        )
        latest: dict[Component, str] = {}
        for text in list(components):
            if text not in _COMPONENTS:
                log.warning("Skipped changes of %s to an unknown component %r", service, text)
                continue
            component = Component(text)
            # The newest change that can be read; a bad one is logged and passed over.
            newest = await self.changes(service, component=component, limit=_LOOK_BACK)
            if newest:
                latest[component] = newest[0].to_version
        return latest

    async def mark_known_good(self, mark: KnownGood) -> None:
        self.changed = True
        values = {"marked_by": mark.marked_by, "at": mark.at, "reason": mark.reason}
        stmt = upsert.insert(self._session, KnownGoodRow).values(
            service=mark.service, component=mark.component.value, version=mark.version, **values
        )
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[
                    KnownGoodRow.service,
                    KnownGoodRow.component,
                    KnownGoodRow.version,
                ],
                set_=values,
            )
        )

    async def known_good(self, service: str, component: Component) -> list[KnownGood]:
        rows = await self._session.scalars(
            select(KnownGoodRow)
            .where(KnownGoodRow.service == service, KnownGoodRow.component == component.value)
            .order_by(KnownGoodRow.at.desc(), KnownGoodRow.version.desc())
        )
        return [
            KnownGood(r.service, component, r.version, r.marked_by, r.at, r.reason)
            for r in rows
            if _readable_version(r.version, f"known-good mark of {r.service}.{r.component}")
        ]

    async def flag_states(self, service: str) -> dict[str, FlagState]:
        rows = await self._session.scalars(
            select(FlagStateRow).where(FlagStateRow.service == service)
        )
        states = {}
        for r in rows:
            if r.kind not in _FLAG_KINDS:
                log.warning("Skipped flag %s.%s of unknown kind %r", r.service, r.name, r.kind)
                continue
            kind = FlagKind(r.kind)
            value: bool | int = r.value if kind is FlagKind.PERCENTAGE else bool(r.value)
            states[r.name] = FlagState(r.service, r.name, kind, value, r.updated_by, r.updated_at)
        return states

    async def set_flag(self, state: FlagState) -> None:
        self.changed = True
        values = {
            "kind": state.kind.value,
            "value": int(state.value),
            "updated_by": state.updated_by,
            "updated_at": state.updated_at,
        }
        stmt = upsert.insert(self._session, FlagStateRow).values(
            service=state.service, name=state.name, **values
        )
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[FlagStateRow.service, FlagStateRow.name], set_=values
            )
        )

    async def registered_services(self) -> list[ServiceSpec]:
        rows = await self._session.scalars(
            select(RegisteredServiceRow).order_by(
                RegisteredServiceRow.registered_at, RegisteredServiceRow.name
            )
        )
        return [spec for row in rows if (spec := _readable_service(row))]

    async def save_service(self, spec: ServiceSpec, by: str, at: datetime) -> None:
        self.changed = True
        values = {
            "components": {c.value: version for c, version in spec.components.items()},
            "flags": {
                f.name: {"kind": f.kind.value, "default": f.default}
                for f in spec.flags.values()
                if f.name not in BUILT_IN_FLAGS  # every service has them; not stored
            },
            "environment": spec.environment,
            "updated_by": by,
            "updated_at": at,
        }
        stmt = upsert.insert(self._session, RegisteredServiceRow).values(
            name=spec.name, registered_by=by, registered_at=at, **values
        )
        await self._session.execute(
            stmt.on_conflict_do_update(index_elements=[RegisteredServiceRow.name], set_=values)
        )


def _readable_service(row: RegisteredServiceRow) -> ServiceSpec | None:
    """The row by the rules a registration follows; None, logged, when it breaks them (written
    by an older version or by hand): one bad row must not break every read of the catalog."""
    try:
        return ServiceSpec(
            service_rules.service_name("name", row.name),
            components=service_rules.components("components", row.components),
            flags={**built_in_flags(), **service_rules.flags("flags", row.flags)},
            environment=service_rules.environment("environment", row.environment),
        )
    except ConfigError as exc:
        log.warning("Skipped the registered service %r, which breaks a rule: %s", row.name, exc)
        return None


def _readable_version(version: str, what: str) -> bool:
    try:
        validate_version(version)
    except UsageError as exc:
        log.warning("Skipped the %s, which breaks a rule: %s", what, exc)
        return False
    return True


def _readable_change(row: ChangeRow) -> Change | None:
    try:
        change = _change(row)
        validate_version(change.to_version)
        if change.from_version is not None:
            validate_version(change.from_version)
    except (ValueError, UsageError) as exc:
        log.warning(
            "Skipped the change %s of %s, which breaks a rule: %s", row.id, row.service, exc
        )
        return None
    return change


def _change(row: ChangeRow) -> Change:
    return Change(
        id=row.id,
        service=row.service,
        component=Component(row.component),
        from_version=row.from_version,
        to_version=row.to_version,
        actor=row.actor,
        at=row.at,
        source=row.source,
        eval_score=row.eval_score,
    )
