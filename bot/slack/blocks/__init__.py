"""Block Kit for everything the bot says: `render` for messages, `render_modal` for forms.

Services decide what to say (`bot.domain.messages`); this package decides how it looks.
Pure functions of their argument: no Slack client, no clock, no I/O.
"""

from __future__ import annotations

from typing import Any, assert_never

from bot.domain.messages import (
    ActionCard,
    AlertSummary,
    AllAlertsResolved,
    ChangesReport,
    ChecklistPage,
    ClassifyOffer,
    CommanderChanged,
    ExampleCard,
    ExampleList,
    FiveQuestions,
    FiveQuestionsModal,
    FollowUpAdded,
    FollowUpList,
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
    VerificationReport,
)
from bot.slack.blocks.actions import render_action_card, render_verification
from bot.slack.blocks.alerts import render_alert_summary, render_all_alerts_resolved
from bot.slack.blocks.checklist import render_checklist_page
from bot.slack.blocks.findings import (
    render_example_card,
    render_example_list,
    render_follow_up_added,
    render_follow_up_list,
)
from bot.slack.blocks.incident import (
    render_commander_changed,
    render_incident_header,
    render_incident_resolved,
    render_postmortem_review_due,
    render_status_update,
)
from bot.slack.blocks.kit import MESSAGE_BLOCKS_MAX, RenderedMessage
from bot.slack.blocks.modals import render_five_questions_modal, render_open_incident_modal
from bot.slack.blocks.notices import render_help, render_notice
from bot.slack.blocks.registry import render_changes, render_running
from bot.slack.blocks.report import render_status_report
from bot.slack.blocks.triage import (
    render_classify_offer,
    render_five_questions,
    render_runbook_switch_offer,
    render_triage_reminder,
)

__all__ = ["MESSAGE_BLOCKS_MAX", "RenderedMessage", "render", "render_modal"]


def render(message: Message) -> RenderedMessage:
    match message:
        case IncidentHeader():
            return render_incident_header(message)
        case ChecklistPage():
            return render_checklist_page(message)
        case FiveQuestions():
            return render_five_questions(message)
        case RunbookSwitchOffer():
            return render_runbook_switch_offer(message)
        case ClassifyOffer():
            return render_classify_offer(message)
        case TriageReminder():
            return render_triage_reminder(message)
        case StatusUpdate():
            return render_status_update(message)
        case CommanderChanged():
            return render_commander_changed(message)
        case IncidentResolved():
            return render_incident_resolved(message)
        case PostmortemReviewDue():
            return render_postmortem_review_due(message)
        case StatusReport():
            return render_status_report(message)
        case Notice():
            return render_notice(message)
        case RunningReport():
            return render_running(message)
        case ChangesReport():
            return render_changes(message)
        case ActionCard():
            return render_action_card(message)
        case VerificationReport():
            return render_verification(message)
        case ExampleCard():
            return render_example_card(message)
        case ExampleList():
            return render_example_list(message)
        case FollowUpAdded():
            return render_follow_up_added(message)
        case FollowUpList():
            return render_follow_up_list(message)
        case AlertSummary():
            return render_alert_summary(message)
        case AllAlertsResolved():
            return render_all_alerts_resolved(message)
        case Help():
            return render_help()
        case _:
            assert_never(message)


def render_modal(modal: Modal) -> dict[str, Any]:
    match modal:
        case OpenIncidentModal():
            return render_open_incident_modal(modal)
        case FiveQuestionsModal():
            return render_five_questions_modal(modal)
        case _:
            assert_never(modal)
