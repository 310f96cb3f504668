"""`steadyhand service register`, on SQLite: the same checks as `POST /api/services`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.e2e.registry_stage import CONFIG


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "steadyhand.yml").write_text(CONFIG)
    monkeypatch.setenv("STEADYHAND_CONFIG", str(tmp_path / "steadyhand.yml"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_register_update_and_record_a_change(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "service", "register", "billing-bot", "--component", "prompt=p1",
        "--component", "model=gpt-x", "--flag", "new-ui=boolean:on",
        "--flag", "ramp=percentage:30", "--by", "ci",
    )  # fmt: skip
    assert (code, out.strip()) == (0, "registered: billing-bot (prompt p1, model gpt-x)")
    code, out, _ = run(capsys, "service", "register", "billing-bot", "--component", "prompt=p2")
    assert (code, out.strip()) == (0, "updated: billing-bot (prompt p2)")
    code, out, _ = run(
        capsys, "change", "record", "--service", "billing-bot", "--component", "prompt",
        "--version", "p3", "--actor", "ci",
    )  # fmt: skip
    assert code == 0 and "p2 → p3" in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("support-bot",), "declared in steadyhand.yml; change it there"),
        (("b", "--component", "prompt"), "write NAME=VALUE"),
        (("b", "--component", "promt=v1"), "`components.promt`: is not a component"),
        (("b", "--flag", "x=dial"), "`flags.x.kind`: must be one of: boolean, percentage"),
        (("b", "--flag", "x=boolean:1"), "`flags.x.default`: must be true or false"),
        (("b", "--flag", "x=percentage:most"), "whole percentage"),
        (("b", "--environment", "prod env"), "not an environment name"),
    ],
)
def test_bad_registrations_exit_2_with_the_reason(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], says: str
) -> None:
    code, out, err = run(capsys, "service", "register", *argv)
    assert (code, out) == (2, "")
    assert says in err
