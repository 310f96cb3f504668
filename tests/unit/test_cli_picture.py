"""`steadyhand postmortem <incident> --picture FILE`, on SQLite."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from matplotlib.image import imread

from bot.cli import main
from tests.unit.test_cli_postmortem import _seed


@pytest.fixture
def incident_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "steadyhand.yml").write_text("display_timezone: UTC\n")
    monkeypatch.setenv("STEADYHAND_CONFIG", str(tmp_path / "steadyhand.yml"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'pm.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return asyncio.run(_seed(url))


def test_writes_the_picture_and_keeps_stdout_for_the_markdown(
    incident_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = tmp_path / "timeline.png"

    assert main(["postmortem", incident_id, "--picture", str(picture)]) == 0

    out, err = capsys.readouterr()
    assert out.startswith("# Post-mortem: ") and "timeline picture" not in out
    assert f"wrote the timeline picture of {incident_id} to {picture}" in err
    height, width, _ = imread(io.BytesIO(picture.read_bytes()), format="png").shape
    assert width == 1200 and height > 300


def test_with_an_output_file_both_are_said_on_stdout(
    incident_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    markdown, picture = tmp_path / "pm.md", tmp_path / "pm.png"

    assert main(["postmortem", incident_id, "-o", str(markdown), "--picture", str(picture)]) == 0

    out = capsys.readouterr().out
    assert f"to {markdown}" in out and f"to {picture}" in out
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_an_unwritable_picture_path_exits_2(
    incident_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing-folder" / "pm.png"

    assert main(["postmortem", incident_id, "--picture", str(target)]) == 2
    assert f"cannot write {target}" in capsys.readouterr().err
