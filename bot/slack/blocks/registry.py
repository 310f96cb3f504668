"""`/incident running` and `/incident changes`: what runs, and what changed."""

from __future__ import annotations

import re

from bot.domain.messages import ChangesReport, RunningReport
from bot.domain.registry import Change, format_duration
from bot.domain.triage_context import describe_flag
from bot.slack import ids
from bot.slack.blocks.kit import Block, RenderedMessage, button, context, section, sections
from bot.slack.blocks.text import date_token, escape, notification, plural

# Each change is one line; 25 keep the message short enough to read and far inside 50 blocks.
CHANGES_SHOWN = 25
_USER_ID = re.compile(r"^[UW][A-Z0-9_]{2,}$")


def render_running(report: RunningReport) -> RenderedMessage:
    now = report.running
    name = escape(now.spec.name)
    blocks: list[Block] = [section(f"*What {name} runs now*")]
    if not now.versions:
        blocks.append(section("_No components declared in steadyhand.yml._"))
    lines = []
    for component, version in now.versions.items():
        line = f"• *{component.value}* `{escape(version)}`"
        if change := now.last_change.get(component):
            line += f" · changed {date_token(change.at)} by {_who(change.actor)}"
        if mark := now.known_good.get(component):
            line += f" · known-good `{escape(mark.version)}`"
        else:
            line += " · no known-good version yet"
        lines.append(line)
    if lines:
        blocks += sections("\n".join(lines), max_blocks=10)
    flags = ", ".join(f"`{escape(f.name)}` {describe_flag(f)}" for f in now.flags.values())
    blocks.append(section(f"*Flags* · {flags or 'none'}"))
    return RenderedMessage(notification(f"What {now.spec.name} runs now"), blocks)


def render_changes(report: ChangesReport) -> RenderedMessage:
    where = escape(report.service) if report.service else "every service"
    window = format_duration(report.since)
    title = f"*Changes to {where}* · last {window}, newest first"
    if not report.changes:
        line = f"No changes to {where} in the last {window}."
        return RenderedMessage(notification(line), [section(line)])
    shown = report.changes[:CHANGES_SHOWN]
    blocks: list[Block] = [section(title)]
    if report.offers_rollback:
        # One section per change, so each can carry its own Roll back button.
        blocks += [_change_with_button(n, c) for n, c in enumerate(shown)]
    else:
        blocks += sections("\n".join(_change_line(c) for c in shown), max_blocks=20)
    hidden = len(report.changes) - len(shown)
    if hidden:
        blocks.append(
            context(f"… and {plural(hidden, 'older change')} not shown; narrow the window.")
        )
    count = plural(len(report.changes), "change")
    return RenderedMessage(notification(f"{count} to {where} in the last {window}"), blocks)


def _change_line(change: Change) -> str:
    line = (
        f"• {date_token(change.at)} · *{escape(change.service)}* {change.component.value} "
        f"`{escape(change.from_version or '—')}` → `{escape(change.to_version)}` "
        f"by {_who(change.actor)}"
    )
    if change.eval_score is not None:
        line += f" · eval {change.eval_score:.2f}"
    if change.source:
        source = change.source
        line += f" · <{source}|source>" if _is_link(source) else f" · source: {escape(source)}"
    return line


def _change_with_button(n: int, change: Change) -> Block:
    if change.from_version is None:
        return section(_change_line(change))
    undo = button(
        f"Roll back to {change.from_version}",
        f"{ids.ACTION_ROLLBACK_CHANGE}.{n}",
        change.id,
    )
    return section(_change_line(change), accessory=undo)


def _who(actor: str) -> str:
    # Slack user IDs become mentions; CI names and emails stay as written.
    if _USER_ID.match(actor):
        return f"<@{actor}>"
    return escape(actor)


def _is_link(source: str) -> bool:
    return source.startswith(("https://", "http://")) and not any(c in source for c in "<>| ")
