"""Split a runbook at its `##` headings and check the sections are the expected ones, in order."""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it.token import Token

from bot.domain.runbooks import CHECKLIST_SECTIONS, SECTION_TITLES, Section
from bot.runbooks.problems import ProblemLog
from bot.runbooks.tasks import read_tasks

_CANONICAL = {title.lower(): title for title in SECTION_TITLES}


def read_sections(
    tokens: Sequence[Token], lines: Sequence[str], log: ProblemLog
) -> tuple[Section, ...]:
    starts = [i for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]
    read_tasks(tokens[: starts[0] if starts else len(tokens)], None, log)
    sections: list[Section] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(tokens)
        body_end = _first_line(tokens[end]) if end < len(tokens) else len(lines)
        section = _read_section(tokens[start:end], lines, body_end, log)
        if section is not None and _keep(section, sections, log):
            sections.append(section)
    _check_complete(sections, len(lines), log)
    return tuple(sections)


def _read_section(
    tokens: Sequence[Token], lines: Sequence[str], body_end: int, log: ProblemLog
) -> Section | None:
    heading, written = tokens[0], tokens[1].content.strip()
    line = _first_line(heading) + 1
    title = _CANONICAL.get(written.lower())
    if title is None:
        log.add(line, f"unknown section `{written}`; sections: {', '.join(SECTION_TITLES)}")
    problems_before = len(log.problems)
    tasks = read_tasks(tokens, title or written, log)
    if title is None:
        return None
    # Broken items (empty, too long) were reported already; do not also call the section empty.
    if title in CHECKLIST_SECTIONS and not tasks and len(log.problems) == problems_before:
        log.add(line, f"section `{title}` needs at least one task item (`- [ ] …`)")
    body_start = heading.map[1] if heading.map else line
    return Section(title, line, "\n".join(lines[body_start:body_end]).strip(), tasks)


def _keep(section: Section, earlier: list[Section], log: ProblemLog) -> bool:
    """Whether to keep the section (it is no duplicate); logs duplicates and misplacements."""
    twin = next((s for s in earlier if s.title == section.title), None)
    if twin is not None:
        log.add(section.line, f"duplicate section `{section.title}` (first at line {twin.line})")
        return False
    latest = max(earlier, key=_rank, default=None)
    if latest is not None and _rank(latest) > _rank(section):
        # Kept all the same, so that it is not also reported as missing.
        log.add(section.line, f"section `{section.title}` must come before `{latest.title}`")
    return True


def _check_complete(sections: list[Section], last_line: int, log: ProblemLog) -> None:
    for rank, title in enumerate(SECTION_TITLES):
        if any(s.title == title for s in sections):
            continue
        # Point at where the section belongs: the next section that is present, else the end.
        following = [s.line for s in sections if _rank(s) > rank]
        log.add(min(following, default=max(last_line, 1)), f"missing section `{title}`")


def _rank(section: Section) -> int:
    return SECTION_TITLES.index(section.title)


def _first_line(token: Token) -> int:
    return token.map[0] if token.map else 0
