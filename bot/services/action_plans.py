"""From what a person asked ("roll back the prompt", "flag new-retriever off") to an Action with
exact before → after values, read from the registry now. Every unknown name is an error that
lists the valid choices."""

from __future__ import annotations

from datetime import datetime

from bot.domain.actions import Action, ActionKind, FlagMove, VersionMove
from bot.domain.errors import UsageError
from bot.domain.registry import FlagKind, FlagSpec, ServiceSpec, validate_version
from bot.services import registry
from bot.services.deps import Deps

RECENT_VERSIONS_SHOWN = 10


async def plan_rollback(deps: Deps, service: str, component: str, version: str | None) -> Action:
    """To `version` if named (it must have run), else to the last known-good version."""
    spec = deps.catalog.service(service)
    which = spec.component(component)
    now = await registry.running(deps, spec.name)
    current = now.versions[which]
    async with deps.uow() as uow:
        ran = await registry.versions_ever_run(uow, spec, which)
        marks = await uow.registry.known_good(spec.name, which)
    recent = ", ".join(f"`{v}`" for v in ran[:RECENT_VERSIONS_SHOWN])
    if version is None:
        good = next((m.version for m in marks if m.version != current), None)
        if good is None:
            raise UsageError(
                f"`{spec.name}` {which.value} has no known-good version other than the one "
                f"running (`{current}`); name one: `/incident rollback {spec.name} "
                f"{which.value} <version>`. Recent versions: {recent}."
            )
        version = good
    version = validate_version(version)
    if version == current:
        raise UsageError(f"`{spec.name}` {which.value} already runs `{version}`.")
    if version not in ran:
        raise UsageError(
            f"`{spec.name}` {which.value} never ran `{version}`. Recent versions: {recent}."
        )
    return Action(ActionKind.ROLLBACK, spec.name, (VersionMove(which, current, version),))


async def plan_restore(deps: Deps, service: str, at: datetime) -> Action:
    """Every component back to what ran at `at`: the release of that moment."""
    spec = deps.catalog.service(service)
    if at > deps.clock.now():
        raise UsageError("Name a moment in the past to restore.")
    then = await registry.snapshot(deps, spec.name, at)
    now = await registry.running(deps, spec.name)
    moves = tuple(
        VersionMove(component, now.versions[component], version)
        for component, version in then.versions.items()
        if now.versions[component] != version
    )
    if not moves:
        raise UsageError(f"`{spec.name}` runs the same versions as then; nothing to restore.")
    return Action(ActionKind.RESTORE, spec.name, moves)


async def plan_flag(deps: Deps, service: str, flag: str, value: str) -> Action:
    spec = deps.catalog.service(service)
    declared = spec.flag(flag)
    kind = {FlagKind.KILL_SWITCH: ActionKind.KILL_SWITCH, FlagKind.DRY_RUN: ActionKind.DRY_RUN}
    return await _flag_action(deps, spec, declared, kind.get(declared.kind, ActionKind.FLAG), value)


async def plan_switch(deps: Deps, service: str, kind: ActionKind, on: bool) -> Action:
    """The kill switch or dry-run mode of a service, on or off."""
    spec = deps.catalog.service(service)
    name = {ActionKind.KILL_SWITCH: "kill_switch", ActionKind.DRY_RUN: "dry_run"}[kind]
    return await _flag_action(deps, spec, spec.flag(name), kind, "on" if on else "off")


async def _flag_action(
    deps: Deps, spec: ServiceSpec, flag: FlagSpec, kind: ActionKind, value: str
) -> Action:
    after = parse_flag_value(flag, value)
    before = (await registry.running(deps, spec.name)).flags[flag.name].value
    if before == after:
        raise UsageError(f"`{spec.name}` {flag.name} is already {value}.")
    return Action(kind, spec.name, (FlagMove(flag.name, flag.kind, before, after),))


async def plan_named(deps: Deps, service: str, named: str) -> Action:
    """An action written as in runbooks and alert rules: `rollback prompt`, `flag x off`,
    `flag x 25%`, `kill`, `dry-run on`."""
    match named.split():
        case ["rollback", component]:
            return await plan_rollback(deps, service, component, None)
        case ["flag", flag, value]:
            return await plan_flag(deps, service, flag, value)
        case ["kill"]:
            return await plan_switch(deps, service, ActionKind.KILL_SWITCH, True)
        case ["dry-run", state]:
            return await plan_switch(deps, service, ActionKind.DRY_RUN, state == "on")
    raise UsageError(f"`{named}` is not an action I can run.")


def parse_flag_value(flag: FlagSpec, text: str) -> bool | int:
    text = text.strip().lower()
    if flag.kind is FlagKind.PERCENTAGE:
        number = text.removesuffix("%")
        if number.isascii() and number.isdigit() and 0 <= int(number) <= 100:
            return int(number)
        if text in ("on", "off"):
            return 100 if text == "on" else 0
        raise UsageError(f"`{flag.name}` is a rollout percentage: give 0-100%, e.g. `25%`.")
    if text in ("on", "off"):
        return text == "on"
    raise UsageError(f"`{flag.name}` is on or off; got `{text}`.")
