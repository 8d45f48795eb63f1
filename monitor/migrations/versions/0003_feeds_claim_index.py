"""claims: a partial index of the active feeds in next_poll_at order

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 22:05:00

`claim_due` takes the first due feeds in next_poll_at order among the active ones. The
index `ix_feeds_due (state, next_poll_at)` cannot give that order across two states, so
PostgreSQL read and sorted every due feed for each claim (10 ms with 10,000 due). This one
holds only active feeds, in that order; the claim query states the same predicate in the
same literals, so both planners use it and stop after the batch.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("state IN ('ok', 'erroring')")


def upgrade() -> None:
    op.create_index(
        "ix_feeds_claim",
        "feeds",
        ["next_poll_at"],
        postgresql_where=_ACTIVE,
        sqlite_where=_ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_feeds_claim", table_name="feeds")
