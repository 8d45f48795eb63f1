"""full-text search over articles: SQLite FTS5 kept by triggers, a PostgreSQL tsvector index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00

`monitor articles search` preselects candidates here and lets the matcher confirm them, so
the index must hold every word the matcher could match. Both backends therefore index the
article (title, a space, text) after the matcher's own letter folds: Arabic-script letter
variants folded, harakat and tatweel dropped, invisible format characters dropped, Arabic-
Indic and Persian digits as ASCII, Cyrillic ё as е. The tokenizer does the rest (case,
Latin diacritics, punctuation as separators). The folds are a frozen copy of
`monitor.pipeline.normalize` as of this revision; a test compares them with the live ones,
so a change there needs a new revision.

SQLite: a contentless FTS5 table `articles_fts` (rowid = article id, one column `doc`), kept
in sync by triggers on insert, delete and an update of title or text (retention blanking a
text is an update). SQLite's parser only takes about 20 nested calls, so the folds are a
chain of views, 20 `replace()` a view; the long Arabic-script chain runs only for articles
with a character of the Arabic block, flagged by the first view. SQLite has no NFKC:
compatibility forms (fullwidth letters, ligatures, presentation forms) are not folded there.
Without the FTS5 module the search falls back to scanning and nothing is created here.
A later batch (copy-and-move) migration of `articles` on SQLite must recreate the views and
triggers.

PostgreSQL: an IMMUTABLE PL/pgSQL function `monitor_search_document(title, text)` (NFKC,
the folds, ASCII punctuation as spaces so the parser makes no URL, host or file tokens of
`kabul.com` or `ISIS/Daesh`, then `to_tsvector('simple', …)` so no language's stemming or
stop words apply) and a GIN index on it; no triggers. A tsvector holds at most
1 MB, so the function reads the first 250,000 characters; `monitor_search_truncated(title,
text)` flags the longer articles, which the search always takes as candidates (a partial
index finds them).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PG_MAX_CHARS = 250_000
_CHAIN = 20  # replace() calls a view: SQLite's parser overflows at about 35 nested calls

_LETTER_FOLDS = {
    "\u06cc": "\u064a\u0649\u06d0\u06cd\u06d2",  # yeh
    "\u06a9": "\u0643\u06aa",  # kaf
    "\u06af": "\u06ab",  # gaf
    "\u0647": "\u0629\u06c0\u06d5\u06c1\u06be",  # heh
    "\u0627": "\u0623\u0625\u0622\u0671\u0672\u0673",  # alef
}
_CYRILLIC_FOLDS = {"\u0435": "\u0451", "\u0415": "\u0401"}  # е ё, Е Ё
_ARABIC_MARKS = (
    (0x0610, 0x061A),
    (0x064B, 0x065F),
    (0x0670, 0x0670),
    (0x06D6, 0x06DC),
    (0x06DF, 0x06E4),
    (0x06E7, 0x06E8),
    (0x06EA, 0x06ED),
    (0x08D3, 0x08E1),
    (0x08E3, 0x08FF),
)
_ARABIC_FORMAT: tuple[int, ...] = (*range(0x0600, 0x0606), 0x061C, 0x06DD, 0x0890, 0x0891, 0x08E2)
_ARABIC_FORMAT += (0x0640,)  # and tatweel
# Format characters the matcher drops (U+200B and U+200C it reads as a space, as the
# tokenizers do, so they need no fold).
_FORMAT: tuple[int, ...] = (
    0x00AD,
    0x070F,
    0x180E,
    0x200D,
    0x200E,
    0x200F,
    0xFEFF,
    0xFFF9,
    0xFFFA,
    0xFFFB,
)
_FORMAT += (*range(0x202A, 0x202F), *range(0x2060, 0x2065), *range(0x2066, 0x2070))
ARABIC_BLOCK = "[\u0600-\u06ff]"  # GLOB class: the article needs the Arabic-script folds


def general_folds() -> list[tuple[str, str]]:
    """(character, replacement) the search index applies to every article."""
    folds = [(chr(cp), "") for cp in _FORMAT]
    return folds + [(c, to) for to, sources in _CYRILLIC_FOLDS.items() for c in sources]


def arabic_folds() -> list[tuple[str, str]]:
    """(character, replacement) applied to articles with Arabic-block characters."""
    folds = [(c, to) for to, sources in _LETTER_FOLDS.items() for c in sources]
    folds += [(chr(0x0660 + d), str(d)) for d in range(10)]
    folds += [(chr(0x06F0 + d), str(d)) for d in range(10)]
    folds += [(chr(cp), "") for first, last in _ARABIC_MARKS for cp in range(first, last + 1)]
    return folds + [(chr(cp), "") for cp in _ARABIC_FORMAT]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- SQLite -----------------------------------------------------------------------------


def _replace_chain(column: str, folds: list[tuple[str, str]]) -> str:
    expression = column
    for char, replacement in folds:
        expression = f"replace({expression}, {_quote(char)}, {_quote(replacement)})"
    return expression


def _sqlite_views() -> tuple[list[str], list[str], str, str]:
    """The view chain: general folds first, then the Arabic-script folds."""
    statements = [
        "CREATE VIEW articles_fts_v0 AS SELECT id, "
        "coalesce(title, '') || ' ' || coalesce(text, '') AS doc, "
        "(coalesce(title, '') || ' ' || coalesce(text, '')) "
        f"GLOB '*{ARABIC_BLOCK}*' AS arabic FROM articles"
    ]
    names = ["articles_fts_v0"]
    ends = []
    for folds in (general_folds(), arabic_folds()):
        for start in range(0, len(folds), _CHAIN):
            name = f"articles_fts_v{len(names)}"
            chain = _replace_chain("doc", folds[start : start + _CHAIN])
            statements.append(
                f"CREATE VIEW {name} AS SELECT id, {chain} AS doc, arabic FROM {names[-1]}"
            )
            names.append(name)
        ends.append(names[-1])
    return statements, names, ends[0], ends[1]


def _sqlite_index_rows(general: str, full: str, key: str, *, delete: bool) -> list[str]:
    """Statements that add (or, with delete, remove) the rows whose id matches `key`."""
    target = "articles_fts(articles_fts, rowid, doc)" if delete else "articles_fts(rowid, doc)"
    command = "'delete', " if delete else ""
    return [
        f"INSERT INTO {target} SELECT {command}id, doc FROM {general} "
        f"WHERE id = {key} AND NOT arabic;",
        f"INSERT INTO {target} SELECT {command}id, doc FROM {full} WHERE id = {key} AND arabic;",
    ]


def _sqlite_triggers(general: str, full: str) -> list[str]:
    def trigger(name: str, when: str, key: str, delete: bool) -> str:
        body = " ".join(_sqlite_index_rows(general, full, key, delete=delete))
        return f"CREATE TRIGGER {name} {when} ON articles BEGIN {body} END"

    return [
        trigger("articles_fts_ai", "AFTER INSERT", "new.id", False),
        trigger("articles_fts_bd", "BEFORE DELETE", "old.id", True),
        trigger("articles_fts_bu", "BEFORE UPDATE OF title, text", "old.id", True),
        trigger("articles_fts_au", "AFTER UPDATE OF title, text", "new.id", False),
    ]


def _upgrade_sqlite() -> None:
    try:
        op.execute(
            "CREATE VIRTUAL TABLE articles_fts USING fts5("
            "doc, content='', tokenize='unicode61 remove_diacritics 2')"
        )
    except OperationalError:  # built without FTS5: `articles search` scans instead
        return
    views, _, general, full = _sqlite_views()
    for statement in views + _sqlite_triggers(general, full):
        op.execute(statement)
    op.execute(
        f"INSERT INTO articles_fts(rowid, doc) SELECT id, doc FROM {general} WHERE NOT arabic "
        f"UNION ALL SELECT id, doc FROM {full} WHERE arabic"
    )


def _downgrade_sqlite() -> None:
    for name in ("articles_fts_ai", "articles_fts_bd", "articles_fts_bu", "articles_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    _, names, _, _ = _sqlite_views()
    for name in reversed(names):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS articles_fts")


# --- PostgreSQL -------------------------------------------------------------------------


def _regex_class(chars: list[str]) -> str:
    """A regex bracket expression of non-ASCII characters, runs written as ranges."""
    points = sorted({ord(c) for c in chars})
    runs: list[list[int]] = []
    for cp in points:
        if runs and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return "[" + "".join(chr(a) + ("-" + chr(b) if b > a else "") for a, b in runs) + "]"


ARABIC_PG = "[\u0600-\u06ff\u08a0-\u08ff]"
_PUNCT = "[!-/:-@[-`{-~]"  # ASCII punctuation: the matcher's word view has none of it


def postgres_function() -> str:
    """The PL/pgSQL body of monitor_search_document: each fold only where its characters are.

    (One translate() over every fold costs about 5 ms an article: it scans its whole `from`
    string for every character. A regex test costs about 0.1 ms.)
    """
    general_removed = [c for c, to in general_folds() if not to]
    cyrillic = [(c, to) for c, to in general_folds() if to]
    arabic_removed = [c for c, to in arabic_folds() if not to]
    arabic_mapped = [(c, to) for c, to in arabic_folds() if to]
    utf8 = op.get_bind().execute(text("SHOW server_encoding")).scalar() == "UTF8"
    whole = f"left(coalesce(title, '') || ' ' || coalesce(body, ''), {PG_MAX_CHARS})"
    steps = [
        f"d := normalize({whole}, NFKC);" if utf8 else f"d := {whole};",
        _pg_when(_regex_class(general_removed), _pg_remove(general_removed)),
        _pg_when(_regex_class([c for c, _ in cyrillic]), _pg_translate(cyrillic)),
        _pg_when(ARABIC_PG, _pg_remove(arabic_removed) + " " + _pg_translate(arabic_mapped)),
        f"RETURN to_tsvector('simple'::regconfig, regexp_replace(d, {_quote(_PUNCT)}, ' ', 'g'));",
    ]
    return "DECLARE d text; BEGIN " + " ".join(steps) + " END;"


def _pg_when(guard: str, statements: str) -> str:
    return f"IF d ~ {_quote(guard)} THEN {statements} END IF;"


def _pg_remove(chars: list[str]) -> str:
    return f"d := regexp_replace(d, {_quote(_regex_class(chars))}, '', 'g');"


def _pg_translate(pairs: list[tuple[str, str]]) -> str:
    source = _quote("".join(c for c, _ in pairs))
    target = _quote("".join(to for _, to in pairs))
    return f"d := translate(d, {source}, {target});"


def _upgrade_postgresql() -> None:
    op.execute(
        "CREATE FUNCTION monitor_search_document(title text, body text) RETURNS tsvector "
        # COST: about a millisecond an article, so the planner asks the index instead
        "LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 10000 AS $$ " + postgres_function() + " $$"
    )
    op.execute(
        "CREATE FUNCTION monitor_search_truncated(title text, body text) RETURNS boolean "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT "
        f"octet_length(coalesce(title, '')) + octet_length(coalesce(body, '')) >= {PG_MAX_CHARS}"
        " $$"
    )
    op.execute(
        "CREATE INDEX ix_articles_search ON articles "
        "USING gin (monitor_search_document(title, text))"
    )
    op.execute(
        "CREATE INDEX ix_articles_search_long ON articles (fetched_at) "
        "WHERE monitor_search_truncated(title, text)"
    )


def _downgrade_postgresql() -> None:
    op.execute("DROP INDEX IF EXISTS ix_articles_search_long")
    op.execute("DROP INDEX IF EXISTS ix_articles_search")
    op.execute("DROP FUNCTION IF EXISTS monitor_search_truncated(text, text)")
    op.execute("DROP FUNCTION IF EXISTS monitor_search_document(text, text)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
    else:
        _downgrade_sqlite()
