"""OFREP answers from each process's snapshot of the registry: every write path that changes
what is served is seen on the next read, an unchanged registry answers 304 with the same tag
and reads nothing, and nothing is served before its transaction commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import httpx

from bot.domain.registry import Change, Component
from bot.slack import ids
from bot.stage import Stage
from tests.e2e.action_stage import action_stage, card, open_incident
from tests.e2e.conftest import START, StageFactory
from tests.e2e.registry_stage import AUTH

FLAGS = "/ofrep/v1/evaluate/flags"
BILLING = {"name": "billing-bot", "components": {"prompt": "b1"}, "actor": "ci"}


class Reader:
    """A poller, as the OFREP providers are: it sends back the last tag it saw."""

    def __init__(self, stage: Stage) -> None:
        self._stage = stage
        self.etag: str | None = None
        self.values: dict[str, object] = {}

    async def read(self) -> int:
        """The status; on 200, `values` and `etag` are the new answer's."""
        headers = {**AUTH, **({"If-None-Match": self.etag} if self.etag else {})}
        async with httpx.AsyncClient(base_url=self._stage.base_url) as client:
            response = await client.post(FLAGS, headers=headers, json={})
        if response.status_code == 304:
            assert response.headers["ETag"] == self.etag and response.content == b""
            return 304
        assert response.status_code == 200, response.text
        self.etag = response.headers["ETag"]
        self.values = {f["key"]: f["value"] for f in response.json()["flags"]}
        return 200

    def value(self, key: str) -> object:
        return self.values[key]


async def test_every_write_that_changes_what_is_served_is_seen_on_the_next_read(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with action_stage(make_stage, tmp_path) as stage:
        reader = Reader(stage)
        assert await reader.read() == 200
        assert reader.value("support-bot.prompt") == "v12"
        loads = stage.runtime.deps.served.loads
        assert await reader.read() == 304  # unchanged: the same tag, and nothing rebuilt
        assert stage.runtime.deps.served.loads == loads

        change = {"service": "support-bot", "component": "model", "version": "gpt-y", "actor": "ci"}
        assert (await api(stage, "/api/changes", change)).status_code == 201
        assert await reader.read() == 200 and reader.value("support-bot.model") == "gpt-y"

        # open_incident marks v12 known-good and records v13: two writes, each served.
        incident = await open_incident(stage)
        assert await reader.read() == 200 and reader.value("support-bot.prompt") == "v13"
        assert incident.channel_id is not None
        await stage.command("alice", incident.channel_id, "rollback prompt because refusals")
        await stage.driver.click(
            "carol", incident.channel_id, str(card(stage, incident)["ts"]), ids.ACTION_APPROVE
        )
        await stage.settle()
        assert await reader.read() == 200 and reader.value("support-bot.prompt") == "v12"

        await stage.command("bob", incident.channel_id, "flag new-retriever 5% because noisy")
        assert await reader.read() == 200 and reader.value("support-bot.new-retriever") == 5

        assert (await api(stage, "/api/services", BILLING)).status_code == 201
        assert await reader.read() == 200 and reader.value("billing-bot.prompt") == "b1"

        mark = {"service": "support-bot", "component": "model", "version": "gpt-y", "by": "U1"}
        assert (await api(stage, "/api/known-good", mark)).status_code == 201
        assert await reader.read() == 200
        single = await api(stage, f"{FLAGS}/support-bot.model", {})
        assert single.json()["metadata"]["known_good"] == "gpt-y"

        assert await reader.read() == 304


async def test_nothing_is_served_before_its_transaction_commits(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with action_stage(make_stage, tmp_path) as stage:
        reader = Reader(stage)
        assert await reader.read() == 200
        change = Change("c-1", "support-bot", Component.PROMPT, "v12", "v13", "ci", START)
        async with stage.runtime.deps.uow() as uow:
            await uow.registry.add_change(change)
            assert await reader.read() == 304
            await uow.commit()
            assert await reader.read() == 200 and reader.value("support-bot.prompt") == "v13"

        async with stage.runtime.deps.uow() as uow:  # rolled back: never served
            await uow.registry.add_change(replace(change, id="c-2", to_version="v14"))
        assert await reader.read() == 304


async def api(stage: Stage, path: str, body: Mapping[str, object]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stage.base_url) as client:
        return await client.post(path, headers=AUTH, json=body)
