"""Articles: publishing, editing, comments, and the lists shown beside them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.articles.models import Article, ArticleComment
from forum.board.categories import slugify
from forum.board.posting import BoardError, check_can_post, validate_body, validate_title
from forum.core.db import utcnow
from forum.core.errors import Forbidden
from forum.core.settings import Settings
from forum.core.text import clean_line, render_markdown

SUMMARY_MAX = 500


def validate_summary(summary: str) -> str:
    summary = clean_line(summary)
    if len(summary) < 10:
        raise BoardError("summary", "Write a summary of at least 10 characters.")
    if len(summary) > SUMMARY_MAX:
        raise BoardError("summary", f"Summaries can have at most {SUMMARY_MAX} characters.")
    return summary


async def publish(
    session: AsyncSession, settings: Settings, author: User, title: str, summary: str, body: str
) -> Article:
    if not author.is_editor:
        raise Forbidden("Only editors publish articles.")
    title = validate_title(settings, title)
    summary = validate_summary(summary)
    body = validate_body(settings, body)
    base = slugify(title)[:100]
    slug, n = base, 1
    while await session.scalar(select(Article.id).where(Article.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    article = Article(
        author_id=author.id, slug=slug, title=title, summary=summary, body_source=body,
        body_html=render_markdown(body), created_at=utcnow(), is_deleted=False, needs_related=True,
    )  # fmt: skip
    session.add(article)
    await session.flush()
    return article


def can_edit(user: User | None, article: Article) -> bool:
    return user is not None and (user.is_admin or (user.is_editor and user.id == article.author_id))


async def update(
    session: AsyncSession,
    settings: Settings,
    editor: User,
    article: Article,
    title: str,
    summary: str,
    body: str,
) -> Article:
    if not can_edit(editor, article):
        raise Forbidden("You cannot edit this article.")
    article.title = validate_title(settings, title)
    article.summary = validate_summary(summary)
    body = validate_body(settings, body)
    article.body_source = body
    article.body_html = render_markdown(body)
    article.updated_at = utcnow()
    article.needs_related = True
    return article


async def add_comment(
    session: AsyncSession, settings: Settings, author: User, article: Article, body: str
) -> ArticleComment:
    check_can_post(author)
    body = validate_body(settings, body)
    comment = ArticleComment(
        article_id=article.id, author_id=author.id, body_source=body,
        body_html=render_markdown(body), created_at=utcnow(), is_deleted=False,
    )  # fmt: skip
    session.add(comment)
    await session.flush()
    return comment


@dataclass
class ArticleRow:
    article: Article
    author: str
    comments: int


async def list_articles(
    session: AsyncSession, page: int, per_page: int
) -> tuple[list[ArticleRow], int]:
    total = int(
        await session.scalar(select(func.count(Article.id)).where(Article.is_deleted.is_(False)))
        or 0
    )
    comments = (
        select(ArticleComment.article_id, func.count(ArticleComment.id).label("n"))
        .where(ArticleComment.is_deleted.is_(False))
        .group_by(ArticleComment.article_id)
        .subquery()
    )
    rows = await session.execute(
        select(Article, User.username, func.coalesce(comments.c.n, 0))
        .join(User, User.id == Article.author_id)
        .outerjoin(comments, comments.c.article_id == Article.id)
        .where(Article.is_deleted.is_(False))
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return [ArticleRow(a, name, int(n)) for a, name, n in rows], total
