"""The five questions in the channel, the reminder to answer them, the runbook switch
offered when question 1 names another layer than the incident's kind, and the kinds offered
for an incident that has none yet."""

from __future__ import annotations

from bot.domain.kinds import IncidentKind
from bot.domain.messages import ClassifyOffer, FiveQuestions, RunbookSwitchOffer, TriageReminder
from bot.domain.triage import LAYER_LABELS, QUESTIONS, TriageAnswers
from bot.domain.triage_context import TriageContext
from bot.slack import ids
from bot.slack.blocks.kit import Block, RenderedMessage, actions, button, context, section, sections
from bot.slack.blocks.text import date_token, escape, mention, notification, plural


def render_five_questions(message: FiveQuestions) -> RenderedMessage:
    incident = message.incident
    answers = incident.answers
    if answers is None:
        numbered = "\n".join(f"{n}. {q}" for n, q in enumerate(QUESTIONS, start=1))
        asking = [
            section(f"*The five questions* · answer them in the first 15 minutes\n{numbered}")
        ]
        if message.context is not None:
            asking += context_blocks(message.context)
        asking.append(_answer_button(incident.id, "Answer the five questions", primary=True))
        return RenderedMessage(
            notification(f"Answer the five questions for {incident.title}"), asking
        )
    blocks: list[Block] = [section("*The five questions* · answered")]
    # Each answer may carry two thousand characters of detail; one question a block keeps
    # every block under Slack's 3000, and `sections` splits any that is still longer.
    blocks += [b for line in answer_lines(answers) for b in sections(line, max_blocks=4)]
    blocks.append(
        context(f"Answered by {mention(answers.answered_by)} · {date_token(answers.answered_at)}")
    )
    blocks.append(_answer_button(incident.id, "Edit answers"))
    return RenderedMessage(
        notification(f"The five questions for {incident.title} are answered"), blocks
    )


def context_blocks(context: TriageContext) -> list[Block]:
    """What the registry knows, under questions 2 and 3."""
    return [
        *sections(f"Recent changes:\n{escape(context.changes_text())}", max_blocks=2),
        *sections(f"Flags and rollback targets:\n{escape(context.rollback_text())}"),
    ]


def answer_lines(answers: TriageAnswers) -> list[str]:
    """`*1. question*` over the answer as a quote, one string per question."""
    return [
        f"*{n}. {question}*\n" + "\n".join(f">{line}" for line in escape(answer).split("\n"))
        for n, (question, answer) in enumerate(answers.as_lines(), start=1)
    ]


def render_triage_reminder(message: TriageReminder) -> RenderedMessage:
    line = f"⏰ The five questions are still unanswered after {plural(message.minutes, 'minute')}."
    return RenderedMessage(
        line,
        [
            section(line),
            _answer_button(message.incident.id, "Answer the five questions", primary=True),
        ],
    )


def render_runbook_switch_offer(offer: RunbookSwitchOffer) -> RenderedMessage:
    layer = LAYER_LABELS[offer.suggested].lower()
    current, suggested = offer.current.label.lower(), offer.suggested.label.lower()
    if offer.current is IncidentKind.UNKNOWN:
        line = (
            f"Question 1 says the failure is in {layer}, and this incident is not classified "
            f"yet. Make it a {suggested} incident, with its runbook?"
        )
        switch, keep = f"Classify as {suggested}", "Not yet"
    else:
        line = (
            f"Question 1 says the failure is in {layer}, but this is a {current} incident. "
            f"Switch to the {suggested} runbook?"
        )
        switch, keep = f"Switch to {suggested} runbook", "Keep current"
    buttons = actions(
        "runbook-switch",
        button(
            switch,
            ids.ACTION_SWITCH_RUNBOOK,
            ids.switch_value(offer.incident_id, offer.suggested.value),
            primary=True,
        ),
        button(keep, ids.ACTION_KEEP_RUNBOOK, offer.incident_id),
    )
    return RenderedMessage(line, [section(line), buttons])


def render_classify_offer(offer: ClassifyOffer) -> RenderedMessage:
    line = (
        "*What kind of incident is this?* It opened without one, so there is no checklist "
        "yet. Choosing a kind posts its runbook's checklist here."
    )
    buttons = actions(
        "classify",
        *(
            button(
                kind.label,
                ids.switch_action_id(kind.value),
                ids.switch_value(offer.incident_id, kind.value),
            )
            for kind in IncidentKind.classified()
        ),
    )
    return RenderedMessage("Choose the kind of this incident", [section(line), buttons])


def _answer_button(incident_id: str, label: str, *, primary: bool = False) -> Block:
    return actions(
        "triage-open", button(label, ids.ACTION_OPEN_TRIAGE, incident_id, primary=primary)
    )
