"""feeds.origin: how a feed not from the config was added (cli, api, console, opml)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:30:00

A feed's `source` was derived from `config_url` alone, so every feed added through the
API, the console or an OPML import read `cli`. The new nullable column records the face
that added it; config feeds leave it NULL (their `config_url` says where they come from),
and so do feeds added before this revision, which keep reading `cli` (their origin was
not kept). No rows are rewritten.

On SQLite the column is added in place
(`recreate="never"`): a nullable column needs no table rebuild.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", recreate="never") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", recreate="never") as batch:
        batch.drop_column("origin")
