"""The chaos suite: alerts and slash commands against the real `steadyhand serve` while the
sandbox Slack fails 20% of every Web API call (429, 500, no answer), with the bot killed -9
once mid-run and started again on the same database. Nothing accepted may be lost, nothing
half-opened, nothing doubled. The scenario is bot/sandbox/chaos/, shared with bench/chaos.py.

Smaller than the bench (150 notifications and 40 commands over 20 s instead of 300 and 100
over 30 s) to stay near two minutes per database, most of it the settling time: an opening
cut off by the kill waits for its pending work's lease (60 s) to run out before another start
takes it over. It runs with the rest of the suite (CI included); `-m chaos` selects it alone.
"""

from __future__ import annotations

import pytest

from bot.sandbox.chaos import Scenario, run
from bot.sandbox.failures import Chaos
from tests.support.databases import fresh_database

pytestmark = pytest.mark.chaos

SCENARIO = Scenario(
    notifications=150, commands=40, seed=10, chaos=Chaos(seed=10), traffic_seconds=20.0
)


# The control: the same harness with Slack healthy and no kill finds nothing, so what the
# chaos run reports is the bot's doing, not the harness's.
CALM = Scenario(
    notifications=40,
    commands=10,
    seed=10,
    chaos=Chaos(share=0.0),
    traffic_seconds=8.0,
    kill_after=None,
    settle_min_s=10.0,
    settle_quiet_s=5.0,
)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_nothing_accepted_is_lost_half_opened_or_doubled(kind: str) -> None:
    async with fresh_database(kind) as url:
        outcome = await run(SCENARIO, url)
    print(outcome.report())
    assert outcome.sent.killed_at > 0 and outcome.sent.bot_starts >= 2
    assert outcome.sent.accepted_deliveries > 0 and sum(outcome.sent.acked.values()) > 0
    assert {
        "half-opened": outcome.half_opened,
        "lost": outcome.lost,
        "duplicated": outcome.duplicated,
    } == {"half-opened": [], "lost": [], "duplicated": []}


async def test_a_calm_run_finds_nothing() -> None:
    async with fresh_database("sqlite") as url:
        outcome = await run(CALM, url)
    print(outcome.report())
    assert outcome.sent.accepted_deliveries == CALM.notifications
    assert sum(outcome.sent.acked.values()) == CALM.commands
    assert outcome.met, outcome.report()
