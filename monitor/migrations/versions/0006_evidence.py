"""evidence: snapshots of alerted articles, content-addressed blobs, watchlist versions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 07:00:00

`evidence_snapshots` keep, for each article of an alerted story, its fetch (every hop's
request and response headers, the peer address, the raw body's blob) and the text and
metadata as stored; `evidence_blobs` hold the bytes once per sha256, zlib-compressed.
`watchlist_versions` record each distinct watchlist definition loaded; `alerts` gain the
version that raised them and an index on story_id (a copy joining a story asks whether
the story alerted).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import monitor.storage.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, monitor.storage.tables.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "evidence_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", monitor.storage.tables.CompressedBytes(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_evidence_blobs")),
    )
    op.create_table(
        "evidence_snapshots",
        sa.Column("id", _ID, nullable=False),
        sa.Column("story_id", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=True),
        sa.Column("request_url", sa.Text(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("peer_ip", sa.String(length=64), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("exchanges", sa.JSON(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_sha256", sa.String(length=64), nullable=True),
        sa.Column("received_bytes", sa.BigInteger(), nullable=False),
        sa.Column("cut_note", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        _when("fetched_at"),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_evidence_snapshots_article_id_articles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_evidence_snapshots_story_id_stories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_snapshots")),
        sa.UniqueConstraint("article_id", name=op.f("uq_evidence_snapshots_article_id")),
    )
    op.create_index(
        "ix_evidence_snapshots_story_id", "evidence_snapshots", ["story_id"], unique=False
    )
    op.create_index(
        "ix_evidence_snapshots_created_at", "evidence_snapshots", ["created_at"], unique=False
    )
    op.create_table(
        "watchlist_versions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        _when("first_loaded_at"),
        _when("last_loaded_at"),
        sa.Column("host", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_versions")),
        sa.UniqueConstraint("name", "version", name="uq_watchlist_versions_name_version"),
        sa.UniqueConstraint("name", "sha256", name="uq_watchlist_versions_name_sha256"),
    )
    op.add_column("alerts", sa.Column("watchlist_version", sa.Integer(), nullable=True))
    op.create_index("ix_alerts_story_id", "alerts", ["story_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alerts_story_id", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("watchlist_version")
    op.drop_table("watchlist_versions")
    op.drop_index("ix_evidence_snapshots_created_at", table_name="evidence_snapshots")
    op.drop_index("ix_evidence_snapshots_story_id", table_name="evidence_snapshots")
    op.drop_table("evidence_snapshots")
    op.drop_table("evidence_blobs")
