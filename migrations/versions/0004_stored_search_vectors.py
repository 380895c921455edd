"""stored search vectors on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Ranking search results recomputed to_tsvector() for every matching row; stored generated
columns make ranking read the vectors instead. PostgreSQL only (SQLite uses FTS5 tables).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = [
    "ALTER TABLE posts ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', body_source)) STORED",
    "ALTER TABLE threads ADD COLUMN title_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', title)) STORED",
    "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', summary || ' ' || body_source), 'B')) STORED",
    "DROP INDEX IF EXISTS ix_fts_posts_body",
    "DROP INDEX IF EXISTS ix_fts_threads_title",
    "DROP INDEX IF EXISTS ix_fts_articles",
    "CREATE INDEX ix_fts_posts_body ON posts USING GIN (search_vector)",
    "CREATE INDEX ix_fts_threads_title ON threads USING GIN (title_vector)",
    "CREATE INDEX ix_fts_articles ON articles USING GIN (search_vector)",
]
DOWNGRADE = [
    "DROP INDEX IF EXISTS ix_fts_posts_body",
    "DROP INDEX IF EXISTS ix_fts_threads_title",
    "DROP INDEX IF EXISTS ix_fts_articles",
    "ALTER TABLE posts DROP COLUMN search_vector",
    "ALTER TABLE threads DROP COLUMN title_vector",
    "ALTER TABLE articles DROP COLUMN search_vector",
    "CREATE INDEX ix_fts_posts_body ON posts USING GIN (to_tsvector('english', body_source))",
    "CREATE INDEX ix_fts_threads_title ON threads USING GIN (to_tsvector('english', title))",
    "CREATE INDEX ix_fts_articles ON articles USING GIN ("
    "(setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', summary || ' ' || body_source), 'B')))",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
