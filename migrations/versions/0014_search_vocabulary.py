"""search vocabulary for "did you mean", and search indexes that find the newest matches


Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

The words members and editors have written, kept by the database as they are written, so a
query that finds nothing can be offered a near spelling. PostgreSQL: a `search_words` table
(kept by triggers) with a pg_trgm index. SQLite: a contentless FTS5 table without stemming
(kept by triggers) read through an fts5vocab table `search_words`.

The vocabulary is a superset: it keeps words of posts since hidden, held or deleted (removing
them would mean recounting every word on every moderation decision). forum/search/suggest.py
offers a word only after finding it in text an anonymous reader can see.

PostgreSQL's GIN indexes on post bodies and thread titles become two-column indexes (btree_gin)
led by a bucket of post ids, `id / 4096`, so search can look for the newest matches one window
of posts at a time (forum/search/service.py, BUCKET); they are built without a pending list
(fastupdate off), which every search otherwise reads in full until a vacuum empties it.

SQLite batch migrations rebuild tables and drop their triggers: a later migration that rebuilds
posts, threads or articles must create SQLITE_TRIGGERS again (tests/search check they exist).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Words of letters only, 3 to 40 of them: what a misspelling can be corrected to.
_WORDS = (
    "SELECT DISTINCT w FROM {source}"
    "regexp_split_to_table(lower({text}), '[^[:alpha:]]+') AS w "
    "WHERE length(w) BETWEEN 3 AND 40"
)
# (table, text expression): what each table adds to the vocabulary.
_SOURCES = [
    ("posts", "{r}.body_source"),
    ("threads", "{r}.title"),
    ("articles", "{r}.title || ' ' || {r}.summary || ' ' || {r}.body_source"),
]


PG_INDEXES = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "DROP INDEX IF EXISTS ix_fts_posts_body",
    "DROP INDEX IF EXISTS ix_fts_threads_title",
    "CREATE INDEX ix_fts_posts_body ON posts USING GIN ((id / 4096), search_vector) "
    "WITH (fastupdate = off)",
    "CREATE INDEX ix_fts_threads_title ON threads USING GIN ((first_post_id / 4096), title_vector) "
    "WITH (fastupdate = off)",
]
PG_INDEXES_DOWNGRADE = [
    "DROP INDEX IF EXISTS ix_fts_posts_body",
    "DROP INDEX IF EXISTS ix_fts_threads_title",
    "CREATE INDEX ix_fts_posts_body ON posts USING GIN (search_vector)",
    "CREATE INDEX ix_fts_threads_title ON threads USING GIN (title_vector)",
]


def _pg_upgrade() -> list[str]:
    statements = [
        *PG_INDEXES,
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE TABLE search_words (word text PRIMARY KEY)",
        "CREATE INDEX search_words_trgm ON search_words USING GIN (word gin_trgm_ops)",
    ]
    for table, text in _SOURCES:
        # New rows: one statement-level trigger per INSERT (a bulk insert is one pass), words
        # in order so concurrent writers of the same new words cannot deadlock. Edits: a row
        # trigger when the text changed. ON CONFLICT DO NOTHING takes no lock on known words.
        backfill = _WORDS.format(source=table + ", ", text=text.format(r=table))
        words = _WORDS.format(source="new_rows, ", text=text.format(r="new_rows"))
        row_words = _WORDS.format(source="", text=text.format(r="NEW"))
        statements += [
            f"CREATE FUNCTION search_words_{table}_ins() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN INSERT INTO search_words (word) {words} ORDER BY 1 ON CONFLICT DO NOTHING; "
            "RETURN NULL; END $$",
            f"CREATE TRIGGER search_words_{table}_ins AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION search_words_{table}_ins()",
            f"CREATE FUNCTION search_words_{table}_upd() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN INSERT INTO search_words (word) {row_words} ORDER BY 1 "
            "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
            f"CREATE TRIGGER search_words_{table}_upd AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN (({text.format(r='OLD')}) IS DISTINCT FROM ({text.format(r='NEW')})) "
            f"EXECUTE FUNCTION search_words_{table}_upd()",
            f"INSERT INTO search_words (word) {backfill} ON CONFLICT DO NOTHING",
        ]
    return statements


SQLITE_TRIGGERS = [
    "CREATE TRIGGER search_words_posts_ai AFTER INSERT ON posts BEGIN "
    "INSERT INTO search_words_fts(body) VALUES (new.body_source); END",
    "CREATE TRIGGER search_words_posts_au AFTER UPDATE OF body_source ON posts BEGIN "
    "INSERT INTO search_words_fts(body) VALUES (new.body_source); END",
    "CREATE TRIGGER search_words_threads_ai AFTER INSERT ON threads BEGIN "
    "INSERT INTO search_words_fts(body) VALUES (new.title); END",
    "CREATE TRIGGER search_words_threads_au AFTER UPDATE OF title ON threads BEGIN "
    "INSERT INTO search_words_fts(body) VALUES (new.title); END",
    "CREATE TRIGGER search_words_articles_ai AFTER INSERT ON articles BEGIN "
    "INSERT INTO search_words_fts(body) "
    "VALUES (new.title || ' ' || new.summary || ' ' || new.body_source); END",
    "CREATE TRIGGER search_words_articles_au AFTER UPDATE OF title, summary, body_source "
    "ON articles BEGIN INSERT INTO search_words_fts(body) "
    "VALUES (new.title || ' ' || new.summary || ' ' || new.body_source); END",
]
SQLITE_UPGRADE = [
    # No content, no positions: only which words exist. Diacritics kept, as written.
    "CREATE VIRTUAL TABLE search_words_fts USING fts5(body, content='', detail='none', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE search_words USING fts5vocab(search_words_fts, 'row')",
    "INSERT INTO search_words_fts(body) SELECT body_source FROM posts",
    "INSERT INTO search_words_fts(body) SELECT title FROM threads",
    "INSERT INTO search_words_fts(body) SELECT title || ' ' || summary || ' ' || body_source "
    "FROM articles",
    *SQLITE_TRIGGERS,
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _pg_upgrade():
            op.execute(statement)
    else:
        for statement in SQLITE_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _text in _SOURCES:
            for kind in ("ins", "upd"):
                op.execute(f"DROP TRIGGER IF EXISTS search_words_{table}_{kind} ON {table}")
                op.execute(f"DROP FUNCTION IF EXISTS search_words_{table}_{kind}()")
        op.execute("DROP TABLE IF EXISTS search_words")
        for statement in PG_INDEXES_DOWNGRADE:
            op.execute(statement)
        # pg_trgm and btree_gin stay: other objects may have come to use it.
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}")
        op.execute("DROP TABLE IF EXISTS search_words")
        op.execute("DROP TABLE IF EXISTS search_words_fts")
