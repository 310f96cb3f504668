"""An in-memory Chat for service unit tests: remembers what would have been said."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.domain.messages import Message, Modal
from bot.ports import ChannelNameTaken, Upload


@dataclass
class Posted:
    channel: str
    ts: str
    message: Message
    versions: list[Message] = field(default_factory=list)
    key: str | None = None


@dataclass(frozen=True)
class Uploaded:
    """One file shared; the files of one upload share their comment (one message)."""

    channel: str
    file_id: str
    filename: str
    content: bytes
    title: str
    comment: str
    alt_text: str | None = None


class FakeChat:
    def __init__(self, taken_names: Sequence[str] = ()) -> None:
        self.channels: dict[str, str] = {f"C-{n}": n for n in taken_names}
        self.members: dict[str, set[str]] = {}
        self.topics: dict[str, str] = {}
        self.posted: list[Posted] = []
        self.ephemeral: list[tuple[str, str, Message]] = []
        self.modals: list[tuple[str, Modal]] = []
        self.uploads: list[Uploaded] = []
        self.made: set[str] = set()  # channels this bot created (it is in them)

    async def create_channel(self, name: str) -> str:
        if name in self.channels.values():
            raise ChannelNameTaken(name)
        channel = f"C{len(self.channels) + 1:04d}"
        self.channels[channel] = name
        self.made.add(channel)
        return channel

    async def invite(self, channel: str, users: Sequence[str]) -> None:
        self.members.setdefault(channel, set()).update(users)

    async def set_topic(self, channel: str, topic: str) -> None:
        self.topics[channel] = topic

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        ts = f"{len(self.posted) + 1}.000000"
        self.posted.append(Posted(channel, ts, message, [message], key))
        return ts

    async def find_posted(self, channel: str, key: str) -> str | None:
        return next((p.ts for p in self.posted if p.channel == channel and p.key == key), None)

    async def find_channel(self, name: str) -> str | None:
        return next((c for c, n in self.channels.items() if n == name and c in self.made), None)

    async def update(self, channel: str, ts: str, message: Message) -> None:
        found = next(p for p in self.posted if p.channel == channel and p.ts == ts)
        found.message = message
        found.versions.append(message)

    async def post_ephemeral(self, channel: str, user: str, message: Message) -> None:
        self.ephemeral.append((channel, user, message))

    async def open_modal(self, trigger_id: str, modal: Modal) -> None:
        self.modals.append((trigger_id, modal))

    async def upload_files(self, channel: str, files: Sequence[Upload], comment: str) -> list[str]:
        ids = []
        for f in files:
            file_id = f"F{len(self.uploads) + 1:04d}"
            self.uploads.append(
                Uploaded(channel, file_id, f.filename, f.content, f.title, comment, f.alt_text)
            )
            ids.append(file_id)
        return ids

    async def find_shared_file(self, channel: str, filename: str) -> str | None:
        return next(
            (u.file_id for u in self.uploads if u.channel == channel and u.filename == filename),
            None,
        )

    def in_channel(self, channel: str) -> list[Message]:
        return [p.message for p in self.posted if p.channel == channel]
