"""Reading the sandbox's channels the way a person reads Slack."""

from __future__ import annotations

import json
from typing import Any

from bot.domain.incidents import Incident
from bot.sandbox import SlackSandbox
from bot.sandbox.entities import Channel
from bot.services.lookup import incident_in_channel
from bot.stage import Stage

JSON = dict[str, Any]


def incident_channels(sandbox: SlackSandbox) -> list[Channel]:
    return [c for c in sandbox.workspace.channels.values() if c.name.startswith("inc-")]


def only_incident_channel(sandbox: SlackSandbox) -> Channel:
    channels = incident_channels(sandbox)
    assert len(channels) == 1, [c.name for c in channels]
    return channels[0]


async def incident_of(stage: Stage, channel: Channel) -> Incident:
    return await incident_in_channel(stage.runtime.deps, channel.id)


def text_of(message: JSON) -> str:
    """Everything written in a message, blocks included, as one string."""
    return (
        message.get("text", "") + "\n" + json.dumps(message.get("blocks", []), ensure_ascii=False)
    )


def action_ids(message: JSON) -> set[str]:
    found: set[str] = set()
    for block in message.get("blocks", []):
        for element in [block.get("accessory"), *block.get("elements", [])]:
            if isinstance(element, dict) and "action_id" in element:
                found.add(element["action_id"])
    return found


def with_action(messages: list[JSON], action_id: str) -> list[JSON]:
    """Messages holding an element whose action_id is `action_id` or starts `action_id.`."""
    return [
        m
        for m in messages
        if any(a == action_id or a.startswith(action_id + ".") for a in action_ids(m))
    ]


def checked_steps(message: JSON) -> list[int]:
    """Positions of the ticked steps on a checklist page."""
    return [
        int(block["block_id"].removeprefix("step-"))
        for block in message.get("blocks", [])
        if block.get("block_id", "").startswith("step-")
        and block.get("accessory", {}).get("initial_options")
    ]


def step_positions(message: JSON) -> list[int]:
    return [
        int(block["block_id"].removeprefix("step-"))
        for block in message.get("blocks", [])
        if block.get("block_id", "").startswith("step-")
    ]
