"""SlackActivity: what people do in Slack that the bot hears of, whatever carries it to the bot.

A slash command, a click, a submission or an event is built here from what the sandbox stores:
a click on a button sends the message as it is now, a submission sends the view as it is now,
and every trigger id and response URL is one the sandbox honours. How it reaches the bot is
the subclass's part: SlackDriver posts signed HTTP requests to /slack/events, SocketModeDriver
sends envelopes over Socket Mode. Either way, what the bot puts in its ack is shown as Slack
shows it.

Users and channels may be named by id ("U_ALICE", "C_GENERAL") or by name ("alice", "#general").
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Generic, Self, TypedDict, TypeVar, Unpack

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

# What one delivery gave back: an HTTP response, or an ack over Socket Mode.
Answer = TypeVar("Answer")


class Delivery(TypedDict, total=False):
    """How a request is delivered, for testing the bot's defences."""

    retry_num: int  # sent as X-Slack-Retry-Num, as on Slack's redeliveries
    retry_reason: str  # X-Slack-Retry-Reason, e.g. "http_timeout"
    timestamp: int  # the signed X-Slack-Request-Timestamp; an old one is a replay
    forge: bool  # sign with the wrong secret


class SlackActivity(ABC, Generic[Answer]):
    def __init__(self, sandbox: SlackSandbox) -> None:
        self.sandbox = sandbox

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release what the driver holds (nothing, unless a subclass says otherwise)."""

    # How requests reach the bot

    @abstractmethod
    async def _deliver_command(self, form: dict[str, str], delivery: Delivery) -> Answer: ...

    @abstractmethod
    async def _deliver_interaction(self, payload: JSON, delivery: Delivery) -> Answer: ...

    @abstractmethod
    async def _deliver_event(self, envelope: JSON, delivery: Delivery) -> Answer: ...

    @abstractmethod
    def _ack_of(self, answer: Answer) -> JSON | None:
        """What the bot put in its ack ({} for a bare ack), or None if it did not ack."""

    # Slash commands

    async def slash_command(
        self,
        user: str,
        channel: str,
        text: str = "",
        command: str = "/incident",
        **delivery: Unpack[Delivery],
    ) -> Answer:
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
        answer = await self._deliver_command(form, delivery)
        ack = self._ack_of(answer)
        if ack:
            self.sandbox.answer_command_ack(person.id, place.id, ack)
        return answer

    # Interactions with messages

    async def block_action(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action: Mapping[str, Any],
        **delivery: Unpack[Delivery],
    ) -> Answer:
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
        return await self._deliver_interaction(payload, delivery)

    async def click(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        **delivery: Unpack[Delivery],
    ) -> Answer:
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
    ) -> Answer:
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
    ) -> Answer:
        """Pick `value` in a select, radio group, overflow menu or picker on a message."""
        found = self._message_element(user, channel, message_ts, action_id)
        action = choice_action(found, value, self._event_ts())
        return await self.block_action(user, channel, message_ts, action, **delivery)

    # Interactions with modals

    async def view_block_action(
        self, user: str, view_id: str, action: Mapping[str, Any], **delivery: Unpack[Delivery]
    ) -> Answer:
        """A raw `block_actions` interaction inside an open modal."""
        person = self._user(user)
        payload = self._interaction("block_actions", person)
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = self.sandbox.view(view_id)
        payload["actions"] = [{"action_ts": self._event_ts(), **action}]
        return await self._deliver_interaction(payload, delivery)

    async def click_in_view(
        self, user: str, view_id: str, action_id: str, **delivery: Unpack[Delivery]
    ) -> Answer:
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
    ) -> Answer:
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
        answer = await self._deliver_interaction(payload, delivery)
        ack = self._ack_of(answer)
        if ack is not None:
            self.sandbox.answer_view_submission_ack(person.id, view_id, ack)
        return answer

    async def close_view(
        self, user: str, view_id: str, **delivery: Unpack[Delivery]
    ) -> Answer | None:
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
        return await self._deliver_interaction(payload, delivery)

    # Events

    async def event(
        self, event: Mapping[str, Any], *, event_id: str | None = None, **delivery: Unpack[Delivery]
    ) -> Answer:
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
        return await self._deliver_event(envelope, delivery)

    async def user_message(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        **delivery: Unpack[Delivery],
    ) -> Answer:
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
    ) -> Answer:
        """`user` adds the reaction `name` to a message: stored, then `reaction_added`."""
        person, message = self._user(user), self._message(channel, message_ts)
        reactors = message.reactions.setdefault(name, [])
        if person.id not in reactors:
            reactors.append(person.id)
            self.sandbox.workspace.record("reacted", message, actor=person.id, detail=name)
        event = self._reaction_event("reaction_added", person, message, name)
        return await self.event(event, **delivery)

    async def unreact(
        self,
        user: str,
        channel: str,
        message_ts: str,
        name: str,
        **delivery: Unpack[Delivery],
    ) -> Answer:
        """`user` takes the reaction `name` off a message: stored, then `reaction_removed`."""
        person, message = self._user(user), self._message(channel, message_ts)
        reactors = message.reactions.get(name, [])
        if person.id in reactors:
            reactors.remove(person.id)
            if not reactors:
                del message.reactions[name]
            self.sandbox.workspace.record("unreacted", message, actor=person.id, detail=name)
        event = self._reaction_event("reaction_removed", person, message, name)
        return await self.event(event, **delivery)

    def _message(self, channel: str, ts: str) -> Message:
        return self.sandbox.workspace.message(self._channel(channel).id, ts)

    def _reaction_event(self, kind: str, person: User, message: Message, name: str) -> JSON:
        return {
            "type": kind,
            "user": person.id,
            "reaction": name,
            "item": {"type": "message", "channel": message.channel, "ts": message.ts},
            "item_user": message.user,
        }

    # Building

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

    def _user(self, reference: str) -> User:
        return self.sandbox.user(reference)

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
