"""Lists across the board: /latest (everyone), /new and /unread (members), and the jump to a
thread's first unread post. Every list shows only threads its viewer may see (the one rule in
forum.board.visibility) and, for members, leaves out what they muted (`leave_out_muted`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.accounts.web import Ctx
from forum.board import queries, reading
from forum.board.models import Category, Thread
from forum.board.queries import THREAD_COLUMNS, ThreadView
from forum.board.visibility import thread_visibility
from forum.core.db import utcnow
from forum.core.pagination import Page, paginate
from forum.core.web import view

# Lists are paged, but never counted past this many pages (a board-wide count would
# otherwise probe every thread's opening post on each visit).
MAX_PAGES = 40

# --- the muted filter: the single place where muted threads and categories leave the lists --
# `forum.notifications` (the watching levels) registers its filter here at start-up
# (forum.app.wire): each filter takes the member's id and a select over Thread (joined with
# its Category) and returns the select without the threads that member muted.
ListFilter = Callable[[int, Select[Any]], Select[Any]]
MUTED_FILTERS: list[ListFilter] = []


def add_muted_filter(list_filter: ListFilter) -> None:
    if list_filter not in MUTED_FILTERS:
        MUTED_FILTERS.append(list_filter)


def leave_out_muted(viewer: User | None, statement: Select[Any]) -> Select[Any]:
    """`statement` without the threads and categories `viewer` muted (nothing for visitors)."""
    if viewer is None:
        return statement
    for list_filter in MUTED_FILTERS:
        statement = list_filter(viewer.id, statement)
    return statement


# ---------------------------------------------------------------------------------------------


class ListedThread(NamedTuple):
    thread: ThreadView
    author: str
    last_poster: str | None
    category_name: str
    category_slug: str


async def _listing(
    session: AsyncSession,
    viewer: User | None,
    where: list[Any],
    order: list[Any],
    page: int | None,
    per_page: int,
) -> tuple[list[ListedThread], Page]:
    base = (
        select(Thread.id)
        .join(Category, Category.id == Thread.category_id)
        .where(thread_visibility(viewer), *where)
    )
    base = leave_out_muted(viewer, base)
    capped = base.order_by(None).limit(per_page * MAX_PAGES).subquery()
    total = await session.scalar(select(func.count()).select_from(capped))
    pager = paginate(total or 0, per_page, page)
    author = aliased(User)
    last = aliased(User)
    statement = (
        base.with_only_columns(
            *THREAD_COLUMNS,
            author.username,
            last.username,
            Category.name,
            Category.slug,
            maintain_column_froms=True,
        )
        .join(author, author.id == Thread.author_id)
        .outerjoin(last, last.id == Thread.last_poster_id)
        .order_by(*order, Thread.id.desc())
        .limit(per_page)
        .offset((pager.number - 1) * per_page)
    )
    n = len(THREAD_COLUMNS)
    rows = []
    for row in await session.execute(statement):
        values: Any = tuple(row)
        rows.append(ListedThread(ThreadView._make(values[:n]), *values[n:]))
    return rows, pager


async def latest(
    session: AsyncSession, viewer: User | None, page: int | None, per_page: int
) -> tuple[list[ListedThread], Page]:
    """Threads across the board, newest activity first."""
    return await _listing(session, viewer, [], [Thread.last_post_at.desc()], page, per_page)


async def new_threads(
    session: AsyncSession,
    viewer: User,
    days: int,
    page: int | None,
    per_page: int,
    pending: dict[int, int] | None = None,
) -> tuple[list[ListedThread], Page]:
    """Threads started by others in the last `days` days that the member has not opened
    (`pending`: the member's read marks not written yet, thread: post)."""
    opened = exists().where(
        reading.ThreadRead.user_id == viewer.id, reading.ThreadRead.thread_id == Thread.id
    )
    where = [
        Thread.created_at >= utcnow() - timedelta(days=days),
        Thread.author_id != viewer.id,
        ~opened,
    ]
    if pending:
        where.append(Thread.id.not_in(list(pending)))
    return await _listing(session, viewer, where, [Thread.created_at.desc()], page, per_page)


async def unread_threads(
    session: AsyncSession,
    viewer: User,
    page: int | None,
    per_page: int,
    pending: dict[int, int] | None = None,
) -> tuple[list[ListedThread], Page]:
    """Threads the member has opened that have posts after the last one they read
    (`pending`: the member's read marks not written yet, thread: post)."""
    later: ColumnElement[bool] = exists().where(
        reading.ThreadRead.user_id == viewer.id,
        reading.ThreadRead.thread_id == Thread.id,
        Thread.last_post_id > reading.ThreadRead.post_id,
    )
    if pending:
        just_read = [
            and_(Thread.id == thread_id, Thread.last_post_id > post_id)
            for thread_id, post_id in pending.items()
        ]
        later = or_(later, *just_read)
    return await _listing(session, viewer, [later], [Thread.last_post_at.desc()], page, per_page)


# --- pages ------------------------------------------------------------------------------------


def read_marks_of(ctx: Ctx) -> reading.ReadMarks:
    marks: reading.ReadMarks = ctx.request.app.state.reads
    return marks


async def unread_info(ctx: Ctx, thread_ids: list[int]) -> dict[int, tuple[int, int]]:
    """For a member, each listed thread they opened: (last read, unread posts); one query."""
    if ctx.user is None:
        return {}
    return await reading.read_marks(ctx.db, read_marks_of(ctx), ctx.user, thread_ids)


async def _list_page(
    ctx: Ctx, name: str, title: str, rows: list[ListedThread], pager: Page, empty: str
) -> Response:
    unread = await unread_info(ctx, [row.thread.id for row in rows])
    if name == "unread_threads":  # read meanwhile on this process: not unread any more
        rows = [row for row in rows if unread.get(row.thread.id, (0, 1))[1]]
    return ctx.render(
        "board/lists.html",
        {"list_name": name, "title": title, "rows": rows, "pager": pager,
         "unread": unread, "empty": empty},
    )  # fmt: skip


@view()
async def latest_page(ctx: Ctx) -> Response:
    rows, pager = await latest(
        ctx.db, ctx.user, ctx.param_int("page"), ctx.settings.threads_per_page
    )
    return await _list_page(ctx, "latest", "Latest", rows, pager, "No threads yet.")


@view(login=True)
async def new_page(ctx: Ctx) -> Response:
    assert ctx.user is not None
    days = ctx.settings.new_thread_days
    pending = read_marks_of(ctx).pending_for(ctx.user.id)
    rows, pager = await new_threads(
        ctx.db, ctx.user, days, ctx.param_int("page"), ctx.settings.threads_per_page, pending
    )
    empty = f"No new threads from the last {days} days that you have not opened."
    return await _list_page(ctx, "new_threads", "New", rows, pager, empty)


@view(login=True)
async def unread_page(ctx: Ctx) -> Response:
    assert ctx.user is not None
    pending = read_marks_of(ctx).pending_for(ctx.user.id)
    rows, pager = await unread_threads(
        ctx.db, ctx.user, ctx.param_int("page"), ctx.settings.threads_per_page, pending
    )
    empty = "Nothing unread: you are up to date with the threads you have opened."
    return await _list_page(ctx, "unread_threads", "Unread", rows, pager, empty)


@view()
async def thread_unread(ctx: Ctx) -> Response:
    """The thread at the first post the member has not read: its page and anchor. Visitors,
    members who never opened it, go to its start; if all is read, to its last page."""
    thread_id = ctx.request.path_params["thread_id"]
    thread = await queries.thread_view(ctx.db, thread_id, ctx.user)
    if thread is None:
        raise HTTPException(404, "There is no such thread, or it has been removed.")
    target = ctx.url("thread", thread_id=thread_id)
    if ctx.user is not None:
        read_to = await reading.last_read(ctx.db, read_marks_of(ctx), ctx.user, thread_id)
        if read_to is not None:
            found = await reading.first_unread(ctx.db, ctx.user, thread_id, read_to)
            if found is None:
                target += "?page=last"
            else:
                post_id, before = found
                page = before // ctx.settings.posts_per_page + 1
                target += f"?page={page}#p{post_id}"
    return ctx.redirect(target, status_code=302)


routes = [
    Route("/latest", latest_page, methods=["GET"], name="latest"),
    Route("/new", new_page, methods=["GET"], name="new_threads"),
    Route("/unread", unread_page, methods=["GET"], name="unread_threads"),
    Route("/t/{thread_id:id}/unread", thread_unread, methods=["GET"], name="thread_unread"),
]
