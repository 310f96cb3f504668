"""`steadyhand postmortem <incident> [-o FILE]`, on SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.kinds import IncidentKind
from bot.store.database import create_engine, session_factory
from bot.store.migrations import upgrade_database
from bot.store.uow import SqlUnitOfWorkFactory
from tests.unit.postmortem_examples import scripted


async def _seed(url: str) -> str:
    script = scripted(IncidentKind.QUALITY)
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        async with SqlUnitOfWorkFactory(session_factory(engine))() as uow:
            await uow.incidents.add(script.incident)
            for event in script.events:
                await uow.timeline.append(event)
            for change in script.changes:
                await uow.registry.add_change(change)
            await uow.commit()
    finally:
        await engine.dispose()
    return script.incident.id


@pytest.fixture
def incident_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "steadyhand.yml").write_text("display_timezone: Europe/Paris\n")
    monkeypatch.setenv("STEADYHAND_CONFIG", str(tmp_path / "steadyhand.yml"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'pm.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return asyncio.run(_seed(url))


def test_prints_the_post_mortem(incident_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["postmortem", incident_id]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Post-mortem: Answers cite the retired refund policy")
    assert "| Time to mitigate | 21m 00s |" in out and "| Europe/Paris |" in out


def test_writes_it_to_a_file(
    incident_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "pm.md"
    assert main(["postmortem", incident_id, "-o", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    assert "### 1. roll back support-bot prompt v13 → v12" in target.read_text()


def test_an_unknown_incident_exits_2_with_the_reason(
    incident_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["postmortem", "nope"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == "steadyhand: No incident with ID `nope`."
