"""`services:` in steadyhand.yml, `STEADYHAND_API_TOKENS` and `known_good_after`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.domain.errors import ConfigError
from bot.domain.registry import Component, FlagKind, FlagSpec

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
SERVICES = """
known_good_after: 90m
services:
  support-bot:
    components: {prompt: v12, model: gpt-4o-2024-08-06}
    flags:
      new-retriever: {kind: percentage, default: 30}
      citations: {kind: boolean}
  search:
"""


@pytest.fixture(autouse=True)
def _no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def settings_from(tmp_path: Path, text: str, **env: str) -> Settings:
    path = tmp_path / "steadyhand.yml"
    path.write_text(text)
    return load_settings({**GOOD, "STEADYHAND_CONFIG": str(path), **env})


def test_services_with_components_and_flags(tmp_path: Path) -> None:
    path = tmp_path / "steadyhand.yml"
    path.write_text(SERVICES)
    settings = load_settings({**GOOD, "STEADYHAND_CONFIG": str(path)})
    assert settings.catalog.names == ("support-bot", "search")
    bot = settings.catalog.service("support-bot")
    assert bot.components == {Component.PROMPT: "v12", Component.MODEL: "gpt-4o-2024-08-06"}
    assert bot.flags["new-retriever"] == FlagSpec("new-retriever", FlagKind.PERCENTAGE, 30)
    assert bot.flags["citations"] == FlagSpec("citations", FlagKind.BOOLEAN, False)
    assert bot.flags["kill_switch"] == FlagSpec("kill_switch", FlagKind.KILL_SWITCH, False)
    search = settings.catalog.service("search")
    assert search.components == {} and set(search.flags) == {"kill_switch", "dry_run"}
    assert settings.known_good_after == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        (
            "services: {support-bot: {components: {promt: v1}}}",
            "support-bot.components.promt",
            "retrieval_index",
        ),
        (
            "services: {support-bot: {components: {prompt: 'v 1'}}}",
            "support-bot.components.prompt",
            "one word",
        ),
        ("services: {support-bot: {owner: me}}", "support-bot.owner", "components, flags"),
        ("services: {support-bot: [prompt]}", "services.support-bot", "mapping"),
        ("services: {a.b: {}}", "services", "not a service name"),
        ("services: {s: {flags: {x: {kind: dial}}}}", "s.flags.x.kind", "boolean, percentage"),
        (
            "services: {s: {flags: {x: {kind: percentage, default: 130}}}}",
            "s.flags.x.default",
            "0 to 100",
        ),
        (
            "services: {s: {flags: {x: {kind: boolean, default: 1}}}}",
            "s.flags.x.default",
            "true or false",
        ),
        (
            "services: {s: {flags: {kill_switch: {kind: boolean}}}}",
            "s.flags.kill_switch",
            "built in",
        ),
        ("services: {s: {flags: {prompt: {kind: boolean}}}}", "s.flags.prompt", "component"),
        ("known_good_after: a day", "known_good_after", "`24h`"),
    ],
)
def test_bad_services_name_the_key_path(tmp_path: Path, text: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, text + "\n")
    assert key in caught.value.setting and caught.value.setting.startswith(str(tmp_path))
    assert says in str(caught.value)


def test_api_tokens_come_from_the_environment_only(tmp_path: Path) -> None:
    assert load_settings(GOOD).api_tokens == ()
    tokens = "a" * 32 + ", " + "b" * 32
    assert load_settings({**GOOD, "STEADYHAND_API_TOKENS": tokens}).api_tokens == (
        "a" * 32,
        "b" * 32,
    )
    with pytest.raises(ConfigError, match="STEADYHAND_API_TOKENS"):
        load_settings({**GOOD, "STEADYHAND_API_TOKENS": "short"})
