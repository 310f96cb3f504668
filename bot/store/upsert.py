"""INSERT … ON CONFLICT, which SQLAlchemy spells per dialect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql


def insert(session: AsyncSession, entity: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for `entity` that supports `on_conflict_do_nothing`/`…_do_update`."""
    if session.get_bind().dialect.name == "postgresql":
        # Imported here: PostgreSQL's dialect takes 50 ms to import, which a start on SQLite
        # need not pay (on PostgreSQL the engine has imported it already).
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(entity)
    return sqlite.insert(entity)
