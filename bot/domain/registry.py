"""What runs and what changed: services, their components' versions, flags, and changes.

The registry answers "what is running right now?" and "what changed last?". A component's
current version is the `to_version` of its latest change, or the version declared in
`steadyhand.yml` when nothing was ever recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.choices import parse_choice
from bot.domain.drivers import BUILTIN_DRIVER, DriverSpec, VerificationSpec
from bot.domain.errors import NotFound, UsageError


class Component(StrEnum):
    MODEL = "model"
    PROMPT = "prompt"
    RETRIEVAL_INDEX = "retrieval_index"
    EMBEDDING_MODEL = "embedding_model"
    CHUNKING = "chunking"
    ROUTING = "routing"
    TOOL_PERMISSIONS = "tool_permissions"
    OUTPUT_SCHEMA = "output_schema"
    MEMORY = "memory"

    @classmethod
    def parse(cls, text: str) -> Component:
        return parse_choice(cls, text, "component", "components")


class FlagKind(StrEnum):
    BOOLEAN = "boolean"
    PERCENTAGE = "percentage"  # a gradual rollout, 0-100
    KILL_SWITCH = "kill_switch"  # on: every action-taking step of the service's agents pauses
    DRY_RUN = "dry_run"  # on: the agents reason but do not act


# Every service has these two flags, whether or not steadyhand.yml declares them.
BUILT_IN_FLAGS = {"kill_switch": FlagKind.KILL_SWITCH, "dry_run": FlagKind.DRY_RUN}

MAX_VERSION = 200


@dataclass(frozen=True)
class FlagSpec:
    name: str
    kind: FlagKind
    default: bool | int  # on/off, or a percentage for PERCENTAGE flags


@dataclass(frozen=True)
class ServiceSpec:
    """A service, declared in steadyhand.yml or registered over the API: its components' first
    versions and its flags."""

    name: str
    components: dict[Component, str] = field(default_factory=dict)  # component → first version
    flags: dict[str, FlagSpec] = field(default_factory=dict)
    environment: str = "production"  # policy rules may give actions a risk per environment
    driver: DriverSpec = BUILTIN_DRIVER  # how rollbacks reach the real system
    flag_driver: DriverSpec | None = None  # for flags, when not `driver` (e.g. Unleash)
    verification: VerificationSpec | None = None  # run after every applied action

    def driver_for(self, changes_flags: bool) -> DriverSpec:
        return (self.flag_driver or self.driver) if changes_flags else self.driver

    def component(self, text: str) -> Component:
        component = Component.parse(text)
        if component not in self.components:
            valid = ", ".join(c.value for c in self.components) or "none declared"
            raise UsageError(
                f"Service `{self.name}` has no component `{component.value}`. "
                f"Its components: {valid}."
            )
        return component

    def flag(self, name: str) -> FlagSpec:
        if name not in self.flags:
            valid = ", ".join(sorted(self.flags)) or "none"
            raise UsageError(f"Service `{self.name}` has no flag `{name}`. Its flags: {valid}.")
        return self.flags[name]


@dataclass(frozen=True)
class Change:
    """One component of one service moving from one version to another."""

    id: str
    service: str
    component: Component
    from_version: str | None  # None: the first version ever recorded
    to_version: str
    actor: str  # a Slack user ID, a CI system's name, or an email
    at: datetime  # when it was deployed (UTC), as reported
    source: str | None = None  # a link to the pipeline run, pull request, …
    eval_score: float | None = None


@dataclass(frozen=True)
class KnownGood:
    service: str
    component: Component
    version: str
    marked_by: str
    at: datetime
    reason: str  # "marked by <@U…>", "passed evals", "ran clean for 24h"


@dataclass(frozen=True)
class FlagState:
    service: str
    name: str
    kind: FlagKind
    value: bool | int
    updated_by: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Snapshot:
    """The full set of a service's component versions at a moment: a release."""

    service: str
    at: datetime
    versions: dict[Component, str]


class Catalog:
    """Every service, and every lookup by name goes through here, for one error text.

    Two parts: the services declared in steadyhand.yml, fixed for the process's life, and those
    registered over the API, kept in the database and cached here (`set_registered`). One
    instance is shared by reference, so refreshing it updates every user in the process. A
    declared name always wins: a registration can never replace it.
    """

    def __init__(self, services: Iterable[ServiceSpec]) -> None:
        self._declared = {s.name: s for s in services}
        self._registered: dict[str, ServiceSpec] = {}
        self._all = dict(self._declared)
        self._generation = 0  # bumped by every write, so a stale refresh can tell

    def __iter__(self) -> Iterator[ServiceSpec]:
        return iter(tuple(self._all.values()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._all)

    @property
    def generation(self) -> int:
        return self._generation

    def is_declared(self, name: str) -> bool:
        return name in self._declared

    def service(self, name: str) -> ServiceSpec:
        if name not in self._all:
            valid = ", ".join(self._all) or "none are declared in steadyhand.yml or registered"
            raise NotFound(f"Unknown service `{name}`. Known services: {valid}.")
        return self._all[name]

    def set_registered(self, services: Iterable[ServiceSpec], seen: int | None = None) -> bool:
        """Replace the registered part. With `seen` (a `generation` read before loading
        `services`), do nothing if the catalog changed since: the load is older than that
        change. True when replaced."""
        if seen is not None and seen != self._generation:
            return False
        registered = {s.name: s for s in services if s.name not in self._declared}
        self._registered = registered
        self._all = {**self._declared, **registered}
        self._generation += 1
        return True

    def put_registered(self, service: ServiceSpec) -> None:
        """Add or replace one registered service (just saved by this process)."""
        if service.name in self._declared:
            raise ValueError(f"`{service.name}` is declared in steadyhand.yml")
        self.set_registered({**self._registered, service.name: service}.values())


def validate_version(version: str) -> str:
    version = version.strip()
    # isprintable() also refuses control characters and lone surrogates, which no answer or
    # database write could carry.
    if not version or len(version) > MAX_VERSION or not version.isprintable() or " " in version:
        raise UsageError(
            f"A version is one word of at most {MAX_VERSION} characters, e.g. `v12`; "
            f"got `{version[:50]}`."
        )
    return version


def snapshot_at(spec: ServiceSpec, changes: list[Change], at: datetime) -> Snapshot:
    """The versions running at `at`: the declared ones, moved by every change up to then."""
    versions = dict(spec.components)
    for change in sorted(changes, key=lambda c: c.at):
        if change.service == spec.name and change.at <= at:
            versions[change.component] = change.to_version
    return Snapshot(spec.name, at, versions)


def changes_since(changes: list[Change], now: datetime, window: timedelta) -> list[Change]:
    """Newest first."""
    return sorted((c for c in changes if c.at >= now - window), key=lambda c: c.at, reverse=True)


_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """`90m`, `24h`, `7d`: a positive whole number and one unit."""
    text = text.strip().lower()
    number, unit = text[:-1], text[-1:]
    if unit not in _DURATION_UNITS or not number.isdigit() or int(number) < 1:
        raise UsageError(
            f"`{text}` is not a duration; write a whole number and m, h or d, e.g. `24h`, `90m`."
        )
    return timedelta(**{_DURATION_UNITS[unit]: int(number)})


def format_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


@dataclass(frozen=True)
class Running:
    """What runs now: versions (declared, moved by changes), flags (defaults, overlaid by
    states), and per component its last change and last known-good version."""

    spec: ServiceSpec
    versions: dict[Component, str]
    flags: dict[str, FlagState]
    last_change: dict[Component, Change]
    known_good: dict[Component, KnownGood]


def built_in_flags() -> dict[str, FlagSpec]:
    return {name: FlagSpec(name, kind, False) for name, kind in BUILT_IN_FLAGS.items()}
