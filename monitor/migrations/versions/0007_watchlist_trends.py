"""watchlist trends: hourly story/outlet counts per watchlist and actor, surge/quiet episodes

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06 07:00:00

The counts start empty: the trends job fills them from the stored matches on its first run
(history first, a week of matches per query), so an upgrade stays quick on a large database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.storage.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OPEN_EPISODE = sa.text("ended_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "trend_counts",
        sa.Column("watchlist", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("stories", sa.Integer(), nullable=False),
        sa.Column("outlets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("watchlist", "actor", "hour", name="pk_trend_counts"),
    )
    op.create_index("ix_trend_counts_hour", "trend_counts", ["hour"])
    op.create_table(
        "trend_episodes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trend_episodes"),
    )
    op.create_index(
        "uq_trend_episodes_open",
        "trend_episodes",
        ["type", "subject"],
        unique=True,
        postgresql_where=OPEN_EPISODE,
        sqlite_where=OPEN_EPISODE,
    )
    op.create_index("ix_trend_episodes_subject", "trend_episodes", ["subject", "started_at"])
    op.create_index("ix_matches_created_at", "matches", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_matches_created_at", "matches")
    op.drop_table("trend_episodes")
    op.drop_table("trend_counts")
