"""Task-list items (`- [ ] …`) of one section, as plain text, with their one-click actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it.token import Token

from bot.domain.runbooks import TaskItem
from bot.runbooks.actions import action_problem, normalise_action
from bot.runbooks.problems import ProblemLog

ACTION_SECTION = "Safe fallbacks"
# Slack rejects a section block whose text is longer than 3000 characters; the rest is headroom
# for the checkbox, who checked it, and when.
MAX_TASK_TEXT = 2900
_EMPTY_TASK_MARKERS = ("[ ]", "[x]", "[X]")


@dataclass
class _Draft:
    line: int
    parts: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    bare: bool = False  # `- [ ]` with no text: the tasklists plugin does not mark it a task


def read_tasks(
    tokens: Sequence[Token], section: str | None, log: ProblemLog
) -> tuple[TaskItem, ...]:
    """The task items in `tokens` (one section's tokens); `section` is None before the first."""
    drafts: list[_Draft] = []
    open_items: list[_Draft | None] = []  # one entry per enclosing list item, None if not a task
    for index, token in enumerate(tokens):
        if token.type == "list_item_open":
            draft = _start_task(tokens, index)
            open_items.append(draft)
            drafts += [draft] if draft else []
        elif token.type == "list_item_close":
            open_items.pop()
        elif token.type == "inline":
            _add_inline(token, open_items, section, log)
    return tuple(task for d in drafts if (task := _finish(d, section, log)) is not None)


def _start_task(tokens: Sequence[Token], index: int) -> _Draft | None:
    item = tokens[index]
    line = item.map[0] + 1 if item.map else 0
    if "task-list-item" in str(item.attrs.get("class", "")):
        return _Draft(line)
    first = tokens[index + 2] if index + 2 < len(tokens) else None
    if (
        first is not None
        and first.type == "inline"
        and first.content.strip() in _EMPTY_TASK_MARKERS
    ):
        return _Draft(line, bare=True)
    return None


def _add_inline(
    token: Token, open_items: list[_Draft | None], section: str | None, log: ProblemLog
) -> None:
    text, actions = plain_text(token.children or [])
    owner = next((d for d in reversed(open_items) if d is not None), None)
    if owner is None:
        for action in actions:
            line = token.map[0] + 1 if token.map else 0
            log.add(line, f"`action: {action}` must be in a task item of {ACTION_SECTION}")
        return
    owner.actions += actions
    if owner is open_items[-1]:
        owner.parts += [] if owner.bare else [text]
    else:  # a plain bullet nested under the task: keep it as part of the task's text
        owner.parts.append(f"• {text}")


def _finish(draft: _Draft, section: str | None, log: ProblemLog) -> TaskItem | None:
    text = "\n".join(" ".join(line.split()) for line in "\n".join(draft.parts).splitlines())
    text = text.strip()
    problems_before = len(log.problems)
    if section is None:
        log.add(draft.line, "task item is outside any `##` section")
    if not text:
        log.add(draft.line, "task item has no text")
    if len(text) > MAX_TASK_TEXT:
        log.add(
            draft.line, f"task item is {len(text)} characters; at most {MAX_TASK_TEXT} fit in Slack"
        )
    if len(draft.actions) > 1:
        log.add(draft.line, f"task item names {len(draft.actions)} actions; name at most one")
    for action in draft.actions:
        if section != ACTION_SECTION:
            log.add(draft.line, f"`action: {action}` is only allowed in {ACTION_SECTION}")
        if (problem := action_problem(action)) is not None:
            log.add(draft.line, problem)
    if len(log.problems) > problems_before:
        return None
    return TaskItem(text, draft.line, draft.actions[0] if draft.actions else None)


def plain_text(children: Sequence[Token]) -> tuple[str, list[str]]:
    """Inline tokens as readable plain text (code keeps its backticks, links show their URL),
    and the `action:` code spans taken out of it."""
    out: list[str] = []
    actions: list[str] = []
    hrefs: list[str] = []
    for child in children:
        match child.type:
            case "code_inline" if child.content.strip().startswith("action:"):
                actions.append(normalise_action(child.content))
            case "code_inline":
                out.append(f"`{child.content}`")
            case "html_inline" if "task-list-item-checkbox" in child.content:
                pass  # the checkbox the tasklists plugin put in; Slack draws its own
            case "text" | "html_inline":
                out.append(child.content)
            case "softbreak":
                out.append(" ")
            case "hardbreak":
                out.append("\n")
            case "image":
                out.append(child.content)
            case "link_open":
                hrefs.append(str(child.attrs.get("href", "")))
            case "link_close":
                href = hrefs.pop()
                out.append("" if out and out[-1] == href else f" ({href})")
    return "".join(out), actions
