"""The timeline picture: its plan from scripted incidents, and the PNG drawn from it."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.postmortem import PostMortem, assemble
from bot.domain.timeline import BOT_ACTOR, EventType, TimelineEvent
from bot.render.picture import (
    MAX_CALLOUTS,
    MAX_MARKS,
    MAX_POINTS,
    LaneName,
    Style,
    TimelinePicture,
    parse_value,
    plan_picture,
)
from bot.render.picture_png import draw_picture, picture_size, timeline_png
from tests.fake_chat import FakeChat
from tests.unit.postmortem_examples import ALICE, OPENED, bare_incident, scripted
from tests.unit.test_postmortem_delivery import resolved

ZONE = ZoneInfo("Europe/Paris")


def at(minutes: float) -> datetime:
    return OPENED + timedelta(minutes=minutes)


def postmortem(incident: Incident, events: list[TimelineEvent], changes: Any = ()) -> PostMortem:
    return assemble(incident, events, changes, now=at(24 * 60), display_zone=ZONE)


def plan_of(kind: IncidentKind) -> TimelinePicture:
    script = scripted(kind)
    return plan_picture(postmortem(script.incident, script.events, script.changes))


def lane(plan: TimelinePicture, name: LaneName) -> list[tuple[datetime, Style]]:
    [found] = [lane for lane in plan.lanes if lane.name is name]
    return [(mark.at, mark.style) for mark in found.marks]


def test_a_worked_incident_has_its_lanes_marks_and_milestones() -> None:
    plan = plan_of(IncidentKind.QUALITY)

    assert [lane.name for lane in plan.lanes] == list(LaneName)
    assert lane(plan, LaneName.ALERTS) == [
        (at(-10), Style.FIRING),
        (at(5), Style.FIRING),
        (at(40), Style.RESOLVED),
    ]
    assert lane(plan, LaneName.CHANGES) == [
        (at(-120), Style.BAD_CHANGE),  # the prompt that was rolled back
        (at(-115), Style.CHANGE),
    ]
    assert lane(plan, LaneName.ACTIONS) == [
        (at(18), Style.REQUESTED),
        (at(20), Style.APPROVED),
        (at(21), Style.APPLIED),
        (at(22), Style.VERIFIED),
    ]
    people = lane(plan, LaneName.PEOPLE)
    assert (at(4), Style.PERSON) in people and (at(75), Style.PERSON) in people
    assert (at(0), Style.BOT) in lane(plan, LaneName.BOT)
    assert [(m.name, m.at) for m in plan.milestones] == [
        ("first signal", at(-10)),
        ("opened", at(0)),
        ("mitigated", at(21)),
        ("resolved", at(75)),
    ]
    [alert_span] = next(lane for lane in plan.lanes if lane.name is LaneName.ALERTS).spans
    assert (alert_span.start, alert_span.end) == (at(-10), at(40))
    # From the bad change (the oldest thing drawn) to the resolution, with a margin.
    assert at(-130) < plan.start < at(-120) and at(75) < plan.end < at(85)
    assert plan.earlier_changes == 0


def test_the_alert_metric_is_the_numeric_values_with_the_threshold() -> None:
    [quality] = plan_of(IncidentKind.QUALITY).series
    # The second notification said "worse": not a number, not a point.
    assert (quality.name, quality.unit, quality.threshold) == ("EvalPassRateLow", "", 0.85)
    assert quality.points == ((at(-10), 0.62),)

    [cost] = plan_of(IncidentKind.COST).series
    assert (cost.unit, cost.points[0][1], cost.threshold) == ("$", 0.031, 0.010)
    [latency] = plan_of(IncidentKind.LATENCY).series
    assert (latency.unit, latency.points[0][1], latency.threshold) == ("s", 8.4, 3.0)


def test_callouts_say_the_bad_change_the_rollback_and_the_alert_in_time_order() -> None:
    texts = [c.text for c in plan_of(IncidentKind.QUALITY).callouts]

    assert texts[0] == "bad change: support-bot prompt: v12 → v13 (eval 0.71)"
    assert "roll back support-bot prompt v13 → v12: applied" in texts
    assert "Alert EvalPassRateLow firing: quality is off" in texts
    assert "update: Rolled back; @U_BOB watching the | dashboard" in texts  # Slack markup gone
    assert [c.number for c in plan_of(IncidentKind.QUALITY).callouts] == list(
        range(1, len(texts) + 1)
    )


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("0.42", (0.42, "")),
        ("3.2s", (3.2, "s")),
        ("$410/h", (410.0, "$/h")),
        ("12%", (12.0, "%")),
        ("1,250 req/s", (1250.0, "req/s")),
        ("-0.5", (-0.5, "")),
        (7, (7.0, "")),
        ("worse", None),
        ("nan", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_alert_values_are_read_as_numbers_with_their_unit(
    raw: object, parsed: tuple[float, str] | None
) -> None:
    assert parse_value(raw) == parsed


def test_an_empty_incident_is_planned_and_drawn() -> None:
    pm = postmortem(bare_incident(service=None), [])
    plan = plan_picture(pm)

    assert [lane.name for lane in plan.lanes] == [
        LaneName.ALERTS,
        LaneName.CHANGES,
        LaneName.ACTIONS,
        LaneName.PEOPLE,
    ]
    assert all(lane.total == 0 and not lane.marks for lane in plan.lanes)
    assert plan.series == () and plan.callouts == ()
    assert [m.name for m in plan.milestones] == ["opened"]
    assert plan.start < OPENED < plan.end
    assert_png(draw_picture(plan), plan)


def test_events_of_types_it_does_not_know_go_by_who_did_them() -> None:
    class Later(StrEnum):  # types other features add
        NOTE = "note.added"
        DIGEST = "digest.sent"

    incident = bare_incident()
    events = [
        TimelineEvent(incident.id, at(3), Later.NOTE, ALICE, "A note"),  # type: ignore[arg-type]
        TimelineEvent(incident.id, at(4), Later.DIGEST, BOT_ACTOR, "Sent"),  # type: ignore[arg-type]
    ]
    plan = plan_picture(postmortem(incident, events))

    assert lane(plan, LaneName.PEOPLE) == [(at(3), Style.PERSON)]
    assert lane(plan, LaneName.BOT) == [(at(4), Style.BOT)]


def test_a_crowded_incident_is_thinned_to_a_rate_strip_and_few_callouts() -> None:
    incident = bare_incident()
    events = []
    for i in range(12_000):
        fingerprint = f"fp{i % 3}"
        events.append(
            TimelineEvent(
                incident.id,
                at(i / 20),
                EventType.ALERT_FIRING,
                "alert:grafana",
                f"Alert Slow{fingerprint} firing again (#{i}): p95 high",
                {"source": "grafana", "fingerprint": fingerprint, "value": f"{i % 9}.5s"},
            )
        )
        if i % 4 == 0:
            events.append(
                TimelineEvent(incident.id, at(i / 20), EventType.STEP_CHECKED, ALICE, "Checked")
            )
    plan = plan_picture(postmortem(incident, events))

    [alerts] = [lane for lane in plan.lanes if lane.name is LaneName.ALERTS]
    assert alerts.total == 12_000 and sum(alerts.rate) == 12_000
    assert alerts.marks == ()  # notifications are not notable; the rate shows them
    [people] = [lane for lane in plan.lanes if lane.name is LaneName.PEOPLE]
    assert people.total == 3000 and len(people.marks) <= MAX_MARKS
    assert len(plan.series) == 3 and all(len(s.points) <= MAX_POINTS for s in plan.series)
    assert plan.series[0].points[0] == (at(0), 0.5)  # the first point is kept
    texts = [c.text for c in plan.callouts]
    assert len(texts) <= MAX_CALLOUTS and len(set(texts)) == len(texts)
    assert_png(draw_picture(plan), plan)


def test_the_png_has_the_planned_size_and_text_the_font_lacks_is_left_out() -> None:
    script = scripted(IncidentKind.COST)
    script.add(50, EventType.STATUS_UPDATE, ALICE, "🔥 spend $410/h vs $300/h budget")
    plan = plan_picture(postmortem(script.incident, script.events, script.changes))

    # Warnings are errors here: a missing glyph or a `$…$` read as TeX would fail the test.
    assert_png(draw_picture(plan), plan)
    assert "update: 🔥 spend $410/h vs $300/h budget" in [c.text for c in plan.callouts]


def test_a_picture_that_cannot_be_drawn_is_none_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken(monkeypatch)
    script = scripted(IncidentKind.QUALITY)

    assert timeline_png(postmortem(script.incident, script.events, script.changes)) is None
    assert "Drawing the timeline picture of inc-quality failed" in caplog.text


async def test_the_markdown_is_uploaded_alone_when_the_picture_cannot_be_drawn(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken(monkeypatch)
    chat = FakeChat()
    _, incident = await resolved(chat)

    [upload] = chat.uploads
    assert upload.filename.startswith(f"postmortem-{incident.id}-")
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib fails to write the PNG (a third-party failure; our own code is not faked)."""

    def savefig(self: Figure, *args: object, **kwargs: object) -> None:
        raise RuntimeError("out of memory in Agg")

    monkeypatch.setattr(Figure, "savefig", savefig)


def assert_png(png: bytes, plan: TimelinePicture) -> None:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = imread(io.BytesIO(png), format="png")
    width, height = picture_size(plan)
    assert pixels.shape == (height, width, 4)


def test_the_window_ends_at_the_resolution_and_starts_at_most_a_change_window_back() -> None:
    script = scripted(IncidentKind.QUALITY)
    script.add(-3 * 24 * 60, EventType.ALERT_FIRING, "alert:grafana", "Alert Old firing: x")
    script.add(3 * 24 * 60, EventType.REVIEW_REMINDED, BOT_ACTOR, "Reminded the commander")
    pm = postmortem(script.incident, script.events, script.changes)
    plan = plan_picture(pm)

    assert at(-24 * 60 - 90) < plan.start < at(-24 * 60)
    assert at(75) < plan.end < at(24 * 60)
    every_mark = [mark.at for lane in plan.lanes for mark in lane.marks]
    assert at(-3 * 24 * 60) not in every_mark and at(3 * 24 * 60) not in every_mark
    assert all(plan.start <= c.at <= plan.end for c in plan.callouts)
