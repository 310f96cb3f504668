"""The one strict JSON reader: what Python's json.loads takes and we refuse, and why."""

from __future__ import annotations

import pytest

from bot.domain.json_input import MAX_DEPTH, JsonInputError, nesting_depth, read_json
from bot.sandbox.driver import slack_signature
from bot.web.slack_edge import signed_by_slack


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 5000 + b"]" * 5000, r"^JSON nested too deeply \(5000 levels"),
        (b'{"a": ' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1), "nested too deeply"),
        (b'{"version": "v\\ud800"}', r"lone surrogate \(\\ud800\)"),
        (b'{"\\udfff": 1}', "lone surrogate"),
        (b'{"summary": "a\\u0000b"}', r"NUL character \(\\u0000\)"),
        (b"NaN", r"^not valid JSON \(NaN is not a JSON number\)"),
        (b"[-Infinity]", "-Infinity is not a JSON number"),
        (b"1e999", r"out of range \(1e999\)"),
        (b"1" * 5000, "out of range"),
        (b"\xff\xfe", r"^not valid JSON \(not UTF-8 at byte 0\)"),
        (b"{", "^not valid JSON"),
    ],
)
def test_refused_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(JsonInputError, match=reason):
        read_json(body)


def test_what_real_senders_write_is_read_as_before() -> None:
    body = '{"a": [1, 2.5, -3e10, true, null], "b": "\\ud83d\\ude00 ]]]{", "[": {"c": ""}}'
    assert read_json(body.encode()) == {
        "a": [1, 2.5, -3e10, True, None],
        "b": "😀 ]]]{",
        "[": {"c": ""},
    }
    assert read_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert nesting_depth('{"a": "[[[[\\"[[", "b": [[]]}') == 3


@pytest.mark.parametrize("stamp", ["abc", "1.5", "", "+1700000000", "1e9", "١٧٠٠٠٠٠٠٠٠"])
def test_a_slack_timestamp_must_be_ascii_digits(stamp: str) -> None:
    headers = {"x-slack-request-timestamp": stamp, "x-slack-signature": "v0=00"}
    assert signed_by_slack("secret", headers, b"body", 1_700_000_000.0) is False


def test_slacks_own_signature_passes_within_five_minutes_only() -> None:
    stamp = "1700000000"
    headers = {
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": slack_signature("secret", stamp, "body"),
    }
    assert signed_by_slack("secret", headers, b"body", 1_700_000_000.0 + 299)
    assert not signed_by_slack("secret", headers, b"body", 1_700_000_000.0 + 301)
    assert not signed_by_slack("other", headers, b"body", 1_700_000_000.0)
