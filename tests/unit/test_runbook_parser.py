"""Runbook parsing, linting and loading, against golden files.

Regenerate the golden files after an intended change with `UPDATE_GOLDEN=1 pytest tests/unit`,
then read the diff: the golden files are the specification of line numbers and messages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from bot.domain.errors import RunbookError
from bot.domain.kinds import IncidentKind
from bot.domain.runbooks import SECTION_TITLES, Runbook
from bot.runbooks import lint_directory, lint_runbook, load_library, parse_runbook
from bot.runbooks.actions import action_problem

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "runbooks").glob("*.md"))
BROKEN = sorted((ROOT / "tests/fixtures/runbooks_broken").glob("*.md"))
LONG = ROOT / "tests/fixtures/runbooks_long/quality-long.md"
GOLDEN = ROOT / "tests/golden"


def relative(file: Path) -> str:
    return file.relative_to(ROOT).as_posix()


def runbook_json(runbook: Runbook) -> str:
    # StrEnum members are str, so json writes them as their values.
    return json.dumps(dataclasses.asdict(runbook), indent=2, ensure_ascii=False) + "\n"


def assert_golden(golden: Path, actual: str) -> None:
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"{relative(golden)} is missing; run with UPDATE_GOLDEN=1"
    assert actual == golden.read_text(encoding="utf-8")


def test_all_six_kinds_ship_a_runbook() -> None:
    assert [f.stem for f in SHIPPED] == sorted(kind.value for kind in IncidentKind.classified())


def test_no_runbook_can_be_for_the_unknown_kind() -> None:
    # An unclassified incident gets its runbook once someone chooses one of the six kinds.
    text = (ROOT / "runbooks/quality.md").read_text(encoding="utf-8")
    text = text.replace("kind: quality\n", "kind: unknown\n", 1)
    assert [str(p) for p in lint_runbook(text, "unknown.md")] == [
        "unknown.md:2: unknown kind `unknown`; "
        "valid: quality, retrieval, tool, policy, cost, latency"
    ]


@pytest.mark.parametrize("file", SHIPPED, ids=lambda f: f.stem)
def test_shipped_runbook_matches_golden(file: Path) -> None:
    runbook = parse_runbook(file.read_text(encoding="utf-8"), relative(file))
    assert_golden(GOLDEN / "runbooks" / f"{file.stem}.json", runbook_json(runbook))


@pytest.mark.parametrize("file", SHIPPED, ids=lambda f: f.stem)
def test_shipped_runbook_is_complete(file: Path) -> None:
    runbook = parse_runbook(file.read_text(encoding="utf-8"), relative(file))
    assert runbook.kind.value == runbook.key
    assert runbook.is_default and runbook.owners and runbook.signals
    assert tuple(s.title for s in runbook.sections) == SECTION_TITLES
    first_checks, fallbacks = runbook.checklist_sections
    assert 5 <= len(first_checks.tasks) <= 10
    assert sum(task.action is not None for task in fallbacks.tasks) >= 3


@pytest.mark.parametrize("file", BROKEN, ids=lambda f: f.stem)
def test_broken_runbook_problems_match_golden(file: Path) -> None:
    problems = lint_runbook(file.read_text(encoding="utf-8"), relative(file))
    assert problems, "a broken fixture must have problems"
    listing = "".join(f"{problem}\n" for problem in problems)
    assert_golden(GOLDEN / "runbooks_broken" / f"{file.stem}.txt", listing)


def test_parse_raises_with_every_problem() -> None:
    file = ROOT / "tests/fixtures/runbooks_broken/unknown-action.md"
    with pytest.raises(RunbookError) as raised:
        parse_runbook(file.read_text(encoding="utf-8"), "unknown-action.md")
    assert [p.line for p in raised.value.problems] == [17, 18, 19, 20, 21]


def test_task_text_is_plain_and_keeps_its_line_and_action() -> None:
    text = (ROOT / "runbooks/quality.md").read_text(encoding="utf-8")
    text = text.replace(
        "## Safe fallbacks\n\n",
        "## Safe fallbacks\n\n- [x] Read **the** [status page](https://status.example.com)"
        " and `trace_id`  `action:   flag  new-ui   25% `\n  then decide\n"
        "  - [ ] a nested task\n  - a note\n",
    )
    runbook = parse_runbook(text, "runbooks/quality.md")
    fallbacks = runbook.checklist_sections[1]
    first, nested = fallbacks.tasks[:2]
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("- [x] Read"))
    assert first.line == line
    assert first.text == (
        "Read the status page (https://status.example.com) and `trace_id` then decide\n• a note"
    )
    assert first.action == "flag new-ui 25%"
    assert (nested.text, nested.line, nested.action) == ("a nested task", line + 2, None)


def test_section_markdown_is_the_body_as_written() -> None:
    runbook = parse_runbook((ROOT / "runbooks/cost.md").read_text(encoding="utf-8"), "cost.md")
    limits = runbook.section("Known limits")
    assert limits is not None
    assert limits.markdown.startswith("- Billing data from providers lags by hours;")
    assert "## " not in limits.markdown


def test_version_is_the_hash_of_the_file_bytes() -> None:
    file = ROOT / "runbooks/latency.md"
    runbook = parse_runbook(file.read_bytes().decode("utf-8"), "runbooks/latency.md")
    assert runbook.version == hashlib.sha256(file.read_bytes()).hexdigest()[:12]
    assert runbook.key == "latency"


@pytest.mark.parametrize(
    ("action", "valid"),
    [
        ("rollback retrieval_index", True),
        ("rollback tool_schema", False),
        ("flag new-retriever off", True),
        ("flag new-retriever 100%", True),
        ("flag new-retriever 101%", False),
        ("flag new-retriever ５%", False),
        ("flag new/retriever on", False),
        ("kill", True),
        ("kill now", False),
        ("dry-run on", True),
        ("dry-run", False),
        ("", False),
    ],
)
def test_action_syntax(action: str, valid: bool) -> None:
    assert (action_problem(action) is None) is valid


def test_long_fixture_is_valid_with_120_first_checks() -> None:
    runbook = parse_runbook(LONG.read_text(encoding="utf-8"), relative(LONG))
    first_checks = runbook.section("First checks")
    assert first_checks is not None and len(first_checks.tasks) == 120
    assert not runbook.is_default


def test_library_serves_good_runbooks_and_reports_broken_ones(tmp_path: Path) -> None:
    for name in ("quality.md", "retrieval.md"):
        shutil.copy(ROOT / "runbooks" / name, tmp_path / name)
    shutil.copy(BROKEN[0], tmp_path / "zz-broken.md")
    shutil.copy(ROOT / "tests/fixtures/runbooks_broken/missing-title.md", tmp_path / "a.md")
    (tmp_path / "notes.txt").write_text("not a runbook")

    library = load_library(tmp_path)

    assert [r.key for r in library.runbooks] == ["quality", "retrieval"]
    retrieval = library.default_for(IncidentKind.RETRIEVAL)
    assert retrieval is not None and retrieval.key == "retrieval"
    assert library.broken_paths() == [str(tmp_path / "a.md"), str(tmp_path / "zz-broken.md")]
    problems = lint_directory(tmp_path)
    assert problems == sorted(library.problems, key=lambda p: (p.path, p.line))
    assert str(problems[0]) == f"{tmp_path / 'a.md'}:1: missing front matter key `title`"


def test_two_defaults_for_one_kind_is_a_problem(tmp_path: Path) -> None:
    shutil.copy(ROOT / "runbooks/quality.md", tmp_path / "quality.md")
    shutil.copy(ROOT / "runbooks/quality.md", tmp_path / "quality-v2.md")

    library = load_library(tmp_path)

    assert len(library.runbooks) == 2
    assert [str(p) for p in library.problems] == [
        f"{tmp_path / 'quality-v2.md'}:1: `default: true` for kind `quality` is also set in "
        f"{tmp_path / 'quality.md'}; mark only one"
    ]


def test_missing_directory_is_one_problem(tmp_path: Path) -> None:
    library = load_library(tmp_path / "nowhere")
    assert library.runbooks == []
    assert [str(p) for p in library.problems] == [f"{tmp_path / 'nowhere'}:0: no such directory"]


def test_paths_are_reported_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    library = load_library(Path("runbooks"))
    assert library.problems == []
    assert [r.path for r in library.runbooks][:2] == ["runbooks/cost.md", "runbooks/latency.md"]
    assert lint_directory(Path("runbooks")) == []


def test_empty_directory_is_one_problem(tmp_path: Path) -> None:
    assert [str(p) for p in lint_directory(tmp_path)] == [
        f"{tmp_path}:0: no runbooks (`*.md` files) here"
    ]
