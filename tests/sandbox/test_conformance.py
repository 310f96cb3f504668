"""The conformance checker catches what Slack's specs forbid, and lets good payloads through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.sandbox import SlackSandbox
from tests.support.slack_specs import (
    ConformanceRecorder,
    check_blocks,
    check_call,
    check_manifest,
    check_message_payload,
    check_view,
    check_view_submission_ack,
    conforming,
    load_specs,
    specs_dir,
)

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Incident opened*"}}
BUTTON = {
    "type": "button",
    "action_id": "rollback",
    "text": {"type": "plain_text", "text": "Roll back"},
}
MODAL = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "What is wrong?"},
            "element": {"type": "plain_text_input", "action_id": "summary"},
        }
    ],
}


def test_specs_are_found_outside_the_repository() -> None:
    repository = Path(__file__).resolve().parents[2]

    assert (specs_dir() / "SOURCES.md").is_file()
    assert repository not in specs_dir().resolve().parents
    assert "chat.postMessage" in load_specs().methods


def test_good_calls_pass() -> None:
    assert (
        check_call("chat.postMessage", {"channel": "C1", "text": "hi", "blocks": [SECTION]}) == []
    )
    assert check_call("chat.postMessage", {"channel": "C1", "blocks": json.dumps([SECTION])}) == []
    assert (
        check_call("conversations.create", {"name": "inc-x", "token": "xoxb", "team_id": "T"}) == []
    )
    assert check_call("views.open", {"trigger_id": "1.2.3", "view": json.dumps(MODAL)}) == []
    assert check_call("chat.update", {"channel": "C1", "ts": "1.2", "blocks": []}) == []


def test_unknown_method() -> None:
    assert check_call("chat.postMesage", {"channel": "C1"}) == [
        "unknown Web API method 'chat.postMesage'"
    ]


def test_unknown_and_missing_arguments() -> None:
    problems = check_call("conversations.invite", {"channel": "C1", "user": "U1"})

    assert problems == ["unknown argument 'user'", "missing required argument 'users'"]


@pytest.mark.parametrize(
    ("method", "args", "problem"),
    [
        (
            "chat.postMessage",
            {"channel": "C1"},
            "needs text or blocks or attachments or markdown_text",
        ),
        ("views.open", {"view": MODAL}, "needs trigger_id or interactivity_pointer"),
        ("views.update", {"view": MODAL}, "needs view_id or external_id"),
        ("reactions.get", {"channel": "C1"}, "needs channel+timestamp or file or file_comment"),
    ],
)
def test_either_or_rules(method: str, args: dict[str, object], problem: str) -> None:
    assert problem in check_call(method, args)


def test_json_strings_are_decoded_and_must_be_json() -> None:
    problems = check_call("chat.postMessage", {"channel": "C1", "blocks": "[{not json"})

    assert problems == ["argument 'blocks' is not valid JSON"]


def test_invalid_block() -> None:
    bad = {"type": "section", "text": {"type": "markdown", "text": "x"}}

    problems = check_call("chat.postMessage", {"channel": "C1", "text": "x", "blocks": [bad]})

    assert len(problems) == 1
    assert problems[0].startswith("blocks[0].text")


def test_unknown_block_type() -> None:
    assert check_blocks([{"type": "sektion"}]) == ["blocks[0]: unknown block type 'sektion'"]


def test_fifty_one_blocks_is_too_many_for_a_message_but_not_a_modal() -> None:
    blocks = [SECTION] * 51

    assert check_blocks(blocks) == ["blocks: 51 blocks, more than 50"]
    assert check_view({**MODAL, "blocks": [*MODAL["blocks"], *blocks]}) == []


def test_duplicate_ids() -> None:
    actions = {"type": "actions", "block_id": "a", "elements": [BUTTON, BUTTON]}

    problems = check_blocks([actions, {**SECTION, "block_id": "a"}])

    assert problems == ["blocks: duplicate block_id 'a'", "blocks: duplicate action_id 'rollback'"]


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (
            {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
            "blocks[0].text.text: 3001 characters, more than 3000",
        ),
        (
            {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
            "blocks[0].text.text: 151 characters, more than 150",
        ),
        (
            {
                "type": "actions",
                "elements": [{**BUTTON, "text": {"type": "plain_text", "text": "x" * 76}}],
            },
            "blocks[0].elements[0].text.text: 76 characters, more than 75",
        ),
    ],
)
def test_text_limits(block: dict[str, object], problem: str) -> None:
    assert check_blocks([block]) == [problem]


def test_message_text_limit() -> None:
    problems = check_call("chat.postMessage", {"channel": "C1", "text": "x" * 40_001})

    assert problems == ["text: 40001 characters, more than 40000"]


def test_views() -> None:
    no_submit = {key: value for key, value in MODAL.items() if key != "submit"}
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}

    assert check_view(MODAL) == []
    assert check_view(no_submit) == ["view: 'submit' is a required property"]
    assert check_view(long_title) == ["view.title.text: 25 characters, more than 24"]
    assert (
        check_call(
            "views.publish", {"user_id": "U1", "view": {"type": "home", "blocks": [SECTION]}}
        )
        == []
    )


def test_response_url_and_ack_payloads() -> None:
    assert check_message_payload({"text": "ok", "response_type": "in_channel"}) == []
    assert check_message_payload({"delete_original": True}) == []
    assert check_message_payload({"txt": "typo"}) == [
        "response_url: unknown field 'txt'",
        "response_url: needs text, blocks or attachments",
    ]
    assert check_message_payload({"blocks": [{"type": "sektion"}]}) == [
        "response_url.blocks[0]: unknown block type 'sektion'"
    ]
    assert check_view_submission_ack({}) == []
    assert (
        check_view_submission_ack({"response_action": "errors", "errors": {"summary": "Say more"}})
        == []
    )
    assert check_view_submission_ack({"response_action": "close"}) != []


def test_manifest() -> None:
    good = {
        "_metadata": {"major_version": 1},
        "display_information": {"name": "Steadyhand"},
        "features": {
            "bot_user": {"display_name": "steadyhand"},
            "slash_commands": [
                {
                    "command": "/incident",
                    "url": "https://steadyhand.example/slack/events",
                    "description": "Run an incident",
                }
            ],
        },
        "settings": {"interactivity": {"is_enabled": True}},
    }
    bad = {"display_information": {}, "colour": "red"}

    assert check_manifest(good) == []
    assert check_manifest(bad) == [
        "manifest: Additional properties are not allowed ('colour' was unexpected)",
        "manifest.display_information: 'name' is a required property",
    ]
    assert check_manifest({**good, "_metadata": {"major_version": 9}}) == [
        "manifest: no schema for _metadata.major_version 9"
    ]


def test_recorder_collects_from_a_sandbox() -> None:
    sandbox = SlackSandbox()
    recorder = ConformanceRecorder().attach(sandbox)

    sandbox.handle_call("chat.postMessage", {"channel": "C1"}, "xoxb-sandbox", base_url="")
    sandbox.answer_command_ack("U_ALICE", "C_GENERAL", {"text": "fine"})

    assert recorder.problems == [
        "chat.postMessage: needs text or blocks or attachments or markdown_text"
    ]
    with pytest.raises(AssertionError, match="needs text or blocks"):
        recorder.assert_clean()


def test_conforming_passes_quietly_when_all_is_well() -> None:
    sandbox = SlackSandbox()

    with conforming(sandbox) as recorder:
        sandbox.handle_call("auth.test", {}, "xoxb-sandbox", base_url="")

    assert recorder.checked == 1
