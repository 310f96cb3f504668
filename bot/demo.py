"""`steadyhand demo`: play one incident against the sandbox Slack and print the conversation."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.domain.errors import ConfigError
from bot.sandbox import transcript
from bot.sandbox.seed import BOB
from bot.services.lookup import incident_in_channel
from bot.slack.ids import ACTION_OPEN_TRIAGE, CALLBACK_FIVE_QUESTIONS, step_action_id
from bot.stage import Stage, sandbox_stage

TITLE = "Answers cite the retired refund policy"


def check_runbooks_dir(runbooks_dir: Path) -> None:
    if not runbooks_dir.is_dir():
        raise ConfigError(
            "RUNBOOKS_DIR",
            f"{runbooks_dir} is not a folder; run the demo from "
            "the Steadyhand checkout, or set RUNBOOKS_DIR.",
        )


async def play(runbooks_dir: Path = Path("runbooks")) -> str:
    with tempfile.TemporaryDirectory(prefix="steadyhand-demo-") as tmp:
        clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        async with sandbox_stage(database_url, clock, runbooks_dir=runbooks_dir) as stage:
            await script(stage)
            return transcript(stage.sandbox)


async def script(stage: Stage) -> None:
    """Alice opens a quality incident, works the checklist, Bob answers the five questions
    after the reminder, command passes to Bob, and he resolves it."""
    await stage.command("alice", "#general", f"open quality {TITLE}")
    channel = next(
        c for c in stage.sandbox.workspace.channels.values() if c.name.startswith("inc-")
    )
    incident = await incident_in_channel(stage.runtime.deps, channel.id)

    first_page = incident.checklist_ts[0]
    for position in (0, 1):
        stage.clock.advance(timedelta(minutes=2))
        await stage.driver.tick(
            "alice", channel.id, first_page, step_action_id(position), f"{incident.id}:{position}"
        )
        await stage.settle()

    stage.clock.advance(timedelta(minutes=12))
    await stage.run_due_work()

    assert incident.questions_ts is not None
    await stage.driver.click("bob", channel.id, incident.questions_ts, ACTION_OPEN_TRIAGE)
    await stage.settle()
    view = stage.sandbox.open_views(BOB)[-1]
    assert view["callback_id"] == CALLBACK_FIVE_QUESTIONS
    await stage.driver.view_submission(
        "bob",
        view["id"],
        values={
            "q1": "quality",
            "q2": "yes",
            "q2_detail": "prompt v13 shipped at 08:40",
            "q3": "yes",
            "q3_detail": "prompt can go back to v12",
            "q4": "no",
            "q5": "blocking",
        },
    )
    await stage.settle()

    stage.clock.advance(timedelta(minutes=3))
    await stage.command(
        "alice", channel.id, "update Rolled the prompt back to v12; eval pass rate recovering"
    )
    await stage.command("alice", channel.id, "commander <@U_BOB|bob>")
    await stage.command("bob", channel.id, "status")
    stage.clock.advance(timedelta(minutes=10))
    await stage.command("bob", channel.id, "resolve Prompt v13 rolled back; evals back to 91%")
