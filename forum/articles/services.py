"""Articles: publishing, editing, comments, and the lists shown beside them.

Members' comments on an article are the replies in its discussion thread, opened with the
first comment in the "Article discussions" category: a comment is a post, so it is scored,
pre-moderated, reportable, hideable and counted exactly as every post is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.articles.models import Article
from forum.board import posting, queries
from forum.board.categories import create_category, slugify
from forum.board.events import NewThreadsRefused, ThreadKept
from forum.board.models import Category, Post, Thread
from forum.board.posting import BoardError, validate_body, validate_title
from forum.board.visibility import opening_post_visible
from forum.core import events
from forum.core.db import utcnow
from forum.core.errors import Forbidden
from forum.core.settings import Settings
from forum.core.text import clean_line, render_markdown

SUMMARY_MAX = 500
DISCUSSIONS = "article-discussions"


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
    if article.thread_id is not None:
        thread = await session.get(Thread, article.thread_id)
        if thread is not None:
            thread.title = article.title
    return article


async def discussions_category(session: AsyncSession) -> Category:
    found = await session.scalar(select(Category).where(Category.slug == DISCUSSIONS))
    if found is not None:
        return found
    return await create_category(
        session, "Article discussions", description="Comments on the board's articles.",
        position=1000,
    )  # fmt: skip


async def discussion_thread(session: AsyncSession, settings: Settings, article: Article) -> Thread:
    """The article's discussion thread, opened (by its editor, with its summary) if it has none.
    The article row is locked first, so two first comments open one thread."""
    await session.execute(select(Article.id).where(Article.id == article.id).with_for_update())
    await session.refresh(article, ["thread_id"])
    if article.thread_id is not None:
        thread = await session.get(Thread, article.thread_id)
        if thread is not None:
            return thread
    author = await session.get(User, article.author_id)
    assert author is not None
    category = await discussions_category(session)
    opening = f"{article.summary}\n\n[Read the article](/articles/{article.id})"
    thread, _post = await posting.create_thread(
        session, settings, author, category, article.title, opening, published=True
    )
    article.thread_id = thread.id
    return thread


async def add_comment(
    session: AsyncSession,
    settings: Settings,
    author: User,
    article: Article,
    body: str,
    nudged: list[str] | None = None,
) -> Post:
    posting.check_can_post(author)
    body = validate_body(settings, body)
    thread = await discussion_thread(session, settings, article)
    # The discussion obeys the board's rule: one the commenter may not see (moved to a staff
    # category, its opening post hidden) takes no comments from them.
    if await queries.get_thread(session, thread.id, author) is None:
        raise BoardError("body", "The discussion of this article is closed.")
    return await posting.create_reply(session, settings, author, thread, body, nudged=nudged)


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
    # The discussion thread's public count (the opening post is the article's summary), when
    # everyone may see the discussion.
    comments = func.coalesce(Thread.post_count - 1, 0)
    public = and_(
        Thread.id == Article.thread_id, Thread.is_deleted.is_(False),
        Thread.category_id.in_(select(Category.id).where(Category.staff_only.is_(False))),
        opening_post_visible("anonymous"),
    )  # fmt: skip
    rows = await session.execute(
        select(Article, User.username, comments)
        .join(User, User.id == Article.author_id)
        .outerjoin(Thread, public)
        .where(Article.is_deleted.is_(False))
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return [ArticleRow(a, name, int(n)) for a, name, n in rows], total


async def keeps_thread(session: AsyncSession, question: ThreadKept) -> str | None:
    """An article's discussion stays with its article: its opening post (the summary, by the
    article's editor) is not the editor's to delete as a post."""
    found = await session.scalar(select(Article.id).where(Article.thread_id == question.thread_id))
    return "This thread is an article's discussion: it stays with the article." if found else None


NO_NEW_THREADS = (
    "Article discussions holds the comments on the board's articles: each article's thread "
    "opens with its first comment. Comment on an article from its page, or start your thread "
    "in another category."
)
NO_MOVING_IN = (
    "Article discussions holds only the articles' own discussions: move this thread to "
    "another category."
)


async def refuses_new_threads(session: AsyncSession, question: NewThreadsRefused) -> str | None:
    """Nobody starts a thread in the article discussions, nor moves one in, but an article's
    own discussion (moved out by a moderator, say, and back)."""
    if question.category.slug != DISCUSSIONS:
        return None
    if question.thread_id is None:
        return NO_NEW_THREADS
    found = await session.scalar(select(Article.id).where(Article.thread_id == question.thread_id))
    return None if found is not None else NO_MOVING_IN


def subscribe() -> None:
    events.answer(ThreadKept, keeps_thread)
    events.answer(NewThreadsRefused, refuses_new_threads)
