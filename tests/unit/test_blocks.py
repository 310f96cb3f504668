"""Every message and modal rendered in several states, and checked against Slack's Block Kit
schema (../shared/slack-specs) plus the rules the schema cannot say: ≤ 50 blocks a message,
unique block_ids, action_ids unique within their block."""

from __future__ import annotations

import json
import os
import random
import re
import typing
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from bot.domain.checklists import STEPS_PER_MESSAGE, ChecklistStep, pages
from bot.domain.errors import UsageError
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind, IncidentStatus, Severity
from bot.domain.messages import (
    ChangesReport,
    ChecklistPage,
    ClassifyOffer,
    CommanderChanged,
    FiveQuestions,
    FiveQuestionsModal,
    Help,
    IncidentHeader,
    IncidentResolved,
    Message,
    Modal,
    Notice,
    OpenIncidentModal,
    PostmortemReviewDue,
    RunbookSwitchOffer,
    RunningReport,
    StatusReport,
    StatusUpdate,
    TriageReminder,
)
from bot.domain.registry import (
    Change,
    Component,
    FlagKind,
    FlagSpec,
    FlagState,
    KnownGood,
    Running,
    ServiceSpec,
    built_in_flags,
)
from bot.domain.runbooks import Runbook, Section
from bot.domain.triage import QUESTIONS, Answer, ExampleSet, TriageAnswers, YesNoUnknown
from bot.domain.triage_context import TriageContext
from bot.slack import commands, ids
from bot.slack.blocks import RenderedMessage, render, render_modal
from bot.slack.blocks.markdown import to_mrkdwn
from bot.slack.blocks.text import date_token, duration, escape, split_mrkdwn, truncate
from bot.slack.help import HELP_LINES
from tests.unit.action_examples import (
    example_action_messages,
    example_alert_messages,
    example_finding_messages,
)

OPENED = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
SUMMARY = """## Signals
- **eval_score** < 0.80 over 1h
- users report *wrong* answers, see [dashboard](https://grafana.example.com/d/q?a=1&b=2)
"""


# --- the specification -------------------------------------------------------------------


def specs_dir() -> Path:
    return Path(
        os.environ.get("SLACK_SPECS_DIR")
        or Path(__file__).resolve().parents[3] / "shared" / "slack-specs"
    )


@cache
def block_kit_schema() -> dict[str, Any]:
    path = specs_dir() / "blockkit" / "slack-block-kit.schema.json"
    if not path.exists():
        pytest.fail(f"Block Kit schema not found at {path}; set SLACK_SPECS_DIR")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def check(validator: Draft202012Validator, payload: Any) -> None:
    error = best_match(validator.iter_errors(payload))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        pytest.fail(f"not valid Block Kit at /{where}: {error.message}")


def assert_valid_message(rendered: RenderedMessage) -> None:
    check(Draft202012Validator(block_kit_schema()), rendered.blocks)
    assert len(rendered.blocks) <= 50, "Slack allows 50 blocks in a message"
    assert_unique_ids(rendered.blocks)
    assert rendered.text.strip()
    assert "\n" not in rendered.text and len(rendered.text) <= 300


def assert_valid_modal(view: dict[str, Any]) -> None:
    schema = block_kit_schema()
    modal_schema = {"$schema": schema["$schema"], "$defs": schema["$defs"]}
    check(Draft202012Validator({**modal_schema, "$ref": "#/$defs/modal_view"}), view)
    assert_unique_ids(view["blocks"])


def assert_unique_ids(blocks: list[dict[str, Any]]) -> None:
    block_ids = Counter(b["block_id"] for b in blocks if "block_id" in b)
    assert not [i for i, n in block_ids.items() if n > 1], "duplicate block_id"
    # Slack wants an action_id unique within its block; every checklist step reuses one.
    for block in blocks:
        elements = [*block.get("elements", []), block.get("accessory"), block.get("element")]
        action_ids = Counter(e["action_id"] for e in elements if e and "action_id" in e)
        assert not [i for i, n in action_ids.items() if n > 1], f"duplicate action_id in {block}"


# --- domain objects, built by hand -------------------------------------------------------


def make_runbook(summary: str = SUMMARY) -> Runbook:
    return Runbook(
        key="quality",
        path="runbooks/quality.md",
        kind=IncidentKind.QUALITY,
        title="Quality drift",
        default_severity=Severity.SEV2,
        version="3f2a91c",
        sections=(Section("How to recognize", 5, summary),),
    )


def make_answers(detail: str = "prompt v13 shipped at 09:12") -> TriageAnswers:
    return TriageAnswers(
        failure_layer=IncidentKind.RETRIEVAL,
        recent_change=Answer(YesNoUnknown.YES, detail),
        rollback_available=Answer(YesNoUnknown.UNKNOWN),
        human_review_needed=Answer(YesNoUnknown.NO, "no"),
        examples_destination=ExampleSet.BLOCKING,
        answered_by="U0ALICE",
        answered_at=OPENED + timedelta(minutes=9),
    )


def make_steps(count: int, sections: int = 2, checked: int = 0) -> list[ChecklistStep]:
    per_section = -(-count // sections)
    return [
        ChecklistStep(
            position=i,
            section=f"Section {i // per_section + 1}",
            text=f"Check thing {i + 1} for eval_score < 0.8 & drift",
            action="rollback prompt" if i % 5 == 0 else None,
        ).check("U0BOB", OPENED + timedelta(minutes=i))
        if i < checked
        else ChecklistStep(position=i, section=f"Section {i // per_section + 1}", text=f"Step {i}")
        for i in range(count)
    ]


def make_incident(**changes: Any) -> Incident:
    incident = Incident(
        id="inc-7",
        kind=IncidentKind.QUALITY,
        title="Answers cite the old refund policy",
        severity=Severity.SEV2,
        opened_by="U0ALICE",
        commander="U0ALICE",
        opened_at=OPENED,
        runbook_key="quality",
        runbook_version="3f2a91c",
        service="support-bot",
        channel_id="C0INC",
        steps=make_steps(12, checked=4),
    )
    return replace(incident, **changes)


def example_messages() -> dict[str, Message]:
    answered = make_incident(answers=make_answers())
    resolved = make_incident(
        status=IncidentStatus.RESOLVED,
        resolved_at=OPENED + timedelta(hours=1, minutes=5),
        summary="Rolled back prompt to v12 & evals recovered",
    )
    steps = make_steps(12, checked=4)
    unclassified = make_incident(
        kind=IncidentKind.UNKNOWN, runbook_key=None, runbook_version=None, steps=[]
    )
    return {
        "header": IncidentHeader(make_incident(), make_runbook()),
        "header, no runbook": IncidentHeader(
            make_incident(runbook_key=None, service=None), None, "runbooks/quality.md:3: bad"
        ),
        "header, long summary": IncidentHeader(make_incident(), make_runbook("x " * 3500)),
        "checklist": ChecklistPage("inc-7", 1, 1, tuple(steps)),
        "checklist, empty": ChecklistPage("inc-7", 1, 1, ()),
        "questions": FiveQuestions(make_incident()),
        "questions, answered": FiveQuestions(answered),
        "switch offer": RunbookSwitchOffer("inc-7", IncidentKind.QUALITY, IncidentKind.RETRIEVAL),
        "switch offer, unclassified": RunbookSwitchOffer(
            "inc-7", IncidentKind.UNKNOWN, IncidentKind.COST
        ),
        "classify offer": ClassifyOffer("inc-7"),
        "header, unclassified": IncidentHeader(
            unclassified, None, "Not classified yet: choose the kind below."
        ),
        "report, unclassified": StatusReport(unclassified, OPENED + timedelta(minutes=5)),
        "reminder": TriageReminder(make_incident(), 15),
        "update": StatusUpdate(make_incident(), "U0BOB", "rolled back <@U0ALICE>", OPENED),
        "update, stakeholders": StatusUpdate(make_incident(), "U0BOB", "ok", OPENED, True),
        "commander": CommanderChanged("U0ALICE", "U0BOB", "U0ALICE"),
        "commander, taken": CommanderChanged("U0ALICE", "U0BOB", "U0BOB"),
        "resolved": IncidentResolved(resolved, "U0BOB"),
        "resolved, no summary": IncidentResolved(replace(resolved, summary=None), "U0BOB"),
        "post-mortem review due": PostmortemReviewDue(resolved, timedelta(days=3)),
        "report": StatusReport(make_incident(), OPENED + timedelta(minutes=65)),
        "report, answered": StatusReport(answered, OPENED + timedelta(minutes=65)),
        "notice": Notice("Step 3 checked."),
        "notice, error": Notice("Unknown kind. Try `/incident open <kind> <title>`.", True),
        "help": Help(),
        "running": RunningReport(make_running()),
        "running, nothing declared": RunningReport(
            Running(ServiceSpec("search", {}, built_in_flags()), {}, {}, {}, {})
        ),
        "changes": ChangesReport("support-bot", timedelta(hours=24), make_changes(3)),
        "changes, many": ChangesReport(None, timedelta(days=7), make_changes(60)),
        "changes, none": ChangesReport("support-bot", timedelta(minutes=90), ()),
        "questions, with context": FiveQuestions(make_incident(), make_context(40)),
        "changes, in an incident": ChangesReport(
            "support-bot", timedelta(days=7), make_changes(60), offers_rollback=True
        ),
        "checklist, full page with actions": ChecklistPage(
            "inc-7", 1, 1, tuple(make_steps(STEPS_PER_MESSAGE, sections=9, checked=45))
        ),
        **example_action_messages(),
        **example_alert_messages(),
        **example_finding_messages(),
    }


def example_modals() -> dict[str, Modal]:
    return {
        "open": OpenIncidentModal(
            IncidentKind.classified(), tuple(Severity), ("support-bot",), "C0"
        ),
        "open, no services": OpenIncidentModal(
            IncidentKind.classified(), tuple(Severity), (), "C0"
        ),
        "questions": FiveQuestionsModal(make_incident()),
        "questions, answered": FiveQuestionsModal(make_incident(answers=make_answers())),
        "questions, with context": FiveQuestionsModal(make_incident(), make_context(40)),
    }


def make_changes(count: int) -> tuple[Change, ...]:
    return tuple(
        Change(
            f"c{n}",
            "support-bot",
            Component.PROMPT,
            f"v{n}",
            f"v{n + 1}",
            "U0ALICE" if n % 2 else "github-actions",
            OPENED - timedelta(minutes=n),
            "https://ci.example.com/run/1?a=1&b=2" if n % 3 else "deploy <script>",
            0.5 + n / 1000 if n % 2 else None,
        )
        for n in range(count, 0, -1)
    )


def make_running() -> Running:
    flags = {
        **built_in_flags(),
        "new-retriever": FlagSpec("new-retriever", FlagKind.PERCENTAGE, 30),
    }
    spec = ServiceSpec("support-bot", {Component.PROMPT: "v1", Component.MODEL: "gpt-x"}, flags)
    change = make_changes(1)[0]
    mark = KnownGood("support-bot", Component.PROMPT, "v1", "U0BOB", OPENED, "marked by U0BOB")
    return Running(
        spec,
        {Component.PROMPT: "v2", Component.MODEL: "gpt-x"},
        {n: FlagState("support-bot", n, f.kind, f.default) for n, f in flags.items()},
        {Component.PROMPT: change},
        {Component.PROMPT: mark},
    )


def make_context(changes: int) -> TriageContext:
    now = make_running()
    return TriageContext(
        "support-bot",
        timedelta(hours=24),
        make_changes(changes),
        tuple(now.flags.values()),
        tuple(now.known_good.values()),
    )


def all_text(blocks: list[dict[str, Any]]) -> str:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)


# --- conformance -------------------------------------------------------------------------


def test_the_examples_cover_every_message_and_modal_type() -> None:
    assert {type(m) for m in example_messages().values()} == set(typing.get_args(Message))
    assert {type(m) for m in example_modals().values()} == set(typing.get_args(Modal))


@pytest.mark.parametrize("name", list(example_messages()))
def test_every_message_is_valid_block_kit(name: str) -> None:
    assert_valid_message(render(example_messages()[name]))


@pytest.mark.parametrize("name", list(example_modals()))
def test_every_modal_is_a_valid_view(name: str) -> None:
    view = render_modal(example_modals()[name])
    assert_valid_modal(view)
    assert len(view["title"]["text"]) <= 24


# --- checklist ---------------------------------------------------------------------------


def test_a_long_checklist_splits_into_pages_that_keep_every_step() -> None:
    steps = make_steps(120, sections=2, checked=50)
    split = pages(steps)
    assert len(split) == 3
    seen: list[str] = []
    for number, page_steps in enumerate(split, start=1):
        rendered = render(ChecklistPage("inc-7", number, 3, tuple(page_steps)))
        assert_valid_message(rendered)
        seen += [
            b["block_id"] for b in rendered.blocks if b.get("block_id", "").startswith("step-")
        ]
    assert seen == [ids.step_block_id(i) for i in range(120)]


def test_a_step_is_a_section_with_one_done_checkbox() -> None:
    steps = make_steps(3, sections=1, checked=1)
    blocks = render(ChecklistPage("inc-7", 1, 1, tuple(steps))).blocks
    done, todo = blocks[1], blocks[2]
    assert done["block_id"] == "step-0" and ids.step_position(done["block_id"]) == 0
    checkbox = done["accessory"]
    assert checkbox["action_id"] == ids.step_action_id(0) == "checklist.toggle.0"
    assert ids.ACTION_TOGGLE_STEP_PATTERN.match(checkbox["action_id"])
    assert todo["accessory"]["action_id"] == "checklist.toggle.1"
    assert checkbox["options"] == checkbox["initial_options"]
    assert checkbox["options"][0]["value"] == "inc-7:0"
    assert checkbox["options"][0]["text"]["text"] == "Done"
    assert "One-click action below: `rollback prompt`" in done["text"]["text"]
    [buttons] = [b for b in blocks if b["type"] == "actions"]
    [run] = buttons["elements"]
    assert ids.ACTION_RUN_STEP_PATTERN.match(run["action_id"])
    assert run["value"] == "inc-7:0" and run["text"]["text"] == "1. rollback prompt"
    assert "&lt; 0.8 &amp; drift" in done["text"]["text"]
    assert f"✅ <@U0BOB> · {date_token(OPENED)}" in done["text"]["text"]
    assert "initial_options" not in todo["accessory"] and "✅" not in todo["text"]["text"]


def test_the_heading_shows_progress_and_the_first_section() -> None:
    steps = make_steps(12, sections=3, checked=4)
    rendered = render(ChecklistPage("inc-7", 2, 3, tuple(steps)))
    heading = rendered.blocks[0]["text"]["text"]
    assert "*Checklist* · page 2/3 · 4/12 done on this page" in heading
    assert "Section 1" in heading
    dividers = [b for b in rendered.blocks if b["type"] == "context"]
    assert [d["elements"][0]["text"] for d in dividers] == ["*Section 2*", "*Section 3*"]
    assert rendered.text == "Checklist page 2/3, 4/12 done"


def test_too_many_section_changes_fold_into_the_step_text() -> None:
    steps = make_steps(STEPS_PER_MESSAGE, sections=15)
    rendered = render(ChecklistPage("inc-7", 1, 1, tuple(steps)))
    assert_valid_message(rendered)
    assert not [b for b in rendered.blocks if b["type"] == "context"]
    assert rendered.blocks[4]["text"]["text"].startswith("*Section 2*\n4. ")


def test_a_page_that_cannot_fit_a_message_is_refused() -> None:
    with pytest.raises(ValueError, match="50"):
        render(ChecklistPage("inc-7", 1, 1, tuple(make_steps(50))))


# --- the five questions ------------------------------------------------------------------


def test_unanswered_questions_are_listed_verbatim_with_the_answer_button() -> None:
    blocks = render(FiveQuestions(make_incident())).blocks
    for number, question in enumerate(QUESTIONS, start=1):
        assert f"{number}. {question}" in blocks[0]["text"]["text"]
    (button,) = blocks[1]["elements"]
    assert button["action_id"] == ids.ACTION_OPEN_TRIAGE == "triage.open"
    assert button["value"] == "inc-7" and button["style"] == "primary"
    assert button["text"]["text"] == "Answer the five questions"


def test_answered_questions_show_answers_who_and_when_and_an_edit_button() -> None:
    text = all_text(render(FiveQuestions(make_incident(answers=make_answers()))).blocks)
    for question, answer in make_answers().as_lines():
        assert question in text and escape(answer) in text
    assert "<@U0ALICE>" in text and date_token(OPENED + timedelta(minutes=9)) in text
    assert "Edit answers" in text


def test_the_reminder_carries_the_answer_button() -> None:
    rendered = render(TriageReminder(make_incident(), 15))
    assert rendered.text == "⏰ The five questions are still unanswered after 15 minutes."
    assert rendered.blocks[1]["elements"][0]["action_id"] == ids.ACTION_OPEN_TRIAGE


def test_the_switch_offer_names_layer_and_kinds() -> None:
    offer = RunbookSwitchOffer("inc-7", IncidentKind.QUALITY, IncidentKind.RETRIEVAL)
    rendered = render(offer)
    assert rendered.text == (
        "Question 1 says the failure is in retrieval, but this is a quality drift incident. "
        "Switch to the retrieval failure runbook?"
    )
    switch, keep = rendered.blocks[1]["elements"]
    assert (switch["action_id"], switch["value"]) == ("runbook.switch", "inc-7:retrieval")
    assert (keep["action_id"], keep["value"]) == ("runbook.keep", "inc-7")
    assert switch["text"]["text"] == "Switch to retrieval failure runbook"


def test_the_classify_offer_has_a_button_per_kind_each_with_its_own_action_id() -> None:
    rendered = render(ClassifyOffer("inc-7"))
    buttons = rendered.blocks[1]["elements"]
    assert [b["text"]["text"] for b in buttons] == [k.label for k in IncidentKind.classified()]
    assert [b["value"] for b in buttons] == [f"inc-7:{k.value}" for k in IncidentKind.classified()]
    assert [b["action_id"] for b in buttons] == [
        f"runbook.switch.{k.value}" for k in IncidentKind.classified()
    ]
    assert all(ids.ACTION_SWITCH_RUNBOOK_PATTERN.match(b["action_id"]) for b in buttons)
    assert ids.ACTION_SWITCH_RUNBOOK_PATTERN.match(ids.ACTION_SWITCH_RUNBOOK)
    assert not ids.ACTION_SWITCH_RUNBOOK_PATTERN.match("runbook.switchy")


def test_an_unclassified_incident_reads_as_needing_classification() -> None:
    incident = make_incident(kind=IncidentKind.UNKNOWN, runbook_key=None, steps=[])
    header = render(IncidentHeader(incident, None, "Not classified yet: choose the kind below."))
    facts = [f["text"] for f in header.blocks[1]["fields"]]
    assert "*Kind*\nNeeds classification" in facts
    assert "*Runbook*\nNone until classified" in facts
    assert header.blocks[2]["text"]["text"] == (
        ":grey_question: Not classified yet: choose the kind below."
    )
    assert "No checklist" not in all_text(header.blocks)
    assert header.text == "SEV2 needs classification: Answers cite the old refund policy"
    report = all_text(render(StatusReport(incident, OPENED)).blocks)
    assert "*Kind*\nNeeds classification" in report
    assert "*Checklist*\nnone until classified" in report
    offer = render(RunbookSwitchOffer("inc-7", IncidentKind.UNKNOWN, IncidentKind.COST))
    assert offer.text == (
        "Question 1 says the failure is in cost, and this incident is not classified yet. "
        "Make it a cost failure incident, with its runbook?"
    )
    assert [b["text"]["text"] for b in offer.blocks[1]["elements"]] == [
        "Classify as cost failure",
        "Not yet",
    ]


# --- the incident ------------------------------------------------------------------------


def test_the_header_lists_the_facts_and_how_to_recognize() -> None:
    blocks = render(IncidentHeader(make_incident(), make_runbook())).blocks
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Answers cite the old refund policy", "emoji": True},
    }
    facts = [f["text"] for f in blocks[1]["fields"]]
    assert facts == [
        "*Kind*\nQuality drift",
        "*Severity*\nSEV2",
        "*Status*\nInvestigating",
        "*Commander*\n<@U0ALICE>",
        "*Service*\n`support-bot`",
        f"*Opened*\n{date_token(OPENED)}",
        "*Runbook*\nQuality drift · `3f2a91c`",
    ]
    summary = blocks[2]["text"]["text"]
    assert summary.startswith("*How to recognize*\n*Signals*\n• *eval_score* &lt; 0.80")
    assert "<https://grafana.example.com/d/q?a=1&amp;b=2|dashboard>" in summary
    assert "_wrong_" in summary


def test_a_header_without_runbook_says_why_and_shows_no_service() -> None:
    incident = make_incident(service=None, title="t" * 400)
    blocks = render(IncidentHeader(incident, None, "quality.md:3: no <title>")).blocks
    assert len(blocks[0]["text"]["text"]) == 150 and blocks[0]["text"]["text"].endswith("…")
    assert "*Service*\n—" in [f["text"] for f in blocks[1]["fields"]]
    assert blocks[2]["text"]["text"] == ":warning: *No checklist:* quality.md:3: no &lt;title&gt;"


def test_a_long_summary_is_split_into_sections_without_losing_text() -> None:
    words = [f"w{i}" for i in range(1400)]  # about 7000 characters
    summary = "\n".join(" ".join(words[i : i + 20]) for i in range(0, 1400, 20))
    assert len(summary) > 7000
    rendered = render(IncidentHeader(make_incident(), make_runbook(summary)))
    assert_valid_message(rendered)
    parts = rendered.blocks[2:]
    assert len(parts) == 3 and all(len(p["text"]["text"]) <= 3000 for p in parts)
    assert re.findall(r"w\d+", all_text(parts)) == words


def test_a_summary_too_long_for_one_message_says_where_the_rest_is() -> None:
    rendered = render(IncidentHeader(make_incident(), make_runbook("word " * 60_000)))
    assert_valid_message(rendered)
    assert "more characters not shown; read it in `runbooks/quality.md`" in all_text(
        rendered.blocks[-1:]
    )


def test_a_status_update_keeps_mentions_and_escapes_the_rest() -> None:
    update = StatusUpdate(make_incident(), "U0BOB", "rolled back <@U0ALICE> & <b>", OPENED)
    line = render(update).blocks[0]["text"]["text"]
    assert line == "📣 *Status update* from <@U0BOB>: rolled back <@U0ALICE> &amp; &lt;b&gt;"


def test_the_stakeholder_copy_links_back_to_the_incident() -> None:
    update = StatusUpdate(make_incident(), "U0BOB", "evals recovered", OPENED, True)
    line = render(update).blocks[0]["text"]["text"]
    assert line.startswith("*Answers cite the old refund policy* (<#C0INC>) · SEV2\n📣")


def test_resolution_shows_duration_and_summary() -> None:
    blocks = render(example_messages()["resolved"]).blocks
    assert blocks[0]["text"]["text"] == "✅ *Resolved* by <@U0BOB> after 1h 05m."
    assert "Rolled back prompt to v12 &amp; evals recovered" in blocks[1]["text"]["text"]


def test_the_status_report_counts_steps_per_section() -> None:
    rendered = render(StatusReport(make_incident(), OPENED + timedelta(minutes=65)))
    text = all_text(rendered.blocks)
    assert "*Elapsed*\n1h 05m" in text and "*Checklist*\n4/12 done" in text
    assert "• Section 1: 4/6\n• Section 2: 0/6" in text
    assert "_Not answered yet._" in text and "*Commander*\n<@U0ALICE>" in text


def test_an_error_notice_is_flagged_and_escaped() -> None:
    rendered = render(Notice("Try `/incident open <kind> <title>`.", is_error=True))
    assert rendered.blocks[0]["text"]["text"] == (
        ":warning: Try `/incident open &lt;kind&gt; &lt;title&gt;`."
    )


def test_help_lists_every_subcommand_with_an_example_and_the_kinds() -> None:
    assert tuple(dict.fromkeys(line.subcommand for line in HELP_LINES)) == commands.SUBCOMMANDS
    text = all_text(render(Help()).blocks)
    for line in HELP_LINES:
        assert escape(line.usage) in text and escape(line.example) in text
    assert "`/incident open` alone" in text
    assert all(f"`{kind.value}`" in text for kind in IncidentKind.classified())
    assert "`unknown`" not in text


# --- text helpers ------------------------------------------------------------------------


def test_a_date_token_shows_local_time_and_falls_back_to_utc() -> None:
    assert date_token(OPENED) == (
        "<!date^1795339800^{date_short_pretty} {time}|2026-11-22 09:30 UTC>"
    )
    with pytest.raises(ValueError, match="naive"):
        date_token(OPENED.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("elapsed", "shown"),
    [
        (timedelta(seconds=59), "0m"),
        (timedelta(minutes=42), "42m"),
        (timedelta(hours=1, minutes=5), "1h 05m"),
        (timedelta(days=2, hours=3, minutes=7), "2d 03h 07m"),
    ],
)
def test_durations_read_at_a_glance(elapsed: timedelta, shown: str) -> None:
    assert duration(elapsed) == shown


def test_escaping_keeps_slack_markup_but_not_broadcasts() -> None:
    assert escape("<@U1|al> <#C1> <https://x.io> a<b &amp; c&d") == (
        "<@U1|al> <#C1> <https://x.io> a&lt;b &amp; c&amp;d"
    )
    assert escape("<!channel> <!here>") == "&lt;!channel&gt; &lt;!here&gt;"


def test_truncation_never_splits_a_token_or_an_escape() -> None:
    assert truncate("see <https://example.com/long|link>", 20) == "see…"
    assert truncate("a &amp; b", 4) == "a…"
    assert truncate("R&D outage", 5, markup=False) == "R&D…"
    assert truncate("cafe\u0301 open", 5, markup=False) == "caf…"


def test_splitting_closes_and_reopens_a_code_block() -> None:
    text = "intro\n```\n" + "\n".join(f"line {i} " * 10 for i in range(100)) + "\n```\nend"
    chunks = split_mrkdwn(text, limit=3000)
    assert len(chunks) > 1 and all(len(c) <= 3000 for c in chunks)
    assert all(c.count("```") % 2 == 0 for c in chunks)
    assert chunks[1].startswith("```\n")


def test_markdown_becomes_mrkdwn() -> None:
    markdown = "# Title\n* item with __bold__\n- [x] done\n> quote\n```py\na < b\n```\n`x*y*z`"
    assert to_mrkdwn(markdown) == (
        "*Title*\n• item with *bold*\n☑ done\n>quote\n```\na &lt; b\n```\n`x*y*z`"
    )


def test_a_block_id_that_is_not_a_step_is_a_usage_error() -> None:
    assert ids.step_position(ids.step_block_id(44)) == 44
    for block_id in ("step-", "step-x", "triage-open", "step-²"):
        with pytest.raises(UsageError):
            ids.step_position(block_id)


def test_hard_wrapped_paragraphs_and_items_read_as_one_line() -> None:
    markdown = "Drift is often\na change.\n\n- a long\n  item\n- next  \n  after a hard break"
    assert to_mrkdwn(markdown) == (
        "Drift is often a change.\n\n• a long item\n• next  \n  after a hard break"
    )


@pytest.mark.parametrize("seed", range(20))
def test_splitting_keeps_every_character_within_the_limit(seed: int) -> None:
    rng = random.Random(seed)
    words = ["a", "bb", "<@U0ALICE>", "&amp;", "x" * 700, "word", "\n", "\n\n", "é"]
    text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 3000)))
    chunks = split_mrkdwn(text, limit=500)
    assert all(0 < len(c) <= 500 for c in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())
    assert "<@U0ALICE>" not in text or all(c.count("<") == c.count(">") for c in chunks)


def test_the_review_reminder_mentions_the_commander_and_the_command() -> None:
    resolved = make_incident(
        status=IncidentStatus.RESOLVED, resolved_at=OPENED + timedelta(hours=1)
    )
    rendered = render(PostmortemReviewDue(resolved, timedelta(days=3)))
    text = all_text(rendered.blocks)
    assert rendered.text.startswith(f"<@{resolved.commander}>, the post-mortem review is due")
    assert "resolved 3d 00h 00m ago" in text and "`/incident postmortem`" in text
