"""Load the runbooks folder: every `*.md` that parses serves; the rest are reported."""

from __future__ import annotations

from pathlib import Path

from bot.domain.errors import LintProblem, RunbookError
from bot.domain.kinds import IncidentKind
from bot.domain.runbooks import Runbook, RunbookLibrary
from bot.runbooks.parser import parse_runbook

# Problems about a folder or a whole file, not one line of it.
NO_LINE = 0


def load_library(directory: Path) -> RunbookLibrary:
    if not directory.is_dir():
        return RunbookLibrary([], [LintProblem(str(directory), NO_LINE, "no such directory")])
    files = sorted(p for p in directory.glob("*.md") if p.is_file())
    if not files:
        problem = LintProblem(str(directory), NO_LINE, "no runbooks (`*.md` files) here")
        return RunbookLibrary([], [problem])
    runbooks: list[Runbook] = []
    problems: list[LintProblem] = []
    for file in files:
        try:
            runbooks.append(parse_runbook(_read(file), str(file)))
        except RunbookError as error:
            problems += error.problems
    return RunbookLibrary(runbooks, problems + _competing_defaults(runbooks))


def lint_directory(directory: Path) -> list[LintProblem]:
    """Every problem of every runbook in `directory`, by path then line: for `steadyhand lint`."""
    return sorted(load_library(directory).problems, key=lambda p: (p.path, p.line))


def _read(file: Path) -> str:
    try:
        # Bytes, not read_text(): the version hash must be of the file exactly as written.
        return file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise RunbookError([LintProblem(str(file), NO_LINE, f"not UTF-8 text: {error}")]) from None
    except OSError as error:
        raise RunbookError(
            [LintProblem(str(file), NO_LINE, f"cannot read: {error.strerror}")]
        ) from None


def _competing_defaults(runbooks: list[Runbook]) -> list[LintProblem]:
    problems = []
    for kind in IncidentKind.classified():
        defaults = sorted(
            (r for r in runbooks if r.kind is kind and r.is_default), key=lambda r: r.key
        )
        problems += [
            LintProblem(
                later.path,
                1,
                f"`default: true` for kind `{kind}` is also set in "
                f"{defaults[0].path}; mark only one",
            )
            for later in defaults[1:]
        ]
    return problems
