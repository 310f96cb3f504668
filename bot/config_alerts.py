"""The `alerts:` section of steadyhand.yml: how alerts from monitors become incidents.

```yaml
alerts:
  labels: {service: service, kind: ai_incident_kind, severity: severity}   # optional label names
  default_severity: sev2
  severities: {critical: sev1, warning: sev3}   # label value → severity, over the defaults
  group_window: 30m
  page: S0ONCALL          # user group (S…) or user (U…/W…) paged in new alert incidents
  resolve_when_all_resolved: false
  grafana_secret_env: GRAFANA_WEBHOOK_SECRET
  grafana_timestamp_header: X-Grafana-Alerting-Signature-Timestamp
  pagerduty_secret_env: PAGERDUTY_WEBHOOK_SECRET
  rules:
    - match: {alertname: EvalScoreDrop}
      service: support-bot
      kind: quality
      severity: sev2
    - match: {team: search}
      kind: retrieval
  auto_actions:
    - service: support-bot
      match: {alertname: RefusalRateDrop}
      action: rollback prompt
      after: 3              # consecutive firing notifications (1 = at once)
      min_interval: 30m     # no second automatic action on the same target within this
      dry_run: false
```

Every key is optional. `labels` names the alert labels read when no rule decides (defaults
shown). `severities` maps label values, case-insensitively, to sev1-sev4; the defaults already
know critical/page → sev1, error/high → sev2, warning/medium → sev3, info/low → sev4 and
sev1-sev4 themselves. `default_severity` (sev2) is used when neither a rule nor a label gives
one. Alerts for the same service and kind within `group_window` (30m) join one incident; a
service not declared under `services` is grouped by the name the alert gives it, and an alert
naming no service by its own name, so unrelated alerts never share an incident.
`resolve_when_all_resolved` resolves the incident when all its alerts have resolved; otherwise
the bot only suggests it.

`rules` (at most 200) are tried in order; the first whose `match` labels all equal the alert's
(`alertname` is the alert's name) sets its service, kind (quality, retrieval, tool, policy,
cost, latency) and/or severity. A rule may name a service that is not declared under
`services`: the incident still opens. Label values in `match` are strings: quote numbers
(`{code: "500"}`), since YAML reads `0123` as 83 and `yes` as true.

`auto_actions` (at most 200) ask for a runbook action (`rollback <component>`,
`flag <name> on|off|<0-100>%`, `kill`, `dry-run on|off`) on a declared service after `after`
(1-100, default 1) consecutive firing notifications of a matching alert, at most once per
`min_interval` (30m) per target; without `match`, every alert of the service counts. The action
still goes through the approval policy; `dry_run: true` only announces it.

Secrets stay out of the file: `grafana_secret_env` names the environment variable holding the
Grafana webhook HMAC secret, `pagerduty_secret_env` the one holding the PagerDuty webhook
secret (comma-separated while rotating). `grafana_timestamp_header` is the header carrying the
timestamp Grafana signs with the body. Bearer tokens for /alerts/alertmanager, /alerts/grafana
and /alerts/generic come from STEADYHAND_ALERT_TOKENS (comma-separated, each at least 16
characters), or STEADYHAND_API_TOKENS when that is not set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

# Private helpers reused so a Slack ID or a secret's variable is checked, and its error worded,
# the same everywhere in the file.
from bot.config_actions import _ids
from bot.config_drivers import _secret
from bot.domain import service_rules
from bot.domain.alert_rules import AlertRule, AlertSettings, AutoAction
from bot.domain.errors import ConfigError, UsageError
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.known_keys import check_keys
from bot.domain.registry import Catalog, ServiceSpec, parse_duration
from bot.runbooks.actions import ACTION_FORMS, action_problem, normalise_action

_ALERT_KEYS = (
    "labels",
    "default_severity",
    "severities",
    "group_window",
    "page",
    "resolve_when_all_resolved",
    "grafana_secret_env",
    "grafana_timestamp_header",
    "pagerduty_secret_env",
    "rules",
    "auto_actions",
)
_LABEL_KEYS = ("service", "kind", "severity")
_RULE_KEYS = ("match", "service", "kind", "severity")
_AUTO_KEYS = ("service", "match", "action", "after", "min_interval", "dry_run")
MAX_RULES = 200
MAX_AUTO_ACTIONS = 200
MAX_AFTER = 100
_MAX_LABEL_CHARS = 256  # what the alert parsers accept for a label name
_AUTO_DEFAULT = AutoAction(service="", action="")
_HEADER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")

Choice = TypeVar("Choice", bound=StrEnum)


@dataclass(frozen=True)
class AlertWebhooks:
    """What the webhook endpoints check signatures with, read from the environment."""

    grafana_secret: str | None = None
    grafana_timestamp_header: str | None = None
    pagerduty_secrets: tuple[str, ...] = ()


def parse_alerts(where: str, raw: Any, catalog: Catalog) -> AlertSettings:
    """Parse after the services: auto actions must name one of them."""
    key = f"{where}: alerts"
    body = _section(key, raw)
    default = AlertSettings()
    labels = _labels(f"{key}.labels", body.get("labels"))
    return AlertSettings(
        rules=_rules(f"{key}.rules", body.get("rules")),
        service_label=labels.get("service", default.service_label),
        kind_label=labels.get("kind", default.kind_label),
        severity_label=labels.get("severity", default.severity_label),
        severities={
            **default.severities,
            **_severities(f"{key}.severities", body.get("severities")),
        },
        default_severity=_choice(
            f"{key}.default_severity",
            body.get("default_severity", default.default_severity),
            tuple(Severity),
        ),
        group_window=_duration(
            f"{key}.group_window", body.get("group_window"), default.group_window
        ),
        page=_page(f"{key}.page", body.get("page")),
        auto_actions=_auto_actions(f"{key}.auto_actions", body.get("auto_actions"), catalog),
        resolve_when_all_resolved=_bool(
            f"{key}.resolve_when_all_resolved", body.get("resolve_when_all_resolved", False)
        ),
    )


def parse_alert_webhooks(where: str, raw: Any, environ: Mapping[str, str]) -> AlertWebhooks:
    """`environ` holds the secrets the section names by environment variable."""
    key = f"{where}: alerts"
    body = _section(key, raw)
    grafana = (
        _secret(key, body, "grafana_secret_env", environ) if "grafana_secret_env" in body else None
    )
    header = body.get("grafana_timestamp_header")
    if header is not None:
        if not isinstance(header, str) or not _HEADER.match(header):
            raise ConfigError(
                f"{key}.grafana_timestamp_header",
                "must be an HTTP header name, e.g. `X-Grafana-Alerting-Signature-Timestamp`.",
            )
        if grafana is None:
            raise ConfigError(
                f"{key}.grafana_timestamp_header",
                "is signed with the body; set grafana_secret_env too.",
            )
    pagerduty: tuple[str, ...] = ()
    if "pagerduty_secret_env" in body:
        value = _secret(key, body, "pagerduty_secret_env", environ)
        pagerduty = tuple(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))
        if not pagerduty:
            raise ConfigError(
                f"{key}.pagerduty_secret_env",
                f"environment variable `{body['pagerduty_secret_env']}` holds no secret.",
            )
    return AlertWebhooks(grafana, header, pagerduty)


def _section(key: str, raw: Any) -> dict[Any, Any]:
    body = {} if raw is None else raw
    if not isinstance(body, dict):
        raise ConfigError(key, f"must be a mapping; valid settings: {', '.join(_ALERT_KEYS)}.")
    for name in ("grafana_secret", "pagerduty_secret"):
        if name in body:  # the likeliest slip here, and it would put a secret in the file
            raise ConfigError(
                f"{key}.{name}",
                f"secrets stay out of this file: name the environment variable with `{name}_env`.",
            )
    check_keys(key, body, _ALERT_KEYS, "setting in alerts")
    return body


def _labels(key: str, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a mapping like `{service: app, kind: ai_incident_kind}`.")
    check_keys(key, raw, _LABEL_KEYS, "label setting")
    for name, label in raw.items():
        _label_name(f"{key}.{name}", label)
    return dict(raw)


def _severities(key: str, raw: Any) -> dict[str, Severity]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a mapping label value → severity, e.g. `{p1: sev1}`.")
    out: dict[str, Severity] = {}
    for value, severity in raw.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(key, f'`{value}` is not a label value; quote it, e.g. `"1": sev1`.')
        out[value.strip().lower()] = _choice(f"{key}.{value}", severity, tuple(Severity))
    return out


def _rules(key: str, raw: Any) -> tuple[AlertRule, ...]:
    entries = _list(key, raw, MAX_RULES, "`- {match: {alertname: X}, kind: quality}`")
    return tuple(_rule(f"{key}[{i}]", entry) for i, entry in enumerate(entries))


def _rule(key: str, raw: Any) -> AlertRule:
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a mapping like `{match: {alertname: X}, kind: quality}`.")
    check_keys(key, raw, _RULE_KEYS, "rule setting")
    if "match" not in raw:
        raise ConfigError(f"{key}.match", "is required: the labels an alert must have.")
    if not any(raw.get(name) is not None for name in ("service", "kind", "severity")):
        raise ConfigError(key, "sets nothing; give at least one of service, kind, severity.")
    service, kind, severity = raw.get("service"), raw.get("kind"), raw.get("severity")
    return AlertRule(
        match=_match(f"{key}.match", raw["match"]),
        # Any well-formed name: alerts for services not declared still open incidents.
        service=None if service is None else service_rules.service_name(f"{key}.service", service),
        kind=None if kind is None else _choice(f"{key}.kind", kind, IncidentKind.classified()),
        severity=None
        if severity is None
        else _choice(f"{key}.severity", severity, tuple(Severity)),
    )


def _auto_actions(key: str, raw: Any, catalog: Catalog) -> tuple[AutoAction, ...]:
    entries = _list(key, raw, MAX_AUTO_ACTIONS, "`- {service: s, action: rollback prompt}`")
    return tuple(_auto_action(f"{key}[{i}]", entry, catalog) for i, entry in enumerate(entries))


def _auto_action(key: str, raw: Any, catalog: Catalog) -> AutoAction:
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a mapping like `{service: s, action: rollback prompt}`.")
    check_keys(key, raw, _AUTO_KEYS, "setting in auto_actions")
    for required in ("service", "action"):
        if raw.get(required) is None:
            raise ConfigError(f"{key}.{required}", "is required.")
    service = str(raw["service"])
    if service not in catalog.names:
        known = ", ".join(catalog.names) or "none are declared under services"
        raise ConfigError(f"{key}.service", f"`{service}` is not a service; known: {known}.")
    after = raw.get("after", 1)
    if not isinstance(after, int) or isinstance(after, bool) or not 1 <= after <= MAX_AFTER:
        raise ConfigError(
            f"{key}.after", f"must be a whole number of firing notifications, 1 to {MAX_AFTER}."
        )
    return AutoAction(
        service=service,
        action=_action(f"{key}.action", raw["action"], catalog.service(service)),
        match={} if "match" not in raw else _match(f"{key}.match", raw["match"]),
        after=after,
        min_interval=_duration(
            f"{key}.min_interval", raw.get("min_interval"), _AUTO_DEFAULT.min_interval
        ),
        dry_run=_bool(f"{key}.dry_run", raw.get("dry_run", False)),
    )


def _action(key: str, raw: Any, spec: ServiceSpec) -> str:
    if not isinstance(raw, str):
        raise ConfigError(key, f"`{raw}` is not an action; valid actions: {ACTION_FORMS}.")
    action = normalise_action(raw)
    if problem := action_problem(action):
        raise ConfigError(key, f"{problem}.")
    # Found at 3 a.m. instead of now, a missing target would fail the very action meant to help.
    match action.split():
        case ["rollback", component] if component not in {c.value for c in spec.components}:
            valid = ", ".join(c.value for c in spec.components) or "none are declared"
            raise ConfigError(
                key, f"{spec.name} has no component `{component}`; its components: {valid}."
            )
        case ["flag", name, _] if name not in spec.flags:
            raise ConfigError(
                key,
                f"{spec.name} has no flag `{name}`; its flags: {', '.join(sorted(spec.flags))}.",
            )
    return action


def _match(key: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(key, "must be a non-empty mapping label → value, e.g. `{team: search}`.")
    for label, value in raw.items():
        _label_name(key, label)
        if not isinstance(value, str):
            # YAML would turn `0123` into 83 and `yes` into true: only quoted text is exact.
            raise ConfigError(
                f"{key}.{label}", f'`{value}` must be quoted text, e.g. `{label}: "{value}"`.'
            )
    return dict(raw)


def _label_name(key: str, raw: Any) -> None:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > _MAX_LABEL_CHARS:
        raise ConfigError(key, f"`{raw}` is not a label name (text, 1 to {_MAX_LABEL_CHARS}).")


def _list(key: str, raw: Any, limit: int, example: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(key, f"must be a list, e.g. {example}.")
    if len(raw) > limit:
        raise ConfigError(key, f"has {len(raw)} entries; at most {limit}.")
    return raw


def _duration(key: str, raw: Any, default: timedelta) -> timedelta:
    if raw is None:
        return default
    try:
        return parse_duration(str(raw))
    except UsageError as exc:
        raise ConfigError(key, str(exc)) from None


def _page(key: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ConfigError(key, "must be one Slack user group ID (S…) or user ID (U…, W…).")
    return _ids(key, [raw])[0]


def _bool(key: str, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise ConfigError(key, f"`{raw}` is not valid; valid: true, false.")
    return raw


def _choice(key: str, raw: Any, choices: tuple[Choice, ...]) -> Choice:
    text = str(raw).strip().lower()
    for choice in choices:
        if choice.value == text:
            return choice
    raise ConfigError(key, f"`{raw}` is not valid; valid: {', '.join(c.value for c in choices)}.")
