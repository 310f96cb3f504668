"""`steadyhand demo`: play one incident against the sandbox Slack and print the conversation."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.clock import ManualClock
from bot.domain.errors import ConfigError
from bot.sandbox import serve_app, transcript
from bot.sandbox.seed import ALICE, BOB, TEAM_CONFIG
from bot.services import registry
from bot.services.lookup import incident_in_channel
from bot.slack.ids import (
    ACTION_APPROVE,
    ACTION_OPEN_TRIAGE,
    ACTION_ROLLBACK_CHANGE,
    ACTION_SORT_EXAMPLE,
    CALLBACK_FIVE_QUESTIONS,
    step_action_id,
)
from bot.stage import Stage, sandbox_stage

TITLE = "Answers cite the retired refund policy"
PLAYED_FOR = timedelta(hours=4, minutes=20)

# The played team (TEAM_CONFIG, shared with the chaos scenario): Alice and Bob are on call,
# Carol approves; prompt rollbacks need approval, and every applied action is checked by the
# eval endpoint EVAL_URL_SETTING points at.
EVAL_URL_SETTING = "{eval_url}"
DEMO_CONFIG = (
    TEAM_CONFIG
    + """    flags:
      strict-guardrails: {kind: boolean}
    verify: {kind: eval, url: "{eval_url}", threshold: 0.85}
"""
)


def check_runbooks_dir(runbooks_dir: Path) -> None:
    if not runbooks_dir.is_dir():
        raise ConfigError(
            "RUNBOOKS_DIR",
            f"{runbooks_dir} is not a folder; run the demo from "
            "the Steadyhand checkout, or set RUNBOOKS_DIR.",
        )


async def play(runbooks_dir: Path = Path("runbooks")) -> str:
    """The conversation, then the draft post-mortem the bot uploaded at the end."""
    with tempfile.TemporaryDirectory(prefix="steadyhand-demo-") as tmp:
        # The script plays about 4 h 20 min, from the last known-good prompt to the resolution:
        # start that long ago, so the story ends about now.
        clock = ManualClock(datetime.now(UTC).replace(microsecond=0) - PLAYED_FOR)
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        async with (
            demo_config(Path(tmp)) as env,
            sandbox_stage(database_url, clock, runbooks_dir=runbooks_dir, env=env) as stage,
        ):
            await script(stage)
            return transcript(stage.sandbox) + "\n\n" + uploaded_postmortem(stage)


def uploaded_postmortem(stage: Stage) -> str:
    """The post-mortem file the bot uploaded when Bob resolved, under a heading line."""
    workspace = stage.sandbox.workspace
    markdown = [f for f in workspace.files.values() if f.filename.endswith(".md")]
    upload = markdown[-1]
    assert upload.content is not None
    channels = ", ".join(f"#{workspace.channel(c).name}" for c in upload.shared_to)
    heading = f"== {upload.filename}, as uploaded to {channels} =="
    return heading + "\n\n" + upload.content.decode("utf-8")


@asynccontextmanager
async def demo_config(folder: Path, extra: str = "") -> AsyncIterator[dict[str, str]]:
    """steadyhand.yml for the played team (plus `extra` settings), and the eval service that
    verifies rollbacks: a real HTTP endpoint on loopback that scores the rolled-back prompt."""

    async def evaluate(request: Request) -> JSONResponse:
        payload = await request.json()
        prompt = next((m["to"] for m in payload["moves"] if m.get("component") == "prompt"), "")
        score = 0.91 if prompt == "v12" else 0.62
        return JSONResponse({"score": score, "detail": f"refund-policy eval set, prompt {prompt}"})

    evals = Starlette(routes=[Route("/eval", evaluate, methods=["POST"])])
    async with serve_app(evals) as base_url:
        path = folder / "steadyhand.yml"
        path.write_text(extra + DEMO_CONFIG.replace(EVAL_URL_SETTING, f"{base_url}/eval"))
        yield {"STEADYHAND_CONFIG": str(path)}


async def script(stage: Stage) -> None:
    """CI ships prompt v13; Alice opens a quality incident, works the checklist, Bob answers
    the five questions after the reminder, they pin what they see and keep a failed example,
    Alice asks to roll the prompt back from the list of
    changes, Carol approves, the eval endpoint verifies it, command passes to Bob, and he
    resolves it: the bot uploads the draft post-mortem."""
    deps = stage.runtime.deps
    await registry.mark_known_good(deps, "support-bot", "prompt", "v12", "ci", "passed evals")
    stage.clock.advance(timedelta(hours=3))
    await registry.record_change(
        deps, "support-bot", "prompt", "v13", "github-actions", eval_score=0.84
    )
    stage.clock.advance(timedelta(minutes=40))
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
    await keep_findings(stage, channel.id)

    stage.clock.advance(timedelta(minutes=2))
    await stage.command("alice", channel.id, "changes")
    changes = stage.sandbox.ephemerals(ALICE, channel.id)[-1]
    await stage.driver.click("alice", channel.id, changes["ts"], f"{ACTION_ROLLBACK_CHANGE}.0")
    await stage.settle()
    card = stage.sandbox.messages(channel.id)[-1]
    stage.clock.advance(timedelta(minutes=1))
    await stage.driver.click("carol", channel.id, card["ts"], ACTION_APPROVE)
    await stage.settle()

    stage.clock.advance(timedelta(minutes=3))
    await stage.command(
        "alice", channel.id, "update Rolled the prompt back to v12; eval pass rate recovering"
    )
    await stage.command("alice", channel.id, "commander <@U_BOB|bob>")
    await stage.command("bob", channel.id, "status")
    stage.clock.advance(timedelta(minutes=5))
    await stage.command(
        "bob", channel.id, "followup <@U_CAROL|carol> gate prompt releases on the refund eval set"
    )
    stage.clock.advance(timedelta(minutes=5))
    await stage.command("bob", channel.id, "resolve Prompt v13 rolled back; evals back to 91%")


async def keep_findings(stage: Stage, channel: str) -> None:
    """Bob writes what he sees and Alice pins it; Alice attaches a failed example, which Bob
    sorts into the blocking set as question 5 said, and notes where the trouble started."""
    stage.clock.advance(timedelta(minutes=1))
    seen = stage.sandbox.say("bob", channel, "7 of 20 refund answers cite the 2023 policy")
    stage.clock.advance(timedelta(minutes=1))
    await stage.driver.react("alice", channel, seen, "pushpin")
    await stage.settle()
    await stage.command(
        "alice", channel, "example “Can I return shoes after 30 days?” → quotes the 2023 policy"
    )
    card = stage.sandbox.messages(channel)[-1]
    await stage.driver.click("bob", channel, card["ts"], f"{ACTION_SORT_EXAMPLE}.blocking")
    await stage.settle()
    await stage.command("alice", channel, "note wrong answers began with prompt v13's deploy")
