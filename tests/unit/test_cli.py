from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_lint_passes_on_the_shipped_runbooks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbooks", "lint", str(ROOT / "runbooks")]) == 0
    assert "all runbooks are fine" in capsys.readouterr().out


def test_lint_prints_file_line_message_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    broken = ROOT / "tests" / "fixtures" / "runbooks_broken"
    assert main(["runbooks", "lint", str(broken)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines
    for line in lines:
        path, number, message = line.split(":", 2)
        assert path.endswith(".md") and number.isdigit() and message.strip()


def test_serve_without_settings_names_the_missing_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "STEADYHAND_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("steadyhand: configuration error: SLACK_BOT_TOKEN")
    assert "Traceback" not in err
