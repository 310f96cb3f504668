"""Markdown runbook -> `Runbook`, or every problem found on the way.

The Markdown is read through markdown-it-py's tokens, whose `.map` gives source lines, so
problems point at the line a person has to fix.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import PurePath

from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from bot.domain.errors import LintProblem, RunbookError
from bot.domain.runbooks import Runbook
from bot.runbooks.front_matter import read_front_matter
from bot.runbooks.problems import ProblemLog
from bot.runbooks.sections import read_sections


def parse_runbook(text: str, path: str) -> Runbook:
    """Parse one runbook file; raises `RunbookError` with all its problems when it is broken."""
    log = ProblemLog(path)
    tokens = _markdown().parse(text)
    front_token = tokens[0] if tokens and tokens[0].type == "front_matter" else None
    front = read_front_matter(front_token, text, log)
    # markdown-it counts lines after normalising line endings; so must we.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":  # the file's final newline ends the last line; it starts no new one
        lines.pop()
    sections = read_sections(tokens, lines, log)
    if log.problems or front is None:
        raise RunbookError(log.sorted())
    return Runbook(
        key=PurePath(path).stem,
        path=path,
        kind=front.kind,
        title=front.title,
        default_severity=front.severity,
        version=hashlib.sha256(text.encode("utf-8")).hexdigest()[:12],
        owners=front.owners,
        signals=front.signals,
        is_default=front.is_default,
        sections=sections,
    )


def lint_runbook(text: str, path: str) -> list[LintProblem]:
    """The problems of one runbook file, by line; empty when it is fine."""
    try:
        parse_runbook(text, path)
    except RunbookError as error:
        return list(error.problems)
    return []


@cache
def _markdown() -> MarkdownIt:
    # Built on first use, not at import. Frontmatter and task lists are the only extensions:
    # runbooks must read the same on GitHub, where they are also reviewed.
    return MarkdownIt("commonmark").use(front_matter_plugin).use(tasklists_plugin)
