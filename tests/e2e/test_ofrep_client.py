"""The official OpenFeature Python client (openfeature-sdk + openfeature-provider-ofrep) reads
what Steadyhand serves, and sees a change or a flipped flag on its next evaluation.

The provider is synchronous (requests), so each evaluation runs in a thread while the bot keeps
serving on this event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from bot.domain.registry import FlagKind
from bot.services.registry import record_change
from bot.slack.ids import ACTION_APPROVE
from bot.stage import Stage
from tests.e2e.action_stage import action_stage, card, open_incident
from tests.e2e.conftest import StageFactory
from tests.e2e.registry_stage import AUTH, registry_stage
from tests.e2e.test_ofrep import set_flag

DOMAIN = "steadyhand-test"


@contextmanager
def openfeature_client(stage: Stage) -> Iterator[OpenFeatureClient]:
    provider = OFREPProvider(stage.base_url, headers_factory=lambda: dict(AUTH))
    api.set_provider_and_wait(provider, domain=DOMAIN)
    try:
        yield api.get_client(DOMAIN)
    finally:
        api.clear_providers()
        # The provider's shutdown() leaves its requests.Session open; close its sockets.
        provider.session.close()


async def test_the_official_client_sees_a_new_version_and_a_flipped_flag(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        with openfeature_client(stage) as client:
            prompt = await asyncio.to_thread(
                client.get_string_details, "support-bot.prompt", "fallback"
            )
            assert (prompt.value, prompt.variant, prompt.reason) == ("v12", "v12", Reason.STATIC)
            assert prompt.flag_metadata["component"] == "prompt"
            user = EvaluationContext(targeting_key="user-7")
            rollout = await asyncio.to_thread(
                client.get_integer_value, "support-bot.new-retriever", 0, user
            )
            assert rollout == 30
            assert not await asyncio.to_thread(
                client.get_boolean_value, "support-bot.kill_switch", True
            )

            await record_change(stage.runtime.deps, "support-bot", "prompt", "v13", "ci")
            await set_flag(stage, "kill_switch", FlagKind.KILL_SWITCH, True)

            assert (
                await asyncio.to_thread(client.get_string_value, "support-bot.prompt", "fallback")
                == "v13"
            )
            assert await asyncio.to_thread(
                client.get_boolean_value, "support-bot.kill_switch", False
            )


async def test_the_official_client_gets_its_default_for_an_unknown_key(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with registry_stage(make_stage, tmp_path) as stage:
        with openfeature_client(stage) as client:
            missing = await asyncio.to_thread(
                client.get_boolean_details, "support-bot.kill-switch", False
            )
            assert (missing.value, missing.error_code) == (False, ErrorCode.FLAG_NOT_FOUND)
            assert missing.error_message and "support-bot.kill_switch" in missing.error_message


async def test_the_official_client_sees_a_flag_flipped_and_a_rollback_approved_in_slack(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with action_stage(make_stage, tmp_path) as stage:
        incident = await open_incident(stage)
        channel = incident.channel_id
        assert channel is not None
        with openfeature_client(stage) as client:
            user = EvaluationContext(targeting_key="user-7")
            assert (
                await asyncio.to_thread(
                    client.get_integer_value, "support-bot.new-retriever", -1, user
                )
                == 30
            )
            await stage.command("bob", channel, "flag new-retriever 0% because wrong sources")
            assert (
                await asyncio.to_thread(
                    client.get_integer_value, "support-bot.new-retriever", -1, user
                )
                == 0
            )

            await stage.command("alice", channel, "rollback prompt")
            await stage.driver.click("carol", channel, card(stage, incident)["ts"], ACTION_APPROVE)
            await stage.settle()
            assert (
                await asyncio.to_thread(client.get_string_value, "support-bot.prompt", "fallback")
                == "v12"
            )
