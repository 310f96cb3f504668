"""The registry's version row: bumped, and announced on PostgreSQL, inside the transaction that
changes the registry, so no replica hears of a change before it is committed.

`NOTIFY` is transactional: PostgreSQL delivers it on commit and drops it on rollback. The bump
is the transaction's last write (see SqlUnitOfWork.commit), so the one hot row is locked only
for the moment before commit, and always after every other lock: no deadlock can involve it.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import RegistryVersionRow

CHANNEL = "steadyhand_registry"  # LISTEN/NOTIFY channel; the payload is the new version
_ROW = RegistryVersionRow.id == 1


async def bump_version(session: AsyncSession) -> int:
    """The new version; on PostgreSQL also `NOTIFY`, delivered when the transaction commits."""
    version: int | None = await session.scalar(
        update(RegistryVersionRow)
        .where(_ROW)
        .values(version=RegistryVersionRow.version + 1)
        .returning(RegistryVersionRow.version)
    )
    if version is None:
        raise RuntimeError("the registry_version row is missing; run `steadyhand db upgrade`")
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(CHANNEL, str(version))))
    return version


async def read_version(session: AsyncSession) -> int:
    version: int | None = await session.scalar(select(RegistryVersionRow.version).where(_ROW))
    return version or 0
