"""SqlIdempotencyRepo: the first claim of a key wins, across retries and replicas."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import upsert
from bot.store.models import IdempotencyKeyRow


class SqlIdempotencyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, key: str, at: datetime, forget_after: timedelta | None = None) -> bool:
        # ON CONFLICT rather than catching IntegrityError: a failed INSERT would abort the
        # caller's whole transaction on PostgreSQL. A concurrent claimer of the same key waits
        # on the unique index until this transaction ends, then sees the conflict.
        stmt = upsert.insert(self._session, IdempotencyKeyRow).values(key=key, created_at=at)
        if forget_after is None:
            stmt = stmt.on_conflict_do_nothing(index_elements=[IdempotencyKeyRow.key])
        else:  # an old claim is forgotten: take it over, in the same single statement
            stmt = stmt.on_conflict_do_update(
                index_elements=[IdempotencyKeyRow.key],
                set_={"created_at": at},
                where=IdempotencyKeyRow.created_at <= at - forget_after,
            )
        return (await self._session.scalar(stmt.returning(IdempotencyKeyRow.key))) is not None
