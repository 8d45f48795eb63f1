"""articles: content_hash no longer unique, so another outlet's word-for-word copy is stored

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 09:00:00

A syndicated copy that no outlet edited has the same content hash as the copy stored first.
The unique key on `articles.content_hash` made the store drop it as a duplicate, so the
story counted one article and one outlet where an edited copy counted two. The key becomes
a plain index (`ix_articles_content_hash`, the store still looks copies up by hash): the
store keeps a copy from another feed, in the story of the stored one, and drops a copy from
the same feed.

PostgreSQL drops the constraint and creates the index. SQLite cannot drop a table
constraint, so `articles` is rebuilt (Alembic batch mode: copy, drop, rename), with row ids
kept, so the contentless FTS table of revision 0002 stays valid. The rebuild needs, first,
the full-text views and triggers of 0002 out of the way (renaming the copy to `articles`
fails while a view names a missing table, and dropping the table drops its triggers): they
are read from `sqlite_master`, dropped and recreated as they were. Second, foreign keys
unenforced (`env.py` runs migrations so on SQLite), or dropping the old table would delete
the matches and band keys of every article and null out every alert's and entry's article;
a `foreign_key_check` after the rebuild refuses to commit a dangling reference.

On SQLite the rebuilt table also takes AUTOINCREMENT, so an article id is never given again
after the article is deleted (SQLite reuses the highest rowid otherwise).

Downgrading restores the unique key, and is refused while two articles share a hash.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from alembic import op
from sqlalchemy import text

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_UNIQUE = "uq_articles_content_hash"
_INDEX = "ix_articles_content_hash"
_TEMPORARY = "_alembic_tmp_articles"  # batch mode's copy; left behind by an interrupted rebuild


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_UNIQUE, "articles", type_="unique")
        op.create_index(_INDEX, "articles", ["content_hash"])
        return
    # AUTOINCREMENT while the table is rebuilt anyway: SQLite would otherwise give a new
    # article the id of the highest deleted one (`feeds remove`, retention), and evidence,
    # payloads and logs that cite the old id would name another article.
    with (
        _sqlite_rebuild(),
        op.batch_alter_table(
            "articles", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch,
    ):
        batch.drop_constraint(_UNIQUE, type_="unique")
        batch.create_index(_INDEX, ["content_hash"])


def downgrade() -> None:
    shared = op.get_bind().scalar(
        text(
            "SELECT count(*) FROM (SELECT content_hash FROM articles "
            "GROUP BY content_hash HAVING count(*) > 1) AS copies"
        )
    )
    if shared:
        raise RuntimeError(
            f"cannot downgrade below 0010: {shared} article texts are stored more than once "
            "(copies from several outlets); revision 0009 allows one article per text"
        )
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(_INDEX, table_name="articles")
        op.create_unique_constraint(_UNIQUE, "articles", ["content_hash"])
        return
    with _sqlite_rebuild(), op.batch_alter_table("articles", recreate="always") as batch:
        batch.drop_index(_INDEX)
        batch.create_unique_constraint(_UNIQUE, ["content_hash"])


@contextlib.contextmanager
def _sqlite_rebuild() -> Iterator[None]:
    """Around a batch rebuild of `articles` on SQLite: the views and triggers that name it
    dropped before and recreated after, a leftover copy of an interrupted rebuild removed,
    and the foreign keys checked at the end."""
    bind = op.get_bind()
    saved = bind.execute(
        text(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
            "(type = 'view' OR (type = 'trigger' AND tbl_name = 'articles')) ORDER BY rowid"
        )
    ).all()
    for kind, name, _ in reversed(saved):
        op.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
    op.execute(f"DROP TABLE IF EXISTS {_TEMPORARY}")
    yield
    for _, _, sql in saved:
        op.execute(sql)
    dangling = bind.execute(text("PRAGMA foreign_key_check")).all()
    if dangling:
        raise RuntimeError(f"rebuilding articles left dangling references: {dangling[:5]}")
