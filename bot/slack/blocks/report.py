"""`/incident status`: where the incident stands, in one message."""

from __future__ import annotations

from bot.domain.checklists import ChecklistStep, progress
from bot.domain.kinds import IncidentKind
from bot.domain.messages import StatusReport
from bot.slack.blocks.kit import Block, RenderedMessage, fields, section, sections
from bot.slack.blocks.text import duration, escape, mention, notification
from bot.slack.blocks.triage import answer_lines


def render_status_report(report: StatusReport) -> RenderedMessage:
    incident = report.incident
    elapsed = duration(incident.elapsed(report.now))
    done, total = progress(incident.steps)
    checklist = f"{done}/{total} done" if total else "no steps"
    if incident.kind is IncidentKind.UNKNOWN:
        checklist = "none until classified"
    blocks: list[Block] = [
        section(f"*Status report* · {escape(incident.title)}"),
        fields(
            [
                ("Status", incident.status.value.capitalize()),
                ("Kind", incident.kind.label),
                ("Elapsed", elapsed),
                ("Severity", incident.severity.value.upper()),
                ("Commander", mention(incident.commander)),
                ("Checklist", checklist),
            ]
        ),
    ]
    if incident.steps:
        blocks.append(section("*Checklist by section*\n" + _per_section(incident.steps)))
    if incident.answers is None:
        blocks.append(section("*The five questions*\n_Not answered yet._"))
    else:
        blocks.append(section("*The five questions*"))
        blocks += [
            b for line in answer_lines(incident.answers) for b in sections(line, max_blocks=4)
        ]
    status = incident.status.value.capitalize()
    text = f"{status} for {elapsed}, checklist {checklist}: {incident.title}"
    return RenderedMessage(notification(text), blocks)


def _per_section(steps: list[ChecklistStep]) -> str:
    counts: dict[str, list[int]] = {}  # section → [done, total], in checklist order
    for step in steps:
        count = counts.setdefault(step.section, [0, 0])
        count[0] += step.done
        count[1] += 1
    return "\n".join(f"• {escape(name)}: {done}/{total}" for name, (done, total) in counts.items())
