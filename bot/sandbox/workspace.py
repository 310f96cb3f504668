"""All the state of one sandbox workspace, and the operations several methods share.

Lookups raise SlackError with the code Slack would send, so method handlers read straight:
`channel = workspace.channel(args.text("channel"))`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from bot.sandbox.entities import (
    Activity,
    ActivityKind,
    Channel,
    Message,
    MessageContent,
    MessageVersion,
    ResponseUrl,
    Team,
    TriggerId,
    UploadedFile,
    User,
    Usergroup,
    View,
)
from bot.sandbox.errors import SlackError


class Workspace:
    def __init__(self, team: Team, clock: Callable[[], float], *, trigger_ttl: float = 3.0) -> None:
        self.team = team
        self.clock = clock
        # Slack's trigger ids expire after three seconds.
        self.trigger_ttl = trigger_ttl
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.channels: dict[str, Channel] = {}
        # Per channel, messages by ts; ts only grows, so insertion order is time order.
        self.channel_messages: dict[str, dict[str, Message]] = {}
        self.ephemerals: list[Message] = []
        self.views: dict[str, View] = {}
        # Per user, the ids of the modals open on top of each other, bottom first.
        self.modal_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.files: dict[str, UploadedFile] = {}
        self.triggers: dict[str, TriggerId] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.activity: list[Activity] = []
        self._last_ts_micros = 0
        self._id_counters: dict[str, int] = {}

    # Time and identifiers

    def now(self) -> float:
        return self.clock()

    def next_ts(self) -> str:
        """A message timestamp: the clock's time, but strictly after every earlier one."""
        micros = max(int(self.clock() * 1_000_000), self._last_ts_micros + 100)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        count = self._id_counters.get(prefix, 0) + 1
        self._id_counters[prefix] = count
        return f"{prefix}SBX{count:06d}"

    # Lookups

    def user(self, user_id: str, *, error: str = "user_not_found") -> User:
        found = self.users.get(user_id)
        if found is None:
            raise SlackError(error)
        return found

    def user_by_name(self, name: str) -> User | None:
        return next((user for user in self.users.values() if user.name == name), None)

    def channel(self, channel_id: str, *, error: str = "channel_not_found") -> Channel:
        found = self.channels.get(channel_id)
        if found is None:
            raise SlackError(error)
        return found

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.removeprefix("#")
        return next((ch for ch in self.channels.values() if ch.name == name and not ch.is_im), None)

    def message(self, channel_id: str, ts: str, *, error: str = "message_not_found") -> Message:
        found = self.channel_messages.get(channel_id, {}).get(ts)
        if found is None or found.deleted:
            raise SlackError(error)
        return found

    def ephemeral(self, ts: str) -> Message | None:
        return next((eph for eph in self.ephemerals if eph.ts == ts and not eph.deleted), None)

    def live_messages(self, channel_id: str) -> list[Message]:
        """Every message still in the channel, thread replies included, oldest first."""
        stored = self.channel_messages.get(channel_id, {}).values()
        return [message for message in stored if not message.deleted]

    def dm_channel(self, user_id: str, bot_user_id: str) -> Channel:
        """The bot's direct-message channel with a user, opened on first use as Slack does."""
        for channel in self.channels.values():
            if channel.im_user == user_id:
                return channel
        self.user(user_id, error="channel_not_found")
        channel = Channel(
            id=self.new_id("D"),
            name="",
            created=int(self.now()),
            creator=bot_user_id,
            members=[bot_user_id, user_id],
            im_user=user_id,
        )
        self.channels[channel.id] = channel
        return channel

    # Changes

    def add_channel(
        self,
        name: str,
        creator: str,
        members: Iterable[str] = (),
        *,
        is_general: bool = False,
        channel_id: str | None = None,
        announce: bool = True,
    ) -> Channel:
        """A public channel with its creator and members in it; `announce` posts the
        "has joined" messages Slack posts (scene-setting leaves them out)."""
        channel = Channel(
            id=channel_id or self.new_id("C"),
            name=name,
            created=int(self.now()),
            creator=creator,
            is_general=is_general,
        )
        self.channels[channel.id] = channel
        for member in [creator, *members]:
            if member in channel.members:
                continue
            if announce:
                self.join(channel, member)
            else:
                channel.members.append(member)
        return channel

    def join(self, channel: Channel, user_id: str) -> None:
        channel.members.append(user_id)
        self.post(
            channel,
            user_id,
            MessageContent(text=f"<@{user_id}> has joined the channel"),
            subtype="channel_join",
        )

    def post(
        self,
        channel: Channel,
        user_id: str,
        content: MessageContent,
        *,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        subtype: str | None = None,
        files: Iterable[UploadedFile] = (),
    ) -> Message:
        author = self.user(user_id)
        message = Message(
            channel=channel.id,
            ts=self.next_ts(),
            user=author.id,
            bot_id=author.bot_id,
            versions=[MessageVersion(content)],
            thread_ts=thread_ts,
            reply_broadcast=reply_broadcast,
            subtype=subtype,
            files=list(files),
        )
        if thread_ts is not None:
            parent = self.message(channel.id, thread_ts, error="thread_not_found")
            parent.thread_ts = parent.ts
            parent.reply_ts.append(message.ts)
        self.channel_messages.setdefault(channel.id, {})[message.ts] = message
        self.record("posted", message, actor=author.id)
        return message

    def post_ephemeral(
        self, channel: Channel, visible_to: str, author: str, content: MessageContent
    ) -> Message:
        message = Message(
            channel=channel.id,
            ts=self.next_ts(),
            user=author,
            bot_id=self.user(author).bot_id,
            versions=[MessageVersion(content)],
            visible_to=visible_to,
        )
        self.ephemerals.append(message)
        self.record("ephemeral", message, actor=author)
        return message

    def edit(self, message: Message, content: MessageContent, editor: str) -> None:
        message.versions.append(MessageVersion(content, edited_by=editor, edited_ts=self.next_ts()))
        self.record("edited", message, actor=editor, version=len(message.versions) - 1)

    def delete(self, message: Message, by: str) -> None:
        message.deleted = True
        if message.is_reply and message.thread_ts is not None:
            parent = self.channel_messages.get(message.channel, {}).get(message.thread_ts)
            if parent is not None and message.ts in parent.reply_ts:
                parent.reply_ts.remove(message.ts)
        self.record("deleted", message, actor=by)

    def set_channel_text(self, channel: Channel, which: str, value: str, by: str) -> None:
        """Set the topic or the purpose, and post the system message Slack posts."""
        text = replace(getattr(channel, which), value=value, creator=by, last_set=int(self.now()))
        setattr(channel, which, text)
        self.post(
            channel,
            by,
            MessageContent(text=f"set the channel {which}: {value}"),
            subtype=f"channel_{which}",
        )

    def record(
        self,
        kind: ActivityKind,
        message: Message,
        *,
        actor: str,
        version: int = 0,
        detail: str = "",
    ) -> None:
        self.activity.append(Activity(kind, message.channel, actor, message, version, detail))
