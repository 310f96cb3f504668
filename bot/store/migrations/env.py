"""Alembic's entry point.

`bot.store.migrations` runs it on a connection it has opened and locked
(`config.attributes["connection"]`). The `alembic` command (development only) passes a URL
instead, with `-x url=…` or DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import os
from typing import Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from bot.store.database import normalize_url
from bot.store.migrations import migrating
from bot.store.models import Base, UtcDateTime


def render_item(kind: str, item: object, autogen: AutogenContext) -> str | Literal[False]:
    """Write the models' UtcDateTime as the plain type it stores, so that migrations never
    import app code (which changes later, while a migration must not)."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_url(url: str) -> None:
    async with migrating(url) as connection:
        await connection.run_sync(run_migrations)


def url_from_command_line() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("Pass the database with `-x url=…` or set DATABASE_URL.")
    return url


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
    elif context.is_offline_mode():
        context.configure(
            url=normalize_url(url_from_command_line()),
            target_metadata=Base.metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_with_url(url_from_command_line()))


main()
