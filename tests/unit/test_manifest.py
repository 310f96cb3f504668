"""manifest.yml against Slack's official manifest schema, and against what the bot needs."""

from pathlib import Path
from typing import Any

import yaml

from tests.support.slack_specs import check_manifest

ROOT = Path(__file__).resolve().parents[2]


def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_manifest_matches_the_official_schema() -> None:
    assert check_manifest(manifest()) == []


def test_command_and_interactivity_point_at_slack_events() -> None:
    found = manifest()
    (command,) = found["features"]["slash_commands"]
    assert command["command"] == "/incident"
    assert command["url"].endswith("/slack/events")
    assert command["should_escape"] is True  # mentions arrive as <@U…> for /incident commander
    assert found["settings"]["interactivity"]["request_url"] == command["url"]


def test_bot_scopes_are_the_ones_used_and_no_more() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "commands",
        "chat:write",
        "channels:manage",
        "channels:join",
        "usergroups:read",  # bot/slack/directory.py: roles may name user groups
        "files:write",  # bot/slack/chat.py: the draft post-mortem is uploaded
        "reactions:read",  # bot/slack/listeners/findings.py: pin reactions
        "channels:history",  # bot/slack/history.py: the pinned message's text
    }


def test_events_come_to_slack_events_and_are_the_ones_listened_to() -> None:
    events = manifest()["settings"]["event_subscriptions"]
    assert events["request_url"].endswith("/slack/events")
    assert set(events["bot_events"]) == {"reaction_added", "reaction_removed"}
