"""The timeline picture drawn as a PNG, with matplotlib.

Only the object-oriented API over the Agg canvas: post-mortems are rendered in worker threads,
and pyplot keeps global state (current figure, figure manager) that threads would share. Every
size is in inches at a fixed DPI, so the picture's pixel size follows from its plan alone
(`picture_size`).
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache

import numpy as np
from matplotlib import font_manager, ft2font
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.typing import LineStyleType
from numpy.typing import NDArray

from bot.domain.postmortem import PostMortem
from bot.render.picture import Lane, Style, TimelinePicture, plan_picture

log = logging.getLogger(__name__)

DPI = 100
WIDTH = 12.0  # inches, all sizes below too
LEFT, RIGHT = 1.7, 0.3
TITLE, LEGEND = 0.45, 0.55
METRIC, GAP = 2.2, 0.2
LANE = 0.5
AXIS = 0.6  # tick labels and the axis label
CALLOUT_ROW, NOTE_ROW, PAD = 0.2, 0.22, 0.15

# Okabe-Ito colours: told apart by colour-blind readers too.
_LOOKS: dict[Style, tuple[str, str, float]] = {  # marker, colour, size
    Style.FIRING: ("o", "#D55E00", 4.0),
    Style.RESOLVED: ("o", "#009E73", 4.0),
    Style.CHANGE: ("D", "#0072B2", 6.0),
    Style.BAD_CHANGE: ("X", "#CC0000", 10.0),
    Style.REQUESTED: ("o", "#999999", 5.0),
    Style.APPROVED: ("^", "#56B4E9", 6.0),
    Style.APPLIED: ("s", "#009E73", 6.0),
    Style.FAILED: ("x", "#D55E00", 7.0),
    Style.VERIFIED: ("P", "#009E73", 5.0),
    Style.PERSON: ("o", "#E69F00", 5.0),
    Style.BOT: (".", "#777777", 4.0),
}
_MILESTONES: dict[str, tuple[str, LineStyleType]] = {  # colour, line style
    "first signal": ("#E69F00", ":"),
    "opened": ("#000000", "--"),
    "mitigated": ("#009E73", "--"),
    "resolved": ("#0072B2", "-"),
}


def timeline_png(pm: PostMortem) -> bytes | None:
    """The picture, or None when it could not be drawn (logged): the post-mortem must never be
    lost because of its picture, so any failure of the drawing library stops here."""
    try:
        return draw_picture(plan_picture(pm))
    except Exception:  # matplotlib's and numpy's errors have no common base
        log.exception("Drawing the timeline picture of %s failed", pm.incident_id)
        return None


def picture_size(plan: TimelinePicture) -> tuple[int, int]:
    """Width and height in pixels."""
    return round(WIDTH * DPI), round(_height(plan) * DPI)


def draw_picture(plan: TimelinePicture) -> bytes:
    fig = Figure(figsize=(WIDTH, _height(plan)), dpi=DPI)
    FigureCanvasAgg(fig)  # attaches itself to the figure
    lanes_ax = _axes(fig, plan, top=_lanes_top(plan), height=LANE * len(plan.lanes))
    _draw_lanes(lanes_ax, plan)
    axes = [lanes_ax]
    if plan.series:
        metric_ax = _axes(fig, plan, top=TITLE + LEGEND, height=METRIC, sharex=lanes_ax)
        _draw_metric(metric_ax, plan)
        axes.append(metric_ax)
    _time_axis(lanes_ax, plan)
    for ax in axes:
        _draw_milestones(ax, plan)
    _draw_header(fig, plan)
    _draw_key(fig, plan)
    out = io.BytesIO()
    # No "Software" (matplotlib's version) in the file: the same plan gives the same bytes.
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


# ---- layout --------------------------------------------------------------------------------


def _height(plan: TimelinePicture) -> float:
    return _lanes_top(plan) + LANE * len(plan.lanes) + AXIS + _key_height(plan)


def _lanes_top(plan: TimelinePicture) -> float:
    return TITLE + LEGEND + (METRIC + GAP if plan.series else 0.0)


def _key_height(plan: TimelinePicture) -> float:
    rows = math.ceil(len(plan.callouts) / 2) * CALLOUT_ROW
    return rows + (NOTE_ROW if _notes(plan) else 0.0) + PAD


def _axes(
    fig: Figure, plan: TimelinePicture, *, top: float, height: float, sharex: Axes | None = None
) -> Axes:
    """Axes placed by inches from the figure's top-left corner."""
    total = _height(plan)
    rect = (
        LEFT / WIDTH,
        1 - (top + height) / total,
        (WIDTH - LEFT - RIGHT) / WIDTH,
        height / total,
    )
    return fig.add_axes(rect, sharex=sharex)


# ---- parts ---------------------------------------------------------------------------------


def _draw_lanes(ax: Axes, plan: TimelinePicture) -> None:
    count = len(plan.lanes)
    ax.set_ylim(count - 0.5, -0.5)  # the first lane on top
    ax.set_yticks(range(count), [f"{lane.name} ({lane.total:,})" for lane in plan.lanes])
    ax.tick_params(axis="y", length=0)
    for row in range(1, count):
        ax.axhline(row - 0.5, color="#dddddd", linewidth=0.8)
    for row, lane in enumerate(plan.lanes):
        _draw_rate(ax, plan, row, lane)
        _draw_spans(ax, row, lane)
        _draw_marks(ax, row, lane)
    _draw_callouts(ax, plan)


def _draw_callouts(ax: Axes, plan: TimelinePicture) -> None:
    """A small numbered disc above each mark the key under the chart explains."""
    for callout in plan.callouts:
        ax.annotate(
            str(callout.number),
            xy=(float(_x([callout.at])[0]), callout.lane),
            xytext=(0, 10),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7,
            fontweight="bold",
            bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "#333333", "lw": 0.6},
        )


def _draw_rate(ax: Axes, plan: TimelinePicture, row: int, lane: Lane) -> None:
    """A crowded lane's events per time bin, as a small histogram filling the lane."""
    if not lane.rate:
        return
    counts = np.asarray(lane.rate, dtype=float)
    heights = np.append(counts, counts[-1]) / max(counts.max(), 1.0) * 0.8
    start, end = _x([plan.start, plan.end])
    edges = np.linspace(start, end, len(counts) + 1)
    ax.fill_between(
        edges, row + 0.4, row + 0.4 - heights, step="post", color="#bbbbbb", linewidth=0
    )


def _draw_spans(ax: Axes, row: int, lane: Lane) -> None:
    """Alerts while firing, actions while pending: thin bars along the lane."""
    if not lane.spans:
        return
    starts = _x(s.start for s in lane.spans)
    ends = _x(s.end for s in lane.spans)
    colour = _LOOKS[lane.spans[0].style][1]
    bars = [(float(s), float(e - s)) for s, e in zip(starts, ends, strict=True)]
    ax.broken_barh(bars, (row - 0.1, 0.2), facecolors=colour, alpha=0.25)


def _draw_marks(ax: Axes, row: int, lane: Lane) -> None:
    by_style: dict[Style, list[datetime]] = {}
    for mark in lane.marks:
        by_style.setdefault(mark.style, []).append(mark.at)
    for style, times in by_style.items():
        marker, colour, size = _LOOKS[style]
        xs = _x(times)
        ax.plot(xs, np.full(len(xs), row), linestyle="none", marker=marker, color=colour,
                markersize=size, zorder=3)  # fmt: skip


def _draw_metric(ax: Axes, plan: TimelinePicture) -> None:
    unit = plan.series[0].unit
    for series in plan.series:
        xs = _x(at for at, _ in series.points)
        ys = np.fromiter((value for _, value in series.points), dtype=float)
        sparse = len(xs) < 60
        (line,) = ax.plot(xs, ys, linewidth=1.2, marker="o" if sparse else None, markersize=3,
                          label=_drawable(series.name))  # fmt: skip
        if series.threshold is not None:
            ax.axhline(series.threshold, color=line.get_color(), linestyle="--", linewidth=0.9)
    ax.set_ylabel(_drawable(f"alert value ({unit})" if unit else "alert value"), fontsize=8)
    ax.tick_params(labelbottom=False, labelsize=8)
    ax.grid(axis="y", color="#eeeeee")
    # A fixed place: "best" measures every point against the legend, slow with thousands.
    ax.legend(loc="upper left", fontsize=7, ncols=2, framealpha=0.85)
    if any(s.threshold is not None for s in plan.series):
        ax.text(1.0, 1.01, "dashed: threshold", transform=ax.transAxes, ha="right", fontsize=7)


def _time_axis(ax: Axes, plan: TimelinePicture) -> None:
    start, end = (float(x) for x in _x([plan.start, plan.end]))
    ax.set_xlim(start, end)
    ticks = _ticks(start, end)
    ax.set_xticks(ticks, _tick_labels(ticks, step=ticks[1] - ticks[0] if len(ticks) > 1 else 0))
    ax.set_xlabel("Time (UTC)", fontsize=9)
    ax.tick_params(labelsize=8)


# Tick spacings in seconds, round to a reader: minutes, hours, days, weeks.
_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)
_DAY = 86400


def _ticks(start: float, end: float, most: int = 10) -> list[float]:
    span = end - start
    step = next((s for s in _STEPS if span / s <= most), math.ceil(span / most / _DAY) * _DAY)
    first = math.ceil(start / step) * step
    return [float(t) for t in range(first, math.floor(end) + 1, step)]


def _tick_labels(ticks: list[float], step: float) -> list[str]:
    """Times of day, with the date under the first tick and under each midnight."""
    labels = []
    for i, tick in enumerate(ticks):
        at = datetime.fromtimestamp(tick, UTC)
        if step >= _DAY:
            labels.append(f"{at:%d %b}")
        elif i == 0 or tick % _DAY == 0:
            labels.append(f"{at:%H:%M}\n{at:%d %b %Y}")
        else:
            labels.append(f"{at:%H:%M}")
    return labels


def _draw_milestones(ax: Axes, plan: TimelinePicture) -> None:
    for milestone in plan.milestones:
        colour, style = _milestone_look(milestone.name)
        x = float(_x([milestone.at])[0])
        ax.axvline(x, color=colour, linestyle=style, linewidth=1.1, zorder=2)


def _milestone_look(name: str) -> tuple[str, LineStyleType]:
    return _MILESTONES.get(name, ("#555555", "-."))


def _draw_header(fig: Figure, plan: TimelinePicture) -> None:
    total = _height(plan)
    fig.text(0.01, 1 - 0.32 / total, _drawable(plan.title), fontsize=12, fontweight="bold")
    handles = [
        Line2D([], [], color=colour, linestyle=style, label=f"{m.name} {m.at:%H:%M}")
        for m in plan.milestones
        for colour, style in [_milestone_look(m.name)]
    ]
    shown = dict.fromkeys(m.style for lane in plan.lanes for m in lane.marks)
    handles += [
        Line2D([], [], linestyle="none", marker=_LOOKS[s][0], color=_LOOKS[s][1], label=str(s))
        for s in Style
        if s in shown
    ]
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(LEFT / WIDTH, 1 - TITLE / total),
        ncols=min(len(handles), 8),
        frameon=False,
        fontsize=8,
    )


def _draw_key(fig: Figure, plan: TimelinePicture) -> None:
    """The callouts' sentences in two columns under the chart, then what was left out."""
    total = _height(plan)
    top = total - _key_height(plan) + PAD / 2
    same_day = plan.start.date() == plan.end.date()
    half = math.ceil(len(plan.callouts) / 2)
    for i, callout in enumerate(plan.callouts):
        column, row = divmod(i, half)
        when = f"{callout.at:%H:%M}" if same_day else f"{callout.at:%d %b %H:%M}"
        fig.text(
            0.01 + column * 0.5,
            1 - (top + row * CALLOUT_ROW) / total,
            _drawable(f"{callout.number}. {when} {callout.text}"),
            fontsize=7.5,
            va="top",
        )
    if notes := _notes(plan):
        y = 1 - (top + half * CALLOUT_ROW) / total
        fig.text(0.01, y, _drawable(notes), fontsize=7.5, color="#555555", va="top")


def _notes(plan: TimelinePicture) -> str:
    notes = []
    if plan.earlier_changes:
        notes.append(f"{plan.earlier_changes} earlier change(s) not drawn")
    if plan.other_series:
        notes.append(f"{plan.other_series} more alert series not drawn (another unit, or many)")
    if any(lane.rate for lane in plan.lanes):
        notes.append("grey: events per time slice in crowded lanes")
    return "; ".join(notes)


# ---- values ----------------------------------------------------------------------------------


def _x(times: Iterable[datetime]) -> NDArray[np.float64]:
    """Positions on the time axis: POSIX seconds (the axis is labelled by `_tick_labels`, so
    matplotlib's untyped date machinery is not needed)."""
    return np.fromiter((t.timestamp() for t in times), dtype=np.float64)


_SPACES = re.compile(r"\s+")


def _drawable(text: str) -> str:
    """Text the font can draw and matplotlib will not read as maths: characters the font lacks
    (emoji…) are left out, as each would be a warning and an empty box; `$` pairs would be
    parsed as TeX."""
    chars = _font_chars()
    kept = "".join(c for c in text if ord(c) in chars or c.isspace())
    return _SPACES.sub(" ", kept).strip().replace("$", r"\$")


@cache
def _font_chars() -> frozenset[int]:
    path = font_manager.findfont(font_manager.FontProperties())
    return frozenset(ft2font.FT2Font(path).get_charmap())
