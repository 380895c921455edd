"""Search over threads, posts and articles: PostgreSQL full-text search or SQLite FTS5, behind
one interface. Thread titles rank above post bodies (weights A/B on PostgreSQL, bm25 column
weights 10/1 on FTS5); what a reader cannot see never appears."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    case,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnClause

from forum.accounts.models import User
from forum.articles.models import Article
from forum.board.models import Category, Post, Thread
from forum.board.visibility import post_visibility, thread_visibility
from forum.core.errors import DomainError
from forum.search.text import highlight, plain_text

MAX_QUERY = 200
# On a large board a common word matches most posts; ranking looks at the newest this many.
CANDIDATES = 1000
# Literal, not bound: the GIN expression indexes are on to_tsvector('english', …) and the
# planner only uses them when the query's expression matches exactly.
EN: ColumnClause[Any] = literal_column("'english'::regconfig")
A: ColumnClause[Any] = literal_column("'A'::\"char\"")
B: ColumnClause[Any] = literal_column("'B'::\"char\"")
# The FTS5 tables exist only in the SQLite migration; these name them for joins.
POSTS_FTS = table("posts_fts", column("rowid", Integer))
ARTICLES_FTS = table("articles_fts", column("rowid", Integer))


class SearchError(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__("q", message)


@dataclass
class Filters:
    category_ids: list[int] | None = None
    author_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Hit:
    kind: str  # post | article
    id: int
    title: str
    created_at: datetime
    author: str
    where: str  # category name, or "Articles"
    score: float
    snippet: list[tuple[str, bool]] = field(default_factory=list)


def fts5_query(raw: str) -> str:
    """A web-search style query ("quoted phrases", -exclusions, OR) as FTS5 syntax in which
    every term is quoted, so no input can be a syntax error."""
    tokens = re.findall(r'-?"[^"]*"|\S+', raw)
    positives: list[str] = []
    negatives: list[str] = []
    pending_or = False
    for token in tokens:
        if token == "OR":
            pending_or = bool(positives)
            continue
        negative = token.startswith("-") and len(token) > 1
        body = token[1:] if negative else token
        words = re.findall(r"\w+", body.strip('"'))
        if not words:
            continue
        term = '"' + " ".join(words) + '"'
        if negative:
            negatives.append(term)
        elif pending_or and positives:
            positives[-1] = f"({positives[-1]} OR {term})"
        else:
            positives.append(term)
        pending_or = False
    if not positives:
        return ""
    query = " AND ".join(positives)
    for term in negatives:
        query = f"{query} NOT {term}"
    return query


def _post_filters(stmt: Select[Any], filters: Filters, viewer: User | None) -> Select[Any]:
    stmt = stmt.where(post_visibility(viewer), thread_visibility(viewer))
    if filters.category_ids:
        stmt = stmt.where(Thread.category_id.in_(filters.category_ids))
    if filters.author_id is not None:
        stmt = stmt.where(Post.author_id == filters.author_id)
    if filters.since is not None:
        stmt = stmt.where(Post.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(Post.created_at < filters.until)
    return stmt


def _article_filters(stmt: Select[Any], filters: Filters) -> Select[Any] | None:
    if filters.category_ids:
        return None  # articles are not in forum categories
    stmt = stmt.where(Article.is_deleted.is_(False))
    if filters.author_id is not None:
        stmt = stmt.where(Article.author_id == filters.author_id)
    if filters.since is not None:
        stmt = stmt.where(Article.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(Article.created_at < filters.until)
    return stmt


def _post_columns(score: Any) -> list[Any]:
    return [
        literal("post", String).label("kind"),
        Post.id.label("id"),
        Thread.title.label("title"),
        Post.created_at.label("created_at"),
        User.username.label("author"),
        Category.name.label("place"),
        score.label("score"),
    ]


def _article_columns(score: Any) -> list[Any]:
    return [
        literal("article", String).label("kind"),
        Article.id.label("id"),
        Article.title.label("title"),
        Article.created_at.label("created_at"),
        User.username.label("author"),
        literal("Articles", String).label("place"),
        score.label("score"),
    ]


def _post_base(score: Any) -> Select[Any]:
    return (
        select(*_post_columns(score))
        .select_from(Post)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .join(User, User.id == Post.author_id)
    )


def _article_base(score: Any) -> Select[Any]:
    return (
        select(*_article_columns(score))
        .select_from(Article)
        .join(User, User.id == Article.author_id)
    )


class PostgresSearch:
    def __init__(self, raw: str) -> None:
        self.query = func.websearch_to_tsquery(EN, raw)

    def statements(self, filters: Filters, viewer: User | None) -> list[Select[Any]]:
        q = self.query
        # Stored generated tsvector columns (migration 0004), GIN-indexed.
        body: ColumnClause[Any] = literal_column("posts.search_vector")
        title: ColumnClause[Any] = literal_column("threads.title_vector")
        is_first = Post.id == Thread.first_post_id
        weighted = func.setweight(
            case((is_first, title), else_=literal_column("''::tsvector")), A
        ).op("||")(func.setweight(body, B))
        # Candidates first, from the posts table alone: the newest CANDIDATES posts whose body
        # matches (PostgreSQL can walk the primary key backwards and stop early for common
        # words, or use the GIN index for rare ones) plus the opening posts of threads whose
        # title matches. Visibility, filters and ranking then touch only those rows.
        by_body = (
            select(Post.id.label("id"))
            .where(body.op("@@")(q), Post.is_deleted.is_(False))
            .order_by(Post.id.desc())
            .limit(CANDIDATES)
        )
        by_title = (
            select(Thread.first_post_id.label("id"))
            .where(title.op("@@")(q), Thread.is_deleted.is_(False))
            .order_by(Thread.id.desc())
            .limit(CANDIDATES)
        )
        candidates = union_all(by_body, by_title).subquery()
        posts = _post_filters(
            _post_base(func.ts_rank(weighted, q).cast(Float)).where(
                Post.id.in_(select(candidates.c.id))
            ),
            filters,
            viewer,
        )
        statements = [posts]
        doc: ColumnClause[Any] = literal_column("articles.search_vector")
        articles = _article_filters(
            _article_base(func.ts_rank(doc, q).cast(Float)).where(doc.op("@@")(q)), filters
        )
        if articles is not None:
            statements.append(articles)
        return statements


class SqliteSearch:
    def __init__(self, raw: str) -> None:
        self.match = fts5_query(raw)

    def statements(self, filters: Filters, viewer: User | None) -> list[Select[Any]]:
        posts_fts: ColumnClause[Any] = literal_column("posts_fts")
        posts = (
            _post_base(-func.bm25(posts_fts, 10.0, 1.0))
            .join(POSTS_FTS, POSTS_FTS.c.rowid == Post.id)
            .where(text("posts_fts MATCH :match"))
        )
        statements = [_post_filters(posts, filters, viewer)]
        articles_fts: ColumnClause[Any] = literal_column("articles_fts")
        articles = _article_filters(
            _article_base(-func.bm25(articles_fts, 10.0, 1.0))
            .join(ARTICLES_FTS, ARTICLES_FTS.c.rowid == Article.id)
            .where(text("articles_fts MATCH :match")),
            filters,
        )
        if articles is not None:
            statements.append(articles)
        return statements


async def _snippets(session: AsyncSession, hits: list[Hit], raw: str, algorithm: str) -> None:
    """Each hit's snippet from its rendered text (a page's worth of rows, by primary key)."""
    for kind, model, html in (
        ("post", Post, Post.body_html),
        ("article", Article, Article.summary + " " + Article.body_html),
    ):
        ids = [h.id for h in hits if h.kind == kind]
        if not ids:
            continue
        found = dict((await session.execute(select(model.id, html).where(model.id.in_(ids)))).all())
        for h in hits:
            if h.kind == kind and h.id in found:
                h.snippet = highlight(plain_text(found[h.id]), raw, algorithm)


async def search(
    session: AsyncSession,
    raw: str,
    filters: Filters,
    viewer: User | None,
    page: int,
    per_page: int = 20,
) -> tuple[list[Hit], int]:
    raw = " ".join(raw.split())
    if not raw:
        raise SearchError("Type a word or two to search for.")
    if len(raw) > MAX_QUERY:
        raise SearchError(f"Search queries can have at most {MAX_QUERY} characters.")
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    backend: PostgresSearch | SqliteSearch
    params: dict[str, Any] = {}
    if not fts5_query(raw):
        # Both engines answer the same: a query needs at least one word to look for.
        raise SearchError("Add at least one word to look for (not only exclusions).")
    if dialect == "postgresql":
        backend = PostgresSearch(raw)
    else:
        backend = SqliteSearch(raw)
        params["match"] = backend.match
    statements = backend.statements(filters, viewer)
    combined = (
        union_all(*statements).subquery() if len(statements) > 1 else statements[0].subquery()
    )
    # The total rides on the page as a window count: finding and ranking the candidates is
    # the expensive part, and a separate COUNT(*) did all of it a second time.
    rows = (
        await session.execute(
            select(combined, func.count().over().label("total"))
            .order_by(combined.c.score.desc(), combined.c.created_at.desc())
            .limit(per_page)
            .offset((page - 1) * per_page),
            params,
        )
    ).all()
    if rows:
        total = int(rows[0].total)
    else:  # nothing found, or a page past the end
        total = int(await session.scalar(select(func.count()).select_from(combined), params) or 0)
    hits = [
        Hit(
            kind=row.kind, id=row.id, title=row.title, created_at=row.created_at,
            author=row.author, where=row.place, score=float(row.score or 0.0),
        )
        for row in rows
    ]  # fmt: skip
    await _snippets(session, hits, raw, "english" if dialect == "postgresql" else "porter")
    return hits, total
