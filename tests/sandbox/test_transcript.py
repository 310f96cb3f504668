"""The transcript: each channel's conversation, in order, as a person reads it."""

from __future__ import annotations

from typing import Any

from bot.sandbox import SlackSandbox, transcript
from bot.sandbox.entities import MessageContent
from bot.sandbox.seed import ALICE, BOT_USER_ID

CHECKLIST: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Incident: answers degraded"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "Opened by <@U_ALICE> in <#C_GENERAL>"}},
    {"type": "divider"},
    {
        "type": "actions",
        "elements": [
            {
                "type": "checkboxes",
                "action_id": "steps",
                "options": [
                    {"text": {"type": "plain_text", "text": "Check evals"}, "value": "a"},
                    {"text": {"type": "plain_text", "text": "Find the change"}, "value": "b"},
                ],
                "initial_options": [
                    {"text": {"type": "plain_text", "text": "Find the change"}, "value": "b"}
                ],
            },
            {
                "type": "button",
                "action_id": "go",
                "text": {"type": "plain_text", "text": "Roll back"},
            },
            {
                "type": "button",
                "action_id": "up",
                "text": {"type": "plain_text", "text": "Escalate"},
            },
        ],
    },
    {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "sev2"},
            {"type": "mrkdwn", "text": "<https://runbooks.example/q|runbook>"},
        ],
    },
]


def test_blocks_edits_and_ephemerals_read_in_order() -> None:
    sandbox = SlackSandbox()
    workspace = sandbox.workspace
    channel = sandbox.add_channel("inc-x", [ALICE])
    posted = workspace.post(channel, BOT_USER_ID, MessageContent("opened", CHECKLIST))
    workspace.post(channel, ALICE, MessageContent("on it"), thread_ts=posted.ts)
    workspace.edit(posted, MessageContent("opened", CHECKLIST[:1]), BOT_USER_ID)
    workspace.post_ephemeral(channel, ALICE, BOT_USER_ID, MessageContent("Only you can see this"))

    assert transcript(sandbox) == (
        "#inc-x  steadyhand: == Incident: answers degraded ==\n"
        "          Opened by @alice in #general\n"
        "          ---\n"
        "          [ ] Check evals\n"
        "          [x] Find the change\n"
        "          [Roll back] [Escalate]\n"
        "          ~ sev2 · runbook\n"
        "#inc-x  ↳ alice: on it\n"
        "#inc-x  steadyhand edited “== Incident: answers degraded ==”:\n"
        "            == Incident: answers degraded ==\n"
        "          - Opened by @alice in #general\n"
        "          - ---\n"
        "          - [ ] Check evals\n"
        "          - [x] Find the change\n"
        "          - [Roll back] [Escalate]\n"
        "          - ~ sev2 · runbook\n"
        "#inc-x  steadyhand → alice (only alice sees this): Only you can see this\n"
    )


def test_an_empty_sandbox_has_an_empty_transcript() -> None:
    assert transcript(SlackSandbox()) == ""
