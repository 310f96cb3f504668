"""SlackDriver: plays Slack's part towards the bot, sending signed requests to /slack/events.

Every request is signed like Slack's (v0 HMAC-SHA256 of `v0:{timestamp}:{body}`), carries
trigger ids and response URLs the sandbox honours, and is built from what the sandbox stores:
a click on a button sends the message as it is now, a submission sends the view as it is now.

Users and channels may be named by id ("U_ALICE", "C_GENERAL") or by name ("alice", "#general").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypedDict, Unpack
from urllib.parse import urlencode

import httpx

from bot.sandbox.elements import (
    FoundElement,
    button_action,
    checkbox_action,
    choice_action,
    find_element,
    view_state,
)
from bot.sandbox.entities import JSON, Channel, Message, MessageContent, User
from bot.sandbox.sandbox import SlackSandbox

# Slack still sends the deprecated verification token in payloads; Bolt ignores it.
VERIFICATION_TOKEN = "sandbox-verification-token"


class Delivery(TypedDict, total=False):
    """How a request is delivered, for testing the bot's defences."""

    retry_num: int  # sent as X-Slack-Retry-Num, as on Slack's redeliveries
    retry_reason: str  # X-Slack-Retry-Reason, e.g. "http_timeout"
    timestamp: int  # the signed X-Slack-Request-Timestamp; an old one is a replay
    forge: bool  # sign with the wrong secret


class SlackDriver:
    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        sandbox: SlackSandbox,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.sandbox = sandbox
        self._client = client or httpx.AsyncClient(timeout=10.0)
        self._owns_client = client is None

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # Slash commands

    async def slash_command(
        self,
        user: str,
        channel: str,
        text: str = "",
        command: str = "/incident",
        **delivery: Unpack[Delivery],
    ) -> httpx.Response:
        """`/incident text` typed by `user` in `channel`. What the bot puts in its ack is shown
        to the user, as Slack shows it."""
        person, place = self._user(user), self._channel(channel)
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.sandbox.team_id,
            "team_domain": self.sandbox.workspace.team.domain,
            "channel_id": place.id,
            "channel_name": "directmessage" if place.is_im else place.name,
            "user_id": person.id,
            "user_name": person.name,
            "command": command,
            "text": text,
            "api_app_id": self.sandbox.app_id,
            "is_enterprise_install": "false",
            "response_url": self.sandbox.issue_response_url(person.id, place.id),
            "trigger_id": self.sandbox.issue_trigger_id(person.id),
        }
        response = await self._post_form(form, delivery)
        ack = _json_body(response)
        if ack:
            self.sandbox.answer_command_ack(person.id, place.id, ack)
        return response

    # Interactions with messages

    async def block_action(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action: Mapping[str, Any],
        **delivery: Unpack[Delivery],
    ) -> httpx.Response:
        """A raw `block_actions` interaction with the message `message_ts` (which may be an
        ephemeral message shown to `user`)."""
        person, place = self._user(user), self._channel(channel)
        message = self._visible_message(person, place, message_ts)
        payload = self._interaction("block_actions", person)
        payload["container"] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": place.id,
            "is_ephemeral": message.visible_to is not None,
        }
        payload["channel"] = {"id": place.id, "name": place.name or "directmessage"}
        if message.visible_to is None:
            payload["message"] = message.to_slack(self.sandbox.workspace.team)
        payload["state"] = {"values": view_state(message.content.blocks or [], {})}
        payload["response_url"] = self.sandbox.issue_response_url(person.id, place.id, message.ts)
        payload["actions"] = [{"action_ts": self._event_ts(), **action}]
        return await self._post_payload(payload, delivery)

    async def click(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        **delivery: Unpack[Delivery],
    ) -> httpx.Response:
        """Click the button `action_id` on a message."""
        found = self._message_element(user, channel, message_ts, action_id)
        action = button_action(found, self._event_ts())
        return await self.block_action(user, channel, message_ts, action, **delivery)

    async def tick(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        option_value: str,
        *,
        checked: bool = True,
        **delivery: Unpack[Delivery],
    ) -> httpx.Response:
        """Tick (or, with checked=False, untick) one option of the checkboxes `action_id`."""
        found = self._message_element(user, channel, message_ts, action_id, option_value)
        action = checkbox_action(found, option_value, checked, self._event_ts())
        return await self.block_action(user, channel, message_ts, action, **delivery)

    async def choose(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: Any,
        **delivery: Unpack[Delivery],
    ) -> httpx.Response:
        """Pick `value` in a select, radio group, overflow menu or picker on a message."""
        found = self._message_element(user, channel, message_ts, action_id)
        action = choice_action(found, value, self._event_ts())
        return await self.block_action(user, channel, message_ts, action, **delivery)

    # Interactions with modals

    async def view_block_action(
        self, user: str, view_id: str, action: Mapping[str, Any], **delivery: Unpack[Delivery]
    ) -> httpx.Response:
        """A raw `block_actions` interaction inside an open modal."""
        person = self._user(user)
        payload = self._interaction("block_actions", person)
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = self.sandbox.view(view_id)
        payload["actions"] = [{"action_ts": self._event_ts(), **action}]
        return await self._post_payload(payload, delivery)

    async def click_in_view(
        self, user: str, view_id: str, action_id: str, **delivery: Unpack[Delivery]
    ) -> httpx.Response:
        found = find_element(self.sandbox.view(view_id)["blocks"], action_id)
        action = button_action(found, self._event_ts())
        return await self.view_block_action(user, view_id, action, **delivery)

    async def view_submission(
        self,
        user: str,
        view_id: str,
        state_values: Mapping[str, Any] | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        **delivery: Unpack[Delivery],
    ) -> httpx.Response:
        """Submit a modal. Give either Slack's raw `state_values` ({block_id: {action_id: …}}),
        or `values` by action_id ({"summary": "text", "severity": "sev1"}) and let the driver
        shape them; inputs not mentioned keep their initial values.

        The bot's `response_action` (errors, update, push, clear) is applied to the modals."""
        person = self._user(user)
        view = self.sandbox.workspace.views[view_id]
        if state_values is None:
            state_values = view_state(view.definition.get("blocks", []), values or {})
        view.state_values = dict(state_values)
        payload = self._interaction("view_submission", person)
        payload["view"] = self.sandbox.view(view_id)
        payload["response_urls"] = []
        response = await self._post_payload(payload, delivery)
        if response.status_code == 200:
            self.sandbox.answer_view_submission_ack(person.id, view_id, _json_body(response))
        return response

    async def close_view(
        self, user: str, view_id: str, **delivery: Unpack[Delivery]
    ) -> httpx.Response | None:
        """Close a modal with its Cancel button; the bot hears of it only if it asked
        (notify_on_close), so this returns None otherwise."""
        person = self._user(user)
        view = self.sandbox.view(view_id)
        self.sandbox.close_modal(person.id, view_id)
        if not view.get("notify_on_close"):
            return None
        payload = self._interaction("view_closed", person)
        payload["view"] = view
        payload["is_cleared"] = False
        return await self._post_payload(payload, delivery)

    # Events

    async def event(
        self, event: Mapping[str, Any], *, event_id: str | None = None, **delivery: Unpack[Delivery]
    ) -> httpx.Response:
        """An Events API delivery of `event` (Slack's `event_callback` envelope)."""
        inner = {"event_ts": self._event_ts(), **event}
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.sandbox.team_id,
            "api_app_id": self.sandbox.app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(float(inner["event_ts"])),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.sandbox.team_id,
                    "user_id": self.sandbox.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-sandbox-{uuid.uuid4().hex[:8]}",
        }
        return await self._send(json.dumps(envelope), "application/json", delivery)

    async def user_message(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        **delivery: Unpack[Delivery],
    ) -> httpx.Response:
        """`user` writes `text` in `channel`: stored in the sandbox, then a `message` event."""
        person, place = self._user(user), self._channel(channel)
        posted = self.sandbox.workspace.post(
            place, person.id, MessageContent(text=text), thread_ts=thread_ts
        )
        event: JSON = {
            "type": "message",
            "channel": place.id,
            "user": person.id,
            "text": text,
            "ts": posted.ts,
            "event_ts": posted.ts,
            "channel_type": "im" if place.is_im else "channel",
            "team": self.sandbox.team_id,
            "client_msg_id": str(uuid.uuid4()),
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return await self.event(event, **delivery)

    async def react(
        self,
        user: str,
        channel: str,
        message_ts: str,
        name: str,
        **delivery: Unpack[Delivery],
    ) -> httpx.Response:
        """`user` adds the reaction `name` to a message: stored, then `reaction_added`."""
        person, place = self._user(user), self._channel(channel)
        message = self.sandbox.workspace.message(place.id, message_ts)
        reactors = message.reactions.setdefault(name, [])
        if person.id not in reactors:
            reactors.append(person.id)
            self.sandbox.workspace.record("reacted", message, actor=person.id, detail=name)
        event = {
            "type": "reaction_added",
            "user": person.id,
            "reaction": name,
            "item": {"type": "message", "channel": place.id, "ts": message.ts},
            "item_user": message.user,
        }
        return await self.event(event, **delivery)

    async def redeliver(
        self, response: httpx.Response, *, retry_num: int = 1, retry_reason: str = "http_timeout"
    ) -> httpx.Response:
        """Send the same request again, as Slack does when the bot was slow or failed."""
        request = response.request
        body = request.content.decode()
        retry: Delivery = {"retry_num": retry_num, "retry_reason": retry_reason}
        return await self._send(body, request.headers["content-type"], retry)

    # Building and sending

    def _interaction(self, kind: str, person: User) -> JSON:
        return {
            "type": kind,
            "team": {"id": self.sandbox.team_id, "domain": self.sandbox.workspace.team.domain},
            "user": {
                "id": person.id,
                "username": person.name,
                "name": person.name,
                "team_id": self.sandbox.team_id,
            },
            "api_app_id": self.sandbox.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.sandbox.issue_trigger_id(person.id),
            "is_enterprise_install": False,
            "enterprise": None,
        }

    async def _post_form(self, form: Mapping[str, str], delivery: Delivery) -> httpx.Response:
        return await self._send(urlencode(form), "application/x-www-form-urlencoded", delivery)

    async def _post_payload(self, payload: JSON, delivery: Delivery) -> httpx.Response:
        # Interactions come as one form field, `payload`, holding JSON.
        return await self._post_form({"payload": json.dumps(payload)}, delivery)

    async def _send(self, body: str, content_type: str, delivery: Delivery) -> httpx.Response:
        timestamp = str(delivery.get("timestamp", int(time.time())))
        secret = self.signing_secret
        if delivery.get("forge"):
            secret = "not-" + secret
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(secret, timestamp, body),
        }
        if "retry_num" in delivery:
            headers["X-Slack-Retry-Num"] = str(delivery["retry_num"])
            headers["X-Slack-Retry-Reason"] = delivery.get("retry_reason", "http_timeout")
        return await self._client.post(self.events_url, content=body.encode(), headers=headers)

    def _user(self, reference: str) -> User:
        workspace = self.sandbox.workspace
        found = workspace.users.get(reference) or workspace.user_by_name(reference.lstrip("@"))
        if found is None:
            raise LookupError(f"no user {reference!r}")
        return found

    def _channel(self, reference: str) -> Channel:
        return self.sandbox.channel(reference)

    def _visible_message(self, person: User, place: Channel, ts: str) -> Message:
        ephemeral = self.sandbox.workspace.ephemeral(ts)
        if ephemeral is not None and ephemeral.visible_to == person.id:
            return ephemeral
        return self.sandbox.workspace.message(place.id, ts)

    def _message_element(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        option_value: str | None = None,
    ) -> FoundElement:
        message = self._visible_message(self._user(user), self._channel(channel), message_ts)
        return find_element(message.content.blocks or [], action_id, option_value=option_value)

    def _event_ts(self) -> str:
        return self.sandbox.workspace.next_ts()


def slack_signature(signing_secret: str, timestamp: str, body: str) -> str:
    """Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def _json_body(response: httpx.Response) -> JSON:
    """What the bot put in its HTTP answer: JSON, or plain text (shown as text)."""
    if response.status_code != 200 or not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {"text": response.text}
    return body if isinstance(body, dict) else {}
