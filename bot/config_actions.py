"""`roles` and `policy` in steadyhand.yml: who may act, and which actions wait for approval."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, TypeVar

from bot.domain.actions import ActionKind, ActionPolicy, Risk, RiskRule, Role, Roles
from bot.domain.errors import ConfigError, UsageError
from bot.domain.known_keys import check_keys
from bot.domain.registry import BUILT_IN_FLAGS, Catalog, Component, parse_duration

# Slack user (U…, W…) and user group (S…) IDs. Real ones are upper-case letters and digits;
# the sandbox's fixed ones (U_ALICE, S_ONCALL) add underscores.
_SLACK_ID = re.compile(r"^[UWS][A-Z0-9_]{2,}$")
_POLICY_KEYS = ("default_risk", "approval_expires_after", "rules")
_RULE_KEYS = ("risk", "service", "target", "action", "environment")

Choice = TypeVar("Choice", bound=StrEnum)


def parse_roles(where: str, raw: Any) -> Roles:
    key = f"{where}: roles"
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError(
            key, f"must be a mapping role → list of Slack IDs; roles: {_valid(Role)}."
        )
    check_keys(key, raw, [r.value for r in Role], "role")
    ids = {role: _ids(f"{key}.{role.value}", raw.get(role.value)) for role in Role}
    if not any(ids.values()):
        # A roles section that names nobody would leave nobody allowed to act.
        raise ConfigError(key, "names nobody; list at least the responders, or remove the section.")
    return Roles(ids[Role.RESPONDER], ids[Role.COMMANDER], ids[Role.APPROVER], configured=True)


def _ids(key: str, raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(key, "must be a list of Slack user or user group IDs, e.g. [U0123ABCD].")
    for entry in raw:
        if not isinstance(entry, str) or not _SLACK_ID.match(entry):
            raise ConfigError(
                key,
                f"`{entry}` is not a Slack user ID (U…, W…) or user group ID (S…); "
                "copy a member ID from the person's profile (⋮ → Copy member ID).",
            )
    return tuple(dict.fromkeys(raw))


def parse_policy(where: str, raw: Any, catalog: Catalog) -> ActionPolicy:
    """Parse after the services: rules name them."""
    key = f"{where}: policy"
    if not isinstance(raw, dict):
        raise ConfigError(key, f"must be a mapping; valid settings: {', '.join(_POLICY_KEYS)}.")
    check_keys(key, raw, _POLICY_KEYS, "policy setting")
    default = ActionPolicy()
    default_risk = _choice(
        f"{key}.default_risk", raw.get("default_risk", default.default_risk), Risk
    )
    expires = default.approval_expires_after
    if (after := raw.get("approval_expires_after")) is not None:
        try:
            expires = parse_duration(str(after))
        except UsageError as exc:
            raise ConfigError(f"{key}.approval_expires_after", str(exc)) from None
    rules = raw.get("rules") or []
    if not isinstance(rules, list):
        raise ConfigError(
            f"{key}.rules", "must be a list of rules, e.g. `- {risk: low, action: flag}`."
        )
    return ActionPolicy(
        tuple(_rule(f"{key}.rules[{i}]", rule, catalog) for i, rule in enumerate(rules)),
        default_risk,
        expires,
    )


def _rule(key: str, raw: Any, catalog: Catalog) -> RiskRule:
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a mapping like `{risk: low, service: support-bot}`.")
    check_keys(key, raw, _RULE_KEYS, "rule setting")
    if "risk" not in raw:
        raise ConfigError(f"{key}.risk", f"is required; valid: {_valid(Risk)}.")
    service = _text(raw, "service")
    if service is not None and service not in catalog.names:
        known = ", ".join(catalog.names) or "none are declared under services"
        raise ConfigError(f"{key}.service", f"`{service}` is not a service; known: {known}.")
    # A rule that can match nothing is most likely a typo, and a typo here silently changes
    # which actions wait for approval: the target and environment must exist.
    target = _text(raw, "target")
    if target is not None and target not in (targets := _targets(catalog, service)):
        of = f" of {service}" if service else ""
        raise ConfigError(
            f"{key}.target",
            f"`{target}` is not a component or flag{of}; valid: {', '.join(sorted(targets))}.",
        )
    environment = _text(raw, "environment")
    specs = [catalog.service(service)] if service else list(catalog)
    if environment is not None and environment not in (envs := {s.environment for s in specs}):
        known = ", ".join(sorted(envs)) or "none"
        raise ConfigError(
            f"{key}.environment", f"no matching service runs in `{environment}`; known: {known}."
        )
    action = raw.get("action")
    return RiskRule(
        risk=_choice(f"{key}.risk", raw["risk"], Risk),
        service=service,
        target=target,
        action=None if action is None else _choice(f"{key}.action", action, ActionKind),
        environment=environment,
    )


def _targets(catalog: Catalog, service: str | None) -> set[str]:
    if service is not None:
        spec = catalog.service(service)
        return {c.value for c in spec.components} | set(spec.flags)
    flags = {name for spec in catalog for name in spec.flags}
    return {c.value for c in Component} | flags | set(BUILT_IN_FLAGS)


def _text(raw: dict[Any, Any], name: str) -> str | None:
    value = raw.get(name)
    return None if value is None else str(value)


def _choice(key: str, raw: Any, choices: type[Choice]) -> Choice:
    for choice in choices:
        if choice.value == str(raw):
            return choice
    raise ConfigError(key, f"`{raw}` is not valid; valid: {_valid(choices)}.")


def _valid(choices: type[StrEnum]) -> str:
    return ", ".join(c.value for c in choices)
