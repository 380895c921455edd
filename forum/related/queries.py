"""Reading the precomputed related lists (the worker writes them: moderation/related_index.py).
What the lists show is the owning domains' visibility: never a deleted thread, one whose
opening post is held or hidden, or (for non-staff) one in a staff-only category."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.accounts.models import User
from forum.articles.models import Article
from forum.board.models import Category, Post, Thread, shown_to_all
from forum.core.fastpath import Prepared, fetch_rows
from forum.related.models import Embedding, RelatedItem


@dataclass
class RelatedThread:
    id: int
    title: str
    category: str
    replies: int


@dataclass
class RelatedArticle:
    id: int
    title: str
    summary: str


async def has_embedding(session: AsyncSession, item_type: str, item_id: int) -> bool:
    found = await session.scalar(
        select(Embedding.item_id).where(
            Embedding.item_type == item_type, Embedding.item_id == item_id
        )
    )
    return found is not None


def _of_source(target_type: str) -> Any:
    """The stored list of the bound source's related items of one type."""
    return and_(
        RelatedItem.source_type == bindparam("source_type"),
        RelatedItem.source_id == bindparam("source_id"),
        RelatedItem.target_type == target_type,
    )


class RelatedRow(NamedTuple):
    kind: str  # thread | article
    position: int
    id: int
    title: str
    extra: str  # the thread's category, or the article's summary
    posts: int


@functools.cache
def related_statement(staff: bool) -> Prepared[RelatedRow]:
    """Stored related threads the viewer may see, then related articles, in one round trip.

    Never deleted threads, threads whose opening post is hidden, or (for non-staff) threads
    in staff-only categories; never deleted articles."""
    first = aliased(Post)
    threads: Any = (
        select(
            literal_column("'thread'").label("kind"), RelatedItem.position, Thread.id,
            Thread.title, Category.name.label("extra"), Thread.post_count.label("posts"),
        )
        .select_from(RelatedItem)
        .join(Thread, Thread.id == RelatedItem.target_id)
        .join(Category, Category.id == Thread.category_id)
        .outerjoin(first, first.id == Thread.first_post_id)
        .where(
            _of_source("thread"),
            Thread.is_deleted.is_(False),
            or_(
                first.id.is_(None),
                and_(shown_to_all(first.moderation_state), first.is_deleted.is_(False)),
            ),
        )
        .order_by(RelatedItem.position)
        .limit(bindparam("thread_limit"))
    )  # fmt: skip
    if not staff:
        threads = threads.where(Category.staff_only.is_(False))
    articles: Any = (
        select(
            literal_column("'article'").label("kind"), RelatedItem.position, Article.id,
            Article.title, Article.summary.label("extra"), literal_column("0").label("posts"),
        )
        .select_from(RelatedItem)
        .join(Article, Article.id == RelatedItem.target_id)
        .where(
            _of_source("article"),
            Article.is_deleted.is_(False),
            # An article's discussion does not list its own article (the page links it).
            or_(
                RelatedItem.source_type != "thread",
                func.coalesce(Article.thread_id, 0) != RelatedItem.source_id,
            ),
        )
        .order_by(RelatedItem.position)
        .limit(bindparam("article_limit"))
    )  # fmt: skip
    # Each arm keeps its own ORDER BY and LIMIT inside a subquery (SQLite requires it).
    arms = [select(arm.subquery()) for arm in (threads, articles)]
    both = union_all(*arms).subquery()
    return Prepared(select(both).order_by(both.c.kind.desc(), both.c.position), RelatedRow)


@dataclass
class Related:
    threads: list[RelatedThread]
    articles: list[RelatedArticle]


async def related_items(
    session: AsyncSession,
    source_type: str,
    source_id: int,
    viewer: User | None,
    threads: int = 5,
    articles: int = 3,
) -> Related:
    """What a thread or article page lists under "Related Discussion" and "Related Articles"."""
    staff = viewer is not None and viewer.is_moderator
    conn = await session.connection()
    rows = await fetch_rows(
        conn,
        related_statement(staff),
        {"source_type": source_type, "source_id": source_id,
         "thread_limit": threads, "article_limit": articles},
    )  # fmt: skip
    found = Related([], [])
    for row in rows:
        if row.kind == "thread":
            found.threads.append(RelatedThread(row.id, row.title, row.extra, max(row.posts - 1, 0)))
        else:
            found.articles.append(RelatedArticle(row.id, row.title, row.extra))
    return found


async def related_threads(
    session: AsyncSession, source_type: str, source_id: int, viewer: User | None, limit: int = 5
) -> list[RelatedThread]:
    return (await related_items(session, source_type, source_id, viewer, limit, 0)).threads


async def related_articles(
    session: AsyncSession, source_type: str, source_id: int, limit: int = 3
) -> list[RelatedArticle]:
    return (await related_items(session, source_type, source_id, None, 0, limit)).articles
