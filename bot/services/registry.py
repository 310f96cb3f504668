"""The registry's use cases: record a change, mark a version known-good, and read back what
runs now, what changed lately, and what ran at a moment."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from bot.domain.errors import UsageError
from bot.domain.registry import (
    Change,
    Component,
    FlagState,
    KnownGood,
    Running,
    ServiceSpec,
    Snapshot,
    changes_since,
    snapshot_at,
    validate_version,
)
from bot.domain.timeline import EventType
from bot.ports import UnitOfWork
from bot.services.deps import Deps
from bot.services.timeline import record

MAX_ACTOR = 200
MAX_SOURCE = 2000
RECENT_VERSIONS_SHOWN = 10


async def record_change(
    deps: Deps,
    service: str,
    component: str,
    version: str,
    actor: str,
    *,
    at: datetime | None = None,
    source: str | None = None,
    eval_score: float | None = None,
    idempotency_key: str | None = None,
) -> Change:
    """Record that `component` of `service` now runs `version`, and tell every open incident
    on the service, so its post-mortem shows what changed while it was open.

    With an idempotency key, a repeat returns the change the first call recorded."""
    spec = deps.catalog.service(service)
    which = spec.component(component)
    version = validate_version(version)
    actor = _actor(actor)
    score = _eval_score(eval_score)
    source = _source(source)
    at = at or deps.clock.now()
    if at.utcoffset() is None:
        raise UsageError("Give the change's time with a UTC offset, e.g. 2026-11-22T09:00:00Z.")
    at = at.astimezone(UTC)
    change_id = deps.new_id()
    async with deps.uow() as uow:
        if idempotency_key is not None:
            # The change's ID comes from the key, so a repeat finds what the first call stored.
            change_id = _id_for(idempotency_key)
            if not await uow.idempotency.claim(f"change:{idempotency_key}", deps.clock.now()):
                earlier = await uow.registry.get_change(change_id)
                if earlier is None:  # claimed by a call that then failed validation
                    raise UsageError("This idempotency key was already used for another request.")
                return earlier
        current = (await _versions(uow, spec))[which]
        if current == version:
            raise UsageError(
                f"`{spec.name}` {which.value} already runs `{version}`; nothing to record."
            )
        change = Change(change_id, spec.name, which, current, version, actor, at, source, score)
        await uow.registry.add_change(change)
        for incident_id in await uow.incidents.open_ids_for_service(spec.name):
            await record(
                uow,
                incident_id,
                EventType.CHANGE_RECORDED,
                actor,
                at,
                f"{spec.name} {which.value}: {current} → {version}",
                change_id=change.id,
                service=spec.name,
                component=which.value,
                from_version=current,
                to_version=version,
                source=source,
                eval_score=score,
            )
        await uow.commit()
    return change


async def mark_known_good(
    deps: Deps, service: str, component: str, version: str, by: str, reason: str
) -> KnownGood:
    """Only a version the component has run can be known-good."""
    spec = deps.catalog.service(service)
    which = spec.component(component)
    version = validate_version(version)
    async with deps.uow() as uow:
        ran = await versions_ever_run(uow, spec, which)
        if version not in ran:
            recent = ", ".join(f"`{v}`" for v in ran[:RECENT_VERSIONS_SHOWN])
            raise UsageError(
                f"`{spec.name}` {which.value} never ran `{version}`. Recent versions: {recent}."
            )
        mark = KnownGood(spec.name, which, version, _actor(by), deps.clock.now(), reason)
        await uow.registry.mark_known_good(mark)
        await uow.commit()
    return mark


async def running(deps: Deps, service: str) -> Running:
    spec = deps.catalog.service(service)
    async with deps.uow() as uow:
        return await running_in(uow, spec)


async def running_in(uow: UnitOfWork, spec: ServiceSpec) -> Running:
    versions = await _versions(uow, spec)
    states = await uow.registry.flag_states(spec.name)
    last_change: dict[Component, Change] = {}
    known_good: dict[Component, KnownGood] = {}
    for component in versions:
        if changes := await uow.registry.changes(spec.name, component=component, limit=1):
            last_change[component] = changes[0]
        if marks := await uow.registry.known_good(spec.name, component):
            known_good[component] = marks[0]
    flags = {
        name: states.get(name) or FlagState(spec.name, name, flag.kind, flag.default)
        for name, flag in spec.flags.items()
    }
    return Running(spec, versions, flags, last_change, known_good)


async def recent_changes(deps: Deps, service: str | None, since: timedelta) -> list[Change]:
    """Newest first; every service's when `service` is None."""
    name = deps.catalog.service(service).name if service is not None else None
    now = deps.clock.now()
    async with deps.uow() as uow:
        found = await uow.registry.changes(name, since=now - since, limit=1000)
    return changes_since(found, now, since)


async def snapshot(deps: Deps, service: str, at: datetime) -> Snapshot:
    spec = deps.catalog.service(service)
    async with deps.uow() as uow:
        found = await uow.registry.changes(spec.name, limit=100_000)
    return snapshot_at(spec, found, at)


async def _versions(uow: UnitOfWork, spec: ServiceSpec) -> dict[Component, str]:
    """Declared versions overlaid by the latest changes."""
    latest = await uow.registry.latest_versions(spec.name)
    return {c: latest.get(c, first) for c, first in spec.components.items()}


async def versions_ever_run(uow: UnitOfWork, spec: ServiceSpec, which: Component) -> list[str]:
    """Newest first: the versions in changes, then the declared first version."""
    found = await uow.registry.changes(spec.name, component=which, limit=1000)
    versions = [c.to_version for c in found] + [spec.components[which]]
    return list(dict.fromkeys(versions))


def _id_for(idempotency_key: str) -> str:
    return hashlib.sha256(f"change:{idempotency_key}".encode()).hexdigest()[:16]


def _actor(actor: str) -> str:
    actor = actor.strip()
    if not actor or len(actor) > MAX_ACTOR:
        raise UsageError(f"Say who made the change (at most {MAX_ACTOR} characters).")
    return actor


def _source(source: str | None) -> str | None:
    source = (source or "").strip() or None
    if source is not None and len(source) > MAX_SOURCE:
        raise UsageError(f"The source link is longer than {MAX_SOURCE} characters.")
    return source


def _eval_score(score: float | None) -> float | None:
    if score is None:
        return None
    if isinstance(score, bool) or not math.isfinite(score) or not 0 <= score <= 1:
        raise UsageError(f"An eval score is a number from 0 to 1, e.g. 0.87; got `{score}`.")
    return float(score)
