"""Reading the precomputed related lists (the worker writes them; see moderation/related.py)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.accounts.models import User
from forum.articles.models import Article
from forum.board.models import Category, ModerationState, Post, Thread
from forum.related_models import Embedding, RelatedItem

HIDDEN = (ModerationState.held.value, ModerationState.hidden.value)


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


@functools.cache
def _related_threads_statement(staff: bool) -> Any:
    first = aliased(Post)
    stmt = (
        select(Thread.id, Thread.title, Category.name, Thread.post_count)
        .select_from(RelatedItem)
        .join(Thread, Thread.id == RelatedItem.target_id)
        .join(Category, Category.id == Thread.category_id)
        .outerjoin(first, first.id == Thread.first_post_id)
        .where(
            RelatedItem.source_type == bindparam("source_type"),
            RelatedItem.source_id == bindparam("source_id"),
            RelatedItem.target_type == "thread",
            Thread.is_deleted.is_(False),
            or_(
                first.id.is_(None),
                and_(first.moderation_state.not_in(HIDDEN), first.is_deleted.is_(False)),
            ),
        )
        .order_by(RelatedItem.position)
        .limit(bindparam("limit"))
    )
    return stmt if staff else stmt.where(Category.staff_only.is_(False))


async def related_threads(
    session: AsyncSession, source_type: str, source_id: int, viewer: User | None, limit: int = 5
) -> list[RelatedThread]:
    """Stored related threads the viewer may see: never deleted threads, threads whose opening
    post is hidden, or threads in staff-only categories for non-staff."""
    staff = viewer is not None and viewer.is_moderator
    rows = await session.execute(
        _related_threads_statement(staff),
        {"source_type": source_type, "source_id": source_id, "limit": limit},
    )
    return [RelatedThread(i, t, c, max(n - 1, 0)) for i, t, c, n in rows]


_RELATED_ARTICLES = (
    select(Article.id, Article.title, Article.summary)
    .select_from(RelatedItem)
    .join(Article, Article.id == RelatedItem.target_id)
    .where(
        RelatedItem.source_type == bindparam("source_type"),
        RelatedItem.source_id == bindparam("source_id"),
        RelatedItem.target_type == "article",
        Article.is_deleted.is_(False),
    )
    .order_by(RelatedItem.position)
    .limit(bindparam("limit"))
)


async def related_articles(
    session: AsyncSession, source_type: str, source_id: int, limit: int = 3
) -> list[RelatedArticle]:
    rows = await session.execute(
        _RELATED_ARTICLES, {"source_type": source_type, "source_id": source_id, "limit": limit}
    )
    return [RelatedArticle(i, t, s) for i, t, s in rows]
