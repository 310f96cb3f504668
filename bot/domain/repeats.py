"""Runs of repeated alert notifications, as the post-mortem's timeline shows them: one line each.

A notification that only repeats an alert's status is counted on the alert (TrackedAlert's
`repeats`, first and last time) instead of being recorded, and the event that ends the run (the
alert resolving, being acknowledged, coming back) carries it in its data (`repeated`). Timelines
kept before that have one event per repeat; consecutive events of one alert with the same status
collapse the same way. Either way the run reads "Alert X firing: repeated N times between t1 and
t2", placed at its first repeat: a storm of 5,000 notifications is a few lines, not thousands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from bot.domain.alerts import TrackedAlert
from bot.domain.timeline import EventType, TimelineEvent

ALERT_EVENTS = (EventType.ALERT_FIRING, EventType.ALERT_RESOLVED)

AlertKey = tuple[str, str]  # (source, fingerprint)


@dataclass
class _Run:
    name: str
    status: str
    count: int
    first_at: datetime
    last_at: datetime


def collapse_repeats(
    events: Sequence[TimelineEvent], alerts: Iterable[TrackedAlert] = ()
) -> Sequence[TimelineEvent]:
    """`events` in time order, with each run of repeats of an alert as one event; `alerts`: the
    incident's alerts, whose current run no event has ended yet."""
    kept: list[TimelineEvent] = []
    runs: list[TimelineEvent] = []
    incident_id = events[0].incident_id if events else ""
    status: dict[AlertKey, str] = {}  # each alert's status, as its applied events say
    running: dict[AlertKey, _Run] = {}  # runs of one event per repeat (older timelines)
    for event in events:
        if event.type not in ALERT_EVENTS:
            kept.append(event)
            continue
        data = event.data
        key = (str(data.get("source", "")), str(data.get("fingerprint", "")))
        resolved = event.type is EventType.ALERT_RESOLVED
        now = str(data.get("status") or ("resolved" if resolved else "firing"))
        applied = data.get("applied", True)  # a late event is shown, but changed nothing
        if applied and status.get(key) == now:
            run = running.get(key)
            if run is None:
                running[key] = _Run(_name(event), now, 1, event.at, event.at)
            else:
                run.count, run.last_at = run.count + 1, event.at
            continue
        ended = running.pop(key, None)
        if ended is not None:
            runs.append(_event(incident_id, key, ended))
        counted = _counted_run(data.get("repeated"), _name(event), status.get(key))
        if counted is not None:
            runs.append(_event(incident_id, key, counted))
        if applied:
            status[key] = now
        kept.append(event)
    runs.extend(_event(incident_id, key, run) for key, run in running.items())
    for alert in alerts:
        current = alert.repeat_run
        if current is not None:
            key = (alert.source.value, alert.fingerprint)
            run = _Run(alert.name, alert.status.value, *_counts(current))
            runs.append(_event(alert.incident_id, key, run))
    if not runs:
        return events
    # Stable: a run starting at the same moment as an event comes after it.
    return sorted(kept + runs, key=attrgetter("at"))


def _counts(run: Any) -> tuple[int, datetime, datetime]:
    return run.count, run.first_at, run.last_at


def _counted_run(raw: object, name: str, status: str | None) -> _Run | None:
    """The run a change ended, as its event's data carries it."""
    if not isinstance(raw, Mapping) or status is None:
        return None
    count, first, last = raw.get("count"), raw.get("from"), raw.get("until")
    if not isinstance(count, int) or not isinstance(first, str) or not isinstance(last, str):
        return None
    try:
        first_at, last_at = datetime.fromisoformat(first), datetime.fromisoformat(last)
    except ValueError:
        return None
    return _Run(name, status, count, first_at, last_at)


def _name(event: TimelineEvent) -> str:
    name = event.data.get("name")
    if isinstance(name, str) and name:
        return name
    # Events recorded before the name was kept read "Alert <name> <verb>: <summary>".
    words = event.text.split(" ", 2)
    if len(words) > 1 and words[0] == "Alert":
        return words[1]
    return str(event.data.get("fingerprint", "?"))


def _event(incident_id: str, key: AlertKey, run: _Run) -> TimelineEvent:
    times = "once at" if run.count == 1 else f"{run.count} times between"
    span = (
        _when(run.first_at) if run.count == 1 else f"{_when(run.first_at)} and {_when(run.last_at)}"
    )
    kind = EventType.ALERT_RESOLVED if run.status == "resolved" else EventType.ALERT_FIRING
    return TimelineEvent(
        incident_id,
        run.first_at,
        kind,
        f"alert:{key[0]}",
        f"Alert {run.name} {run.status}: repeated {times} {span}",
        {
            "source": key[0],
            "fingerprint": key[1],
            "status": run.status,
            "repeats": run.count,
            "from": run.first_at.isoformat(),
            "until": run.last_at.isoformat(),
        },
    )


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
