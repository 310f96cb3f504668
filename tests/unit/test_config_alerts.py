"""The `alerts:` section of steadyhand.yml and the alert secrets from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.config_alerts import MAX_RULES, parse_alerts
from bot.domain.alert_rules import AlertRule, AlertSettings, AutoAction
from bot.domain.errors import ConfigError
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.registry import Catalog

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
SECRETS = {"GRAFANA_WEBHOOK_SECRET": "graf-secret", "PAGERDUTY_WEBHOOK_SECRET": "pd-new, pd-old"}
SERVICES = """
services:
  support-bot:
    components: {prompt: v12, model: gpt-4o}
    flags:
      new-retriever: {kind: percentage, default: 30}
"""
EXAMPLE = (
    SERVICES
    + """
alerts:
  labels: {service: app, kind: ai_incident_kind, severity: level}
  default_severity: sev3
  severities: {Critical: sev1, P2: sev2, warning: sev4}
  group_window: 2h
  page: S0ONCALL
  resolve_when_all_resolved: true
  grafana_secret_env: GRAFANA_WEBHOOK_SECRET
  grafana_timestamp_header: X-Grafana-Alerting-Signature-Timestamp
  pagerduty_secret_env: PAGERDUTY_WEBHOOK_SECRET
  rules:
    - match: {alertname: EvalScoreDrop}
      service: support-bot
      kind: quality
      severity: sev2
    - match: {team: search, code: "500"}
      kind: Retrieval
    - match: {alertname: Spend}
      service: billing-bot   # not declared: allowed, the incident still opens
  auto_actions:
    - service: support-bot
      match: {alertname: RefusalRateDrop}
      action: "  rollback   prompt "
      after: 3
      min_interval: 1h
      dry_run: true
    - service: support-bot
      action: flag new-retriever 0%
    - {service: support-bot, action: kill}
"""
)


@pytest.fixture(autouse=True)
def _no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def settings_from(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "steadyhand.yml"
    path.write_text(text)
    return load_settings({**GOOD, "STEADYHAND_CONFIG": str(path), **(env or {})})


def test_full_example(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, EXAMPLE, SECRETS)

    defaults = AlertSettings().severities
    assert settings.alerts == AlertSettings(
        rules=(
            AlertRule(
                {"alertname": "EvalScoreDrop"}, "support-bot", IncidentKind.QUALITY, Severity.SEV2
            ),
            AlertRule({"team": "search", "code": "500"}, kind=IncidentKind.RETRIEVAL),
            AlertRule({"alertname": "Spend"}, service="billing-bot"),
        ),
        service_label="app",
        kind_label="ai_incident_kind",
        severity_label="level",
        severities={
            **defaults,
            "critical": Severity.SEV1,
            "p2": Severity.SEV2,
            "warning": Severity.SEV4,
        },
        default_severity=Severity.SEV3,
        group_window=timedelta(hours=2),
        page="S0ONCALL",
        auto_actions=(
            AutoAction(
                "support-bot",
                "rollback prompt",
                {"alertname": "RefusalRateDrop"},
                after=3,
                min_interval=timedelta(hours=1),
                dry_run=True,
            ),
            AutoAction("support-bot", "flag new-retriever 0%"),
            AutoAction("support-bot", "kill"),
        ),
        resolve_when_all_resolved=True,
    )
    assert settings.alerts.severities["info"] is Severity.SEV4  # the defaults stay
    assert settings.grafana_secret == "graf-secret"
    assert settings.grafana_timestamp_header == "X-Grafana-Alerting-Signature-Timestamp"
    assert settings.pagerduty_secrets == ("pd-new", "pd-old")


def test_defaults_when_absent(tmp_path: Path) -> None:
    for settings in (load_settings(GOOD), settings_from(tmp_path, "alerts:\n")):
        assert settings.alerts == AlertSettings()
        assert settings.alert_tokens == ()
        assert settings.grafana_secret is None
        assert settings.grafana_timestamp_header is None
        assert settings.pagerduty_secrets == ()


def test_an_empty_section_and_the_parser_alone_give_the_defaults() -> None:
    assert parse_alerts("s.yml", {}, Catalog([])) == AlertSettings()
    assert parse_alerts("s.yml", None, Catalog([])) == AlertSettings()
    settings = parse_alerts("s.yml", {"labels": {"kind": "category"}}, Catalog([]))
    assert (settings.service_label, settings.kind_label) == ("service", "category")


def test_alert_tokens_fall_back_to_the_api_tokens() -> None:
    api, alert = "a" * 16, "b" * 20
    only_api = load_settings({**GOOD, "STEADYHAND_API_TOKENS": api})
    assert only_api.alert_tokens == only_api.api_tokens == (api,)
    both = load_settings(
        {**GOOD, "STEADYHAND_API_TOKENS": api, "STEADYHAND_ALERT_TOKENS": f" {alert}, {api} "}
    )
    assert both.alert_tokens == (alert, api)
    assert both.api_tokens == (api,)
    blank = load_settings({**GOOD, "STEADYHAND_API_TOKENS": api, "STEADYHAND_ALERT_TOKENS": ""})
    assert blank.alert_tokens == (api,)
    only_alert = load_settings({**GOOD, "STEADYHAND_ALERT_TOKENS": alert})
    assert (only_alert.alert_tokens, only_alert.api_tokens) == ((alert,), ())


def test_short_alert_tokens_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**GOOD, "STEADYHAND_ALERT_TOKENS": "b" * 20 + ",short"})
    assert caught.value.setting == "STEADYHAND_ALERT_TOKENS"
    assert "16 characters" in str(caught.value)


def test_a_secret_is_stripped_and_a_repeated_one_kept_once(tmp_path: Path) -> None:
    text = "alerts: {grafana_secret_env: G, pagerduty_secret_env: P}\n"
    settings = settings_from(tmp_path, text, {"G": " g \n", "P": "p1,, p1 ,p2"})
    assert settings.grafana_secret == "g"
    assert settings.pagerduty_secrets == ("p1", "p2")


RULE = "alerts: {rules: [%s]}"
AUTO = SERVICES + "alerts: {auto_actions: [%s]}"
ACTION = "{service: support-bot, action: %s}"
SECRET_ENV = {"G": "g"}


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        # the section
        ("alerts: [rules]", "alerts", "valid settings: labels, default_severity"),
        ("alerts: {rule: []}", "alerts.rule", "not a setting in alerts; valid: labels"),
        ("alerts: {grafana_secret: x}", "alerts.grafana_secret", "`grafana_secret_env`"),
        ("alerts: {pagerduty_secret: x}", "alerts.pagerduty_secret", "stay out of this file"),
        # labels
        ("alerts: {labels: service}", "alerts.labels", "must be a mapping"),
        ("alerts: {labels: {team: t}}", "alerts.labels.team", "valid: service, kind, severity"),
        ("alerts: {labels: {kind: ''}}", "alerts.labels.kind", "not a label name"),
        ("alerts: {labels: {kind: 3}}", "alerts.labels.kind", "`3` is not a label name"),
        # severities
        ("alerts: {default_severity: sev5}", "alerts.default_severity", "sev1, sev2, sev3, sev4"),
        ("alerts: {severities: [sev1]}", "alerts.severities", "label value → severity"),
        ("alerts: {severities: {p1: high}}", "alerts.severities.p1", "valid: sev1, sev2"),
        ("alerts: {severities: {1: sev1}}", "alerts.severities", 'quote it, e.g. `"1": sev1`'),
        # durations
        ("alerts: {group_window: 30}", "alerts.group_window", "`30` is not a duration"),
        ("alerts: {group_window: 0m}", "alerts.group_window", "e.g. `24h`"),
        # page
        ("alerts: {page: oncall}", "alerts.page", "`oncall` is not a Slack user ID"),
        ("alerts: {page: '<!subteam^S0ONCALL>'}", "alerts.page", "user group ID (S…)"),
        ("alerts: {page: [S0ONCALL]}", "alerts.page", "must be one Slack user group ID"),
        # booleans
        ("alerts: {resolve_when_all_resolved: 'no'}", "alerts.resolve_when_all", "true, false"),
        # rules
        ("alerts: {rules: {match: {a: b}}}", "alerts.rules", "must be a list"),
        (RULE % "kind", "alerts.rules[0]", "must be a mapping"),
        (RULE % "{kind: quality}", "alerts.rules[0].match", "is required"),
        (RULE % "{match: {a: b}}", "alerts.rules[0]", "sets nothing"),
        (RULE % "{match: {a: b}, kind: quality, when: x}", "alerts.rules[0].when", "valid: match"),
        (RULE % "{match: {}, kind: quality}", "alerts.rules[0].match", "non-empty mapping"),
        (RULE % "{match: [a], kind: quality}", "alerts.rules[0].match", "non-empty mapping"),
        (RULE % "{match: {a: 500}, kind: tool}", "alerts.rules[0].match.a", 'a: "500"'),
        (RULE % "{match: {a: yes}, kind: tool}", "alerts.rules[0].match.a", "quoted text"),
        (RULE % "{match: {a: ~}, kind: tool}", "alerts.rules[0].match.a", "quoted text"),
        (RULE % "{match: {1: a}, kind: tool}", "alerts.rules[0].match", "`1` is not a label"),
        (RULE % "{match: {a: b}, kind: ai}", "alerts.rules[0].kind", "quality, retrieval, tool"),
        (RULE % "{match: {a: b}, kind: unknown}", "alerts.rules[0].kind", "policy, cost, latency."),
        (RULE % "{match: {a: b}, severity: high}", "alerts.rules[0].severity", "valid: sev1"),
        (RULE % "{match: {a: b}, service: a.b}", "alerts.rules[0].service", "not a service name"),
        (
            RULE % ", ".join(["{match: {a: b}, kind: tool}"] * (MAX_RULES + 1)),
            "alerts.rules",
            f"has {MAX_RULES + 1} entries; at most {MAX_RULES}",
        ),
        # auto actions
        ("alerts: {auto_actions: {}}", "alerts.auto_actions", "must be a list"),
        (AUTO % "kill", "alerts.auto_actions[0]", "must be a mapping"),
        (AUTO % "{action: kill}", "alerts.auto_actions[0].service", "is required"),
        (AUTO % "{service: support-bot}", "alerts.auto_actions[0].action", "is required"),
        (
            AUTO % "{service: support-bot, action: kill, then: x}",
            "[0].then",
            "valid: service, match",
        ),
        (
            AUTO % "{service: support-bott, action: kill}",
            "alerts.auto_actions[0].service",
            "`support-bott` is not a service; known: support-bot",
        ),
        (
            "alerts: {auto_actions: [{service: s, action: kill}]}",
            "alerts.auto_actions[0].service",
            "none are declared under services",
        ),
        (AUTO % ACTION % "redeploy", "auto_actions[0].action", "unknown action `redeploy`"),
        (AUTO % ACTION % "rollback weights", "auto_actions[0].action", "unknown component"),
        (AUTO % ACTION % "flag new-retriever maybe", "auto_actions[0].action", "on, off or 0-100%"),
        (
            AUTO % ACTION % "3",
            "auto_actions[0].action",
            "`3` is not an action; valid actions: roll",
        ),
        (AUTO % ACTION % "''", "auto_actions[0].action", "empty action"),
        (
            AUTO % ACTION % "rollback memory",
            "auto_actions[0].action",
            "support-bot has no component `memory`; its components: prompt, model.",
        ),
        (
            AUTO % ACTION % "flag new-retreiver off",
            "auto_actions[0].action",
            "no flag `new-retreiver`; its flags: dry_run, kill_switch, new-retriever.",
        ),
        (AUTO % "{service: support-bot, action: kill, match: {}}", "[0].match", "non-empty"),
        (AUTO % "{service: support-bot, action: kill, after: 0}", "[0].after", "1 to 100"),
        (AUTO % "{service: support-bot, action: kill, after: 101}", "[0].after", "1 to 100"),
        (AUTO % "{service: support-bot, action: kill, after: true}", "[0].after", "whole number"),
        (AUTO % "{service: support-bot, action: kill, after: 1.5}", "[0].after", "whole number"),
        (AUTO % "{service: support-bot, action: kill, min_interval: 1w}", "[0].min_int", "m, h"),
        (AUTO % "{service: support-bot, action: kill, dry_run: 1}", "[0].dry_run", "true, false"),
        # webhook secrets
        ("alerts: {grafana_secret_env: NOT_SET}", "grafana_secret_env", "`NOT_SET` is not set"),
        ("alerts: {grafana_secret_env: EMPTY}", "grafana_secret_env", "`EMPTY` is not set"),
        ("alerts: {grafana_secret_env: 'my secret'}", "grafana_secret_env", "must name the"),
        ("alerts: {pagerduty_secret_env: NOT_SET}", "pagerduty_secret_env", "`NOT_SET` is not"),
        ("alerts: {pagerduty_secret_env: COMMAS}", "pagerduty_secret_env", "holds no secret"),
        (
            "alerts: {grafana_secret_env: G, grafana_timestamp_header: 'X Stamp'}",
            "alerts.grafana_timestamp_header",
            "must be an HTTP header name",
        ),
        (
            "alerts: {grafana_timestamp_header: X-Grafana-Alerting-Signature-Timestamp}",
            "alerts.grafana_timestamp_header",
            "set grafana_secret_env too",
        ),
    ],
)
def test_every_mistake_names_its_key(tmp_path: Path, text: str, key: str, says: str) -> None:
    env = {"EMPTY": " ", "COMMAS": " , ,", **SECRET_ENV}
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, text + "\n", env)
    assert key in caught.value.setting and caught.value.setting.startswith(str(tmp_path))
    assert says in str(caught.value)
