"""`/incident running`, `/incident changes` and the five questions' registry context, read the
way a person reads them."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.messages import ChangesReport, FiveQuestions, FiveQuestionsModal, RunningReport
from bot.slack import ids
from bot.slack.blocks import render, render_modal
from tests.unit.test_blocks import all_text, make_changes, make_context, make_incident, make_running


def test_running_shows_versions_flags_last_change_and_known_good() -> None:
    text = all_text(render(RunningReport(make_running())).blocks)
    assert "`v2`" in text and "`gpt-x`" in text
    assert "known-good `v1`" in text and "no known-good version yet" in text
    assert "`new-retriever` 30%" in text and "`kill_switch` off" in text
    assert "<@U0ALICE>" in text  # the last change's author


def test_changes_are_capped_and_say_how_many_more() -> None:
    rendered = render(ChangesReport(None, timedelta(days=7), make_changes(60)))
    text = all_text(rendered.blocks)
    assert text.count("→") == 25
    assert "35 older changes not shown" in text
    assert "eval 0.55" in text and "&lt;script&gt;" in text  # escaped, not dropped


def test_the_questions_show_recent_changes_and_rollback_targets() -> None:
    text = all_text(render(FiveQuestions(make_incident(), make_context(2))).blocks)
    assert "Recent changes:" in text and "v2 → v3" in text
    assert "Rollback targets (last known-good): prompt → v1" in text


def test_the_form_prefills_questions_two_and_three_until_answered() -> None:
    view = render_modal(FiveQuestionsModal(make_incident(), make_context(12)))
    initial = {
        b["block_id"]: b["element"].get("initial_value")
        for b in view["blocks"]
        if b["type"] == "input"
    }
    assert "v12 → v13" in initial[ids.FIELD_Q2_DETAIL]
    assert "and 2 more" in initial[ids.FIELD_Q2_DETAIL]
    assert "new-retriever (30%)" in initial[ids.FIELD_Q3_DETAIL]
    assert initial[ids.FIELD_Q4_DETAIL] is None
