"""The manifest asks for exactly the bot scopes that the calls the bot makes need."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from bot.demo import demo_config, script
from bot.sandbox.seed import GENERAL_CHANNEL
from tests.e2e.conftest import ROOT, StageFactory
from tests.e2e.helpers import only_incident_channel
from tests.support.slack_specs import specs_dir

# From each event's page in Slack's event reference ("Required scopes").
EVENT_SCOPES = {"reaction_added": {"reactions:read"}, "reaction_removed": {"reactions:read"}}


async def test_every_scope_used_is_granted_and_every_granted_scope_used(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    stakeholders = f"stakeholder_channel: {GENERAL_CHANNEL}\n"
    async with demo_config(tmp_path, stakeholders) as env, make_stage(env=env) as stage:
        await stage.command("carol", "#general", "open")  # the form: views.open
        await script(stage)
        channel = only_incident_channel(stage.sandbox)
        await stage.command("alice", channel.id, "update stakeholders hear this")  # joins
        methods = {call.method for call in stage.sandbox.calls}

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    # Events need scopes too; the method specs do not list them (Slack's event reference).
    subscribed = manifest["settings"]["event_subscriptions"]["bot_events"]
    used: set[str] = set().union(*(EVENT_SCOPES[event] for event in subscribed))
    for method in sorted(methods):
        spec = json.loads((specs_dir() / "methods" / f"{method}.json").read_text())
        accepted = set(spec.get("scope", {}).get("bot", []))
        if accepted:
            assert accepted & granted, f"{method} needs one of {sorted(accepted)}"
            used |= accepted & granted
    assert granted - {"commands"} == used, "granted but never needed"
    assert {"files.getUploadURLExternal", "files.completeUploadExternal"} <= methods
    assert "files:write" in used  # the draft post-mortem, uploaded on resolution
    assert "conversations.history" in methods  # the demo pins a message: its text is read
