"""What an AI service reads back by key: a flag's value, or a component's pinned version.

Keys are `<service>.<flag>` and `<service>.<component>`; service, flag and component names have
no dots, so the first dot splits a key. Every value is static: the same for every caller,
whatever context it sends. A percentage flag answers its percentage (0-100), not a per-caller
on/off: the AI service buckets its own callers, so a rollout needs no round trip per user.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.registry import Catalog, Component, FlagKind, FlagState, Running, ServiceSpec

Metadata = dict[str, str | bool | int]
KEY_FORMAT = "Keys are `<service>.<flag>` or `<service>.<component>`, e.g. `support-bot.prompt`."


@dataclass(frozen=True)
class Evaluation:
    key: str
    value: bool | int | str  # bool for on/off flags, int for percentages, str for versions
    variant: str  # `on`/`off`, `30%`, or the version
    metadata: Metadata


@dataclass(frozen=True)
class FlagNotFound:
    key: str
    details: str  # names what exists, so the caller can fix the key


def service_of(key: str, catalog: Catalog) -> ServiceSpec | FlagNotFound:
    name, _, _ = key.partition(".")
    if name in catalog.names:
        return catalog.service(name)
    known = ", ".join(catalog.names) or "none are declared"
    return FlagNotFound(key, f"No service `{name}`. Known services: {known}. {KEY_FORMAT}")


def evaluate(key: str, running: Running) -> Evaluation | FlagNotFound:
    service, dot, name = key.partition(".")
    if dot and service == running.spec.name:
        if name in running.flags:
            return _flag(key, running.flags[name])
        component = next((c for c in running.versions if c.value == name), None)
        if component is not None:
            return _version(key, running, component)
    valid = ", ".join(keys(running))
    return FlagNotFound(key, f"`{key}` is not a key of `{running.spec.name}`. Its keys: {valid}.")


def evaluate_all(running: Running) -> list[Evaluation]:
    """Flags first, then pinned components, in declared order, as `keys` lists them."""
    prefix = f"{running.spec.name}."
    flags = [_flag(prefix + name, state) for name, state in running.flags.items()]
    versions = [_version(prefix + c.value, running, c) for c in running.versions]
    return flags + versions


def keys(running: Running) -> list[str]:
    """Flags first, then pinned components, in declared order."""
    names = [*running.flags, *(c.value for c in running.versions)]
    return [f"{running.spec.name}.{name}" for name in names]


def _flag(key: str, state: FlagState) -> Evaluation:
    metadata: Metadata = {"service": state.service, "flag": state.name, "kind": state.kind.value}
    if state.kind is FlagKind.PERCENTAGE:
        percent = int(state.value)
        return Evaluation(key, percent, f"{percent}%", metadata)
    on = bool(state.value)
    return Evaluation(key, on, "on" if on else "off", metadata)


def _version(key: str, running: Running, component: Component) -> Evaluation:
    version = running.versions[component]
    metadata: Metadata = {"service": running.spec.name, "component": component.value}
    if known_good := running.known_good.get(component):
        metadata["known_good"] = known_good.version
    return Evaluation(key, version, version, metadata)
