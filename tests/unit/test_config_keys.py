"""A key steadyhand.yml does not know is an error naming its path, with a did-you-mean,
at the top level and in every nested mapping: a misspelt `roles:` silently ignored would leave
nobody allowed to approve."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.domain.errors import ConfigError

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
SERVICE = """
services:
  support-bot:
    components: {prompt: v12}
    flags:
      new-retriever: {kind: percentage, default: 30}
"""
HOOK_ENV = {"HOOK_SECRET": "hook-secret"}
WEBHOOK = "{kind: webhook, url: 'http://h/x', secret_env: HOOK_SECRET, timeout: 3}"
RULES = "[{match: {a: b}, kind: cost}, {match: {a: c}, kind: cost}, {match: {a: d}, sevrity: sev1}]"
AUTO = "[{service: support-bot, action: kill, dryrun: true}]"


def config_error(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "steadyhand.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings({**GOOD, **HOOK_ENV, "STEADYHAND_CONFIG": str(path)})
    return caught.value


@pytest.mark.parametrize(
    ("text", "path", "suggestion"),
    [
        # the top level: the two typos
        ("role:\n  approvers: [U0MANAGER]\n", "role", "roles"),
        ("stakeholder_chanel: C0STAKE\n", "stakeholder_chanel", "stakeholder_channel"),
        ("servces: [support-bot]\n", "servces", "services"),
        # a service, its components and its flags
        (
            SERVICE.replace("components", "component"),
            "services.support-bot.component",
            "components",
        ),
        (
            SERVICE.replace("{prompt: v12}", "{promt: v12}"),
            "services.support-bot.components.promt",
            "prompt",
        ),
        (
            SERVICE.replace("default: 30", "defualt: 30"),
            "services.support-bot.flags.new-retriever.defualt",
            "default",
        ),
        # drivers and checks
        (
            SERVICE + f"    driver: {WEBHOOK}\n",
            "services.support-bot.driver.timeout",
            "timeout_seconds",
        ),
        (
            SERVICE + "    verify: {kind: http, url: 'http://h/ok', treshold: 1}\n",
            "services.support-bot.verify.treshold",
            "threshold",
        ),
        # roles and policy
        ("roles:\n  approver: [U0MANAGER]\n", "roles.approver", "approvers"),
        ("policy:\n  default_rsk: low\n", "policy.default_rsk", "default_risk"),
        ("policy:\n  rules:\n    - {risk: low, acton: flag}\n", "policy.rules[0].acton", "action"),
        # alerts and its nested lists
        ("alerts:\n  group_windw: 10m\n", "alerts.group_windw", "group_window"),
        (
            f"alerts:\n  rules: {RULES}\n",
            "alerts.rules[2].sevrity",
            "severity",
        ),
        (
            SERVICE + f"alerts:\n  auto_actions: {AUTO}\n",
            "alerts.auto_actions[0].dryrun",
            "dry_run",
        ),
    ],
)
def test_an_unknown_key_names_its_path_and_the_likely_one(
    tmp_path: Path, text: str, path: str, suggestion: str
) -> None:
    error = config_error(tmp_path, text)
    where = str(tmp_path / "steadyhand.yml")
    assert error.setting == f"{where}: {path}"
    assert f"Did you mean `{suggestion}`?" in str(error)


def test_an_unknown_key_without_a_close_one_lists_the_valid_ones(tmp_path: Path) -> None:
    error = config_error(tmp_path, "zzz: 1\n")
    assert error.setting == f"{tmp_path / 'steadyhand.yml'}: zzz"
    assert "Did you mean" not in str(error)
    assert "valid: stakeholder_channel" in str(error) and "roles" in str(error)


def test_a_file_of_known_keys_loads(tmp_path: Path) -> None:
    path = tmp_path / "steadyhand.yml"
    path.write_text(SERVICE + "roles:\n  approvers: [U0MANAGER]\n  responders: [U0ONCALL]\n")
    settings = load_settings({**GOOD, "STEADYHAND_CONFIG": str(path)})
    assert settings.roles.approvers == ("U0MANAGER",)
