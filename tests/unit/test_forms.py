"""Modal submissions parsed back: the `state.values` Slack would send for the modal we
rendered, so the form and its parser cannot drift apart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.errors import UsageError
from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.messages import FiveQuestionsModal, OpenIncidentModal
from bot.domain.triage import Answer, ExampleSet, TriageAnswers, YesNoUnknown
from bot.slack import forms, ids
from bot.slack.blocks import render_modal

AT = datetime(2026, 11, 22, 9, 45, tzinfo=UTC)


def submitted(view: dict[str, Any], **entered: str | None) -> dict[str, Any]:
    """`view.state.values` as Slack sends it: every input block, each keyed by its element's
    action_id; selections are the chosen option object, texts a value (null when empty).
    Unset fields keep the modal's initial option or value, as in a real submission."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, field = block["element"], block["block_id"]
        state: dict[str, Any] = {"type": element["type"]}
        if "options" in element:
            wanted = entered.get(field, (element.get("initial_option") or {}).get("value"))
            chosen = [o for o in element["options"] if o["value"] == wanted]
            # A value the form does not offer still reaches us from a tampered payload.
            state["selected_option"] = chosen[0] if chosen else wanted and {"value": wanted}
        else:
            state["value"] = entered.get(field, element.get("initial_value")) or None
        values[field] = {element["action_id"]: state}
    return values


def open_modal(services: tuple[str, ...] = ("support-bot", "search")) -> dict[str, Any]:
    modal = OpenIncidentModal(IncidentKind.classified(), tuple(Severity), services, "C0ORIGIN")
    return render_modal(modal)


def make_incident(answers: TriageAnswers | None = None) -> Incident:
    return Incident(
        id="inc-7",
        kind=IncidentKind.QUALITY,
        title="Answers cite the old refund policy",
        severity=Severity.SEV2,
        opened_by="U0ALICE",
        commander="U0ALICE",
        opened_at=AT,
        runbook_key="quality",
        runbook_version="3f2a91c",
        answers=answers,
    )


def questions_modal(answers: TriageAnswers | None = None) -> dict[str, Any]:
    return render_modal(FiveQuestionsModal(make_incident(answers)))


# --- opening an incident -----------------------------------------------------------------


def test_the_open_form_round_trips_with_a_service_menu() -> None:
    view = open_modal()
    state = submitted(view, kind="retrieval", title="  Wrong   sources ", service="search")
    form = forms.parse_open_incident(state, view["private_metadata"])
    assert form == forms.OpenIncidentForm(
        kind=IncidentKind.RETRIEVAL,
        title="Wrong sources",
        severity=Severity.SEV2,  # the form's initial choice
        service="search",
        origin_channel="C0ORIGIN",
    )


def test_the_open_form_takes_a_typed_service_when_none_are_configured() -> None:
    view = open_modal(services=())
    assert view["blocks"][3]["element"]["type"] == "plain_text_input"
    state = submitted(view, kind="cost", title="Token spend x4", severity="sev1", service=" rag ")
    form = forms.parse_open_incident(state, "C0ORIGIN")
    assert (form.severity, form.service) == (Severity.SEV1, "rag")


def test_the_service_is_optional() -> None:
    for view in (open_modal(), open_modal(services=())):
        form = forms.parse_open_incident(submitted(view, kind="tool", title="t"), "C0ORIGIN")
        assert form.service is None


def test_every_missing_field_is_reported_under_its_input() -> None:
    view = open_modal()
    state = submitted(view, title="   ", severity=None)
    with pytest.raises(forms.FormError) as caught:
        forms.parse_open_incident(state, "C0ORIGIN")
    assert set(caught.value.errors) == {ids.FIELD_KIND, ids.FIELD_TITLE, ids.FIELD_SEVERITY}
    assert isinstance(caught.value, UsageError)
    assert forms.field_errors(caught.value) == caught.value.errors
    assert "title" in caught.value.errors[ids.FIELD_TITLE]


def test_a_title_over_the_limit_is_refused() -> None:
    state = submitted(open_modal(), kind="tool", title="x" * 151)
    with pytest.raises(forms.FormError) as caught:
        forms.parse_open_incident(state, "C0ORIGIN")
    assert "151 characters" in caught.value.errors[ids.FIELD_TITLE]


def test_a_choice_the_form_never_offered_is_refused() -> None:
    state = submitted(open_modal(), kind="weather", title="t")
    with pytest.raises(forms.FormError) as caught:
        forms.parse_open_incident(state, "C0ORIGIN")
    assert "`weather`" in caught.value.errors[ids.FIELD_KIND]


def test_the_open_form_offers_the_six_kinds_and_refuses_unknown() -> None:
    view = open_modal()
    kind_input = next(b for b in view["blocks"] if b["block_id"] == ids.FIELD_KIND)
    offered = [o["value"] for o in kind_input["element"]["options"]]
    assert offered == [k.value for k in IncidentKind.classified()]
    state = submitted(view, kind="unknown", title="t")  # only alerts open unknown incidents
    with pytest.raises(forms.FormError) as caught:
        forms.parse_open_incident(state, "C0ORIGIN")
    assert "`unknown`" in caught.value.errors[ids.FIELD_KIND]


def test_a_form_without_its_channel_is_an_error_on_an_input() -> None:
    with pytest.raises(forms.FormError) as caught:
        forms.parse_open_incident(submitted(open_modal(), kind="tool", title="t"), "")
    assert "channel" in caught.value.errors[ids.FIELD_KIND]


def test_plain_usage_errors_have_no_field_errors() -> None:
    assert forms.field_errors(UsageError("nope")) == {}


# --- the five questions ------------------------------------------------------------------


def test_the_five_questions_round_trip() -> None:
    view = questions_modal()
    state = submitted(
        view,
        q1="retrieval",
        q2="yes",
        q2_detail="  index rebuilt at 09:10 ",
        q3="no",
        q4="unknown",
        q5="monitoring",
    )
    incident_id, answers = forms.parse_five_questions(state, view["private_metadata"], "U0B", AT)
    assert incident_id == "inc-7"
    assert answers == TriageAnswers(
        failure_layer=IncidentKind.RETRIEVAL,
        recent_change=Answer(YesNoUnknown.YES, "index rebuilt at 09:10"),
        rollback_available=Answer(YesNoUnknown.NO),
        human_review_needed=Answer(YesNoUnknown.UNKNOWN),
        examples_destination=ExampleSet.MONITORING,
        answered_by="U0B",
        answered_at=AT,
    )


def test_existing_answers_are_prefilled_and_come_back_unchanged() -> None:
    before = TriageAnswers(
        failure_layer=IncidentKind.POLICY,
        recent_change=Answer(YesNoUnknown.NO, "nothing deployed since Monday"),
        rollback_available=Answer(YesNoUnknown.YES, "flag support-bot.new-retriever"),
        human_review_needed=Answer(YesNoUnknown.YES, "legal, for refund answers"),
        examples_destination=ExampleSet.BACKLOG,
        answered_by="U0ALICE",
        answered_at=AT,
    )
    view = questions_modal(before)
    _, after = forms.parse_five_questions(submitted(view), "inc-7", "U0ALICE", AT)
    assert after == before


def test_unanswered_questions_are_each_reported() -> None:
    with pytest.raises(forms.FormError) as caught:
        forms.parse_five_questions(submitted(questions_modal()), "inc-7", "U0B", AT)
    errors = caught.value.errors
    assert set(errors) == {ids.FIELD_Q1, ids.FIELD_Q2, ids.FIELD_Q3, ids.FIELD_Q4, ids.FIELD_Q5}
    assert "question 3" in errors[ids.FIELD_Q3]


def test_question_1_refuses_unknown_as_a_layer() -> None:
    answers = dict(q1="unknown", q2="yes", q3="no", q4="no", q5="backlog")
    with pytest.raises(forms.FormError) as caught:
        forms.parse_five_questions(submitted(questions_modal(), **answers), "inc-7", "U0B", AT)
    assert set(caught.value.errors) == {ids.FIELD_Q1}


def test_an_overlong_detail_is_refused_under_its_box() -> None:
    answers = dict(q1="cost", q2="yes", q3="no", q4="no", q5="backlog")
    state = submitted(questions_modal(), **answers, q3_detail="x" * 2001)
    with pytest.raises(forms.FormError) as caught:
        forms.parse_five_questions(state, "inc-7", "U0B", AT)
    assert set(caught.value.errors) == {ids.FIELD_Q3_DETAIL}
