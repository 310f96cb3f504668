"""Fixtures shared across test folders."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.unleash import UnleashServer, running_unleash


@pytest.fixture(scope="session")
def unleash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UnleashServer]:
    """One real unleash-server for the whole session (started on first use)."""
    with running_unleash(tmp_path_factory.mktemp("unleash")) as server:
        yield server


# A test stuck on an await would hold CI until its own time limit, saying nothing about where.
# After HUNG_AFTER seconds this prints every task's stack and cancels the test, so it fails
# with the place it waited on.
HUNG_AFTER = float(os.environ.get("STEADYHAND_TEST_HUNG_AFTER", "300"))


@pytest.fixture(autouse=True)
async def fail_a_hung_test(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    def give_up() -> None:
        print(f"\n{request.node.nodeid} still running after {HUNG_AFTER} s; its tasks:")
        for task in asyncio.all_tasks():
            task.print_stack(file=sys.stdout)
        for task in asyncio.all_tasks():  # the test's own task is among them
            task.cancel(f"hung for {HUNG_AFTER} s")

    timer = asyncio.get_running_loop().call_later(HUNG_AFTER, give_up)
    try:
        yield
    finally:
        timer.cancel()
