"""What a sandbox workspace holds, and the JSON shape Slack gives each thing.

These are mutable records: the sandbox is a stateful fake, and methods change them in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

JSON = dict[str, Any]

# The sandbox app's own id; Slack puts it on the bot's messages and views.
BOT_APP_ID = "A_STEADYHAND"


@dataclass
class Team:
    id: str
    name: str
    domain: str

    def to_slack(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "domain": self.domain,
            "email_domain": "example.com",
            "icon": {"image_default": True},
        }


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str
    tz: str = "UTC"
    is_admin: bool = False
    bot_id: str | None = None

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None

    def to_slack(self, team_id: str, now: float) -> JSON:
        tz_label, tz_offset = _zone_label_and_offset(self.tz, now)
        profile: JSON = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "team": team_id,
        }
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
        else:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "is_admin": self.is_admin,
            "is_owner": False,
            "tz": self.tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
        }


def _zone_label_and_offset(zone: str, now: float) -> tuple[str, int]:
    try:
        moment = datetime.fromtimestamp(now, ZoneInfo(zone))
    except ZoneInfoNotFoundError:
        # A host without tz data still gets a usable, if UTC, profile.
        return "UTC", 0
    offset = moment.utcoffset()
    return moment.tzname() or zone, int(offset.total_seconds()) if offset else 0


@dataclass
class Usergroup:
    id: str
    handle: str
    name: str
    members: list[str]
    created: int
    description: str = ""

    def to_slack(self, team_id: str, *, include_users: bool, include_count: bool) -> JSON:
        group: JSON = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": self.created,
            "date_update": self.created,
            "date_delete": 0,
            "auto_type": None,
            "created_by": "",
            "prefs": {"channels": [], "groups": []},
        }
        if include_users:
            group["users"] = list(self.members)
        if include_count:
            group["user_count"] = len(self.members)
        return group


@dataclass
class ChannelText:
    """A channel's topic or purpose, with who set it and when."""

    value: str = ""
    creator: str = ""
    last_set: int = 0

    def to_slack(self) -> JSON:
        return {"value": self.value, "creator": self.creator, "last_set": self.last_set}


@dataclass
class Channel:
    id: str
    name: str
    created: int
    creator: str
    members: list[str] = field(default_factory=list)
    is_general: bool = False
    is_archived: bool = False
    is_private: bool = False
    # Set for a direct-message channel: the human on the other side.
    im_user: str | None = None
    topic: ChannelText = field(default_factory=ChannelText)
    purpose: ChannelText = field(default_factory=ChannelText)

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    def to_slack(self, caller: str, *, include_num_members: bool = False) -> JSON:
        if self.im_user is not None:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        channel: JSON = {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": True,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "creator": self.creator,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": caller in self.members,
            "unlinked": 0,
            "topic": self.topic.to_slack(),
            "purpose": self.purpose.to_slack(),
            "previous_names": [],
        }
        if include_num_members:
            channel["num_members"] = len(self.members)
        return channel


@dataclass(frozen=True)
class MessageContent:
    """What a message says; every edit makes a new one, so history is kept."""

    text: str = ""
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    metadata: JSON | None = None


@dataclass(frozen=True)
class MessageVersion:
    content: MessageContent
    # Who edited and when; None for the original post.
    edited_by: str | None = None
    edited_ts: str | None = None


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    user: str
    created: int
    title: str = ""
    alt_txt: str = ""
    content: bytes | None = None
    shared_to: list[str] = field(default_factory=list)

    def to_slack(self, team: Team) -> JSON:
        url = f"https://files.slack.com/files-pri/{team.id}-{self.id}/{self.filename}"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.filename,
            "title": self.title or self.filename,
            "mimetype": "application/octet-stream",
            "filetype": self.filename.rsplit(".", 1)[-1] if "." in self.filename else "binary",
            "user": self.user,
            "size": len(self.content) if self.content is not None else self.length,
            "url_private": url,
            "url_private_download": url + "?download=1",
            "permalink": f"https://{team.domain}.slack.com/files/{self.user}/{self.id}/{self.filename}",
            "is_public": True,
            "channels": list(self.shared_to),
        }


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    versions: list[MessageVersion]
    bot_id: str | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    # Slack's subtype for system messages (channel_join, channel_topic …); None for plain ones.
    subtype: str | None = None
    # The one user who sees an ephemeral message; None for messages everyone sees.
    visible_to: str | None = None
    deleted: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)
    pinned_by: str | None = None
    files: list[UploadedFile] = field(default_factory=list)
    reply_ts: list[str] = field(default_factory=list)

    @property
    def content(self) -> MessageContent:
        return self.versions[-1].content

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_slack(self, team: Team) -> JSON:
        latest = self.versions[-1]
        message: JSON = {"type": "message", "ts": self.ts, "user": self.user, "team": team.id}
        if self.subtype is not None:
            message["subtype"] = self.subtype
        if self.bot_id is not None:
            message["bot_id"] = self.bot_id
            message["app_id"] = BOT_APP_ID
        message["text"] = latest.content.text
        if latest.content.blocks is not None:
            message["blocks"] = latest.content.blocks
        if latest.content.attachments is not None:
            message["attachments"] = latest.content.attachments
        if latest.content.metadata is not None:
            message["metadata"] = latest.content.metadata
        if latest.edited_ts is not None:
            message["edited"] = {"user": latest.edited_by, "ts": latest.edited_ts}
        if self.files:
            message["files"] = [shared.to_slack(team) for shared in self.files]
            message["upload"] = False
        if self.thread_ts is not None:
            message["thread_ts"] = self.thread_ts
        if self.reply_ts:
            message["reply_count"] = len(self.reply_ts)
            message["latest_reply"] = self.reply_ts[-1]
        if self.reactions:
            message["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        if self.pinned_by is not None:
            message["pinned_to"] = [self.channel]
        return message


@dataclass
class View:
    id: str
    user: str
    definition: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    state_values: JSON = field(default_factory=dict)
    closed: bool = False

    @property
    def type(self) -> str:
        return str(self.definition.get("type", "modal"))

    @property
    def external_id(self) -> str:
        return str(self.definition.get("external_id", ""))

    def to_slack(self, team_id: str, bot_id: str) -> JSON:
        view: JSON = {
            "id": self.id,
            "team_id": team_id,
            "type": self.type,
            "blocks": self.definition.get("blocks", []),
            "private_metadata": self.definition.get("private_metadata", ""),
            "callback_id": self.definition.get("callback_id", ""),
            "state": {"values": self.state_values},
            "hash": self.hash,
            "title": self.definition.get("title"),
            "clear_on_close": bool(self.definition.get("clear_on_close", False)),
            "notify_on_close": bool(self.definition.get("notify_on_close", False)),
            "close": self.definition.get("close"),
            "submit": self.definition.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": BOT_APP_ID,
            "external_id": self.external_id,
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }
        return view


@dataclass
class TriggerId:
    """A trigger id the driver put in an interaction; views.open may use it once, briefly."""

    value: str
    user: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    """Where an interaction may answer; remembers what it answers so replace/delete work."""

    token: str
    user: str
    channel: str
    issued_at: float
    # The message the interaction came from, if any: replace_original/delete_original act on it.
    message_ts: str | None = None
    uses: int = 0


@dataclass(frozen=True)
class ResponseUrlPost:
    token: str
    user: str
    channel: str
    payload: JSON


@dataclass(frozen=True)
class ApiCall:
    """One Web API call as the sandbox received it; `error` is None when it succeeded."""

    method: str
    args: JSON
    error: str | None = None


ActivityKind = Literal["posted", "edited", "deleted", "ephemeral", "reacted", "unreacted", "pinned"]


@dataclass(frozen=True)
class Activity:
    """One thing that happened in a channel, in the order it happened (for transcripts)."""

    kind: ActivityKind
    channel: str
    actor: str
    message: Message
    # Which version of the message this is about (edits), or the reaction name.
    version: int = 0
    detail: str = ""
