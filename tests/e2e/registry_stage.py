"""A stage whose steadyhand.yml declares services, with an API token set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.stage import Stage
from tests.e2e.conftest import StageFactory

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONFIG = """
services:
  support-bot:
    components: {prompt: v12, model: gpt-x, retrieval_index: idx-7}
    flags:
      new-retriever: {kind: percentage, default: 30}
  search:
    components: {routing: r1}
"""


@asynccontextmanager
async def registry_stage(
    make_stage: StageFactory, tmp_path: Path, tokens: str = TOKEN
) -> AsyncIterator[Stage]:
    path = tmp_path / "steadyhand.yml"
    path.write_text(CONFIG)
    env = {"STEADYHAND_CONFIG": str(path), "STEADYHAND_API_TOKENS": tokens}
    async with make_stage(env=env) as stage:
        yield stage
