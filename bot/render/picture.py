"""The timeline picture's plan: what goes where on the time axis, as plain data.

Planning is pure and cheap to test; drawing the plan is `bot.render.picture_png`'s job. The
picture has lanes (Alerts, Changes, Actions, People, and the bot's own events when there are
any) holding marks and spans, milestones (first signal, opened, mitigated, resolved) as
vertical lines, the alerts' metric where their values are numbers, and a few numbered callouts
explained under the chart.

An incident with 50,000 events must stay readable and quick to draw, so a lane with more than
MAX_MARKS marks is drawn as a rate strip (its events counted per time bin) with only its notable
marks on top, at most MAX_CALLOUTS marks are explained, and a metric series keeps at most
MAX_POINTS points.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

from bot.domain.postmortem import ChangeRecord, PostMortem, change_text, is_person
from bot.domain.timeline import EventType, TimelineEvent
from bot.render.postmortem import plain

MAX_MARKS = 400
MAX_SPANS = 400
MAX_CALLOUTS = 10
MAX_SERIES = 6
MAX_POINTS = 1500
RATE_BINS = 160
CALLOUT_CHARS = 90
NAME_CHARS = 40

T = TypeVar("T")
# One numeric alert value: when it was heard, the number, its unit.
Reading = tuple[datetime, float, str]


class Style(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    CHANGE = "change"
    BAD_CHANGE = "bad change"
    REQUESTED = "requested"
    APPROVED = "approved"
    APPLIED = "applied"
    FAILED = "failed"  # an action failed, rejected or expired, or a verification failed
    VERIFIED = "verified"
    PERSON = "person"
    BOT = "bot"


# Kept in a crowded lane: what a reader looks for among thousands of notifications or ticks.
NOTABLE = frozenset({Style.BAD_CHANGE, Style.CHANGE, Style.APPLIED, Style.FAILED})


class LaneName(StrEnum):
    ALERTS = "Alerts"
    CHANGES = "Changes"
    ACTIONS = "Actions"
    PEOPLE = "People"
    BOT = "Steadyhand"


@dataclass(frozen=True, slots=True)
class Mark:
    at: datetime
    label: str  # the event's own line; only callouts are written on the picture
    style: Style


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime
    style: Style  # FIRING: an alert until resolved; REQUESTED: an action until it finished


@dataclass(frozen=True)
class Lane:
    name: LaneName
    total: int  # every mark it had, drawn or not
    marks: tuple[Mark, ...]
    spans: tuple[Span, ...] = ()
    rate: tuple[int, ...] = ()  # its events per bin across the window, when it was crowded


@dataclass(frozen=True)
class Milestone:
    at: datetime
    name: str  # first signal | opened | mitigated | resolved


@dataclass(frozen=True)
class Series:
    name: str
    unit: str  # what was around the number: "", "s", "%", "$/h"
    points: tuple[tuple[datetime, float], ...]
    threshold: float | None


@dataclass(frozen=True)
class Callout:
    number: int
    lane: int  # index into the picture's lanes
    at: datetime
    text: str


@dataclass(frozen=True)
class TimelinePicture:
    title: str
    start: datetime  # the window drawn, UTC
    end: datetime
    lanes: tuple[Lane, ...]
    milestones: tuple[Milestone, ...]
    series: tuple[Series, ...]  # of one unit, the commonest
    callouts: tuple[Callout, ...]
    other_series: int = 0  # metric series left out (another unit, or too many)
    earlier_changes: int = 0  # changes before the window, left out


def plan_picture(pm: PostMortem) -> TimelinePicture:
    start, end, earlier = _window(pm)
    marks, values = _event_marks(pm, start, end)
    for change in pm.changes_before[earlier:]:
        style = Style.BAD_CHANGE if change == pm.measures.bad_change else Style.CHANGE
        marks[LaneName.CHANGES].append(Mark(change.at.utc, change_text(change), style))
    marks[LaneName.CHANGES].sort(key=lambda m: m.at)
    spans = _spans(pm, end)
    lanes = tuple(
        _lane(name, marks[name], spans.get(name, ()), start, end)
        for name in LaneName
        if marks[name] or name is not LaneName.BOT  # the bot's lane only when it said something
    )
    series, other_series = _series(pm, values)
    return TimelinePicture(
        title=_short(f"{pm.incident_id} · {pm.title}", 100),
        start=start,
        end=end,
        lanes=lanes,
        milestones=_milestones(pm),
        series=series,
        callouts=_callouts(pm, lanes, earlier, start, end),
        other_series=other_series,
        earlier_changes=earlier,
    )


def _event_marks(
    pm: PostMortem, start: datetime, end: datetime
) -> tuple[dict[LaneName, list[Mark]], dict[tuple[str, str], list[Reading]]]:
    """Each event in the window as a mark in its lane, and the alerts' numeric values."""
    marks: dict[LaneName, list[Mark]] = {name: [] for name in LaneName}
    values: dict[tuple[str, str], list[Reading]] = {}
    # Where an event goes depends on its type and actor alone, but for a change (the bad one
    # looks different): remembered, as 50,000 events have only a few of each.
    placed: dict[tuple[str, str], tuple[LaneName, Style]] = {}
    for event in pm.recorded:
        if not start <= event.at <= end:
            continue
        key = (event.type, event.actor)
        where = placed.get(key)
        if where is None:
            where = _place(event, pm.measures.bad_change)
            if event.type is not EventType.CHANGE_RECORDED:
                placed[key] = where
        lane, style = where
        marks[lane].append(Mark(event.at, event.text, style))
        if event.type is EventType.ALERT_FIRING:
            _take_value(event, values)
    return marks, values


def _place(event: TimelineEvent, bad: ChangeRecord | None) -> tuple[LaneName, Style]:
    """Which lane an event goes in, and how it looks; a type this module does not know (notes,
    examples, follow-ups…) goes to People when a person did it, else to the bot's lane."""
    kind = event.type
    if kind.startswith("alert."):
        resolved = kind in (EventType.ALERT_RESOLVED, EventType.ALERTS_ALL_RESOLVED)
        return LaneName.ALERTS, Style.RESOLVED if resolved else Style.FIRING
    if kind is EventType.CHANGE_RECORDED:
        is_bad = (
            bad is not None
            and bad.at.utc == event.at
            and bad.to_version == str(event.data.get("to_version"))
        )
        return LaneName.CHANGES, Style.BAD_CHANGE if is_bad else Style.CHANGE
    if kind.startswith("action."):
        return LaneName.ACTIONS, _ACTION_STYLES.get(kind, Style.REQUESTED)
    return (LaneName.PEOPLE, Style.PERSON) if is_person(event.actor) else (LaneName.BOT, Style.BOT)


_ACTION_STYLES = {
    EventType.ACTION_REQUESTED: Style.REQUESTED,
    EventType.ACTION_APPROVED: Style.APPROVED,
    EventType.ACTION_APPLIED: Style.APPLIED,
    EventType.ACTION_FAILED: Style.FAILED,
    EventType.ACTION_REJECTED: Style.FAILED,
    EventType.ACTION_EXPIRED: Style.FAILED,
    EventType.ACTION_VERIFIED: Style.VERIFIED,
}


def _window(pm: PostMortem) -> tuple[datetime, datetime, int]:
    """The time range drawn, and how many changes before opening fall before it.

    It starts at the first thing that happened: an event, the first signal, the bad change,
    or the last change before opening (the usual suspect), but no earlier than the change
    window before opening (older changes, or an alert dated years back, would squash the
    incident). It ends at the resolution: what comes after (the post-mortem posted, review
    reminders days later) is not the incident."""
    opened = pm.opened_at.utc
    events = pm.recorded
    firsts, lasts = [opened], [opened]
    if events:
        firsts.append(events[0].at)
        lasts.append(events[-1].at)
    if pm.measures.first_signal_at is not None:
        firsts.append(pm.measures.first_signal_at.utc)
    if pm.measures.bad_change is not None:
        firsts.append(pm.measures.bad_change.at.utc)
    if pm.changes_before:
        firsts.append(pm.changes_before[-1].at.utc)
    first = max(min(firsts), opened - pm.change_window)
    last = pm.resolved_at.utc if pm.resolved_at is not None else max(lasts)
    earlier = sum(1 for c in pm.changes_before if c.at.utc < first)
    margin = max((last - first) * 0.03, timedelta(minutes=1))
    return first - margin, last + margin, earlier


def _spans(pm: PostMortem, end: datetime) -> dict[LaneName, tuple[Span, ...]]:
    alerts = [
        Span(a.first_at.utc, a.resolved_at.utc if a.resolved_at else end, Style.FIRING)
        for a in pm.alerts
    ]
    actions = [
        Span(a.requested_at.utc, a.finished_at.utc if a.finished_at else end, Style.REQUESTED)
        for a in pm.actions
    ]
    return {LaneName.ALERTS: _longest(alerts), LaneName.ACTIONS: _longest(actions)}


def _longest(spans: list[Span]) -> tuple[Span, ...]:
    if len(spans) > MAX_SPANS:
        spans = sorted(spans, key=lambda s: s.end - s.start, reverse=True)[:MAX_SPANS]
    return tuple(sorted(spans, key=lambda s: s.start))


def _lane(
    name: LaneName, marks: list[Mark], spans: tuple[Span, ...], start: datetime, end: datetime
) -> Lane:
    if len(marks) <= MAX_MARKS:
        return Lane(name, len(marks), tuple(marks), spans)
    notable = [m for m in marks if m.style in NOTABLE]
    rate = _rate((m.at for m in marks), start, end)
    return Lane(name, len(marks), _thin(notable, MAX_MARKS), spans, rate)


def _rate(times: Iterable[datetime], start: datetime, end: datetime) -> tuple[int, ...]:
    counts = [0] * RATE_BINS
    width = (end - start).total_seconds() / RATE_BINS
    for at in times:
        index = int((at - start).total_seconds() / width)
        counts[min(max(index, 0), RATE_BINS - 1)] += 1
    return tuple(counts)


def _thin(items: Sequence[T], most: int) -> tuple[T, ...]:
    """Every n-th item, first and last kept, so the spread over time stays as it was."""
    if len(items) <= most:
        return tuple(items)
    step = (len(items) - 1) / (most - 1)
    return tuple(items[round(i * step)] for i in range(most))


def _milestones(pm: PostMortem) -> tuple[Milestone, ...]:
    measures = pm.measures
    found = [Milestone(pm.opened_at.utc, "opened")]
    if measures.first_signal_at is not None:
        found.append(Milestone(measures.first_signal_at.utc, "first signal"))
    if measures.time_to_mitigate is not None:
        found.append(Milestone(pm.opened_at.utc + measures.time_to_mitigate, "mitigated"))
    if pm.resolved_at is not None:
        found.append(Milestone(pm.resolved_at.utc, "resolved"))
    return tuple(sorted(found, key=lambda m: m.at))


# ---- the alerts' metric ------------------------------------------------------------------

# A number with what surrounds it: "0.42", "3.2s", "$410/h", "12%", "1,250 req/s".
_VALUE = re.compile(r"\s*([^\d\s.+-]*)\s*([-+]?(?:\d[\d,]*)?\.?\d+(?:[eE][-+]?\d+)?)\s*(.*?)\s*")


def parse_value(raw: object) -> tuple[float, str] | None:
    """A metric value and its unit, or None when it is not a number."""
    if isinstance(raw, str):
        return _parse_text(raw)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return (float(raw), "") if math.isfinite(raw) else None
    return None


# Repeated notifications repeat their values: most parses are of a text already seen.
@lru_cache(maxsize=4096)
def _parse_text(raw: str) -> tuple[float, str] | None:
    found = _VALUE.fullmatch(raw)
    if found is None:
        return None
    prefix, digits, suffix = found.groups()
    number = float(digits.replace(",", ""))
    return (number, prefix + suffix) if math.isfinite(number) else None


def _take_value(event: TimelineEvent, values: dict[tuple[str, str], list[Reading]]) -> None:
    parsed = parse_value(event.data.get("value"))
    if parsed is not None:
        key = (str(event.data.get("source", "")), str(event.data.get("fingerprint", "")))
        values.setdefault(key, []).append((event.at, *parsed))


def _series(
    pm: PostMortem, values: dict[tuple[str, str], list[Reading]]
) -> tuple[tuple[Series, ...], int]:
    """The series of the commonest unit, the longest first; values of several units on one
    axis would mislead."""
    names = {(a.source, a.fingerprint): a for a in pm.alerts}
    every: list[Series] = []
    for key, points in values.items():
        unit = points[0][2]
        record = names.get(key)
        threshold = parse_value(record.threshold) if record else None
        every.append(
            Series(
                name=_short(_alert_name(record.text) if record else key[1], NAME_CHARS),
                unit=unit,
                points=_thin([(at, v) for at, v, u in points if u == unit], MAX_POINTS),
                threshold=threshold[0] if threshold and threshold[1] == unit else None,
            )
        )
    if not every:
        return (), 0
    per_unit: dict[str, int] = {}
    for series in every:
        per_unit[series.unit] = per_unit.get(series.unit, 0) + len(series.points)
    unit = max(per_unit, key=lambda u: per_unit[u])
    kept = sorted((s for s in every if s.unit == unit), key=lambda s: -len(s.points))
    drawn = tuple(kept[:MAX_SERIES])
    return drawn, len(every) - len(drawn)


_ALERT_LINE = re.compile(r"Alert (.+?) (?:firing|acknowledged|resolved)\b")


def _alert_name(text: str) -> str:
    """`Alert EvalPassRateLow firing: …` (bot.services.alerting's line) → `EvalPassRateLow`."""
    found = _ALERT_LINE.match(text)
    return found.group(1) if found else text


# ---- callouts ------------------------------------------------------------------------------


def _callouts(
    pm: PostMortem, lanes: tuple[Lane, ...], earlier: int, start: datetime, end: datetime
) -> tuple[Callout, ...]:
    """The marks worth a sentence, most telling first: the bad change, actions that finished,
    other changes, each alert's first notification, status updates."""
    index = {lane.name: i for i, lane in enumerate(lanes)}
    bad = pm.measures.bad_change
    found: list[tuple[int, datetime, LaneName, str]] = []
    for change in (*pm.changes_before[earlier:], *pm.changes_during):
        rank = 0 if change == bad else 3
        prefix = "bad change: " if change == bad else "deployed "
        found.append((rank, change.at.utc, LaneName.CHANGES, prefix + change_text(change)))
    for action in pm.actions:
        if action.finished_at is not None:
            rank = 2 if action.status == "applied" else 1
            text = f"{action.describe}: {action.status}"
            found.append((rank, action.finished_at.utc, LaneName.ACTIONS, text))
    for alert in pm.alerts:
        found.append((4, alert.first_at.utc, LaneName.ALERTS, alert.text))
    for update in pm.updates:
        found.append((5, update.at.utc, LaneName.PEOPLE, f"update: {update.text}"))
    drawn = [f for f in found if start <= f[1] <= end]
    chosen = _spread(sorted(drawn, key=lambda f: (f[0], f[1])), (end - start) / 60)
    chosen.sort(key=lambda f: f[1])
    return tuple(
        Callout(number, index[lane], at, _short(text, CALLOUT_CHARS))
        for number, (_, at, lane, text) in enumerate(chosen, start=1)
    )


def _spread(
    ranked: list[tuple[int, datetime, LaneName, str]], near: timedelta
) -> list[tuple[int, datetime, LaneName, str]]:
    """The first MAX_CALLOUTS, passing over a text already said (twenty identical rollbacks
    say no more than one) and a mark too near one already numbered in its lane (the numbers
    would cover each other)."""
    chosen: list[tuple[int, datetime, LaneName, str]] = []
    said: set[str] = set()
    for candidate in ranked:
        _, at, lane, text = candidate
        if text in said or any(c[2] == lane and abs(c[1] - at) < near for c in chosen):
            continue
        chosen.append(candidate)
        said.add(text)
        if len(chosen) == MAX_CALLOUTS:
            break
    return chosen


_SPACES = re.compile(r"\s+")


def _short(text: str, most: int) -> str:
    """One line of at most `most` characters, Slack's markup made plain."""
    text = _SPACES.sub(" ", plain(text)).strip()
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"
