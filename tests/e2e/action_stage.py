"""A stage with services, roles and a policy: Alice and Bob respond (S_ONCALL), Carol approves
(S_MANAGERS); prompt and model rollbacks are high risk, flags and the kill switch low."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.domain.incidents import Incident
from bot.sandbox.seed import ALICE
from bot.services import registry
from bot.services.lookup import incident_in_channel
from bot.stage import Stage
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import only_incident_channel, text_of
from tests.e2e.registry_stage import AUTH, TOKEN

__all__ = ["AUTH", "CONFIG", "action_stage", "card", "cards", "open_incident", "refusal"]

CONFIG = """
roles:
  responders: [S_ONCALL]
  approvers: {approvers}
policy:
  default_risk: high
  approval_expires_after: 15m
  rules:
    - {risk: low, action: flag}
    - {risk: low, action: kill_switch}
    - {risk: low, action: dry_run}
services:
  support-bot:
    components: {prompt: v12, model: gpt-x, retrieval_index: idx-7}
    flags:
      new-retriever: {kind: percentage, default: 30}
      strict-guardrails: {kind: boolean}
"""


@asynccontextmanager
async def action_stage(
    make_stage: StageFactory,
    tmp_path: Path,
    extra: str = "",
    env: dict[str, str] | None = None,
    approvers: str = "[S_MANAGERS]",
) -> AsyncIterator[Stage]:
    """`extra` is YAML for more services, indented as under `services:`."""
    path = tmp_path / "steadyhand.yml"
    path.write_text(CONFIG.replace("{approvers}", approvers) + extra)
    settings = {"STEADYHAND_CONFIG": str(path), "STEADYHAND_API_TOKENS": TOKEN, **(env or {})}
    async with make_stage(env=settings) as stage:
        yield stage


async def open_incident(stage: Stage, *, bad_prompt: bool = True) -> Incident:
    """An incident on support-bot after prompt v12 (known-good) → v13."""
    deps = stage.runtime.deps
    if bad_prompt:
        await registry.mark_known_good(deps, "support-bot", "prompt", "v12", "ci", "passed evals")
        await registry.record_change(deps, "support-bot", "prompt", "v13", "ci", eval_score=0.61)
    await stage.command("alice", "#general", "open policy refusals stopped on support-bot")
    return await incident_in_channel(deps, only_incident_channel(stage.sandbox).id)


def cards(stage: Stage, incident: Incident) -> list[dict[str, object]]:
    """The action cards in the incident channel, oldest first."""
    assert incident.channel_id is not None
    return [
        m
        for m in stage.sandbox.messages(incident.channel_id)
        if any(str(b.get("block_id", "")).startswith("request-") for b in m.get("blocks", []))
    ]


def card(stage: Stage, incident: Incident) -> dict[str, object]:
    found = cards(stage, incident)
    assert found, "no action card in the channel"
    return found[-1]


def refusal(stage: Stage, incident: Incident, user: str = ALICE) -> str:
    assert incident.channel_id is not None
    return text_of(stage.sandbox.ephemerals(user, incident.channel_id)[-1])
