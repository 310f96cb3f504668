from __future__ import annotations

import pytest

from bot.domain.errors import ConfigError
from bot.store.database import create_engine, normalize_url
from tests.support.databases import fresh_database


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./steadyhand.db", "sqlite+aiosqlite:///./steadyhand.db"),
        ("sqlite+aiosqlite:////var/lib/sh.db", "sqlite+aiosqlite:////var/lib/sh.db"),
        ("postgres://u:p@db:5432/sh", "postgresql+asyncpg://u:p@db:5432/sh"),
        ("postgresql://u@db/sh", "postgresql+asyncpg://u@db/sh"),
        ("postgresql+asyncpg://u@db/sh", "postgresql+asyncpg://u@db/sh"),
        ("postgres://u@db/sh?sslmode=require", "postgresql+asyncpg://u@db/sh?ssl=require"),
    ],
)
def test_urls_are_normalised_to_async_drivers(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:secret@db/sh",
        "postgresql+psycopg2://u:secret@db/sh",
        "not a url secret",
    ],
)
def test_unsupported_urls_name_the_setting_and_hide_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalize_url(url)
    assert caught.value.setting == "DATABASE_URL"
    assert "secret" not in str(caught.value)


async def test_sqlite_connections_are_set_up_for_concurrency() -> None:
    async with fresh_database("sqlite") as url:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                pragmas = {
                    name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                    for name in ("journal_mode", "busy_timeout", "foreign_keys")
                }
        finally:
            await engine.dispose()
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 10_000, "foreign_keys": 1}
