from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, load_settings
from bot.domain.errors import ConfigError

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


@pytest.fixture(autouse=True)
def _no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # ./steadyhand.yml must not come from the developer's tree


def test_defaults() -> None:
    settings = load_settings(GOOD)
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.config_path is None
    assert settings.postmortem_review_after == timedelta(days=3)
    assert settings.check_slack_token


@pytest.mark.parametrize(("value", "checked"), [("1", False), ("true", False), ("0", True)])
def test_the_slack_check_can_be_skipped(value: str, checked: bool) -> None:
    settings = load_settings({**GOOD, "STEADYHAND_SKIP_SLACK_CHECK": value})
    assert settings.check_slack_token is checked


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({**GOOD, "PORT": "http"}, "PORT"),
        ({**GOOD, "PORT": "70000"}, "PORT"),
        ({**GOOD, "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({**GOOD, "STEADYHAND_CONFIG": "/nope.yml"}, "STEADYHAND_CONFIG"),
        ({**GOOD, "STEADYHAND_SKIP_SLACK_CHECK": "maybe"}, "STEADYHAND_SKIP_SLACK_CHECK"),
    ],
)
def test_bad_settings_name_the_setting(env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.setting == setting
    assert str(caught.value).startswith(setting)


def test_socket_mode_needs_an_app_token() -> None:
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        load_settings(GOOD, socket_mode=True)
    assert load_settings({**GOOD, "SLACK_APP_TOKEN": "xapp-1"}, socket_mode=True).slack_app_token


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yml"
    path.write_text(
        "stakeholder_channel: C0STAKE\ndisplay_timezone: Europe/Paris\n"
        "triage_reminder_minutes: 10\nservices: [support-bot, search]\n"
        "postmortem_review_after: 36h\n"
    )
    settings = load_settings({**GOOD, "STEADYHAND_CONFIG": str(path)})
    assert settings.stakeholder_channel == "C0STAKE"
    assert settings.display_timezone == "Europe/Paris"
    assert settings.triage_reminder_minutes == 10
    assert settings.catalog.names == ("support-bot", "search")
    assert settings.postmortem_review_after == timedelta(hours=36)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("display_timezone: Mars/Olympus\n", "display_timezone"),
        ("triage_reminder_minutes: soon\n", "triage_reminder_minutes"),
        ("postmortem_review_after: soon\n", "postmortem_review_after"),
        ("services: 3\n", "services"),
        ("[unclosed\n", "YAML"),
        ("- a list\n", "mapping"),
    ],
)
def test_bad_config_file_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "s.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=key):
        load_settings({**GOOD, "STEADYHAND_CONFIG": str(path)})
