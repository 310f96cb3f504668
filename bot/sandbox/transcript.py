"""The sandbox's conversations as readable text, channel by channel, in order.

    #inc-20261122-answers-degraded  steadyhand: == Incident: answers degraded ==
                                      [ ] Check the eval dashboard
                                      [Roll back prompt]
    #inc-20261122-answers-degraded  steadyhand → alice (only alice sees this): Done.
    #inc-20261122-answers-degraded  steadyhand edited “== Incident: answers degraded ==”:
                                      - [ ] Check the eval dashboard
                                      + [x] Check the eval dashboard

`steadyhand demo` prints this; tests compare against it when the order of things matters.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from bot.sandbox.block_text import NameOf, readable, render_blocks
from bot.sandbox.entities import Activity, Channel, Message, MessageVersion
from bot.sandbox.workspace import Workspace

if TYPE_CHECKING:
    from bot.sandbox.sandbox import SlackSandbox

_QUOTE_LENGTH = 40


def transcript(sandbox: SlackSandbox) -> str:
    workspace = sandbox.workspace
    name_of = _namer(workspace)
    sections = []
    for channel in workspace.channels.values():
        happenings = [entry for entry in workspace.activity if entry.channel == channel.id]
        if happenings:
            label = _channel_label(channel, name_of)
            lines: list[str] = []
            for happening in happenings:
                lines.extend(_happening(happening, label, name_of))
            sections.append("\n".join(lines))
    modals = _modals(workspace, name_of)
    if modals:
        sections.append("\n".join(modals))
    return "\n\n".join(sections) + "\n" if sections else ""


def _happening(entry: Activity, label: str, name_of: NameOf) -> list[str]:
    message = entry.message
    actor = name_of(entry.actor)
    if entry.kind == "posted" and message.subtype is not None:
        return [f"{label}  · {readable(message.versions[0].content.text, name_of)}"]
    if entry.kind == "posted":
        author = f"↳ {actor}" if message.is_reply else actor
        return _said(label, f"{author}:", message.versions[0], message, name_of)
    if entry.kind == "ephemeral":
        reader = name_of(message.visible_to or "")
        heading = f"{actor} → {reader} (only {reader} sees this):"
        return _said(label, heading, message.versions[0], message, name_of)
    quoted = _quote(message, name_of)
    if entry.kind == "edited":
        # Only what changed, under the heading, so a long message edited many times
        # (a checklist) does not fill the transcript with copies of itself.
        heading = f"{actor} edited {quoted}:"
        before = _content_lines(message.versions[entry.version - 1], message, name_of)
        after = _content_lines(message.versions[entry.version], message, name_of)
        return [f"{label}  {heading}", *(_indent(label) + line for line in _changes(before, after))]
    if entry.kind == "deleted":
        return [f"{label}  {actor} deleted {quoted}"]
    if entry.kind == "reacted":
        return [f"{label}  {actor} reacted :{entry.detail}: to {quoted}"]
    if entry.kind == "unreacted":
        return [f"{label}  {actor} took :{entry.detail}: off {quoted}"]
    return [f"{label}  {actor} pinned {quoted}"]


def _changes(before: list[str], after: list[str]) -> list[str]:
    """The lines that differ, as `- old` / `+ new`, with `…` where unchanged lines are left out."""
    shown: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after).get_opcodes():
        if tag == "equal":
            continue
        if i1 > 0:  # the line above says where the change is (which step, which field)
            if shown and shown[-1] != f"  {before[i1 - 1]}":
                shown.append("…" if i1 > 1 else "")
            shown.append(f"  {before[i1 - 1]}")
        shown += [f"- {line}" for line in before[i1:i2]] + [f"+ {line}" for line in after[j1:j2]]
    return [line for line in shown if line] or ["(no visible change)"]


def _said(
    label: str, heading: str, version: MessageVersion, message: Message, name_of: NameOf
) -> list[str]:
    body = _content_lines(version, message, name_of)
    first = f"{label}  {heading} {body[0]}" if body else f"{label}  {heading}"
    return [first, *(_indent(label) + line for line in body[1:])]


def _indent(label: str) -> str:
    return " " * (len(label) + 4)


def _content_lines(version: MessageVersion, message: Message, name_of: NameOf) -> list[str]:
    content = version.content
    # Slack shows the blocks when there are any; the text is only their notification fallback.
    if content.blocks:
        lines = render_blocks(content.blocks, name_of)
    else:
        lines = readable(content.text, name_of).splitlines()
    for attachment in content.attachments or []:
        attached = render_blocks(attachment.get("blocks", []), name_of)
        attached += readable(str(attachment.get("text", "")), name_of).splitlines()
        lines += ["| " + line for line in attached]
    lines += [f"[file: {shared.title or shared.filename}]" for shared in message.files]
    return lines


def _quote(message: Message, name_of: NameOf) -> str:
    lines = _content_lines(message.versions[0], message, name_of)
    first = lines[0] if lines else ""
    if len(first) > _QUOTE_LENGTH:
        first = first[: _QUOTE_LENGTH - 1] + "…"
    return f"“{first}”"


def _modals(workspace: Workspace, name_of: NameOf) -> list[str]:
    lines = []
    for view in workspace.views.values():
        if view.type != "modal":
            continue
        title = readable(str((view.definition.get("title") or {}).get("text", "")), name_of)
        status = "closed" if view.closed else "open"
        lines.append(f"modal for {name_of(view.user)}: “{title}” ({status})")
        lines += [
            "    " + line for line in render_blocks(view.definition.get("blocks", []), name_of)
        ]
    return ["Modals", *("  " + line for line in lines)] if lines else []


def _channel_label(channel: Channel, name_of: NameOf) -> str:
    if channel.im_user is not None:
        return f"@{name_of(channel.im_user)} (DM)"
    return f"#{channel.name}"


def _namer(workspace: Workspace) -> NameOf:
    def name_of(identifier: str) -> str:
        if identifier in workspace.users:
            return workspace.users[identifier].name
        if identifier in workspace.channels:
            return workspace.channels[identifier].name or identifier
        if identifier in workspace.usergroups:
            return workspace.usergroups[identifier].handle
        return identifier

    return name_of
