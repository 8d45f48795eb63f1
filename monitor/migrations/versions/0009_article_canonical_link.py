"""articles.canonical_link: the canonical URL to show, beside the dedupe key

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:00:00

`articles.canonical_url` is the dedupe key (`pipeline.canonical`: https, no `www.`, no
tracking parameters), not an address that always works: an article served over http that
declares an http canonical URL got an https key. `canonical_link` keeps the address the key
was made from — the page's declared canonical URL when it stays on the entry's site, else
the fetched URL — and is what `canonical_url` means in the article JSON. The key, its
unique index and dedupe are unchanged. Older rows get their fetched `url`: the declaration
was not kept, and the fetched URL is an address that worked.

On SQLite the column is added and dropped in place (`recreate="never"`): a copy-and-move of
`articles` would lose the full-text triggers and views of 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", recreate="never") as batch:
        batch.add_column(sa.Column("canonical_link", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE articles SET canonical_link = url")


def downgrade() -> None:
    with op.batch_alter_table("articles", recreate="never") as batch:
        batch.drop_column("canonical_link")
