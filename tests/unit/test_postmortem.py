"""Post-mortem assembly and rendering, against golden files.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 pytest tests/unit/test_postmortem.py`, then read the diff.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError

from bot.clock import ManualClock
from bot.config import load_settings
from bot.domain.errors import ConfigError, NotFound
from bot.domain.findings import Pin
from bot.domain.kinds import IncidentKind
from bot.domain.postmortem import Entry, Moment, PostMortem, assemble
from bot.domain.registry import Change, Component
from bot.domain.runbooks import RunbookLibrary
from bot.domain.timeline import BOT_ACTOR, EventType
from bot.render.postmortem import md, render_postmortem, timeline_table, when
from bot.services.deps import Deps, Policy
from bot.services.postmortem import postmortem_markdown
from tests.fake_chat import FakeChat
from tests.fakes import FakeUnitOfWorkFactory
from tests.unit.postmortem_examples import (
    ALICE,
    BOB,
    OPENED,
    SERVICE,
    Script,
    bare_incident,
    scripted,
)

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/golden/postmortem"
PARIS = ZoneInfo("Europe/Paris")
NOW = OPENED + timedelta(hours=3)


def assert_golden(golden: Path, actual: str) -> None:
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"{golden.relative_to(ROOT)} is missing; run with UPDATE_GOLDEN=1"
    assert actual == golden.read_text(encoding="utf-8")


def build(script: Script, zone: ZoneInfo = PARIS) -> PostMortem:
    return assemble(
        script.incident,
        script.events,
        script.changes,
        now=NOW,
        display_zone=zone,
        findings=script.findings,
    )


@pytest.mark.parametrize("kind", list(IncidentKind), ids=lambda k: k.value)
def test_each_kind_renders_as_its_golden_file(kind: IncidentKind) -> None:
    assert_golden(GOLDEN / f"{kind.value}.md", render_postmortem(build(scripted(kind))))


def test_timeline_is_ordered_by_each_event_s_own_time() -> None:
    script = scripted(IncidentKind.QUALITY)
    # A late alert: recorded last, but it fired before everything else.
    late = script.add(-30, EventType.ALERT_FIRING, "alert:grafana", "Alert Early firing")
    # Two events at the same moment keep the order they were recorded in.
    first = script.add(50, EventType.STATUS_UPDATE, ALICE, "first at 50")
    second = script.add(50, EventType.STATUS_UPDATE, BOB, "second at 50")
    script.events.reverse()  # and the store handed them over backwards
    script.events.remove(first)
    script.events.remove(second)
    script.events += [first, second]
    pm = build(script)
    times = [e.at.utc for e in pm.timeline]
    assert times == sorted(times)
    texts = [e.text for e in pm.timeline]
    assert texts[0] == "support-bot prompt: v12 → v13 (eval 0.71)"  # 3 days back is out
    assert late.text in texts[: texts.index("Opened quality drift incident")]
    assert texts.index("first at 50") + 1 == texts.index("second at 50")
    # Changes before opening are on the timeline at their deploy time, with the display zone.
    bad = next(e for e in pm.timeline if "v12 → v13" in e.text)
    assert bad.at.utc == OPENED - timedelta(hours=2) and bad.at.local.hour == 8


def test_measures() -> None:
    m = build(scripted(IncidentKind.QUALITY)).measures
    assert m.time_to_detect == timedelta(minutes=10)  # the alert's startsAt → opened
    assert m.time_to_acknowledge == timedelta(minutes=4)  # Alice's first tick
    assert m.acknowledged_by == ALICE
    assert m.time_to_mitigate == timedelta(minutes=21)  # the rollback applied
    assert m.time_to_resolve == timedelta(minutes=75)
    # prompt v13 deployed 2 h before opening, rolled back 21 min after.
    assert m.bad_change_exposure == timedelta(hours=2, minutes=21)
    assert m.bad_change is not None and m.bad_change.to_version == "v13"


def test_time_to_detect_falls_back_to_the_first_firing_event() -> None:
    script = scripted(IncidentKind.COST)
    for event in script.events:
        event.data.pop("starts_at", None)
    assert build(script).measures.time_to_detect == timedelta(minutes=10)


def test_an_alert_after_opening_does_not_measure_detection() -> None:
    script = Script(bare_incident())
    script.add(5, EventType.ALERT_FIRING, "alert:grafana", "late", starts_at=None)
    m = build(script).measures
    assert m.time_to_detect is None and m.first_signal_at is not None


def test_a_rollback_whose_verification_failed_is_not_the_mitigation() -> None:
    script = scripted(IncidentKind.QUALITY)
    for event in script.events:
        if event.type is EventType.ACTION_VERIFIED:
            event.data["passed"] = False
    m = build(script).measures
    assert m.time_to_mitigate is None and m.bad_change_exposure is None


def test_the_bot_and_pipelines_do_not_acknowledge() -> None:
    script = Script(bare_incident())
    script.add(1, EventType.REMINDER_SENT, BOT_ACTOR, "Reminded")
    script.add(2, EventType.ACTION_REQUESTED, BOT_ACTOR, "automatic", request_id="a1")
    script.add(3, EventType.CHANGE_RECORDED, "github-actions", "deployed", change_id="x")
    assert build(script).measures.time_to_acknowledge is None
    script.add(9, EventType.STATUS_UPDATE, BOB, "looking")
    assert build(script).measures.time_to_acknowledge == timedelta(minutes=9)


def test_every_measure_is_none_without_its_signal() -> None:
    m = build(Script(bare_incident())).measures
    assert (
        m.time_to_detect,
        m.time_to_acknowledge,
        m.time_to_mitigate,
        m.time_to_resolve,
        m.bad_change_exposure,
    ) == (None,) * 5


def test_an_incident_with_nothing_recorded_renders_cleanly() -> None:
    text = render_postmortem(build(Script(bare_incident()), ZoneInfo("UTC")))
    for expected in (
        "| Time to detect | — | no alert fired |",
        "| Time to resolve | — | still open |",
        "No change to support-bot was recorded in the 1d 00h 00m before opening.",
        "No alerts.",
        "Not answered.",
        "No checklist: the incident had no runbook.",
        "No actions were taken.",
        "## Notes and pinned messages\n\nNone. Add notes with `/incident note <text>`, or react "
        "with :pushpin: to a message in the incident channel.",
        "## Failed examples\n\nNone attached. Add them with `/incident example <text or link>`",
        "## Follow-ups\n\nNone yet. Add them with `/incident followup @owner <text>`",
        "| Time (UTC) | Who | What |",  # no second column when the zone is UTC
    ):
        assert expected in text, expected
    assert "()" not in text and "| None" not in text and "None →" not in text


def test_changes_outside_the_window_or_after_opening_are_left_out() -> None:
    script = Script(bare_incident())
    script.changes = [
        Change("old", SERVICE, Component.PROMPT, "v1", "v2", "ci", OPENED - timedelta(days=2)),
        Change("in", SERVICE, Component.PROMPT, "v2", "v3", "ci", OPENED - timedelta(hours=1)),
        Change("after", SERVICE, Component.PROMPT, "v3", "v4", "ci", OPENED + timedelta(hours=1)),
    ]
    assert [c.to_version for c in build(script).changes_before] == ["v3"]


def test_user_text_cannot_break_the_markdown() -> None:
    assert md("a | b *c* [x](y) <@U_BOB> <@U1|carol>\nnext _x_ snake_case") == (
        "a \\| b \\*c\\* \\[x\\](y) @U_BOB @carol next \\_x\\_ snake_case"
    )
    assert md("see <https://t.example.com/8841|trace 8841> and <https://t.example.com/1>") == (
        "see trace 8841 (https://t.example.com/8841) and https://t.example.com/1"
    )
    text = render_postmortem(build(scripted(IncidentKind.QUALITY)))
    assert "Rolled back; @U_BOB watching the \\| dashboard" in text


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "America/St_Johns", "UTC", "Africa/Monrovia", "Australia/Lord_Howe"]
)
def test_times_are_each_moment_s_own_across_offset_changes(zone: str) -> None:
    # Times are formatted a minute at a time; across a DST change, in a half-hour zone, and under
    # an offset in seconds (Monrovia's before 1972) each must still read as strftime has it.
    there = ZoneInfo(zone)
    starts = [
        datetime(2026, 3, 29, 0, 58, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 58, tzinfo=UTC),
        datetime(2026, 4, 4, 14, 58, tzinfo=UTC),  # Lord Howe's half-hour DST change
        datetime(1971, 6, 1, 11, 58, 30, tzinfo=UTC),
    ]
    instants = [s + timedelta(seconds=7 * n, microseconds=n % 2) for s in starts for n in range(40)]
    rows, expected = [], []
    for at in instants:
        local = at.astimezone(there)
        stamp = f"{at:%Y-%m-%d %H:%M:%S} UTC"
        rows.append(Entry(Moment(at, there), EventType.STATUS_UPDATE, ALICE, "x"))
        expected.append(f"| {stamp} | {local:%Y-%m-%d %H:%M:%S %Z} | @{ALICE} | x |")
        differs = local.utcoffset() != timedelta(0) or local.tzname() != "UTC"
        assert when(Moment(at, there)) == (f"{stamp} ({local:%H:%M:%S %Z})" if differs else stamp)
    assert timeline_table(rows, zoned=True) == "\n".join(expected)
    assert (
        timeline_table(rows[:1], zoned=False)
        == f"| {instants[0]:%Y-%m-%d %H:%M:%S} UTC | @{ALICE} | x |"
    )


def test_a_team_template_replaces_the_shipped_one(tmp_path: Path) -> None:
    template = tmp_path / "ours.md.j2"
    template.write_text(
        "{{ pm.title|md }}: resolved in {{ pm.measures.time_to_resolve|duration }}"
        "{% if pm.kind == 'cost' %} (cost){% endif %}.\n"
    )
    pm = build(scripted(IncidentKind.COST))
    assert render_postmortem(pm, template) == (
        "Answers cite the retired refund policy: resolved in 1h 15m (cost).\n"
    )
    broken = tmp_path / "broken.md.j2"
    broken.write_text("{{ pm.no_such_field }}")
    with pytest.raises(UndefinedError):
        render_postmortem(pm, broken)


def test_the_template_setting_must_name_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "ours.md.j2").write_text("x")
    config = tmp_path / "steadyhand.yml"
    config.write_text("postmortem_template: ours.md.j2\n")
    settings = load_settings({"STEADYHAND_CONFIG": str(config)}, require_slack=False)
    assert settings.postmortem_template == tmp_path / "ours.md.j2"
    config.write_text("postmortem_template: missing.md.j2\n")
    with pytest.raises(ConfigError, match="postmortem_template"):
        load_settings({"STEADYHAND_CONFIG": str(config)}, require_slack=False)


async def test_the_service_reads_the_store_and_uses_the_display_zone() -> None:
    script = scripted(IncidentKind.RETRIEVAL)
    factory = FakeUnitOfWorkFactory()
    async with factory() as uow:
        await uow.incidents.add(script.incident)
        for event in script.events:
            await uow.timeline.append(event)
        for change in script.changes:
            await uow.registry.add_change(change)
        for pinned in script.findings.pinned:
            for n, by in enumerate(pinned.pinned_by):
                at = NOW + timedelta(seconds=n)
                await uow.findings.pin(Pin(script.incident.id, pinned.message, by, at))
        for example in script.findings.examples:
            await uow.findings.add_example(example)
        for follow_up in script.findings.follow_ups:
            await uow.findings.add_follow_up(follow_up)
        await uow.commit()
    deps = Deps(
        uow=factory,
        chat=FakeChat(),
        clock=ManualClock(NOW),
        runbooks=RunbookLibrary([], []),
        policy=Policy(display_timezone="Europe/Paris"),
    )
    text = await postmortem_markdown(deps, script.incident.id)
    assert text == render_postmortem(build(script))
    with pytest.raises(NotFound):
        await postmortem_markdown(deps, "nope")
