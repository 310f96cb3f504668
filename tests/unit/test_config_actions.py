"""`roles`, `policy` and each service's environment, drivers and verification in steadyhand.yml."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.domain.actions import ActionKind, ActionPolicy, Risk, RiskRule, Roles
from bot.domain.drivers import (
    BUILTIN_DRIVER,
    UnleashDriverSpec,
    VerificationSpec,
    WebhookDriverSpec,
)
from bot.domain.errors import ConfigError
from bot.domain.registry import Component

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
SECRETS = {"SUPPORT_BOT_HOOK_SECRET": "whsec-support", "UNLEASH_ADMIN_TOKEN": "user:abc123"}
EXAMPLE = """
services:
  support-bot:
    environment: production
    components: {prompt: v12, model: gpt-4o-2024-08-06}
    flags:
      new-retriever: {kind: percentage, default: 30}
    driver:
      kind: webhook
      url: https://deploy.example.com/steadyhand
      secret_env: SUPPORT_BOT_HOOK_SECRET
      max_attempts: 5
    flag_driver:
      kind: unleash
      url: https://unleash.example.com/api
      token_env: UNLEASH_ADMIN_TOKEN
      project: ai
    verify: {kind: eval, url: https://evals.example.com/run, threshold: 0.85, timeout_seconds: 30}
  search-staging:
    environment: staging
    components: {retrieval_index: idx-7}
    verify: {kind: http, url: http://search.staging.internal/healthz}
  plain:
roles:
  responders: [S_ONCALL, U_ALICE]
  commanders: [U_CAROL, W0123ABCD]
  approvers: [S_MANAGERS, U0601ABCD, S_MANAGERS]
policy:
  default_risk: high
  approval_expires_after: 30m
  rules:
    - {risk: low, action: kill_switch}
    - {risk: low, action: dry_run}
    - {risk: low, environment: staging}
    - {risk: high, service: support-bot, target: model}
    - {risk: low, service: support-bot, target: prompt, action: rollback}
    - {risk: low, target: new-retriever}
"""


@pytest.fixture(autouse=True)
def _no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def settings_from(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "steadyhand.yml"
    path.write_text(text)
    return load_settings({**GOOD, "STEADYHAND_CONFIG": str(path), **(env or {})})


def test_full_example(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, EXAMPLE, SECRETS)

    assert settings.roles == Roles(
        responders=("S_ONCALL", "U_ALICE"),
        commanders=("U_CAROL", "W0123ABCD"),
        approvers=("S_MANAGERS", "U0601ABCD"),
        configured=True,
    )
    assert settings.action_policy == ActionPolicy(
        rules=(
            RiskRule(Risk.LOW, action=ActionKind.KILL_SWITCH),
            RiskRule(Risk.LOW, action=ActionKind.DRY_RUN),
            RiskRule(Risk.LOW, environment="staging"),
            RiskRule(Risk.HIGH, service="support-bot", target="model"),
            RiskRule(Risk.LOW, "support-bot", "prompt", ActionKind.ROLLBACK),
            RiskRule(Risk.LOW, target="new-retriever"),
        ),
        default_risk=Risk.HIGH,
        approval_expires_after=timedelta(minutes=30),
    )
    bot = settings.catalog.service("support-bot")
    assert bot.environment == "production"
    assert bot.components[Component.PROMPT] == "v12"
    assert bot.driver == WebhookDriverSpec(
        "https://deploy.example.com/steadyhand", "whsec-support", max_attempts=5
    )
    assert bot.flag_driver == UnleashDriverSpec(
        "https://unleash.example.com/api", "user:abc123", project="ai"
    )
    assert bot.verification == VerificationSpec("eval", "https://evals.example.com/run", 0.85, 30)
    search = settings.catalog.service("search-staging")
    assert search.environment == "staging"
    assert search.driver == BUILTIN_DRIVER and search.flag_driver is None
    assert search.verification == VerificationSpec("http", "http://search.staging.internal/healthz")
    plain = settings.catalog.service("plain")
    assert (plain.environment, plain.driver, plain.flag_driver, plain.verification) == (
        "production",
        BUILTIN_DRIVER,
        None,
        None,
    )


def test_without_the_sections_nobody_is_named_and_everything_waits(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "services: [support-bot]\n")

    assert settings.roles == Roles(configured=False)
    assert settings.action_policy == ActionPolicy()
    assert settings.action_policy.default_risk is Risk.HIGH
    assert settings.action_policy.approval_expires_after == timedelta(minutes=15)


def test_builtin_drivers_may_be_named_and_defaults_fill_in(tmp_path: Path) -> None:
    text = """
services:
  s:
    driver: builtin
    flag_driver: {kind: builtin}
  t:
    driver: {kind: webhook, url: "https://hooks.example.com", secret_env: HOOK}
    flag_driver: {kind: unleash, url: "https://unleash.example.com/api", token_env: TOKEN}
policy: {default_risk: low}
"""
    settings = settings_from(tmp_path, text, {"HOOK": "h", "TOKEN": "t"})

    s = settings.catalog.service("s")
    assert s.driver == BUILTIN_DRIVER and s.flag_driver == BUILTIN_DRIVER
    t = settings.catalog.service("t")
    assert t.driver == WebhookDriverSpec("https://hooks.example.com", "h", 5.0, 3)
    assert t.flag_driver == UnleashDriverSpec(
        "https://unleash.example.com/api", "t", "default", "production", 5.0
    )
    assert settings.action_policy == ActionPolicy(default_risk=Risk.LOW)


SERVICE = "services: {support-bot: {components: {prompt: v1}}}\n"
WEBHOOK = "{kind: webhook, url: 'https://h.example.com', secret_env: HOOK"


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        # roles
        ("roles: {responders: [alice]}", "roles.responders", "`alice` is not a Slack user ID"),
        ("roles: {responders: ['<@U0123ABCD>']}", "roles.responders", "user group ID (S…)"),
        ("roles: {responders: [u0123abcd]}", "roles.responders", "Copy member ID"),
        ("roles: {responders: U0123ABCD}", "roles.responders", "must be a list"),
        ("roles: {responders: [123]}", "roles.responders", "`123`"),
        ("roles: {managers: [U0123ABCD]}", "roles.managers", "responders, commanders, approvers"),
        ("roles: [U0123ABCD]", "roles", "responders, commanders, approvers"),
        ("roles:", "roles", "names nobody"),
        ("roles: {approvers: []}", "roles", "names nobody"),
        # policy
        ("policy: {default_risk: medium}", "policy.default_risk", "low, high"),
        ("policy: {approval_expires_after: 15 minutes}", "policy.approval_expires_after", "`90m`"),
        ("policy: {approval_expires_after: 0m}", "policy.approval_expires_after", "duration"),
        ("policy: {expires: 15m}", "policy.expires", "default_risk, approval_expires_after"),
        ("policy: [low]", "policy", "default_risk, approval_expires_after, rules"),
        ("policy: {rules: {risk: low}}", "policy.rules", "must be a list"),
        ("policy: {rules: [low]}", "policy.rules[0]", "mapping"),
        ("policy: {rules: [{action: flag}]}", "policy.rules[0].risk", "required; valid: low, high"),
        ("policy: {rules: [{risk: medium}]}", "policy.rules[0].risk", "low, high"),
        (
            "policy: {rules: [{risk: low}, {risk: low, action: redeploy}]}",
            "policy.rules[1].action",
            "rollback, restore, flag, kill_switch, dry_run",
        ),
        (
            SERVICE + "policy: {rules: [{risk: low, service: support-bott}]}",
            "policy.rules[0].service",
            "`support-bott` is not a service; known: support-bot",
        ),
        (
            "policy: {rules: [{risk: low, service: anything}]}",
            "policy.rules[0].service",
            "none are declared",
        ),
        (
            SERVICE + "policy: {rules: [{risk: low, service: support-bot, target: model}]}",
            "policy.rules[0].target",
            "valid: dry_run, kill_switch, prompt",
        ),
        (
            SERVICE + "policy: {rules: [{risk: low, target: promt}]}",
            "policy.rules[0].target",
            "not a component or flag",
        ),
        (
            SERVICE + "policy: {rules: [{risk: low, environment: prod}]}",
            "policy.rules[0].environment",
            "known: production",
        ),
        (
            SERVICE + "policy: {rules: [{risk: low, when: weekend}]}",
            "policy.rules[0].when",
            "risk, service, target, action, environment",
        ),
        # environment
        ("services: {s: {environment: 'prod eu'}}", "services.s.environment", "letters, digits"),
        (
            "services: {s: {owner: me}}",
            "services.s.owner",
            "components, flags, environment, driver, flag_driver, verify",
        ),
        # drivers
        ("services: {s: {driver: argo}}", "services.s.driver.kind", "valid: builtin, webhook."),
        (
            "services: {s: {flag_driver: {kind: launchdarkly}}}",
            "services.s.flag_driver.kind",
            "builtin, webhook, unleash",
        ),
        ("services: {s: {driver: [webhook]}}", "services.s.driver", "`builtin` or a mapping"),
        (
            "services: {s: {driver: {kind: unleash, url: 'https://u.example.com', token_env: T}}}",
            "services.s.driver.kind",
            "Unleash drives flags only; set it as flag_driver",
        ),
        (
            "services: {s: {driver: {kind: builtin, url: 'https://x.example.com'}}}",
            "services.s.driver.url",
            "valid: kind.",
        ),
        (
            "services: {s: {driver: " + WEBHOOK + ", secret: hunter2}}}",
            "services.s.driver.secret",
            "Secrets stay out of this file",
        ),
        (
            "services: {s: {driver: {kind: webhook, url: 'https://h.example.com'}}}",
            "services.s.driver.secret_env",
            "must name the environment variable",
        ),
        (
            "services: {s: {driver: " + WEBHOOK + "_MISSING}}}",
            "services.s.driver.secret_env",
            "environment variable `HOOK_MISSING` is not set",
        ),
        (
            "services: {s: {driver: " + WEBHOOK + "_EMPTY}}}",
            "services.s.driver.secret_env",
            "`HOOK_EMPTY` is not set or empty",
        ),
        (
            "services: {s: {flag_driver: {kind: unleash, url: 'https://u.example.com', "
            "token_env: NO_TOKEN}}}",
            "services.s.flag_driver.token_env",
            "`NO_TOKEN`",
        ),
        (
            "services: {s: {driver: {kind: webhook, url: 'ftp://h.example.com', "
            "secret_env: HOOK}}}",
            "services.s.driver.url",
            "not an http(s) URL",
        ),
        (
            "services: {s: {driver: {kind: webhook, url: 'https://', secret_env: HOOK}}}",
            "services.s.driver.url",
            "with a host",
        ),
        (
            "services: {s: {driver: {kind: webhook, secret_env: HOOK}}}",
            "services.s.driver.url",
            "`None` is not an http(s) URL",
        ),
        (
            "services: {s: {driver: " + WEBHOOK + ", timeout_seconds: 0}}}",
            "services.s.driver.timeout_seconds",
            "above 0",
        ),
        (
            "services: {s: {driver: " + WEBHOOK + ", max_attempts: 0}}}",
            "services.s.driver.max_attempts",
            "1 to 10",
        ),
        (
            "services: {s: {flag_driver: {kind: unleash, url: 'https://u.example.com', "
            "token_env: HOOK, project: 'my project'}}}",
            "services.s.flag_driver.project",
            "one word",
        ),
        # verification
        (
            "services: {s: {verify: {kind: eval, url: 'https://e.example.com'}}}",
            "services.s.verify.threshold",
            "required for eval",
        ),
        (
            "services: {s: {verify: {kind: eval, url: 'https://e.example.com', threshold: 85}}}",
            "services.s.verify.threshold",
            "from 0 to 1",
        ),
        (
            "services: {s: {verify: {kind: eval, url: 'https://e.example.com', threshold: -0.1}}}",
            "services.s.verify.threshold",
            "from 0 to 1",
        ),
        (
            "services: {s: {verify: {kind: http, url: 'https://e.example.com', threshold: 0.9}}}",
            "services.s.verify.threshold",
            "only eval",
        ),
        (
            "services: {s: {verify: {kind: smoke, url: 'https://e.example.com'}}}",
            "services.s.verify.kind",
            "valid: http, eval",
        ),
        ("services: {s: {verify: {kind: http, url: healthz}}}", "services.s.verify.url", "http(s)"),
        ("services: {s: {verify: 'https://e.example.com'}}", "services.s.verify", "mapping"),
        (
            "services: {s: {verify: {kind: http, url: 'https://e.example.com', retries: 2}}}",
            "services.s.verify.retries",
            "kind, url, threshold, timeout_seconds",
        ),
    ],
)
def test_bad_settings_name_the_key_path(tmp_path: Path, text: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, text + "\n", {"HOOK": "h", "HOOK_EMPTY": "  "})

    assert caught.value.setting == f"{tmp_path / 'steadyhand.yml'}: {key}"
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)
