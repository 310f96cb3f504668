"""Repeated notifications counted on the alert row, and the source's time of its status.

A notification that only repeats an alert's status no longer writes a timeline event: the
alert row counts the repeats since its status last changed and when the first and last came.
`status_at` is the source's own time of the newest event applied (PagerDuty's occurred_at), so
that a late delivery of an older event cannot undo a newer one. Rows kept before this start
with no repeats and no status time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("repeats", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("repeated_from", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("repeated_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("repeated_until")
        batch.drop_column("repeated_from")
        batch.drop_column("repeats")
        batch.drop_column("status_at")
