"""SqlIdempotencyRepo: the first claim of a key wins, across retries and replicas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import upsert
from bot.store.models import IdempotencyKeyRow


class SqlIdempotencyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, key: str, at: datetime, forget_after: timedelta | None = None) -> bool:
        return key in await self.claim_many([key], at, forget_after)

    async def claim_many(
        self, keys: Sequence[str], at: datetime, forget_after: timedelta | None = None
    ) -> set[str]:
        if not keys:
            return set()
        # ON CONFLICT rather than catching IntegrityError: a failed INSERT would abort the
        # caller's whole transaction on PostgreSQL. A concurrent claimer of the same key waits
        # on the unique index until this transaction ends, then sees the conflict.
        # Sorted: two processes claiming overlapping keys take them in one order.
        rows = [{"key": key, "created_at": at} for key in sorted(keys)]
        stmt = upsert.insert(self._session, IdempotencyKeyRow).values(rows)
        if forget_after is None:
            stmt = stmt.on_conflict_do_nothing(index_elements=[IdempotencyKeyRow.key])
        else:  # an old claim is forgotten: take it over, in the same single statement
            stmt = stmt.on_conflict_do_update(
                index_elements=[IdempotencyKeyRow.key],
                set_={"created_at": at},
                where=IdempotencyKeyRow.created_at <= at - forget_after,
            )
        return set(await self._session.scalars(stmt.returning(IdempotencyKeyRow.key)))
