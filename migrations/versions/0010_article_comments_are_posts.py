"""article comments are posts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Article comments bypassed moderation: public at once, never scored, and nobody could report,
hide or delete one. A comment is now a post in the article's discussion thread (in the
"Article discussions" category), so it goes through the same path as every post. Existing
comments move into such threads and are queued for scoring. Post revisions also keep the
thread title an edit replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import forum.core.db
from forum.core.text import render_markdown

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLUG = "article-discussions"
# Rebuilding `articles` on SQLite (batch mode) drops its triggers: 0003's search triggers again.
ARTICLE_TRIGGERS = [
    "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN INSERT INTO articles_fts(rowid, "
    "title, body) VALUES (new.id, new.title, new.summary || ' ' || new.body_source); END",
    "CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, summary, body_source ON articles BEGIN "
    "UPDATE articles_fts SET title = new.title, body = new.summary || ' ' || new.body_source "
    "WHERE rowid = new.id; END",
    "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN "
    "DELETE FROM articles_fts WHERE rowid = old.id; END",
]


def _restore_article_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("articles_fts_ai", "articles_fts_au", "articles_fts_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in ARTICLE_TRIGGERS:
            op.execute(statement)


def _category(conn: Any) -> int:
    found = conn.execute(sa.text("SELECT id FROM categories WHERE slug = :s"), {"s": SLUG}).scalar()
    if found is not None:
        return int(found)
    conn.execute(
        sa.text(
            "INSERT INTO categories (name, slug, description, position, staff_only, "
            "thread_count, post_count) VALUES ('Article discussions', :s, "
            "'Comments on the board''s articles.', 1000, :f, 0, 0)"
        ),
        {"s": SLUG, "f": False},
    )
    return int(
        conn.execute(sa.text("SELECT id FROM categories WHERE slug = :s"), {"s": SLUG}).scalar()
    )


def _insert(conn: Any, table: str, values: dict[str, Any]) -> int:
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    statement = sa.text(f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING id")
    return int(conn.execute(statement, values).scalar())


def _move_comments(conn: Any) -> None:
    articles = conn.execute(
        sa.text(
            "SELECT a.id, a.author_id, a.title, a.summary, a.created_at FROM articles a "
            "WHERE EXISTS (SELECT 1 FROM article_comments c WHERE c.article_id = a.id "
            "AND NOT c.is_deleted) ORDER BY a.id"
        )
    ).all()
    if not articles:
        return
    category = _category(conn)
    for article_id, author_id, title, summary, created_at in articles:
        comments = conn.execute(
            sa.text(
                "SELECT author_id, body_source, body_html, created_at FROM article_comments "
                "WHERE article_id = :a AND NOT is_deleted ORDER BY id"
            ),
            {"a": article_id},
        ).all()
        thread = _insert(conn, "threads", {
            "category_id": category, "author_id": author_id, "title": title[:200],
            "created_at": created_at, "last_post_at": comments[-1][3],
            "post_count": 1 + len(comments), "view_count": 0, "is_locked": False,
            "is_pinned": False, "is_deleted": False, "needs_related": True,
        })  # fmt: skip
        opening = f"{summary}\n\n[Read the article](/articles/{article_id})"
        first = _insert(conn, "posts", {
            "thread_id": thread, "author_id": author_id, "body_source": opening,
            "body_html": render_markdown(opening), "created_at": created_at, "edit_count": 0,
            "is_deleted": False, "moderation_state": "clear", "moderation_note": "",
            "needs_scoring": False, "mod_attempts": 0, "nudge_phrases": "",
        })  # fmt: skip
        last = first
        for comment_author, source, html, when in comments:
            last = _insert(conn, "posts", {
                "thread_id": thread, "author_id": comment_author, "body_source": source,
                "body_html": html, "created_at": when, "edit_count": 0, "is_deleted": False,
                # Never scored as comments: scored now, public meanwhile as they were.
                "moderation_state": "pending", "moderation_note": "", "needs_scoring": True,
                "mod_attempts": 0, "nudge_phrases": "",
            })  # fmt: skip
        conn.execute(
            sa.text(
                "UPDATE threads SET first_post_id = :first, last_post_id = :last, "
                "last_poster_id = (SELECT author_id FROM posts WHERE id = :last) WHERE id = :t"
            ),
            {"first": first, "last": last, "t": thread},
        )
        conn.execute(
            sa.text("UPDATE articles SET thread_id = :t WHERE id = :a"),
            {"t": thread, "a": article_id},
        )
    conn.execute(
        sa.text(
            "UPDATE categories SET thread_count = (SELECT count(*) FROM threads t WHERE "
            "t.category_id = categories.id AND NOT t.is_deleted), post_count = (SELECT "
            "coalesce(sum(t.post_count), 0) FROM threads t WHERE t.category_id = categories.id "
            "AND NOT t.is_deleted), last_post_at = (SELECT max(t.last_post_at) FROM threads t "
            "WHERE t.category_id = categories.id AND NOT t.is_deleted) WHERE id = :c"
        ),
        {"c": category},
    )
    conn.execute(
        sa.text(
            "UPDATE users SET post_count = (SELECT count(*) FROM posts p WHERE "
            "p.author_id = users.id AND NOT p.is_deleted)"
        )
    )


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("thread_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_articles_thread_id_threads"), "threads", ["thread_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
    _restore_article_triggers()
    with op.batch_alter_table("post_revisions") as batch:
        batch.add_column(sa.Column("title", sa.String(length=200), nullable=True))
    _move_comments(op.get_bind())
    with op.batch_alter_table("article_comments") as batch:
        batch.drop_index("ix_article_comments_article_id_id")
    op.drop_table("article_comments")


def downgrade() -> None:
    op.create_table(
        "article_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", forum.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"],
            name=op.f("fk_article_comments_article_id_articles"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"],
            name=op.f("fk_article_comments_author_id_users"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_comments")),
    )  # fmt: skip
    with op.batch_alter_table("article_comments") as batch:
        batch.create_index("ix_article_comments_article_id_id", ["article_id", "id"], unique=False)
    # The replies in discussion threads go back to being comments (the threads stay).
    op.execute(
        "INSERT INTO article_comments (article_id, author_id, body_source, body_html, "
        "created_at, is_deleted) SELECT a.id, p.author_id, p.body_source, p.body_html, "
        "p.created_at, p.is_deleted FROM articles a JOIN threads t ON t.id = a.thread_id "
        "JOIN posts p ON p.thread_id = t.id AND p.id <> t.first_post_id ORDER BY p.id"
    )
    with op.batch_alter_table("post_revisions") as batch:
        batch.drop_column("title")
    with op.batch_alter_table("articles") as batch:
        batch.drop_constraint(op.f("fk_articles_thread_id_threads"), type_="foreignkey")
        batch.drop_column("thread_id")
    _restore_article_triggers()
