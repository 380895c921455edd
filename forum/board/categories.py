"""The category tree: listing it with its counters, breadcrumbs, creating categories, and
keeping each category's thread and post counts and last post time."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.accounts.models import User
from forum.board.events import NewThreadsRefused
from forum.board.models import Category, Post, Thread
from forum.board.visibility import (
    can_see_category,
    category_visibility,
    opening_post_visible,
    visible_posts,
)
from forum.core import events
from forum.core.cache import Cached
from forum.core.errors import NotFound
from forum.core.text import clean_line


def slugify(value: str) -> str:
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:80] or "category"


@dataclass(frozen=True)
class LatestActivity:
    """A category's most recently active thread that everyone may see, with its last post's
    member and time (the thread's last post is always one everyone can see)."""

    thread_id: int
    title: str
    at: datetime
    poster: str | None


@dataclass
class CategoryStats:
    """A category with its own counters and latest activity (`threads`, `posts`, `latest`)
    and the same over it and every sub-category the viewer may see (`total_*`)."""

    category: Category
    children: list[CategoryStats]
    threads: int = 0
    posts: int = 0
    last_post_at: datetime | None = None
    latest: LatestActivity | None = None
    total_threads: int = 0
    total_posts: int = 0
    total_latest: LatestActivity | None = None

    @property
    def is_empty(self) -> bool:
        return self.total_threads == 0 and not self.children

    def find(self, category_id: int) -> CategoryStats | None:
        if self.category.id == category_id:
            return self
        for child in self.children:
            found = child.find(category_id)
            if found is not None:
                return found
        return None


@functools.cache
def _tree_statements() -> tuple[Select[Any], Select[Any]]:
    """Every category with the id of its latest public thread, then those threads with their
    last posters. The latest public thread of a category is the newest one everyone may see
    (not deleted, opening post public): one backward probe of ix_threads_category_latest per
    category, each candidate's opening post read by its key. The counters beside it count the
    same public threads and posts, so every viewer is shown the same latest activity and
    nothing hidden leaks its title or author. (Staff-only categories are left out for other
    viewers by the caller.)

    Two statements, not one join: PostgreSQL plans a join on the per-category subquery as a
    hash join over every thread on the board."""
    candidate = aliased(Thread)
    first = aliased(Post)
    latest_id = (
        select(candidate.id)
        .outerjoin(first, first.id == candidate.first_post_id)
        .where(
            candidate.category_id == Category.id,
            candidate.is_deleted.is_(False),
            or_(candidate.first_post_id.is_(None), visible_posts(first, "anonymous")),
        )
        .order_by(candidate.last_post_at.desc(), candidate.id.desc())
        .limit(1)
        .correlate(Category)
        .scalar_subquery()
    )
    categories = select(Category, latest_id.label("latest_id")).order_by(
        Category.position, Category.name
    )
    poster = aliased(User)
    threads = (
        select(Thread.id, Thread.title, Thread.last_post_at, poster.username)
        .outerjoin(poster, poster.id == Thread.last_poster_id)
        .where(Thread.id.in_(bindparam("ids", expanding=True)))
    )
    return cast(Select[Any], categories), cast(Select[Any], threads)


def _later(a: LatestActivity | None, b: LatestActivity | None) -> LatestActivity | None:
    if a is None or b is None:
        return a or b
    return a if (a.at, a.thread_id) >= (b.at, b.thread_id) else b


def _add_totals(node: CategoryStats) -> None:
    node.total_threads, node.total_posts, node.total_latest = node.threads, node.posts, node.latest
    for child in node.children:
        _add_totals(child)
        node.total_threads += child.total_threads
        node.total_posts += child.total_posts
        node.total_latest = _later(node.total_latest, child.total_latest)


async def category_tree(session: AsyncSession, viewer: User | None = None) -> list[CategoryStats]:
    """The categories `viewer` may see as a tree, with their counters and latest activity
    (two queries, however many categories and threads). A sub-category of a category the
    viewer may not see is left out with it."""
    categories, threads = _tree_statements()
    rows = (await session.execute(categories)).all()
    ids = [latest_id for _c, latest_id in rows if latest_id is not None]
    latest: dict[int, LatestActivity] = {}
    if ids:
        for thread_id, title, at, poster in await session.execute(threads, {"ids": ids}):
            latest[thread_id] = LatestActivity(thread_id, title, at, poster)
    nodes: dict[int, CategoryStats] = {}
    for c, latest_id in rows:
        found = latest.get(latest_id) if latest_id is not None else None
        nodes[c.id] = CategoryStats(
            c, [], c.thread_count, c.post_count, found.at if found else None, found
        )
    roots: list[CategoryStats] = []
    for node in nodes.values():
        parent = nodes.get(node.category.parent_id) if node.category.parent_id else None
        (parent.children if parent else roots).append(node)

    def visible(node: CategoryStats) -> CategoryStats | None:
        if not can_see_category(node.category, viewer):
            return None
        node.children = [v for child in node.children if (v := visible(child)) is not None]
        return node

    tree = [v for root in roots if (v := visible(root)) is not None]
    for root in tree:
        _add_totals(root)
    return tree


async def category_by_slug(session: AsyncSession, slug: str, viewer: User | None) -> Category:
    category = await session.scalar(select(Category).where(Category.slug == slug[:80]))
    if category is None or not can_see_category(category, viewer):
        raise NotFound("There is no such category.")
    return category


async def new_threads_refused(
    session: AsyncSession, category: Category, thread_id: int | None = None
) -> str | None:
    """Why no thread may be started in `category` (or `thread_id` moved into it), if none may:
    the domains built on the board answer (forum.board.events.NewThreadsRefused)."""
    answers = await events.ask(session, NewThreadsRefused(category, thread_id))
    return next((reason for reason in answers if reason), None)


async def subcategories(
    session: AsyncSession, category: Category, viewer: User | None
) -> list[Category]:
    return list(
        (
            await session.scalars(
                select(Category)
                .where(Category.parent_id == category.id, category_visibility(viewer))
                .order_by(Category.position)
            )
        ).all()
    )


async def has_subcategories(session: AsyncSession, category: Category) -> bool:
    """Whether `category` groups forums (the home page shows it as a heading over them)."""
    found = await session.scalar(
        select(Category.id).where(Category.parent_id == category.id).limit(1)
    )
    return found is not None


async def all_categories(session: AsyncSession) -> list[Category]:
    """Every category by name: what a moderator may move a thread to."""
    return list((await session.scalars(select(Category).order_by(Category.name))).all())


async def refresh_category_stats(
    session: AsyncSession, category_ids: list[int] | None = None
) -> None:
    """Recompute categories' thread and post counts and last post time from their live
    threads (all categories when `category_ids` is None).

    The rows are locked first, in id order, by a statement of their own: under READ COMMITTED
    an UPDATE that waits for a row lock keeps the snapshot it started with, so a recount that
    queued behind a concurrent delete or reply would write totals that miss them (a test
    with deletes racing replies caught exactly that). The UPDATE after the lock sees them."""
    lock = select(Category.id).order_by(Category.id).with_for_update()
    if category_ids is not None:
        lock = lock.where(Category.id.in_(category_ids))
    await session.execute(lock)
    live = and_(Thread.category_id == Category.id, Thread.is_deleted.is_(False))
    stmt = update(Category).values(
        thread_count=select(func.count(Thread.id))
        .where(live, opening_post_visible("anonymous"))
        .scalar_subquery(),
        post_count=select(func.coalesce(func.sum(Thread.post_count), 0))
        .where(live, opening_post_visible("anonymous"))
        .scalar_subquery(),
        last_post_at=select(func.max(Thread.last_post_at)).where(live).scalar_subquery(),
    )
    if category_ids is not None:
        stmt = stmt.where(Category.id.in_(category_ids))
    await session.execute(stmt)


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    parent_id: int | None
    name: str
    slug: str
    staff_only: bool
    is_qa: bool = False


async def _read_categories(session: AsyncSession) -> dict[int, CategoryInfo]:
    rows = (
        await session.execute(
            select(
                Category.id, Category.parent_id, Category.name, Category.slug,
                Category.staff_only, Category.is_qa,
            )
        )
    ).all()  # fmt: skip
    # A sub-forum of a staff-only group counts as staff-only (forum.board.visibility).
    marked = {r.id for r in rows if r.staff_only}
    return {
        r.id: CategoryInfo(
            r.id, r.parent_id, r.name, r.slug, r.staff_only or r.parent_id in marked, r.is_qa
        )
        for r in rows
    }


_CATEGORIES = Cached(_read_categories)


def forget_categories() -> None:
    """After a change to the categories (the Admin's Categories page): this process reads them
    afresh; others within settings.cache_seconds."""
    _CATEGORIES.forget()


async def category_info(
    session: AsyncSession, category_id: int, cache_seconds: float = 0.0
) -> CategoryInfo | None:
    """One category from the (briefly cached) map; read afresh if it is newer than the map."""
    found = (await _CATEGORIES.get(session, cache_seconds)).get(category_id)
    if found is None and cache_seconds > 0:
        found = (await _CATEGORIES.get(session, 0)).get(category_id)
    return found


async def breadcrumbs(
    session: AsyncSession, category: Category | CategoryInfo, cache_seconds: float = 0.0
) -> list[CategoryInfo]:
    """The chain from the root down to `category`."""
    categories = await _CATEGORIES.get(session, cache_seconds)
    if category.id not in categories:  # created since the map was cached
        categories = await _CATEGORIES.get(session, 0)
    chain: list[CategoryInfo] = []
    seen: set[int] = set()
    current = categories.get(category.id)
    while current is not None and current.id not in seen:
        seen.add(current.id)
        chain.insert(0, current)
        current = categories.get(current.parent_id) if current.parent_id else None
    return chain


async def create_category(
    session: AsyncSession,
    name: str,
    parent: Category | None = None,
    description: str = "",
    position: int = 0,
) -> Category:
    base = slugify(name)
    slug, n = base, 1
    while await session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    category = Category(
        name=clean_line(name),
        slug=slug,
        description=description,
        position=position,
        parent_id=parent.id if parent else None,
    )
    session.add(category)
    await session.flush()
    _CATEGORIES.forget()
    return category
