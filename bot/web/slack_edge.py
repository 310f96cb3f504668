"""What `/slack/events` checks before Bolt sees a request: Slack's signature, then that the
signed body is one Bolt can read.

The signature is ours to check first, over the raw bytes (already capped by `BodyLimit`):
Bolt's own check parses the timestamp with `int()` and raises on "abc" or "1.5", and its error
handler then answered the `response_url` of the unverified body, so a forged request could make
the bot POST anywhere. Here the timestamp must be ASCII digits within five minutes of now, and
nothing is parsed, stored or sent before the signature matches.

A signed body can still be malformed (only Slack can sign, so it would be Slack's bug or a
leaked secret): it is refused with 400 rather than crashing Bolt's parsing into a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request
from slack_bolt.async_app import AsyncBoltContext, AsyncBoltRequest
from slack_bolt.request.async_internals import build_async_context
from starlette.requests import Request

from bot.domain.json_input import JsonInputError, read_json
from bot.slack.app import VERIFIED_AT_EDGE

MAX_SIGNATURE_AGE_SECONDS = 5 * 60  # Slack's own advice, and Bolt's
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # [0-9], not \d: no other script's digits


class SlackBodyError(Exception):
    """A signed body Bolt cannot read; answered 400 with the reason."""


def signed_by_slack(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> bool:
    """Slack's v0 signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`. `now` is wall
    time (Slack stamps with its own clock, not the bot's story clock)."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not secret or not _TIMESTAMP.fullmatch(timestamp):
        return False
    if abs(now - int(timestamp)) > MAX_SIGNATURE_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("latin-1", "replace"))


def bolt_request(request: Request, body: bytes) -> AsyncBoltRequest:
    """The verified request as Bolt's, marked verified for the error handler."""
    form = _readable_form(body, request.headers.get("content-type"))
    try:
        verified = to_async_bolt_request(request, body, {VERIFIED_AT_EDGE: True})
        if form is not None and verified.body != form:
            # Bolt takes any form whose text holds the word "payload" for an interaction
            # without one, and reads it as {}: `/incident update payload API down` was
            # dropped as "unhandled". The form is what Slack sent.
            verified.body = form
            verified.context = build_async_context(AsyncBoltContext({}), form)
            verified.context[VERIFIED_AT_EDGE] = True
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        # Bolt reads the envelope's fields (team, user, channel …) by their documented types.
        raise SlackBodyError(f"a Slack request of an unexpected shape ({exc!r})") from None
    return verified


def _readable_form(body: bytes, content_type: str | None) -> dict[str, str] | None:
    """Checks the body as Bolt parses it (slack_bolt.request.internals.parse_body), by the
    strict reader: an object of valid JSON, or a form whose `payload` is one. Returns a form
    that has no `payload` field (a slash command), else None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SlackBodyError("body: not UTF-8") from None
    if not text:
        return None  # Bolt reads it as {}
    try:
        if content_type == "application/json" or text.startswith("{"):
            _object(read_json(text))
            return None
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" in form:
            _object(read_json(form["payload"]))
            return None
    except JsonInputError as exc:
        raise SlackBodyError(f"body: {exc}") from None
    _command(form)
    return form


def _command(form: dict[str, str]) -> None:
    """A slash command carries these, always: without a trigger_id the bot would call
    views.open with none, which Slack refuses."""
    if "command" in form:
        for key in ("command", "user_id", "channel_id", "trigger_id"):
            if not form.get(key, "").strip():
                raise SlackBodyError(f"body: a slash command without `{key}`")


def _object(value: object) -> None:
    if not isinstance(value, dict):
        raise SlackBodyError("body: Slack sends a JSON object")
    _check_fields(value)
    for path in _REQUIRED.get(str(value.get("type")), ()):
        if not all(isinstance(found, str) for found in _strings_at(value, path)):
            raise SlackBodyError(f"body: `{'.'.join(path)}` must be a string")


# What Bolt's matchers index without looking, by payload type: a string each must be there.
_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "event_callback": (("event", "type"),),
    "block_actions": (("actions", "*", "action_id"),),
    "block_suggestion": (("action_id",),),
    "view_submission": (("view", "callback_id"),),
    "view_closed": (("view", "callback_id"),),
    **{
        kind: (("callback_id",),)
        for kind in (
            "shortcut",
            "message_action",
            "interactive_message",
            "dialog_submission",
            "dialog_cancellation",
            "dialog_suggestion",
            "workflow_step_edit",
        )
    },
}


def _strings_at(value: object, path: tuple[str, ...]) -> list[object]:
    """What sits at `path` (`*`: every item of a list); None where something is missing."""
    found = [value]
    for step in path:
        inner: list[object] = []
        for item in found:
            if step == "*":
                inner += item if isinstance(item, list) and item else [None]
            else:
                inner.append(item.get(step) if isinstance(item, dict) else None)
        found = inner
    return found


# The fields Bolt's parsing, middleware and matchers read, wherever they appear, by the one type
# Slack's payloads give each (users, channels and teams are an id or an object).
_STRINGS = frozenset(
    [
        "type",
        "subtype",
        "token",
        "team_id",
        "user_id",
        "channel_id",
        "enterprise_id",
        "api_app_id",
        "response_url",
        "callback_id",
        "command",
        "trigger_id",
        "thread_ts",
        "action_id",
        "block_id",
        "bot_id",
        "user_team",
        "app_installed_team_id",
        "function_execution_id",
        "event_id",
    ]
)
_IDS_OR_OBJECTS = frozenset(["team", "user", "channel", "enterprise"])
_OBJECTS = frozenset(
    [
        "event",
        "view",
        "message",
        "previous_message",
        "container",
        "item",
        "assistant_thread",
        "function_data",
    ]
)
_LISTS_OF_OBJECTS = frozenset(["actions", "authorizations", "response_urls"])


def _check_fields(payload: dict[str, object]) -> None:
    pending: list[object] = [payload]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if not _typed_as_slack_does(key, value):
                raise SlackBodyError(f"body: `{key}` is not what Slack sends there")
            pending.append(value)


def _typed_as_slack_does(key: str, value: object) -> bool:
    if value is None:  # Bolt tests objects by presence (`"view" in body`), ids by value
        return key not in _OBJECTS and key not in _LISTS_OF_OBJECTS
    if key in _STRINGS:
        return isinstance(value, str)
    if key in _IDS_OR_OBJECTS:
        return isinstance(value, str | dict)
    if key in _OBJECTS:
        return isinstance(value, dict)
    if key in _LISTS_OF_OBJECTS:
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    return True
