"""SlackSandbox: a Slack workspace in memory that the bot reaches over HTTP.

Point slack_sdk at it with `AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)`;
drive the bot with SlackDriver (or, given an app token, over Socket Mode with SocketModeDriver);
look at what happened with the helpers at the bottom, or render it all with
`transcript(sandbox)`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.sandbox import response_urls, seed
from bot.sandbox.args import Args
from bot.sandbox.entities import (
    BOT_APP_ID,
    JSON,
    ApiCall,
    Channel,
    Message,
    MessageContent,
    ResponseUrl,
    ResponseUrlPost,
    TriggerId,
    User,
    Usergroup,
)
from bot.sandbox.errors import SlackError
from bot.sandbox.failures import Chaos, FailurePlan, FaultKind, RandomFailures
from bot.sandbox.methods import HANDLERS, NO_AUTH, Call
from bot.sandbox.methods.conversations import check_channel_name
from bot.sandbox.routes import build_app
from bot.sandbox.serve import serve_app
from bot.sandbox.socket_mode import OPEN_CONNECTION, SocketModeServer
from bot.sandbox.view_acks import apply_view_ack

# Sees every Web API call: (method, arguments as sent, token left out).
ApiObserver = Callable[[str, JSON], None]
# Sees every message or view the bot sends outside the Web API: (source, payload), where
# source is "response_url", "command_ack" or "view_submission_ack".
PayloadObserver = Callable[[str, JSON], None]
Found = TypeVar("Found")


@dataclass(frozen=True)
class Reply:
    status: int
    body: JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NoAnswer:
    """Chaos: the call gets no answer; the connection drops after `hold_seconds`, or once
    `until` is set (a slow call a test holds for as long as it needs)."""

    hold_seconds: float
    until: asyncio.Event | None = None


class SlackSandbox:
    team_id = seed.TEAM_ID
    bot_user_id = seed.BOT_USER_ID
    bot_id = seed.BOT_ID
    app_id = BOT_APP_ID

    def __init__(
        self,
        bot_token: str = "xoxb-sandbox",
        *,
        app_token: str | None = None,
        clock: Callable[[], float] = time.time,
        trigger_ttl: float = 3.0,
    ) -> None:
        self.bot_token = bot_token
        self.workspace = seed.seeded_workspace(clock, trigger_ttl=trigger_ttl)
        # Token → user id; tests may add user tokens to act as a person.
        self.tokens: dict[str, str] = {bot_token: seed.BOT_USER_ID}
        self.calls: list[ApiCall] = []
        self.observers: list[ApiObserver] = []
        self.payload_observers: list[PayloadObserver] = []
        self.response_url_posts: list[ResponseUrlPost] = []
        self.failures = FailurePlan()
        # Off unless unleash_chaos() is called: a random share of every call fails.
        self.chaos: RandomFailures | None = None
        # method → how many more of its calls are carried out but answered with an error
        # Per method, the HTTP statuses of the next answers lost after the work was done.
        self.lost_answers: dict[str, list[int]] = {}
        # Per method, the gates of the next calls carried out whose answers are held.
        self.held_answers: dict[str, list[asyncio.Event]] = {}
        # Set while served (see serve()); URLs the sandbox hands out point here.
        self.base_url: str | None = None
        self.app = build_app(self)
        self._change_waiters: list[asyncio.Future[None]] = []
        # Socket Mode is served only for an app-level token (`xapp-…`) given here.
        self.socket_mode = SocketModeServer(app_token, self.app_id, self._changed)

    @property
    def app_token(self) -> str | None:
        return self.socket_mode.app_token

    @property
    def api_url(self) -> str:
        """The base_url for slack_sdk's clients."""
        return f"{self._served_url()}/api/"

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1") -> AsyncIterator[str]:
        """Serve the sandbox on a free port for the duration of the block; yields its URL."""
        async with serve_app(self.app, host=host) as base_url, self.socket_mode.serve(host):
            self.base_url = base_url
            try:
                yield base_url
            finally:
                self.base_url = None

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        *,
        times: int = 1,
        retry_after: int = 1,
        status: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` ("*" for any) with `error`.

        `ratelimited` comes as HTTP 429 with `Retry-After: retry_after`; other codes as
        HTTP 200 `{"ok": false}` unless `status` says otherwise (e.g. 500).
        """
        self.failures.add(method, error, times=times, retry_after=retry_after, status=status)

    def unleash_chaos(self, chaos: Chaos | None = None) -> RandomFailures:
        """From now on fail a seeded random share of all Web API calls with 429, 500 or a
        timeout (see Chaos); `self.chaos.enabled = False` calms Slack down again."""
        self.chaos = RandomFailures(chaos or Chaos())
        return self.chaos

    def lose_next_answer(self, method: str, *, times: int = 1, status: int = 504) -> None:
        """Carry out the next `times` calls of `method`, then answer each with HTTP `status`:
        the caller cannot tell whether Slack did it. A 504 (a gateway timeout after the work
        was done) slack_sdk does not retry by itself; a 500 or 503 its server-error handler
        does, which is how a blind retry posts twice."""
        self.lost_answers[method] = [*self.lost_answers.get(method, []), *[status] * times]

    def hold_next_answer(self, method: str) -> asyncio.Event:
        """Carry out the next call of `method`, then hold its answer until the returned event
        is set, and drop the connection then: Slack being slow, as slow as a test needs."""
        gate = asyncio.Event()
        self.held_answers[method] = [*self.held_answers.get(method, []), gate]
        return gate

    # The HTTP side (routes.py calls these)

    def answer_call(
        self, method: str, values: dict[str, Any], token: str | None, *, base_url: str
    ) -> Reply | NoAnswer:
        """handle_call, unless chaos fails this call: then a 429 or 500 without doing it, or no
        answer at all, before or after doing it. A held answer (hold_next_answer) is done,
        then not answered."""
        if self.held_answers.get(method):
            self.handle_call(method, values, token, base_url=base_url)
            return NoAnswer(0.0, until=self.held_answers[method].pop(0))
        fault = self.chaos.draw(method) if self.chaos is not None else None
        if fault is None:
            return self.handle_call(method, values, token, base_url=base_url)
        assert self.chaos is not None
        if fault.kind is FaultKind.TIMEOUT:
            if fault.performed:
                self.handle_call(method, values, token, base_url=base_url)
            else:
                self._record_refused(method, values, "timeout")
            return NoAnswer(fault.hold_seconds)
        refused = self.chaos.refusal(fault)
        self._record_refused(method, values, refused.code)
        return Reply(refused.status, {"ok": False, "error": refused.code}, refused.headers)

    def _record_refused(self, method: str, values: dict[str, Any], code: str) -> None:
        for observer in self.observers:
            observer(method, dict(values))
        self.calls.append(ApiCall(method, values, code))
        self._changed()

    def handle_call(
        self, method: str, values: dict[str, Any], token: str | None, *, base_url: str
    ) -> Reply:
        for observer in self.observers:
            observer(method, dict(values))
        try:
            reply = self._dispatch(method, values, token, base_url)
            if self.lost_answers.get(method):  # done, but the caller hears of a failure
                raise SlackError("internal_error", status=self.lost_answers[method].pop(0))
            self.calls.append(ApiCall(method, values))
        except SlackError as refused:
            self.calls.append(ApiCall(method, values, refused.code))
            body: JSON = {"ok": False, "error": refused.code}
            if refused.code == "unknown_method":
                body["req_method"] = method
            reply = Reply(refused.status, body, refused.headers)
        self._changed()
        return reply

    def _dispatch(
        self, method: str, values: dict[str, Any], token: str | None, base_url: str
    ) -> Reply:
        if method == OPEN_CONNECTION:
            # The one method that takes the app-level token rather than a bot or user token.
            url = self.socket_mode.open_connection(token)
            self._raise_planned_failure(method)
            return Reply(200, {"ok": True, "url": url})
        handler = HANDLERS.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        caller = self._authenticate(method, token)
        self._raise_planned_failure(method)
        result = handler(Call(self.workspace, Args(values), caller, base_url))
        return Reply(200, {"ok": True, **result})

    def _raise_planned_failure(self, method: str) -> None:
        planned = self.failures.take(method)
        if planned is not None:
            raise planned

    def _authenticate(self, method: str, token: str | None) -> User:
        if token is not None and token == self.app_token:
            raise SlackError("not_allowed_token_type")
        user_id = self.tokens.get(token or "")
        if user_id is not None:
            return self.workspace.user(user_id)
        if method in NO_AUTH:
            return self.workspace.user(seed.BOT_USER_ID)
        raise SlackError("not_authed" if token is None else "invalid_auth")

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        upload = self.workspace.files.get(file_id)
        if upload is None:
            return False
        upload.content = data
        self._changed()
        return True

    def answer_response_url(self, token: str, payload: JSON) -> None:
        target = self.workspace.response_urls.get(token)
        if target is None:
            raise SlackError("expired_url", status=404)
        self._notify_payload("response_url", payload)
        self.response_url_posts.append(
            ResponseUrlPost(token, target.user, target.channel, dict(payload))
        )
        try:
            response_urls.answer(self.workspace, target, payload, seed.BOT_USER_ID)
        finally:
            self._changed()

    # A default bound on purpose: a forgotten asyncio.timeout would hang the whole test run.
    async def wait_until(
        self,
        condition: Callable[[], Found],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Found:
        """Wait until `condition()` is truthy and return it, re-checking after each call the bot
        makes; for bots that answer Slack first and work afterwards (Bolt's default)."""
        async with asyncio.timeout(timeout):
            while not (found := condition()):
                waiter = asyncio.get_running_loop().create_future()
                self._change_waiters.append(waiter)
                await waiter
        return found

    def _changed(self) -> None:
        waiters, self._change_waiters = self._change_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # The driver's side

    def issue_trigger_id(self, user: str) -> str:
        value = f"{int(self.workspace.now())}.{secrets.randbelow(10**9)}.{secrets.token_hex(10)}"
        self.workspace.triggers[value] = TriggerId(value, user, self.workspace.now())
        return value

    def issue_response_url(self, user: str, channel: str, message_ts: str | None = None) -> str:
        token = secrets.token_urlsafe(12)
        self.workspace.response_urls[token] = ResponseUrl(
            token, user, channel, self.workspace.now(), message_ts
        )
        return f"{self._served_url()}/respond/{token}"

    def answer_command_ack(self, user: str, channel: str, payload: JSON) -> None:
        """Show what the bot put in its ack of a slash command, as Slack does."""
        self._notify_payload("command_ack", payload)
        target = ResponseUrl("ack", user, channel, self.workspace.now())
        response_urls.answer(self.workspace, target, payload, seed.BOT_USER_ID)

    def answer_view_submission_ack(self, user: str, view_id: str, payload: JSON) -> None:
        """Close, update or push views as the bot's `response_action` says."""
        self._notify_payload("view_submission_ack", payload)
        apply_view_ack(self.workspace, user, view_id, payload)

    def close_modal(self, user: str, view_id: str) -> None:
        """The user dismissed a modal (and those stacked on it)."""
        apply_view_ack(self.workspace, user, view_id, {})

    def _notify_payload(self, source: str, payload: JSON) -> None:
        for observer in self.payload_observers:
            observer(source, dict(payload))

    def _served_url(self) -> str:
        if self.base_url is None:
            raise RuntimeError("serve the sandbox first: `async with sandbox.serve():`")
        return self.base_url

    # Setting the scene

    def add_user(self, user_id: str, name: str, *, email: str = "", tz: str = "UTC") -> User:
        user = User(user_id, name, name.title(), email or f"{name}@example.com", tz=tz)
        self.workspace.users[user.id] = user
        return user

    def add_usergroup(self, group_id: str, handle: str, members: Iterable[str]) -> Usergroup:
        group = Usergroup(group_id, handle, handle, list(members), int(self.workspace.now()))
        self.workspace.usergroups[group.id] = group
        return group

    def add_channel(
        self, name: str, members: Iterable[str] = (), *, bot_member: bool = True
    ) -> Channel:
        """A public channel; the bot is in it unless bot_member is False."""
        check_channel_name(name)
        if self.workspace.channel_by_name(name) is not None:
            raise SlackError("name_taken")
        people = list(members)
        creator = seed.BOT_USER_ID if bot_member or not people else people[0]
        return self.workspace.add_channel(name, creator, people, announce=False)

    # Looking at what happened

    def channel(self, reference: str) -> Channel:
        """A channel by id or name (with or without '#')."""
        found = self.workspace.channels.get(reference) or self.workspace.channel_by_name(reference)
        if found is None:
            raise LookupError(f"no channel {reference!r}")
        return found

    def user(self, reference: str) -> User:
        """A user by id or name (with or without '@')."""
        workspace = self.workspace
        found = workspace.users.get(reference) or workspace.user_by_name(reference.lstrip("@"))
        if found is None:
            raise LookupError(f"no user {reference!r}")
        return found

    def channel_by_name(self, name: str) -> Channel | None:
        return self.workspace.channel_by_name(name)

    def say(self, user: str, channel: str, text: str, *, thread_ts: str | None = None) -> str:
        """`user` (an ID or a name) writes `text` in `channel`, joining it first if they are not
        in it (as Slack's client does in a public channel); returns the message's ts. No event
        is sent: the bot does not subscribe to messages (SlackActivity.user_message sends one,
        for a bot that does)."""
        person, place = self.user(user), self.channel(channel)
        if person.id not in place.members:
            self.workspace.join(place, person.id)
        content = MessageContent(text=text)
        return self.workspace.post(place, person.id, content, thread_ts=thread_ts).ts

    def messages(self, channel: str, *, include_system: bool = False) -> list[JSON]:
        """A channel's messages as Slack shows them now (latest versions, replies included),
        oldest first; joins, topic changes and the like only if include_system."""
        return [
            message.to_slack(self.workspace.team)
            for message in self.workspace.live_messages(self.channel(channel).id)
            if include_system or message.subtype is None
        ]

    def message(self, channel: str, ts: str) -> Message:
        """One stored message with all its versions (`.versions`), for checking edits."""
        return self.workspace.message(self.channel(channel).id, ts)

    def ephemerals(self, user: str, channel: str | None = None) -> list[JSON]:
        """Ephemeral messages shown to a user (each with its "channel"), oldest first."""
        channel_id = self.channel(channel).id if channel is not None else None
        return [
            {**message.to_slack(self.workspace.team), "channel": message.channel}
            for message in self.workspace.ephemerals
            if message.visible_to == user
            and not message.deleted
            and channel_id in (None, message.channel)
        ]

    def view(self, view_id: str) -> JSON:
        return self.workspace.views[view_id].to_slack(self.team_id, self.bot_id)

    def open_views(self, user: str) -> list[JSON]:
        """The user's open modals, bottom of the stack first (the visible one is last)."""
        return [self.view(view_id) for view_id in self.workspace.modal_stacks.get(user, [])]

    def home_view(self, user: str) -> JSON | None:
        view_id = self.workspace.home_views.get(user)
        return self.view(view_id) if view_id is not None else None

    def calls_to(self, method: str) -> list[JSON]:
        """The arguments of every call made to `method`, in order."""
        return [call.args for call in self.calls if call.method == method]

    def uploaded(self, file_id: str) -> bytes | None:
        upload = self.workspace.files.get(file_id)
        return upload.content if upload is not None else None
