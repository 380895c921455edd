"""Board rules: the category tree, listing threads and posts, posting, editing, moderating."""

from __future__ import annotations

import functools
import math
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.accounts.models import AuditEntry, User
from forum.accounts.services import award_points, is_suspended
from forum.board.models import (
    Category,
    ModerationState,
    Post,
    PostRevision,
    Thread,
    shown_to_all,
)
from forum.db import Prepared, fetch_rows, utcnow
from forum.review.queue import PREMODERATION, notify_worker, open_item
from forum.settings import Settings
from forum.text import clean_block, clean_line, render_markdown

PREMODERATION_NOTE = "Waiting for a moderator's approval before other members can see it."


class BoardError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def slugify(value: str) -> str:
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:80] or "category"


def validate_title(settings: Settings, title: str) -> str:
    title = clean_line(title)
    if len(title) < 3:
        raise BoardError("title", "Give the thread a title of at least 3 characters.")
    if len(title) > settings.title_max:
        raise BoardError("title", f"Titles can have at most {settings.title_max} characters.")
    return title


def validate_body(settings: Settings, body: str) -> str:
    body = clean_block(body)
    if not body:
        raise BoardError("body", "The post is empty.")
    if len(body) > settings.body_max:
        raise BoardError(
            "body",
            f"Posts can have at most {settings.body_max:,} characters (this has {len(body):,}).",
        )
    return body


def check_can_post(user: User) -> None:
    if is_suspended(user):
        until = user.suspended_until.strftime("%d %b %Y %H:%M UTC") if user.suspended_until else ""
        raise BoardError("body", f"Your account is suspended{' until ' + until if until else ''}.")


# --- categories -------------------------------------------------------------------------------


@dataclass
class CategoryStats:
    category: Category
    children: list[CategoryStats]
    threads: int = 0
    posts: int = 0
    last_post_at: datetime | None = None


async def category_tree(session: AsyncSession, viewer: User | None = None) -> list[CategoryStats]:
    categories = [
        c
        for c in (
            await session.scalars(select(Category).order_by(Category.position, Category.name))
        ).all()
        if can_see_category(c, viewer)
    ]
    nodes = {
        c.id: CategoryStats(c, [], c.thread_count, c.post_count, c.last_post_at) for c in categories
    }
    roots: list[CategoryStats] = []
    for node in nodes.values():
        parent = nodes.get(node.category.parent_id) if node.category.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


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
        thread_count=select(func.count(Thread.id)).where(live).scalar_subquery(),
        post_count=select(func.coalesce(func.sum(Thread.post_count), 0))
        .where(live)
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


_CATEGORY_CACHE: dict[str, tuple[float, dict[int, CategoryInfo]]] = {}


async def category_map(
    session: AsyncSession, cache_seconds: float = 0.0
) -> dict[int, CategoryInfo]:
    """Every category by id (a small table), reused for `cache_seconds` by pages."""
    bind = session.bind
    key = str(bind.engine.url if bind is not None else "")
    now = time.monotonic()
    cached = _CATEGORY_CACHE.get(key)
    if cache_seconds > 0 and cached is not None and cached[0] > now:
        return cached[1]
    rows = await session.execute(
        select(Category.id, Category.parent_id, Category.name, Category.slug, Category.staff_only)
    )
    found = {r[0]: CategoryInfo(*r) for r in rows}
    _CATEGORY_CACHE[key] = (now + cache_seconds, found)
    return found


async def breadcrumbs(
    session: AsyncSession, category: Category | CategoryInfo, cache_seconds: float = 0.0
) -> list[CategoryInfo]:
    """The chain from the root down to `category`."""
    categories = await category_map(session, cache_seconds)
    if category.id not in categories:  # created since the map was cached
        categories = await category_map(session, 0)
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
    return category


# --- listing ----------------------------------------------------------------------------------


@dataclass
class Page:
    number: int
    count: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count

    @property
    def links(self) -> list[int | None]:
        """Page numbers to link: the first, the last and two either side of this one; None
        where a run is left out. (A loop over every page in the template cost a thousand-page
        thread a millisecond per render.)"""
        near = range(max(2, self.number - 2), min(self.count - 1, self.number + 2) + 1)
        shown = [1, *near, self.count] if self.count > 1 else [1]
        out: list[int | None] = []
        for n in shown:
            if out and out[-1] is not None and n - out[-1] > 1:  # type: ignore[operator]
                out.append(None)
            out.append(n)
        return out


def paginate(total: int, per_page: int, requested: int | None, last: bool = False) -> Page:
    count = max(1, math.ceil(total / per_page))
    number = count if last else (requested or 1)
    return Page(number=min(max(1, number), count), count=count, total=total)


@dataclass(slots=True)
class ThreadView:
    """A thread as a listing shows it: plain values (twenty-five a page)."""

    id: int
    title: str
    created_at: datetime
    last_post_at: datetime
    post_count: int
    view_count: int
    is_pinned: bool
    is_locked: bool

    @property
    def reply_count(self) -> int:
        return max(self.post_count - 1, 0)


@dataclass(slots=True)
class ThreadRow:
    thread: ThreadView
    author: str
    last_poster: str | None


def _listing_statements() -> tuple[Select[Any], Prepared]:
    author = aliased(User)
    last = aliased(User)
    where = and_(Thread.category_id == bindparam("category_id"), Thread.is_deleted.is_(False))
    count = select(func.count(Thread.id)).where(where)
    page = (
        select(
            Thread.id, Thread.title, Thread.created_at, Thread.last_post_at, Thread.post_count,
            Thread.view_count, Thread.is_pinned, Thread.is_locked, author.username, last.username,
        )
        .join(author, author.id == Thread.author_id)
        .outerjoin(last, last.id == Thread.last_poster_id)
        .where(where)
        .order_by(Thread.is_pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )  # fmt: skip
    return count, Prepared(page)


_LISTING = _listing_statements()


async def list_threads(
    session: AsyncSession, category: Category, page: int | None, per_page: int
) -> tuple[list[ThreadRow], Page]:
    count, select_page = _LISTING
    conn = await session.connection()
    total = await conn.scalar(count, {"category_id": category.id})
    pager = paginate(total or 0, per_page, page)
    rows = await fetch_rows(
        conn,
        select_page,
        {"category_id": category.id, "limit": per_page, "offset": (pager.number - 1) * per_page},
    )
    return [ThreadRow(ThreadView(*row[:8]), row[8], row[9]) for row in rows], pager


def post_visibility(viewer: User | None):  # type: ignore[no-untyped-def]
    """Who sees which posts: held/hidden posts only their author and moderators."""
    return _visible_posts(Post, _viewer_kind(viewer), viewer.id if viewer is not None else None)


class PostView(NamedTuple):
    """What a thread page shows of a post: plain values, cheaper than ORM objects to load
    and to read from templates (twenty of each per page). Hashable: cards are cached by it.
    Named tuples, built straight from a row's slice, cost a third of frozen dataclasses to
    make and to hash."""

    id: int
    author_id: int
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    is_deleted: bool
    moderation_state: str
    moderation_note: str


class AuthorView(NamedTuple):
    id: int
    username: str
    points: int
    post_count: int
    joined_at: datetime
    location: str
    special_rank_id: int | None


POST_COLUMNS = (Post.id, Post.author_id, Post.body_html, Post.created_at, Post.edited_at,
                Post.is_deleted, Post.moderation_state, Post.moderation_note)  # fmt: skip
AUTHOR_COLUMNS = (User.id, User.username, User.points, User.post_count, User.joined_at,
                  User.location, User.special_rank_id)  # fmt: skip


def _viewer_kind(viewer: User | None) -> str:
    if viewer is None:
        return "anonymous"
    return "staff" if viewer.is_moderator else "member"


def _visible_posts(table: Any, kind: str, viewer_id: int | None = None) -> Any:
    """The posts of `table` a kind of viewer sees; a member's own id is bound as `viewer_id`
    unless given (prebuilt statements bind it per request)."""
    live: Any = table.is_deleted.is_(False)
    if kind == "staff":
        return live
    shown: Any = shown_to_all(table.moderation_state)
    if kind == "member":
        own = bindparam("viewer_id") if viewer_id is None else viewer_id
        shown = or_(shown, table.author_id == own)
    return and_(live, shown)


@functools.cache
def _posts_statements(kind: str) -> tuple[Select[Any], Prepared]:
    """Built once per kind of viewer, with bound parameters: building SQLAlchemy expressions
    on every request was a fifth of the thread page's cost.

    Each row of the page query also carries the thread (with its category's staff flag) and
    the thread's visible post count, an uncorrelated scalar subquery both engines evaluate
    once: showing a page is one round trip, where it was three. The scan stays on the
    (thread_id, id) index in post order, so a long thread costs no more than a short one."""
    where = and_(Post.thread_id == bindparam("thread_id"), _visible_posts(Post, kind))
    count = select(func.count(Post.id)).where(where)
    counted = aliased(Post)  # its own FROM: a subquery on `posts` itself would be correlated
    total = (
        select(func.count(counted.id))
        .where(counted.thread_id == bindparam("thread_id"), _visible_posts(counted, kind))
        .scalar_subquery()
    )
    page = (
        select(*POST_COLUMNS, *AUTHOR_COLUMNS, *THREAD_COLUMNS, Category.staff_only,
               total.label("total"))
        .join(User, User.id == Post.author_id)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .where(where)
        .order_by(Post.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )  # fmt: skip
    return count, Prepared(page)


async def thread_page(
    session: AsyncSession,
    thread_id: int,
    viewer: User | None,
    page: int | None,
    per_page: int,
    last: bool = False,
) -> tuple[ThreadInfo, list[tuple[PostView, AuthorView]], Page] | None:
    """A thread and one page of its posts with their authors, as `viewer` may see them;
    None if there is no such thread for this viewer."""
    kind = _viewer_kind(viewer)
    count, select_page = _posts_statements(kind)
    params: dict[str, Any] = {"thread_id": thread_id, "limit": per_page}
    if kind == "member":
        assert viewer is not None
        params["viewer_id"] = viewer.id
    conn = await session.connection()
    rows: list[Any] = []
    pager = None
    thread: ThreadInfo | None = None
    if not last:
        number = max(1, page or 1)
        rows = await fetch_rows(conn, select_page, {**params, "offset": (number - 1) * per_page})
        if rows:
            pager = paginate(rows[0][-1], per_page, number)  # the last column is the total
            thread = _thread_from(rows[0], viewer, len(POST_COLUMNS) + len(AUTHOR_COLUMNS))
            if thread is None:
                return None
    if pager is None:  # the last page, a page past the end, or no post to show
        thread = await thread_info(session, thread_id, viewer)
        if thread is None:
            return None
        total = await conn.scalar(count, params)
        pager = paginate(total or 0, per_page, page, last=last)
        offset = (pager.number - 1) * per_page
        rows = await fetch_rows(conn, select_page, {**params, "offset": offset}) if total else []
    assert thread is not None
    a, b = len(POST_COLUMNS), len(POST_COLUMNS) + len(AUTHOR_COLUMNS)
    return thread, [(PostView._make(row[:a]), AuthorView._make(row[a:b])) for row in rows], pager


async def recent_in_category(
    session: AsyncSession, thread: Thread | ThreadInfo, viewer: User | None, limit: int = 5
) -> list[Thread]:
    """The fallback for "Related Discussion" until related threads are computed."""
    first = aliased(Post)
    staff = viewer is not None and viewer.is_moderator
    return list(
        (
            await session.scalars(
                select(Thread)
                .outerjoin(first, first.id == Thread.first_post_id)
                .where(
                    Thread.category_id == thread.category_id,
                    Thread.id != thread.id,
                    Thread.is_deleted.is_(False),
                    or_(first.id.is_(None), shown_to_all(first.moderation_state), staff),
                )
                .order_by(Thread.last_post_at.desc())
                .limit(limit)
            )
        ).all()
    )


async def post_page(session: AsyncSession, post: Post, viewer: User | None, per_page: int) -> int:
    before = await session.scalar(
        select(func.count(Post.id)).where(
            Post.thread_id == post.thread_id, Post.id < post.id, post_visibility(viewer)
        )
    )
    return (before or 0) // per_page + 1


def can_see_category(category: Category, viewer: User | None) -> bool:
    return not category.staff_only or (viewer is not None and viewer.is_moderator)


_THREAD_WITH_CATEGORY = (
    select(Thread, Category.staff_only)
    .join(Category, Category.id == Thread.category_id)
    .where(Thread.id == bindparam("thread_id"))
)


async def get_thread(session: AsyncSession, thread_id: int, viewer: User | None) -> Thread | None:
    """The thread as an ORM object, for requests that change it."""
    row = (await session.execute(_THREAD_WITH_CATEGORY, {"thread_id": thread_id})).first()
    if row is None:
        return None
    thread, staff_only = row
    if not _may_see_thread(thread.is_deleted, staff_only, viewer):
        return None
    return thread


@dataclass(slots=True)
class ThreadInfo:
    """A thread as its page shows it: plain values read without the ORM."""

    id: int
    category_id: int
    title: str
    post_count: int
    view_count: int
    is_pinned: bool
    is_locked: bool
    is_deleted: bool
    first_post_id: int | None

    @property
    def reply_count(self) -> int:
        return max(self.post_count - 1, 0)


THREAD_COLUMNS = (Thread.id, Thread.category_id, Thread.title, Thread.post_count,
                  Thread.view_count, Thread.is_pinned, Thread.is_locked, Thread.is_deleted,
                  Thread.first_post_id)  # fmt: skip

_THREAD_INFO = (
    select(*THREAD_COLUMNS, Category.staff_only)
    .join(Category, Category.id == Thread.category_id)
    .where(Thread.id == bindparam("thread_id"))
)


async def thread_info(
    session: AsyncSession, thread_id: int, viewer: User | None
) -> ThreadInfo | None:
    """The thread for reading, if the viewer may see it (one row, no ORM object)."""
    conn = await session.connection()
    row = (await conn.execute(_THREAD_INFO, {"thread_id": thread_id})).first()
    return _thread_from(row, viewer) if row is not None else None


def _thread_from(row: Any, viewer: User | None, at: int = 0) -> ThreadInfo | None:
    """The ThreadInfo in `row` (THREAD_COLUMNS then the category's staff_only, from position
    `at`), if `viewer` may see the thread."""
    thread = ThreadInfo(*row[at : at + len(THREAD_COLUMNS)])
    staff_only = row[at + len(THREAD_COLUMNS)]
    return thread if _may_see_thread(thread.is_deleted, staff_only, viewer) else None


def _may_see_thread(is_deleted: bool, staff_only: bool, viewer: User | None) -> bool:
    return not (is_deleted or staff_only) or (viewer is not None and viewer.is_moderator)


async def get_post(session: AsyncSession, post_id: int, viewer: User | None) -> Post | None:
    staff = viewer is not None and viewer.is_moderator
    return await session.scalar(
        select(Post)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .where(
            Post.id == post_id, post_visibility(viewer), or_(Category.staff_only.is_(False), staff)
        )
    )


# --- posting ----------------------------------------------------------------------------------


async def _add_post(
    session: AsyncSession,
    settings: Settings,
    author: User,
    thread: Thread,
    body: str,
    reply_to_id: int | None,
    now: datetime | None = None,
    nudged: list[str] | None = None,
) -> Post:
    now = now or utcnow()
    # Pre-moderation: a new account's first posts, and posts by members a moderator placed
    # on pre-moderation, are seen only by their author and moderators until approved.
    premoderated = author.premoderated or author.post_count < settings.premoderate_first_posts
    post = Post(
        thread_id=thread.id,
        author_id=author.id,
        reply_to_id=reply_to_id,
        body_source=body,
        body_html=render_markdown(body),
        created_at=now,
        moderation_state=(
            ModerationState.held.value if premoderated else ModerationState.pending.value
        ),
        moderation_note=PREMODERATION_NOTE if premoderated else "",
        needs_scoring=True,
        mod_attempts=0,
        edit_count=0,
        is_deleted=False,
        nudge_phrases="\n".join(nudged or []),
    )
    session.add(post)
    await session.flush()
    if premoderated:
        await open_item(session, post.id, [PREMODERATION], priority=5.0)
    await notify_worker(session)
    # Counters move by atomic UPDATEs, never read-modify-write, so concurrent posts stay exact.
    # Ids are handed out before commit order is known: only a newer post moves "last post".
    newer = or_(Thread.last_post_id.is_(None), Thread.last_post_id < post.id)
    await session.execute(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(
            post_count=Thread.post_count + 1,
            last_post_at=case((newer, now), else_=Thread.last_post_at),
            last_post_id=case((newer, post.id), else_=Thread.last_post_id),
            last_poster_id=case((newer, author.id), else_=Thread.last_poster_id),
        )
    )
    later = or_(Category.last_post_at.is_(None), Category.last_post_at < now)
    await session.execute(
        update(Category)
        .where(Category.id == thread.category_id)
        .values(
            post_count=Category.post_count + 1,
            last_post_at=case((later, now), else_=Category.last_post_at),
        )
    )
    await award_points(session, author.id, settings.points_per_post, "post", post.id, post_delta=1)
    return post


async def create_thread(
    session: AsyncSession,
    settings: Settings,
    author: User,
    category: Category,
    title: str,
    body: str,
    now: datetime | None = None,
    nudged: list[str] | None = None,
) -> tuple[Thread, Post]:
    check_can_post(author)
    title = validate_title(settings, title)
    body = validate_body(settings, body)
    now = now or utcnow()
    thread = Thread(
        category_id=category.id,
        author_id=author.id,
        title=title,
        created_at=now,
        last_post_at=now,
        post_count=0,
        view_count=0,
        is_locked=False,
        is_pinned=False,
        is_deleted=False,
    )
    session.add(thread)
    await session.flush()
    post = await _add_post(session, settings, author, thread, body, None, now, nudged)
    thread.first_post_id = post.id
    await session.flush()
    await session.execute(
        update(Category)
        .where(Category.id == category.id)
        .values(thread_count=Category.thread_count + 1)
    )
    return thread, post


async def create_reply(
    session: AsyncSession,
    settings: Settings,
    author: User,
    thread: Thread,
    body: str,
    reply_to_id: int | None = None,
    now: datetime | None = None,
    nudged: list[str] | None = None,
) -> Post:
    check_can_post(author)
    if thread.is_deleted:
        raise BoardError("body", "This thread has been deleted.")
    if thread.is_locked and not author.is_moderator:
        raise BoardError("body", "This thread is locked; no new replies.")
    body = validate_body(settings, body)
    if reply_to_id is not None:
        target = await session.scalar(
            select(Post.id).where(Post.id == reply_to_id, Post.thread_id == thread.id)
        )
        reply_to_id = target  # a quote of a post from another thread is ignored, not trusted
    return await _add_post(session, settings, author, thread, body, reply_to_id, now, nudged)


def can_edit(user: User | None, post: Post | PostView, thread: Thread | ThreadInfo) -> bool:
    if user is None or post.is_deleted:
        return False
    if user.is_moderator:
        return True
    return post.author_id == user.id and not thread.is_locked and not is_suspended(user)


async def edit_post(
    session: AsyncSession,
    settings: Settings,
    editor: User,
    post: Post,
    thread: Thread,
    body: str,
    title: str | None = None,
) -> Post:
    if not can_edit(editor, post, thread):
        raise PermissionError("You cannot edit this post.")
    body = validate_body(settings, body)
    is_first = post.id == thread.first_post_id
    if is_first:
        thread.needs_related = True  # the opening post is what related threads are found by
    if title is not None and is_first:
        thread.title = validate_title(settings, title)
    if body == post.body_source:
        return post
    session.add(PostRevision(post_id=post.id, editor_id=editor.id, body_source=post.body_source))
    post.body_source = body
    post.body_html = render_markdown(body)
    post.edited_at = utcnow()
    post.edit_count += 1
    # Edited posts go through the moderation pipeline again. A held or hidden post stays out
    # of sight until a moderator decides; a public one stays public while it is re-scored.
    if post.moderation_state in (ModerationState.clear.value, ModerationState.flagged.value):
        post.moderation_state = ModerationState.pending.value
    post.needs_scoring = True
    post.mod_attempts = 0
    post.mod_lease_until = None
    post.mod_claim = None
    await notify_worker(session)
    return post


async def revisions(session: AsyncSession, post: Post) -> list[tuple[PostRevision, str | None]]:
    rows = await session.execute(
        select(PostRevision, User.username)
        .outerjoin(User, User.id == PostRevision.editor_id)
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())
    )
    return [(r, name) for r, name in rows]


# --- moderation of threads --------------------------------------------------------------------


def audit(
    session: AsyncSession,
    actor: User,
    action: str,
    target_type: str,
    target_id: int,
    reason: str = "",
    detail: str = "",
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            reason=reason[:2000],
            detail=detail[:2000],
        )
    )


async def set_thread_flag(
    session: AsyncSession, actor: User, thread: Thread, flag: str, value: bool, reason: str = ""
) -> None:
    if flag not in ("is_locked", "is_pinned"):
        raise ValueError(flag)
    setattr(thread, flag, value)
    action = {"is_locked": ("lock", "unlock"), "is_pinned": ("pin", "unpin")}[flag][
        0 if value else 1
    ]
    audit(session, actor, action, "thread", thread.id, reason)


async def move_thread(
    session: AsyncSession, actor: User, thread: Thread, category: Category, reason: str = ""
) -> None:
    old = thread.category_id
    thread.category_id = category.id
    thread.needs_related = True
    await session.flush()
    await refresh_category_stats(session, [old, category.id])
    audit(
        session, actor, "move", "thread", thread.id, reason, f"from category {old} to {category.id}"
    )


async def delete_thread(
    session: AsyncSession, settings: Settings, actor: User, thread: Thread, reason: str = ""
) -> None:
    if thread.is_deleted:
        return
    thread.is_deleted = True
    thread.needs_related = True  # the worker takes it out of other threads' lists
    # The category's row first, then the authors': posting locks them in that order too, so a
    # delete and a reply by one of the thread's authors cannot deadlock.
    await session.flush()
    await refresh_category_stats(session, [thread.category_id])
    # Posts in a deleted thread stop counting: reverse each author's points and post count
    # through the ledger, so the totals can still be explained and recomputed.
    per_author = await session.execute(
        select(Post.author_id, func.count(Post.id))
        .where(Post.thread_id == thread.id, Post.is_deleted.is_(False))
        .group_by(Post.author_id)
    )
    for author_id, count in per_author.all():
        await award_points(
            session,
            author_id,
            -settings.points_per_post * count,
            "thread_deleted",
            post_delta=-count,
        )
    await session.execute(update(Post).where(Post.thread_id == thread.id).values(is_deleted=True))
    audit(session, actor, "delete", "thread", thread.id, reason)
