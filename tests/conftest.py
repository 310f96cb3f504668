"""Fixtures shared across test folders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.unleash import UnleashServer, running_unleash


@pytest.fixture(scope="session")
def unleash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UnleashServer]:
    """One real unleash-server for the whole session (started on first use)."""
    with running_unleash(tmp_path_factory.mktemp("unleash")) as server:
        yield server
