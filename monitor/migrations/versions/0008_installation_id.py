"""installation: one random id per database, mixed into alert ids; entry errors; feed notes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:00:00

Alert ids were derived from (watchlist, story number) alone, so two databases (a rebuilt
one, a second installation, the demo) gave different alerts the same id, and receivers that
drop a `webhook-id` or `Message-ID` they have seen dropped real alerts. The id written here
once, when the database is created or upgraded, makes every database's ids its own; it never
changes afterwards, so an alert keeps its id across retries and restarts.

`entries.error` records an item that could not be stored (the rest of its feed is), and
`feeds.note` what the last poll that read the feed left undone (failed items, items deferred
to the next poll by the per-poll cap), shown by `monitor status`; `alerts.article_snapshot`
the article's facts when the alert was raised, shown once the article is deleted;
`outbox.retried_from` the attempts a delivery had when it was requeued, so `alerts retry`
keeps the attempt history and still gives a fresh budget.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "installation",
        sa.Column("id", sa.String(32), primary_key=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    now = datetime.now(UTC)
    created = now.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else now
    op.bulk_insert(table, [{"id": secrets.token_hex(16), "created_at": created}])
    op.add_column("entries", sa.Column("error", sa.Text(), nullable=True))
    op.add_column("feeds", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("alerts", sa.Column("article_snapshot", sa.JSON(), nullable=True))
    op.add_column(
        "outbox", sa.Column("retried_from", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("retried_from")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("article_snapshot")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("error")
    op.drop_table("installation")
