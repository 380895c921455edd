"""What the related domain adds to other domains' pages: "Related Discussion" and "Related
Articles" under a thread, "You May Also Like" beside an article. The pages ask (events);
`subscribe` answers, at start-up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.events import ArticlePageExtras
from forum.articles.models import Article
from forum.board.events import ThreadPageExtras
from forum.board.queries import recent_in_category
from forum.core import events
from forum.related.queries import (
    RelatedArticle,
    RelatedThread,
    has_embedding,
    related_articles,
    related_items,
)


async def thread_extras(session: AsyncSession, question: ThreadPageExtras) -> dict[str, Any]:
    """Related threads and articles, read from the worker's table; until this thread has an
    embedding, recent threads of its category stand in (and the page says so)."""
    thread = question.thread
    related = await related_items(session, "thread", thread.id, question.viewer)
    found = related.threads
    fallback = False
    if not found and not await has_embedding(session, "thread", thread.id):
        fallback = True
        found = [
            RelatedThread(t.id, t.title, "", t.reply_count)
            for t in await recent_in_category(session, thread, question.viewer)
        ]
    return {"related": found, "related_fallback": fallback, "related_articles": related.articles}


async def article_extras(session: AsyncSession, question: ArticlePageExtras) -> dict[str, Any]:
    """Similar articles; until this one has an embedding, the latest articles stand in."""
    also = await related_articles(session, "article", question.article_id)
    fallback = False
    if not also and not await has_embedding(session, "article", question.article_id):
        fallback = True
        latest = await session.scalars(
            select(Article)
            .where(Article.id != question.article_id, Article.is_deleted.is_(False))
            .order_by(Article.created_at.desc())
            .limit(3)
        )
        also = [RelatedArticle(a.id, a.title, a.summary) for a in latest]
    return {"also": also, "also_fallback": fallback}


def subscribe() -> None:
    events.answer(ThreadPageExtras, thread_extras)
    events.answer(ArticlePageExtras, article_extras)
