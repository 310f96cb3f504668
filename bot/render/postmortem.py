"""The post-mortem as Markdown, from a Jinja2 template teams may replace with their own.

The environment is built on demand (nothing at import) with StrictUndefined, so a template
naming a field that does not exist fails loudly instead of printing nothing. Autoescape is off
(this is Markdown, not HTML); text people or alerts wrote goes through the `md` filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from bot.domain.postmortem import Entry, Moment, PostMortem, Timeline

if TYPE_CHECKING:
    from jinja2 import Template

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_TEMPLATE = TEMPLATES / "postmortem.md.j2"

# Characters that make Markdown links, emphasis, code, tables or HTML out of plain text.
_ESCAPES = str.maketrans({c: "\\" + c for c in "\\`*[]<>|~#"})
# `_` makes emphasis only at a word's edge, so `support_bot` and `U_ALICE` stay as written.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_SLACK_MENTION = re.compile(r"<[@#!]([A-Za-z0-9_]+)(?:\|([^>]*))?>")
# Links as Slack writes them in messages (pinned ones, examples): <url> or <url|label>.
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
# Any character `md` changes something for; most lines have none, and a search is much faster
# than `translate`, which is slow on the non-ASCII text (arrows, quotes) events carry.
_MARKUP = re.compile(r"[\\`*\[\]<>|~#_\n\r]")
_SECONDS = tuple(f"{s:02d}" for s in range(60))
_MINUTE = timedelta(minutes=1)
_LAST_SECOND = timedelta(seconds=59)


def render_postmortem(pm: PostMortem, template_path: Path | None = None) -> str:
    template = _template(template_path or DEFAULT_TEMPLATE)
    # `Template.render`, keeping hold of the context: a template's macros and its context
    # refer to each other, so a finished render would keep the post-mortem (and the 50,000
    # events its timeline reads from) until the next full garbage collection.
    context = template.new_context({"pm": pm})
    try:
        return "".join(template.root_render_func(context))
    except Exception:  # noqa: BLE001 - not caught: Jinja re-raises it, at the template's line
        template.environment.handle_exception()
    finally:
        context.parent.clear()
        context.vars.clear()


@cache
def _template(path: Path) -> Template:
    # Cached per path: a Jinja2 environment compiles each template once, which matters when
    # the API serves post-mortems repeatedly. A team's template changes need a restart.
    # Jinja2 is imported by the first post-mortem, not by every start (bench/startup.py).
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(path.parent)),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        md=md,
        who=who,
        utc=utc,
        local=local,
        when=when,
        duration=duration,
        timeline_table=timeline_table,
    )
    return env.get_template(path.name)


def md(text: object) -> str:
    """One line of someone's text, safe inside Markdown and table cells: Slack mentions
    become `@name`, Slack links `label (url)`, newlines spaces, and Markdown-significant
    characters are escaped."""
    if text is None:
        return ""
    line = str(text)
    if not _MARKUP.search(line):
        return line
    if "<" in line:
        line = plain(line)
    if "\n" in line or "\r" in line:
        line = " ".join(line.split())
    line = line.translate(_ESCAPES)
    return _EDGE_UNDERSCORE.sub(r"\\_", line) if "_" in line else line


def plain(text: str) -> str:
    """Slack's markup in what people wrote made readable: mentions `@name`, links
    `label (url)`."""
    text = _SLACK_MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    return _SLACK_LINK.sub(_link_text, text)


def _link_text(link: re.Match[str]) -> str:
    url, label = link.group(1), link.group(2)
    return f"{label} ({url})" if label and label != url else url


def who(actor: str | None) -> str:
    """A Slack user as `@U…`; the bot, alert sources and deploy pipelines as named."""
    if not actor:
        return "—"
    if actor[:1] in "UW" and actor[1:].replace("_", "").isalnum() and actor.isupper():
        return "@" + actor
    return md(actor)


def utc(moment: Moment | None) -> str:
    return "—" if moment is None else _stamp(moment.utc) + " UTC"


def local(moment: Moment | None) -> str:
    return "—" if moment is None else f"{_stamp(moment.local)} {moment.local.tzname()}"


def when(moment: Moment | None) -> str:
    """UTC, then the display zone's time when it differs."""
    if moment is None:
        return "—"
    minute = _minute_of(moment.utc, moment.zone)
    if minute is None:
        text = utc(moment)
        if _differs(moment.local):
            text += f" ({moment.local.strftime('%H:%M:%S %Z')})"
        return text
    # `seconds.join(parts)`, from stamps made once a minute: strftime costs several times more.
    return _SECONDS[moment.utc.second].join(minute.when)


def timeline_table(entries: Timeline | Iterable[Entry], zoned: bool) -> str:
    """The timeline's rows, without the header. One call for the whole table rather than a
    template loop: tens of thousands of rows render in a fraction of the time. (A team's own
    template can still loop over `pm.timeline`.)"""
    rows = (
        entries.rows()  # the timeline's fields, without making an Entry for each row
        if isinstance(entries, Timeline)
        else ((e.at.utc, e.at.zone, e.actor, e.text) for e in entries)
    )
    # Per table, as actors and texts repeat (an alert re-fires with the same line): each
    # distinct one is escaped once.
    person, escape = cache(who), cache(md)
    lines = []
    # One loop calling only the caches: function calls were most of a row's cost.
    for at, zone, actor, text in rows:
        minute = _minute(int(at.timestamp() // 60), zone)
        if minute is None:
            moment = Moment(at, zone)
            cells = f"{utc(moment)} | {local(moment)}" if zoned else utc(moment)
        else:
            cells = _SECONDS[at.second].join(minute.cells if zoned else minute.utc)
        lines.append(f"| {cells} | {person(actor)} | {escape(text)} |")
    return "\n".join(lines)


class _Minute(NamedTuple):
    """One minute's texts, each split where the seconds go (for `seconds.join(parts)`)."""

    utc: tuple[str, str]  # "2026-11-22 09:00:", " UTC"
    cells: tuple[str, str, str]  # the timeline's UTC and display-zone cells
    when: tuple[str, ...]  # `when`'s text: UTC, then the zone's time if it differs


def _minute_of(at: datetime, zone: tzinfo) -> _Minute | None:
    return _minute(int(at.timestamp() // 60), zone)


@lru_cache(maxsize=4096)
def _minute(minute: int, zone: tzinfo) -> _Minute | None:
    """The texts of a minute (counted from the Unix epoch) in `zone`, made once: a long
    incident's times fall in far fewer minutes than there are times, and formatting dates
    is most of the cost of a timeline row. None when the zone's offset is not one whole number
    of minutes throughout (old local mean times), as the seconds then differ between zones."""
    at = datetime.fromtimestamp(minute * 60, UTC)
    there, end = at.astimezone(zone), (at + _LAST_SECOND).astimezone(zone)
    offset = there.utcoffset()
    if offset is None or offset % _MINUTE or offset != end.utcoffset():
        return None
    utc_part, local_part, name = _stamp(at)[:-2], _stamp(there)[:-2], there.tzname() or ""
    when = [utc_part, " UTC"]
    if _differs(there):
        when[-1] += f" ({there.hour:02d}:{there.minute:02d}:"
        when.append(f" {name})")
    return _Minute((utc_part, " UTC"), (utc_part, f" UTC | {local_part}", f" {name}"), tuple(when))


def _differs(there: datetime) -> bool:
    return there.utcoffset() != timedelta(0) or there.tzname() != "UTC"


def _stamp(at: datetime) -> str:
    # Three times faster than strftime, which matters across 50,000 timeline rows.
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at.hour:02d}:{at.minute:02d}:{at.second:02d}"
    )


def duration(delta: timedelta | None) -> str:
    """`42s`, `7m 05s`, `1h 05m`, `2d 03h 10m`; `—` when not measured."""
    if delta is None:
        return "—"
    seconds = max(0, int(delta.total_seconds()))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
