"""Messages about the incident as a whole: its header, status updates, a new commander,
and its resolution."""

from __future__ import annotations

from bot.domain.incidents import Incident
from bot.domain.kinds import IncidentKind
from bot.domain.messages import (
    CommanderChanged,
    IncidentHeader,
    IncidentResolved,
    PostmortemReviewDue,
    StatusUpdate,
)
from bot.domain.runbooks import Runbook
from bot.slack.blocks.kit import (
    MESSAGE_BLOCKS_MAX,
    Block,
    RenderedMessage,
    context,
    fields,
    header,
    section,
    sections,
)
from bot.slack.blocks.markdown import to_mrkdwn
from bot.slack.blocks.text import channel_link, date_token, duration, escape, mention, notification


def render_incident_header(message: IncidentHeader) -> RenderedMessage:
    incident, runbook = message.incident, message.runbook
    blocks: list[Block] = [header(incident.title or "Incident"), fields(_facts(incident, runbook))]
    if runbook is None and incident.kind is IncidentKind.UNKNOWN:
        problem = message.runbook_problem or "Not classified yet: choose the kind below."
        blocks.append(section(f":grey_question: {escape(problem)}"))
    elif runbook is None:
        problem = message.runbook_problem or "No runbook is set up for this kind of incident."
        blocks += sections(f":warning: *No checklist:* {escape(problem)}", max_blocks=10)
    elif runbook.recognize_summary.strip():
        summary = f"*How to recognize*\n{to_mrkdwn(runbook.recognize_summary)}"
        room = MESSAGE_BLOCKS_MAX - len(blocks)
        blocks += sections(summary, max_blocks=room, rest_is_in=f"`{escape(runbook.path)}`")
    text = f"{incident.severity.value.upper()} {incident.kind.label.lower()}: {incident.title}"
    return RenderedMessage(notification(text), blocks)


def _facts(incident: Incident, runbook: Runbook | None) -> list[tuple[str, str]]:
    if runbook is not None:
        runbook_cell = f"{escape(runbook.title)} · `{escape(runbook.version)}`"
    elif incident.kind is IncidentKind.UNKNOWN:
        runbook_cell = "None until classified"
    else:
        runbook_cell = "None (see below)"
    return [
        ("Kind", incident.kind.label),
        ("Severity", incident.severity.value.upper()),
        ("Status", incident.status.value.capitalize()),
        ("Commander", mention(incident.commander)),
        ("Service", f"`{escape(incident.service)}`" if incident.service else "—"),
        ("Opened", date_token(incident.opened_at)),
        ("Runbook", runbook_cell),
    ]


def render_status_update(message: StatusUpdate) -> RenderedMessage:
    incident = message.incident
    line = f"📣 *Status update* from {mention(message.author)}: {escape(message.text)}"
    fallback = f"Status update: {message.text}"
    if message.for_stakeholders:
        where = f" ({channel_link(incident.channel_id)})" if incident.channel_id else ""
        line = f"*{escape(incident.title)}*{where} · {incident.severity.value.upper()}\n{line}"
        fallback = f"{incident.title}: {message.text}"
    blocks = sections(line, max_blocks=MESSAGE_BLOCKS_MAX - 1)
    blocks.append(context(f"Posted {date_token(message.at)}"))
    return RenderedMessage(notification(fallback), blocks)


def render_commander_changed(message: CommanderChanged) -> RenderedMessage:
    if message.by == message.current:
        line = (
            f"{mention(message.current)} took over as incident commander "
            f"from {mention(message.previous)}."
        )
    elif message.by == message.previous:
        line = (
            f"{mention(message.previous)} handed the incident commander role "
            f"to {mention(message.current)}."
        )
    else:
        line = (
            f"{mention(message.by)} handed the incident commander role from "
            f"{mention(message.previous)} to {mention(message.current)}."
        )
    return RenderedMessage(
        f"{mention(message.current)} is now the incident commander", [section(f"🧭 {line}")]
    )


def render_incident_resolved(message: IncidentResolved) -> RenderedMessage:
    incident = message.incident
    took = (
        f" after {duration(incident.elapsed(incident.resolved_at))}" if incident.resolved_at else ""
    )
    line = f"✅ *Resolved* by {mention(message.by)}{took}."
    summary = (
        f"*Summary*\n{escape(incident.summary)}" if incident.summary else "_No summary was given._"
    )
    blocks = [section(line), *sections(summary, max_blocks=MESSAGE_BLOCKS_MAX - 2)]
    when = f"Opened {date_token(incident.opened_at)}"
    if incident.resolved_at:
        when += f" · resolved {date_token(incident.resolved_at)}"
    blocks.append(context(when))
    return RenderedMessage(notification(f"Resolved{took}: {incident.title}"), blocks)


def render_postmortem_review_due(message: PostmortemReviewDue) -> RenderedMessage:
    incident = message.incident
    line = (
        f"📝 {mention(incident.commander)}, the post-mortem review of "
        f"*{escape(incident.title)}* is due: it was resolved "
        f"{duration(message.since_resolved)} ago."
    )
    hint = "`/incident postmortem` posts a fresh draft from the timeline."
    fallback = f"{mention(incident.commander)}, the post-mortem review is due: {incident.title}"
    return RenderedMessage(notification(fallback), [section(line), context(hint)])
