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


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://root@localhost/x", "DATABASE_URL"),
        ("postgresql+asyncpg://postgres@127.0.0.1:1/none", "cannot open the database"),
        ("sqlite+aiosqlite:////nonexistent-dir/x/steadyhand.db", "does not exist"),
    ],
)
def test_serve_with_an_unusable_database_names_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("steadyhand: configuration error: DATABASE_URL") and problem in err
    assert "Traceback" not in err


def test_serve_says_how_to_skip_the_slack_check(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--skip-slack-check" in out and "STEADYHAND_SKIP_SLACK_CHECK=1" in out


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_serve_without_runbooks_names_runbooks_dir(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    folder: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'steadyhand.db'}")
    runbooks = tmp_path / "runbooks"
    if folder == "empty":
        runbooks.mkdir()
    monkeypatch.setenv("RUNBOOKS_DIR", str(runbooks))
    monkeypatch.delenv("STEADYHAND_CONFIG", raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("steadyhand: configuration error: RUNBOOKS_DIR") and str(runbooks) in err
    assert len(err.strip().splitlines()) == 1
