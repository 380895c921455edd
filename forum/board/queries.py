"""Reading the board: category listings, thread pages, single threads and posts.

The two pages every visitor loads (a category listing and a thread page) run prebuilt
statements on the hot-read fast path (forum.core.fastpath), built once per kind of viewer
with bound parameters: building SQLAlchemy expressions on every request was a fifth of the
thread page's cost. They return named rows, turned here into the plain shapes templates
read: `ThreadView` (a thread as pages show it), `PostView` and `AuthorView`. Requests that
change a thread load the ORM `Thread` instead (`get_thread`)."""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.accounts.models import PROFILE_HIDDEN_STATES, User
from forum.board.models import (
    REACTION_LABELS,
    Category,
    Post,
    PostRevision,
    Reaction,
    Thread,
    shown_to_all,
)
from forum.board.visibility import (
    ViewerKind,
    is_staff,
    may_see_thread,
    opening_post_visible,
    post_visibility,
    staff_only_category,
    thread_visibility,
    viewer_kind,
    visible_posts,
)
from forum.core.fastpath import Prepared, fetch_rows
from forum.core.pagination import Page, paginate

V = TypeVar("V", bound=tuple[Any, ...])


class ThreadView(NamedTuple):
    """A thread as pages show it: plain values read without the ORM."""

    id: int
    category_id: int
    author_id: int
    title: str
    created_at: datetime
    last_post_at: datetime
    post_count: int
    view_count: int
    is_pinned: bool
    is_locked: bool
    is_deleted: bool
    first_post_id: int | None
    # The reply that answered the question (Q&A categories), if any: shown only if the
    # viewer may see that post.
    accepted_post_id: int | None

    @property
    def reply_count(self) -> int:
        return max(self.post_count - 1, 0)


class PostView(NamedTuple):
    """What a thread page shows of a post: plain values, cheaper than ORM objects to load
    and to read from templates (twenty of each per page). Hashable: cards are cached by it."""

    id: int
    author_id: int
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    is_deleted: bool
    moderation_state: str
    moderation_note: str
    # Reactions: how many of each kind, and the viewer's own as bits (REACTION_BITS).
    thanks: int
    helpful: int
    agree: int
    mine: int

    def reactions(self) -> list[tuple[str, str, int, bool]]:
        """(kind, label, count, whether the viewer reacted so) for each kind, in order."""
        return [
            (kind, label, getattr(self, kind), bool(self.mine & REACTION_BITS[kind]))
            for kind, label in REACTION_LABELS.items()
        ]


class AuthorView(NamedTuple):
    id: int
    username: str
    points: int
    post_count: int
    joined_at: datetime
    location: str
    special_rank_id: int | None
    role: str  # who may edit their posts (posting.can_edit)


class ThreadRow(NamedTuple):
    """A line of a category listing."""

    thread: ThreadView
    author: str
    last_poster: str | None
    # The thread's accepted answer is one the viewer may see (a Q&A category's "Answered").
    answered: bool = False


REACTION_BITS = {kind: 1 << i for i, kind in enumerate(REACTION_LABELS)}


def _reaction_count(kind: str) -> Any:
    """How many reactions of `kind` the post has (one probe of the unique index)."""
    return (
        select(func.count(Reaction.id))
        .where(Reaction.post_id == Post.id, Reaction.kind == kind)
        .correlate(Post)
        .scalar_subquery()
    )


# The viewer's own reactions to the post as bits (bound `reactor_id`: 0 for visitors).
_MINE = (
    select(
        func.coalesce(
            func.sum(case(*((Reaction.kind == k, b) for k, b in REACTION_BITS.items()), else_=0)),
            0,
        )
    )
    .where(Reaction.post_id == Post.id, Reaction.user_id == bindparam("reactor_id"))
    .correlate(Post)
    .scalar_subquery()
)

THREAD_COLUMNS = (Thread.id, Thread.category_id, Thread.author_id, Thread.title, Thread.created_at,
                  Thread.last_post_at, Thread.post_count, Thread.view_count, Thread.is_pinned,
                  Thread.is_locked, Thread.is_deleted, Thread.first_post_id,
                  Thread.accepted_post_id)  # fmt: skip
POST_COLUMNS = (Post.id, Post.author_id, Post.body_html, Post.created_at, Post.edited_at,
                Post.is_deleted, Post.moderation_state, Post.moderation_note,
                *(_reaction_count(kind) for kind in REACTION_LABELS), _MINE)  # fmt: skip
# A location held or hidden by moderation is left out of every author panel (its member and
# moderators see it on the profile page).
# (The states are written into the SQL, as `shown_to_all` does: no bound list to re-render.)
PUBLIC_LOCATION = case(
    (
        User.profile_state.in_([literal_column(f"'{state}'") for state in PROFILE_HIDDEN_STATES]),
        literal_column("''"),
    ),
    else_=User.location,
)
AUTHOR_COLUMNS = (User.id, User.username, User.points, User.post_count, User.joined_at,
                  PUBLIC_LOCATION, User.special_rank_id, User.role)  # fmt: skip


def _labelled(prefix: str, view: Any, columns: Sequence[Any]) -> list[Any]:
    """`columns` labelled as `view`'s fields behind `prefix` (thread_id, thread_title, …)."""
    fields: tuple[str, ...] = view._fields
    return [c.label(prefix + f) for f, c in zip(fields, columns, strict=True)]


def _picker(prefix: str, view: type[V]) -> Callable[[Any], V]:
    """Reads `view` out of a named row by its prefixed field names (one C-level call)."""
    named: Any = view
    fields: tuple[str, ...] = named._fields
    get = attrgetter(*(prefix + f for f in fields))
    make: Callable[[Any], V] = named._make
    return lambda row: make(get(row))


def _row_type(name: str, statement: Select[Any]) -> type[tuple[Any, ...]]:
    return namedtuple(name, [c.key for c in statement.selected_columns])  # type: ignore[misc]


pick_thread = _picker("thread_", ThreadView)
pick_post = _picker("post_", PostView)
pick_author = _picker("author_", AuthorView)


# --- category listings ------------------------------------------------------------------------


@functools.cache
def listing_statements(kind: ViewerKind) -> tuple[Select[Any], Prepared[Any]]:
    """The count and the page of a category's threads a kind of viewer sees, built once."""
    author = aliased(User)
    last = aliased(User)
    where = and_(
        Thread.category_id == bindparam("category_id"),
        Thread.is_deleted.is_(False),
        opening_post_visible(kind),
    )
    count = select(func.count(Thread.id)).where(where)
    accepted = aliased(Post)
    answered = and_(
        Thread.accepted_post_id.is_not(None),
        exists().where(accepted.id == Thread.accepted_post_id, visible_posts(accepted, kind)),
    )
    page = (
        select(
            *_labelled("thread_", ThreadView, THREAD_COLUMNS),
            author.username.label("author"),
            last.username.label("last_poster"),
            answered.label("answered"),
        )
        .join(author, author.id == Thread.author_id)
        .outerjoin(last, last.id == Thread.last_poster_id)
        .where(where)
        .order_by(Thread.is_pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return count, Prepared(page, _row_type("ListingRow", page))


def _viewer_params(viewer: User | None) -> dict[str, Any]:
    return {"viewer_id": viewer.id} if viewer_kind(viewer) == "member" and viewer else {}


async def list_threads(
    session: AsyncSession,
    category: Category,
    page: int | None,
    per_page: int,
    viewer: User | None = None,
) -> tuple[list[ThreadRow], Page]:
    count, select_page = listing_statements(viewer_kind(viewer))
    params = {"category_id": category.id, **_viewer_params(viewer)}
    conn = await session.connection()
    total = await conn.scalar(count, params)
    pager = paginate(total or 0, per_page, page)
    rows = await fetch_rows(
        conn,
        select_page,
        {**params, "limit": per_page, "offset": (pager.number - 1) * per_page},
    )
    listed = [ThreadRow(pick_thread(row), row.author, row.last_poster, bool(row.answered))
              for row in rows]  # fmt: skip
    return listed, pager


# --- thread pages -----------------------------------------------------------------------------


@functools.cache
def thread_page_statements(kind: ViewerKind) -> tuple[Select[Any], Prepared[Any]]:
    """The count and the page of a thread's posts a kind of viewer sees, built once.

    Each row of the page also carries the thread (with its category's staff flag) and the
    thread's visible post count, an uncorrelated scalar subquery both engines evaluate once:
    showing a page is one round trip. The scan stays on the (thread_id, id) index in post
    order, so a long thread costs no more than a short one."""
    where = and_(Post.thread_id == bindparam("thread_id"), visible_posts(Post, kind))
    count = select(func.count(Post.id)).where(where)
    counted = aliased(Post)  # its own FROM: a subquery on `posts` itself would be correlated
    total = (
        select(func.count(counted.id))
        .where(counted.thread_id == bindparam("thread_id"), visible_posts(counted, kind))
        .scalar_subquery()
    )
    page = (
        select(
            *_labelled("post_", PostView, POST_COLUMNS),
            *_labelled("author_", AuthorView, AUTHOR_COLUMNS),
            *_labelled("thread_", ThreadView, THREAD_COLUMNS),
            staff_only_category().label("staff_only"),
            opening_post_visible(kind).label("opening_visible"),
            total.label("total"),
        )
        .join(User, User.id == Post.author_id)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .where(where)
        .order_by(Post.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return count, Prepared(page, _row_type("ThreadPageRow", page))


@functools.cache
def thread_by_id(kind: ViewerKind) -> Prepared[Any]:
    statement = select(
        *_labelled("thread_", ThreadView, THREAD_COLUMNS),
        staff_only_category().label("staff_only"),
        opening_post_visible(kind).label("opening_visible"),
    )
    return Prepared(
        statement.join(Category, Category.id == Thread.category_id).where(
            Thread.id == bindparam("thread_id")
        ),
        _row_type("ThreadByIdRow", statement),
    )


def _visible_thread(row: Any, viewer: User | None) -> ThreadView | None:
    thread = pick_thread(row)
    seen = row.opening_visible and may_see_thread(thread.is_deleted, row.staff_only, viewer)
    return thread if seen else None


async def thread_view(
    session: AsyncSession, thread_id: int, viewer: User | None
) -> ThreadView | None:
    """The thread for reading, if the viewer may see it (one row, no ORM object)."""
    params = {"thread_id": thread_id, **_viewer_params(viewer)}
    prepared = thread_by_id(viewer_kind(viewer))
    rows = await fetch_rows(await session.connection(), prepared, params)
    return _visible_thread(rows[0], viewer) if rows else None


async def thread_page(
    session: AsyncSession,
    thread_id: int,
    viewer: User | None,
    page: int | None,
    per_page: int,
    last: bool = False,
) -> tuple[ThreadView, list[tuple[PostView, AuthorView]], Page] | None:
    """A thread and one page of its posts with their authors, as `viewer` may see them;
    None if there is no such thread for this viewer."""
    kind = viewer_kind(viewer)
    count, select_page = thread_page_statements(kind)
    params: dict[str, Any] = {
        "thread_id": thread_id,
        "limit": per_page,
        "reactor_id": viewer.id if viewer is not None else 0,
    }
    if kind == "member":
        assert viewer is not None
        params["viewer_id"] = viewer.id
    conn = await session.connection()
    rows: list[Any] = []
    pager = None
    thread: ThreadView | None = None
    if not last:
        number = max(1, page or 1)
        rows = await fetch_rows(conn, select_page, {**params, "offset": (number - 1) * per_page})
        if rows:
            pager = paginate(rows[0].total, per_page, number)
            thread = _visible_thread(rows[0], viewer)
            if thread is None:
                return None
    if pager is None:  # the last page, a page past the end, or no post to show
        thread = await thread_view(session, thread_id, viewer)
        if thread is None:
            return None
        total = await conn.scalar(count, params)
        pager = paginate(total or 0, per_page, page, last=last)
        offset = (pager.number - 1) * per_page
        rows = await fetch_rows(conn, select_page, {**params, "offset": offset}) if total else []
    assert thread is not None
    return thread, [(pick_post(row), pick_author(row)) for row in rows], pager


async def recent_in_category(
    session: AsyncSession, thread: Thread | ThreadView, viewer: User | None, limit: int = 5
) -> list[Thread]:
    """The fallback for "Related Discussion" until related threads are computed."""
    first = aliased(Post)
    stmt = (
        select(Thread)
        .outerjoin(first, first.id == Thread.first_post_id)
        .where(
            Thread.category_id == thread.category_id,
            Thread.id != thread.id,
            Thread.is_deleted.is_(False),
        )
        .order_by(Thread.last_post_at.desc())
        .limit(limit)
    )
    if not is_staff(viewer):
        stmt = stmt.where(or_(first.id.is_(None), shown_to_all(first.moderation_state)))
    return list((await session.scalars(stmt)).all())


async def post_page(session: AsyncSession, post: Post, viewer: User | None, per_page: int) -> int:
    """The page of its thread that `post` is on, for `viewer`."""
    before = await session.scalar(
        select(func.count(Post.id)).where(
            Post.thread_id == post.thread_id, Post.id < post.id, post_visibility(viewer)
        )
    )
    return (before or 0) // per_page + 1


# --- single threads and posts, for requests that change them ----------------------------------


async def get_thread(session: AsyncSession, thread_id: int, viewer: User | None) -> Thread | None:
    """The thread as an ORM object, if the viewer may see it."""
    found: Thread | None = await session.scalar(
        select(Thread)
        .join(Category, Category.id == Thread.category_id)
        .where(Thread.id == thread_id, thread_visibility(viewer))
    )
    return found


async def get_post(session: AsyncSession, post_id: int, viewer: User | None) -> Post | None:
    """The post, if the viewer may see it (and its thread's category)."""
    found: Post | None = await session.scalar(
        select(Post)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .where(Post.id == post_id, post_visibility(viewer), thread_visibility(viewer))
    )
    return found


async def revisions(session: AsyncSession, post: Post) -> list[tuple[PostRevision, str | None]]:
    rows = await session.execute(
        select(PostRevision, User.username)
        .outerjoin(User, User.id == PostRevision.editor_id)
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())
    )
    return [(r, name) for r, name in rows]


async def last_revision(session: AsyncSession, post_id: int) -> PostRevision | None:
    """The text (and title) a post had before its last edit, if it was ever edited."""
    found: PostRevision | None = await session.scalar(
        select(PostRevision).where(PostRevision.post_id == post_id)
        .order_by(PostRevision.id.desc()).limit(1)
    )  # fmt: skip
    return found
