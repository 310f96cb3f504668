"""Short replies: confirmations, errors, and `/incident help`."""

from __future__ import annotations

from bot.domain.kinds import IncidentKind
from bot.domain.messages import Notice
from bot.slack.blocks.kit import RenderedMessage, context, section, sections
from bot.slack.blocks.text import escape, notification
from bot.slack.help import HELP_LINES


def render_notice(notice: Notice) -> RenderedMessage:
    text = f":warning: {notice.text}" if notice.is_error else notice.text
    return RenderedMessage(notification(text) or "Steadyhand", sections(escape(text)))


def render_help() -> RenderedMessage:
    blocks = [section("*Steadyhand* · what `/incident` can do")]
    for line in HELP_LINES:
        usage, description, example = (escape(part) for part in line)
        blocks.append(section(f"`{usage}`\n{description}\n_e.g._ `{example}`"))
    kinds = ", ".join(
        f"`{kind.value}` ({kind.label.lower()})" for kind in IncidentKind.classified()
    )
    blocks.append(context(f"Incident kinds: {kinds}"))
    subcommands = ", ".join(line.subcommand for line in HELP_LINES)
    return RenderedMessage(f"/incident subcommands: {subcommands}", blocks)
