"""Runs of repeated alert notifications collapse to one line on the post-mortem's timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.alerts import AlertSource, AlertStatus, TrackedAlert
from bot.domain.repeats import collapse_repeats
from bot.domain.timeline import EventType, TimelineEvent

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def alert_event(minutes: float, status: str = "firing", **data: Any) -> TimelineEvent:
    kind = EventType.ALERT_RESOLVED if status == "resolved" else EventType.ALERT_FIRING
    return TimelineEvent(
        "inc-1",
        at(minutes),
        kind,
        "alert:alertmanager",
        f"Alert EvalDrop {status}: bad",
        {"source": "alertmanager", "fingerprint": "fp", "status": status, **data},
    )


def note(minutes: float) -> TimelineEvent:
    return TimelineEvent("inc-1", at(minutes), EventType.NOTE_ADDED, "U1", "looking")


def texts(events: list[TimelineEvent] | tuple[TimelineEvent, ...]) -> list[str]:
    return [e.text for e in events]


def test_older_timelines_with_an_event_per_repeat_collapse_each_run() -> None:
    events = [
        alert_event(0),
        alert_event(1),
        note(1.5),
        alert_event(2),
        alert_event(3),
        alert_event(10, "resolved"),
        alert_event(11, "resolved"),
    ]
    assert texts(list(collapse_repeats(events))) == [
        "Alert EvalDrop firing: bad",
        "Alert EvalDrop firing: repeated 3 times between 2026-11-22 09:01:00 UTC and "
        "2026-11-22 09:03:00 UTC",
        "looking",
        "Alert EvalDrop resolved: bad",
        "Alert EvalDrop resolved: repeated once at 2026-11-22 09:11:00 UTC",
    ]


def test_counted_repeats_show_where_they_ran_and_the_current_run_from_the_alert() -> None:
    run = {"count": 4998, "from": at(1).isoformat(), "until": at(50).isoformat()}
    events = [alert_event(0, name="EvalDrop"), note(30), alert_event(60, "resolved", repeated=run)]
    tracked = TrackedAlert(
        AlertSource.ALERTMANAGER,
        "fp",
        "inc-1",
        "EvalDrop",
        "bad",
        None,
        "quality",
        "sev2",
        AlertStatus.RESOLVED,
        None,
        at(0),
        at(70),
        repeats=2,
        repeated_from=at(65),
        repeated_until=at(70),
    )
    assert texts(list(collapse_repeats(events, [tracked]))) == [
        "Alert EvalDrop firing: bad",
        "Alert EvalDrop firing: repeated 4998 times between 2026-11-22 09:01:00 UTC and "
        "2026-11-22 09:50:00 UTC",
        "looking",
        "Alert EvalDrop resolved: bad",
        "Alert EvalDrop resolved: repeated 2 times between 2026-11-22 10:05:00 UTC and "
        "2026-11-22 10:10:00 UTC",
    ]


def test_a_late_event_is_shown_and_neither_repeats_nor_changes_the_status() -> None:
    events = [
        alert_event(0),
        alert_event(1, "acknowledged", applied=False),  # older than what was applied
        alert_event(2),
    ]
    assert texts(list(collapse_repeats(events))) == [
        "Alert EvalDrop firing: bad",
        "Alert EvalDrop acknowledged: bad",
        "Alert EvalDrop firing: repeated once at 2026-11-22 09:02:00 UTC",
    ]


def test_a_timeline_without_repeats_is_handed_back_as_it_is() -> None:
    events = [alert_event(0), note(1), alert_event(2, "resolved")]
    assert collapse_repeats(events) is events
