"""One checklist page: a heading, then one section per step with a Done checkbox.

Slack allows 50 blocks a message. A page holds at most STEPS_PER_MESSAGE (45) steps plus
the heading, which leaves a few blocks to name the runbook sections between steps; when a
page changes section more often than that, the names move into the steps' own text.
"""

from __future__ import annotations

from bot.domain.checklists import ChecklistStep, progress
from bot.domain.messages import ChecklistPage
from bot.slack import ids
from bot.slack.blocks.kit import (
    MESSAGE_BLOCKS_MAX,
    Block,
    RenderedMessage,
    actions,
    button,
    context,
    section,
)
from bot.slack.blocks.text import SECTION_TEXT_MAX, date_token, escape, mention, truncate


def render_checklist_page(page: ChecklistPage) -> RenderedMessage:
    steps = page.steps
    runnable = [step for step in steps if step.action]
    spare = MESSAGE_BLOCKS_MAX - 1 - len(steps) - (1 if runnable else 0)
    if spare < 0:
        raise ValueError(
            f"checklist page {page.page} has {len(steps)} steps; a message holds "
            f"{MESSAGE_BLOCKS_MAX - 1} with its heading (see checklists.pages)"
        )
    starts = _section_starts(steps)
    dividers = len(starts) <= spare
    blocks: list[Block] = [section(_heading(page))]
    for index, step in enumerate(steps):
        new_section = index in starts
        if new_section and dividers:
            blocks.append(context(f"*{escape(step.section)}*"))
        folded = step.section if new_section and not dividers else None
        blocks.append(_step(page.incident_id, step, folded))
    if runnable:
        blocks.append(_action_buttons(page.incident_id, runnable))
    done, total = progress(steps)
    where = f"page {page.page}/{page.pages}, " if page.pages > 1 else ""
    return RenderedMessage(f"Checklist {where}{done}/{total} done", blocks)


def _action_buttons(incident_id: str, steps: list[ChecklistStep]) -> Block:
    """One block of buttons, one per step that names an action (a page has few of them;
    Slack allows 25 elements in an actions block)."""
    elements = [
        button(
            f"{step.position + 1}. {step.action}",
            f"{ids.ACTION_RUN_STEP}.{step.position}",
            ids.step_value(incident_id, step.position),
        )
        for step in steps[:25]
    ]
    return actions("runbook-actions", *elements)


def _section_starts(steps: tuple[ChecklistStep, ...]) -> set[int]:
    """Indexes of the steps, after the first, whose section differs from the step before."""
    return {i for i in range(1, len(steps)) if steps[i].section != steps[i - 1].section}


def _heading(page: ChecklistPage) -> str:
    done, total = progress(page.steps)
    if not page.steps:
        return "*Checklist* · this runbook has no checklist steps."
    parts = ["*Checklist*"]
    if page.pages > 1:
        parts += [f"page {page.page}/{page.pages}", f"{done}/{total} done on this page"]
    else:
        parts.append(f"{done}/{total} done")
    # The page's first step has no divider above it, so the heading names its section.
    return " · ".join(parts) + f"\n*{escape(page.steps[0].section)}*"


def _step(incident_id: str, step: ChecklistStep, section_name: str | None) -> Block:
    below: list[str] = []
    if step.action:
        action = truncate(step.action.replace("`", "'"), 200)  # a backtick would end the span
        below.append(f"One-click action below: `{escape(action)}`")
    if step.checked_by:
        when = f" · {date_token(step.checked_at)}" if step.checked_at else ""
        below.append(f"✅ {mention(step.checked_by)}{when}")
    above = f"*{truncate(escape(section_name), 200)}*\n" if section_name else ""
    tail = "".join(f"\n{line}" for line in below)
    room = SECTION_TEXT_MAX - len(above) - len(tail)
    text = above + truncate(f"{step.position + 1}. {escape(step.text)}", room) + tail

    done_option = {
        "text": {"type": "plain_text", "text": "Done"},
        "value": ids.step_value(incident_id, step.position),
    }
    checkbox: Block = {
        "type": "checkboxes",
        "action_id": ids.step_action_id(step.position),
        "options": [done_option],
    }
    if step.done:
        checkbox["initial_options"] = [done_option]
    return section(text, block_id=ids.step_block_id(step.position), accessory=checkbox)
