"""`steadyhand change record`, `steadyhand known-good` and `steadyhand changes`, on SQLite."""

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


def test_record_mark_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    target = ("--service", "support-bot", "--component", "prompt")
    code, out, _ = run(
        capsys, "change", "record", *target, "--version", "v13", "--eval-score", "0.8",
        "--actor", "ci", "--source", "https://ci.example.com/1",
    )  # fmt: skip
    assert code == 0 and "recorded:" in out and "v12 → v13 by ci · eval 0.80" in out
    code, out, _ = run(capsys, "known-good", *target, "--version", "v12", "--by", "alice")
    assert code == 0 and out.strip() == "known-good: support-bot prompt v12 (marked by alice)"
    code, out, _ = run(capsys, "changes", "--service", "support-bot", "--since", "7d")
    assert code == 0 and "v12 → v13" in out
    code, out, _ = run(capsys, "changes", "--service", "search")
    assert code == 0 and out.strip() == "no changes in the last 24h"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("change", "record", "--service", "billing", "--component", "prompt", "--version", "v1"),
         "Known services: support-bot, search"),
        (("change", "record", "--service", "search", "--component", "promt", "--version", "v1"),
         "Valid components"),
        (("change", "record", "--service", "support-bot", "--component", "prompt",
          "--version", "v12"), "already runs"),
        (("change", "record", "--service", "support-bot", "--component", "prompt",
          "--version", "v13", "--eval-score", "87"), "0 to 1"),
        (("known-good", "--service", "support-bot", "--component", "prompt", "--version", "v9"),
         "Recent versions"),
        (("changes", "--since", "yesterday"), "`24h`"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_the_reason(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], says: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and says in err and out == ""
    assert "Traceback" not in err
