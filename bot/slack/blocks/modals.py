"""The two forms: opening an incident, and answering the five questions.

Every input's block_id and action_id is its `bot.slack.ids.FIELD_…` name, which is how
`bot.slack.forms` finds the values again in the submission.
"""

from __future__ import annotations

from typing import Any

from bot.domain.incidents import MAX_TITLE
from bot.domain.kinds import IncidentKind, Severity
from bot.domain.messages import FiveQuestionsModal, OpenIncidentModal
from bot.domain.triage import LAYER_LABELS, QUESTIONS, Answer, ExampleSet, YesNoUnknown
from bot.slack import ids
from bot.slack.blocks.kit import Block, input_block, option, placeholder, plain, section
from bot.slack.blocks.text import escape

DETAIL_MAX = 2000  # keeps an answer with its question inside one 3000-character section
_SELECT_OPTIONS_MAX = 100
_OPTION_VALUE_MAX = 150
_YES_NO_LABELS = {
    YesNoUnknown.YES: "Yes",
    YesNoUnknown.NO: "No",
    YesNoUnknown.UNKNOWN: "Don't know yet",
}
_DETAIL_LABELS = {
    ids.FIELD_Q2_DETAIL: "What changed, and when?",
    ids.FIELD_Q3_DETAIL: "Which flag or route?",
    ids.FIELD_Q4_DETAIL: "Who, and what must they check?",
}


def modal_view(
    callback_id: str, title: str, submit: str, metadata: str, blocks: list[Block]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def render_open_incident_modal(modal: OpenIncidentModal) -> dict[str, Any]:
    kinds = modal.kinds or IncidentKind.classified()
    severities = modal.severities or tuple(Severity)
    initial_severity = Severity.SEV2 if Severity.SEV2 in severities else severities[0]
    severity_options = [option(s.value.upper(), s.value) for s in severities]
    blocks = [
        input_block(
            ids.FIELD_KIND,
            "Kind",
            {
                "type": "static_select",
                "placeholder": placeholder("What kind of failure?"),
                "options": [option(k.label, k.value) for k in kinds],
            },
        ),
        input_block(
            ids.FIELD_TITLE,
            "Title",
            {
                "type": "plain_text_input",
                "max_length": MAX_TITLE,
                "placeholder": placeholder("e.g. Answers cite the old refund policy"),
            },
        ),
        input_block(
            ids.FIELD_SEVERITY,
            "Severity",
            {
                "type": "static_select",
                "options": severity_options,
                "initial_option": option(initial_severity.value.upper(), initial_severity.value),
            },
        ),
        input_block(ids.FIELD_SERVICE, "Service", _service_element(modal.services), optional=True),
    ]
    return modal_view(
        ids.CALLBACK_OPEN_INCIDENT, "Open an incident", "Open", modal.origin_channel, blocks
    )


def _service_element(services: tuple[str, ...]) -> Block:
    # A select needs 1–100 options with values of ≤ 150 characters; otherwise people type.
    if 0 < len(services) <= _SELECT_OPTIONS_MAX and all(
        len(s) <= _OPTION_VALUE_MAX for s in services
    ):
        return {
            "type": "static_select",
            "placeholder": placeholder("Which AI feature?"),
            "options": [option(s, s) for s in services],
        }
    return {"type": "plain_text_input", "placeholder": placeholder("e.g. support-bot")}


def render_five_questions_modal(modal: FiveQuestionsModal) -> dict[str, Any]:
    incident, answers = modal.incident, modal.incident.answers
    layers = [option(label, kind.value) for kind, label in LAYER_LABELS.items()]
    destinations = [option(d.label, d.value) for d in ExampleSet]
    blocks: list[Block] = [section(f"*{escape(incident.title)}*")]
    blocks.append(
        input_block(
            ids.FIELD_Q1,
            QUESTIONS[0],
            _radio(layers, answers.failure_layer.value if answers else None),
        )
    )
    # Unanswered, questions 2 and 3 start from what the registry knows; people edit from there.
    context = modal.context if answers is None else None
    yes_no_questions = (
        (ids.FIELD_Q2, ids.FIELD_Q2_DETAIL, answers.recent_change if answers else None),
        (ids.FIELD_Q3, ids.FIELD_Q3_DETAIL, answers.rollback_available if answers else None),
        (ids.FIELD_Q4, ids.FIELD_Q4_DETAIL, answers.human_review_needed if answers else None),
    )
    suggested = (
        context.changes_text() if context else None,
        context.rollback_text() if context else None,
        None,
    )
    for question, (field, detail_field, answer), detail in zip(
        QUESTIONS[1:4], yes_no_questions, suggested, strict=True
    ):
        blocks += _yes_no(question, field, detail_field, answer, detail)
    blocks.append(
        input_block(
            ids.FIELD_Q5,
            QUESTIONS[4],
            _radio(destinations, answers.examples_destination.value if answers else None),
        )
    )
    return modal_view(
        ids.CALLBACK_FIVE_QUESTIONS, "The five questions", "Save answers", incident.id, blocks
    )


def _yes_no(
    question: str,
    field: str,
    detail_field: str,
    answer: Answer | None,
    suggested_detail: str | None = None,
) -> list[Block]:
    choices = [option(label, choice.value) for choice, label in _YES_NO_LABELS.items()]
    detail: Block = {"type": "plain_text_input", "multiline": True, "max_length": DETAIL_MAX}
    initial = answer.detail if answer and answer.detail else suggested_detail
    if initial:
        detail["initial_value"] = initial[:DETAIL_MAX]
    return [
        input_block(field, question, _radio(choices, answer.choice.value if answer else None)),
        input_block(detail_field, _DETAIL_LABELS[detail_field], detail, optional=True),
    ]


def _radio(options: list[Block], initial: str | None) -> Block:
    element: Block = {"type": "radio_buttons", "options": options}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element
