"""The feeds' routes. A feed shows what a visitor who is not logged in may see, whoever asks
(feed readers keep copies and share them), and of that only posts the moderation worker has
already scored: a post still waiting could be held a moment later, and a copy in a reader
cannot be taken back. Held, hidden, pre-moderated and deleted posts, threads whose opening
post is not public, deleted threads and staff-only categories never appear; private
messages are not board posts and are never read here. The articles feed lists the board's
articles (written by editors), newest first.

Each feed is bounded (CANDOR_FEED_ENTRIES entries) and kept per process for
CANDOR_CACHE_SECONDS, so a reader polling every minute costs one query per period to
build it. A kept copy is checked on every request against its posts as they are now (one
lookup by key): a post hidden, held, deleted or edited since, or a thread removed or a
category made staff-only, drops the copy at once, whichever process made the change."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.articles.models import Article
from forum.board.models import Category, Post, Thread
from forum.board.visibility import thread_visibility, visible_posts
from forum.core.db import Database, begin_read, utcnow
from forum.core.settings import Settings
from forum.feeds.atom import Entry, atom_feed

MEDIA_TYPE = "application/atom+xml; charset=utf-8"


# A feed's posts: (id, (edited_at, author's name, length of its HTML)) each; an articles
# feed's: (id, updated_at). A post's author renamed (an account deleted) or its HTML changed
# without an edit (mentions of a deleted member unlinked) makes a kept feed stale too.
Shown = frozenset[tuple[int, Any]]


class FeedCache:
    """Rendered feeds by path, each kept `seconds` with the posts it shows; at most `size` of
    them (oldest out)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.entries: OrderedDict[str, tuple[float, bytes, Shown]] = OrderedDict()

    def get(self, key: str, seconds: float) -> tuple[bytes, Shown] | None:
        found = self.entries.get(key)
        if found is None or time.monotonic() - found[0] >= seconds:
            return None
        return found[1], found[2]

    def put(self, key: str, body: bytes, shown: Shown) -> None:
        self.entries[key] = (time.monotonic(), body, shown)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


def public_posts() -> Any:
    """Posts everyone may see in threads everyone may see, scored, newest first."""
    statement: Any = (
        select(
            Post.id, Post.created_at, Post.edited_at, Post.body_html,
            User.username, Thread.first_post_id, Thread.title,
        )
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .join(User, User.id == Post.author_id)
        .where(
            visible_posts(Post, "anonymous"),
            Post.needs_scoring.is_(False),
            thread_visibility(None),
        )
        .order_by(Post.id.desc())
    )  # fmt: skip
    return statement


async def still_shown(session: AsyncSession, shown: Shown) -> bool:
    """Whether each of a kept feed's posts is still public and unedited since (an empty
    feed is not kept: its thread or category may have gone since)."""
    if not shown:
        return False
    rows = await session.execute(
        public_posts().with_only_columns(Post.id, Post.edited_at, User.username,
                                         func.length(Post.body_html))
        .where(Post.id.in_([post_id for post_id, _edited in shown]))
    )  # fmt: skip
    return frozenset((row[0], (row[1], row[2], row[3])) for row in rows) == shown


async def articles_still_shown(session: AsyncSession, shown: Shown) -> bool:
    """Whether a kept articles feed still lists the newest articles as they are now: as many
    of the newest as it holds, unedited (one published or deleted since changes which those
    are; an empty feed is not kept)."""
    if not shown:
        return False
    rows = await session.execute(
        _articles().with_only_columns(Article.id, Article.updated_at).limit(len(shown))
    )
    return frozenset((row.id, row.updated_at) for row in rows) == shown


def _articles() -> Any:
    return (
        select(Article.id, Article.title, Article.summary, Article.body_html, Article.created_at,
               Article.updated_at, User.username)
        .join(User, User.id == Article.author_id)
        .where(Article.is_deleted.is_(False))
        .order_by(Article.created_at.desc(), Article.id.desc())
    )  # fmt: skip


async def _article_entries(
    session: AsyncSession, base: str, url: Any, limit: int
) -> tuple[list[Entry], Shown]:
    rows = (await session.execute(_articles().limit(limit))).all()
    entries = []
    for row in rows:
        link = base + url("article", article_id=row.id)
        entries.append(
            Entry(id=link, title=row.title, link=link, author=row.username,
                  published=row.created_at, updated=row.updated_at or row.created_at,
                  html=row.body_html)
        )  # fmt: skip
    return entries, frozenset((row.id, row.updated_at) for row in rows)


async def _entries(
    session: AsyncSession, statement: Any, base: str, url: Any, limit: int
) -> tuple[list[Entry], Shown]:
    rows = await session.execute(statement.limit(limit))
    entries, shown = [], set()
    for post_id, created, edited, html, author, first_post_id, title in rows.all():
        shown.add((post_id, (edited, author, len(html))))
        link = base + url("post", post_id=post_id)
        if post_id != first_post_id:
            title = f"Re: {title}"
        entries.append(
            Entry(
                id=link,
                title=title,
                link=link,
                author=author,
                published=created,
                updated=edited or created,
                html=html,
            )
        )
    return entries, frozenset(shown)


async def _feed(request: Request, kind: str) -> Response:
    state = request.app.state
    settings: Settings = state.settings
    cache: FeedCache = state.feed_cache
    key = request.url.path
    database: Database = state.database
    async with database.sessionmaker() as session:
        await begin_read(session)
        kept = cache.get(key, settings.cache_seconds)
        check = articles_still_shown if kind == "articles" else still_shown
        if kept is not None and await check(session, kept[1]):
            body = kept[0]
        else:
            body, shown = await _render(session, settings, state.url, request, kind)
            cache.put(key, body, shown)
    # Readers poll: one that has this very document gets an empty 304.
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"cache-control": "public, max-age=60", "etag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


async def _public_subtree(session: AsyncSession, root: int) -> list[int]:
    """`root` and the categories under it, at any depth, leaving out staff-only ones and
    everything under them (a sub-forum of a staff room is the staff's too)."""
    rows = (
        await session.execute(select(Category.id, Category.parent_id, Category.staff_only))
    ).all()
    children: dict[int | None, list[int]] = {}
    staff = {row.id for row in rows if row.staff_only}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row.id)
    found, frontier = [root], [root]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, []) if c not in staff]
        frontier = [c for c in frontier if c not in found]  # a cycle cannot loop forever
        found += frontier
    return found


async def _render(
    session: AsyncSession, settings: Settings, url: Any, request: Request, kind: str
) -> tuple[bytes, Shown]:
    base = settings.base_url.rstrip("/")
    statement = public_posts()
    site = settings.site_name
    if kind == "articles":
        self_path = url("articles_feed")
        entries, shown = await _article_entries(session, base, url, settings.feed_entries)
        body = atom_feed(
            base + self_path, f"Articles · {site}", base + self_path, base + url("articles"),
            utcnow(), entries,
        )  # fmt: skip
        return body, shown
    if kind == "latest":
        title, page, self_path = f"Latest · {site}", url("latest"), url("latest_feed")
    elif kind == "category":
        slug = str(request.path_params["slug"])[:80]
        category = await session.scalar(select(Category).where(Category.slug == slug))
        if category is None or category.staff_only:
            raise HTTPException(404, "There is no such category.")
        # A parent's feed carries its sub-forums' posts too, as its page shows their activity.
        statement = statement.where(
            Thread.category_id.in_(await _public_subtree(session, category.id))
        )
        title = f"{category.name} · {site}"
        page, self_path = url("category", slug=slug), url("category_feed", slug=slug)
    else:
        thread_id = request.path_params["thread_id"]
        thread = await session.scalar(
            select(Thread.title)
            .join(Category, Category.id == Thread.category_id)
            .where(Thread.id == thread_id, thread_visibility(None))
        )
        if thread is None:
            raise HTTPException(404, "There is no such thread, or it has been removed.")
        statement = statement.where(Post.thread_id == thread_id)
        title = f"{thread} · {site}"
        page, self_path = (
            url("thread", thread_id=thread_id),
            url("thread_feed", thread_id=thread_id),
        )
    entries, shown = await _entries(session, statement, base, url, settings.feed_entries)
    body = atom_feed(base + self_path, title, base + self_path, base + page, utcnow(), entries)
    return body, shown


async def articles_feed(request: Request) -> Response:
    return await _feed(request, "articles")


async def latest_feed(request: Request) -> Response:
    return await _feed(request, "latest")


async def category_feed(request: Request) -> Response:
    return await _feed(request, "category")


async def thread_feed(request: Request) -> Response:
    return await _feed(request, "thread")


routes = [
    Route("/latest.atom", latest_feed, methods=["GET"], name="latest_feed"),
    Route("/articles.atom", articles_feed, methods=["GET"], name="articles_feed"),
    Route("/c/{slug}/feed.atom", category_feed, methods=["GET"], name="category_feed"),
    Route("/t/{thread_id:id}/feed.atom", thread_feed, methods=["GET"], name="thread_feed"),
]
