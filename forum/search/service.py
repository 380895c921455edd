"""Search over threads, posts and articles: PostgreSQL full-text search or SQLite FTS5, behind
one interface. Thread titles rank above post bodies (weights A/B on PostgreSQL, bm25 column
weights 10/1 on FTS5); what a reader cannot see never appears."""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    any_,
    case,
    column,
    exists,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
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
# PostgreSQL looks for candidates in windows of post ids, newest first: buckets of BUCKET ids
# (the GIN indexes of migration 0014 lead with `id / 4096`: change both together), the first
# window FIRST_WINDOW buckets wide, the next ones sized by how often the last one matched.
BUCKET = 4096
FIRST_WINDOW = 2
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
    # An article's discussion opens with its summary and a link to it: the article itself is
    # a hit of its own, and a probe found every article listed twice, the stub first.
    stmt = stmt.where(
        ~exists().where(Article.thread_id == Post.thread_id, Thread.first_post_id == Post.id)
    )
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
        self.ids: list[int] = []

    async def prepare(self, session: AsyncSession) -> None:
        """The candidates: the newest CANDIDATES live posts whose body matches or which open a
        thread whose title matches, found window by window from the newest posts back.

        Both GIN indexes lead with a bucket of post ids (migration 0014), so each window's
        index scan and heap visits cover only that window's matches: a common phrase stops in
        the first window or two whatever the size of the board, a rare one widens (fourfold)
        to the whole board, where its matches are few. Ranking all of a common phrase's
        matches cost time in proportion to the board."""
        top = await session.scalar(select(func.max(Post.id)))
        if top is None:
            return
        q = self.query
        body: ColumnClause[Any] = literal_column("posts.search_vector")
        title: ColumnClause[Any] = literal_column("threads.title_vector")
        # Written as the indexes' expressions, with the bucket size as a literal.
        post_bucket: ColumnClause[Any] = literal_column(f"(posts.id / {BUCKET})")
        first_bucket: ColumnClause[Any] = literal_column(f"(threads.first_post_id / {BUCKET})")
        upper, span = top // BUCKET, FIRST_WINDOW
        while upper >= 0 and len(self.ids) < CANDIDATES:
            lower = max(0, upper - span + 1)
            if lower > 0:
                # Buckets by equality: GIN scans each bucket's entries alongside the words'
                # (measured 2 ms for 8 buckets on 1,000,000 posts); a range on the bucket is
                # a partial-match scan that took 70-110 ms.
                buckets = literal(list(range(lower, upper + 1)), ARRAY(Integer))
                in_body: Any = post_bucket == any_(buckets)
                in_title: Any = first_bucket == any_(buckets)
            else:  # the rest of the board: few matches are left to find
                in_body = Post.id < (upper + 1) * BUCKET
                in_title = Thread.first_post_id < (upper + 1) * BUCKET
            by_body = select(Post.id.label("id")).where(
                in_body, body.op("@@")(q), Post.is_deleted.is_(False)
            )
            by_title = select(Thread.first_post_id.label("id")).where(
                in_title, title.op("@@")(q), Thread.is_deleted.is_(False)
            )
            found = union(by_body, by_title).subquery()
            before = len(self.ids)
            self.ids += (
                await session.scalars(
                    select(found.c.id).order_by(found.c.id.desc()).limit(CANDIDATES - len(self.ids))
                )
            ).all()
            # The next window: wide enough, at the rate this one matched, for what is still
            # missing (and half again), at most four times this one; four times if none matched.
            width, got = upper - lower + 1, len(self.ids) - before
            missing = CANDIDATES - len(self.ids)
            span = (
                min(width * 4, max(1, math.ceil(1.5 * missing * width / got))) if got else width * 4
            )
            upper = lower - 1

    def statements(self, filters: Filters, viewer: User | None) -> list[Select[Any]]:
        q = self.query
        # Stored generated tsvector columns (migration 0004), GIN-indexed.
        body: ColumnClause[Any] = literal_column("posts.search_vector")
        title: ColumnClause[Any] = literal_column("threads.title_vector")
        is_first = Post.id == Thread.first_post_id
        weighted = func.setweight(
            case((is_first, title), else_=literal_column("''::tsvector")), A
        ).op("||")(func.setweight(body, B))
        # Visibility, filters and ranking touch only the candidates.
        posts = _post_filters(
            _post_base(func.ts_rank(weighted, q).cast(Float)).where(
                Post.id == any_(literal(self.ids, ARRAY(Integer)))
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
        rowid: ColumnClause[Any] = literal_column("posts_fts.rowid")
        # The candidates, as on PostgreSQL: the newest CANDIDATES posts whose body or (opening
        # posts) title matches. FTS5 walks its doclists newest first and stops at the limit,
        # and bm25 is computed for those rows alone; ranking every match cost time in
        # proportion to the board.
        candidates = (
            select(rowid.label("id"), (-func.bm25(posts_fts, 10.0, 1.0)).label("score"))
            .select_from(POSTS_FTS)
            .where(text("posts_fts MATCH :match"))
            .order_by(rowid.desc())
            .limit(CANDIDATES)
            .subquery()
        )
        posts = _post_base(candidates.c.score).join(candidates, candidates.c.id == Post.id)
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
    """Each hit's snippet from its rendered text (a page's worth of rows, by primary key). An
    article's summary is plain text: escaped, so text like "<b>" in it stays text."""
    for kind, model, columns in (
        ("post", Post, (literal(""), Post.body_html)),
        ("article", Article, (Article.summary, Article.body_html)),
    ):
        ids = [h.id for h in hits if h.kind == kind]
        if not ids:
            continue
        rows = await session.execute(select(model.id, *columns).where(model.id.in_(ids)))
        found = {row[0]: html.escape(row[1]) + " " + row[2] for row in rows}
        for h in hits:
            if h.kind == kind and h.id in found:
                h.snippet = highlight(plain_text(found[h.id]), raw, algorithm)


async def by_author(
    session: AsyncSession, filters: Filters, viewer: User | None, page: int, per_page: int = 20
) -> tuple[list[Hit], int]:
    """A member's posts and articles, newest first, for a search with an author and no words:
    the same filters and visibility rules as a search (what `viewer` may not see never
    appears), but in date order, over everything they wrote rather than the newest matches."""
    if filters.author_id is None:
        raise SearchError("Type a word or two to search for.")
    no_score: Any = literal(0.0, Float)
    # Their newest CANDIDATES posts, as a search ranks its newest matches: bounded work for a
    # member with a very long history.
    newest = (
        select(Post.id)
        .where(Post.author_id == filters.author_id)
        .order_by(Post.id.desc())
        .limit(CANDIDATES)
    )
    posts = _post_base(no_score).where(Post.id.in_(newest))
    statements = [_post_filters(posts, filters, viewer)]
    articles = _article_filters(_article_base(no_score), filters)
    if articles is not None:
        statements.append(articles)
    hits, total = await _page(session, statements, page, per_page, by_score=False)
    await _snippets(session, hits, "", "porter")
    return hits, total


async def _page(
    session: AsyncSession,
    statements: list[Any],
    page: int,
    per_page: int,
    params: dict[str, Any] | None = None,
    *,
    by_score: bool = True,
) -> tuple[list[Hit], int]:
    """One page of the union of `statements` (best score first, else newest first) and the
    total. The total rides on the page as a window count: finding and ranking the candidates
    is the expensive part, and a separate COUNT(*) did all of it a second time."""
    combined = (
        union_all(*statements).subquery() if len(statements) > 1 else statements[0].subquery()
    )
    order = [combined.c.created_at.desc(), combined.c.id.desc()]
    if by_score:
        order.insert(0, combined.c.score.desc())
    rows = (
        await session.execute(
            select(combined, func.count().over().label("total"))
            .order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page),
            params or {},
        )
    ).all()
    if rows:
        total = int(rows[0].total)
    else:  # nothing found, or a page past the end
        query = select(func.count()).select_from(combined)
        total = int(await session.scalar(query, params or {}) or 0)
    hits = [
        Hit(
            kind=row.kind, id=row.id, title=row.title, created_at=row.created_at,
            author=row.author, where=row.place, score=float(row.score or 0.0),
        )
        for row in rows
    ]  # fmt: skip
    return hits, total


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
        if any(part.startswith("-") for part in raw.split()):
            raise SearchError("Add at least one word to look for (not only exclusions).")
        raise SearchError("Search looks for words: add at least one (letters or digits).")
    if dialect == "postgresql":
        backend = PostgresSearch(raw)
        await backend.prepare(session)
    else:
        backend = SqliteSearch(raw)
        params["match"] = backend.match
    statements = backend.statements(filters, viewer)
    hits, total = await _page(session, statements, page, per_page, params)
    await _snippets(session, hits, raw, "english" if dialect == "postgresql" else "porter")
    return hits, total
