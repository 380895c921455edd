"""The bell's pages: /notifications (newest first, paginated), opening one (marks it read
and leads to what it is about), marking all read, preferences per kind, and the watching
controls on thread and category pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.board import lists
from forum.board.categories import category_by_slug
from forum.board.events import CategoryPageExtras, ThreadPageExtras, ThreadsRead
from forum.board.models import Category, Post, Thread
from forum.board.visibility import can_see_category, thread_visibility
from forum.core import events, ratelimit
from forum.core.db import utcnow
from forum.core.pagination import paginate
from forum.core.settings import Settings
from forum.core.web import Ctx, field_str, safe_next, view
from forum.messages.events import ConversationRead
from forum.notifications import grouping
from forum.notifications.fanout import describe, target_path
from forum.notifications.grouping import still_visible
from forum.notifications.models import (
    DEFAULT_DELIVERY,
    DELIVERY_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    CategoryWatch,
    Delivery,
    DigestFrequency,
    Kind,
    Level,
    Notification,
    NotificationPreference,
    NotificationSettings,
    ThreadWatch,
)
from forum.notifications.watching import (
    category_level,
    muted_filter,
    set_category_level,
    set_thread_level,
    thread_level,
)


def _limit(settings: Settings) -> ratelimit.Limit:
    return ratelimit.Limit(
        "notify:account", settings.notify_changes_per_minute, 60,
        "You are changing notification settings very quickly. Wait a minute and try again.",
    )  # fmt: skip


async def _count_change(ctx: Ctx) -> User:
    user = ctx.user
    assert user is not None
    await ratelimit.hit(ctx.db, _limit(ctx.settings), user.id)
    return user


@view(login=True)
async def notifications(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None
    per_page = ctx.settings.notifications_per_page
    mine = and_(Notification.recipient_id == user.id, still_visible(user))
    total = await ctx.db.scalar(select(func.count(Notification.id)).where(mine))
    pager = paginate(total or 0, per_page, ctx.param_int("page"))
    rows = list(
        await ctx.db.scalars(
            select(Notification)
            .where(mine)
            # A group's time is its latest post's: it comes up to the top with it.
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset((pager.number - 1) * per_page)
            .limit(per_page)
        )
    )
    actor_ids = {n.actor_id for n in rows if n.actor_id}
    thread_ids = {n.thread_id for n in rows if n.thread_id}
    actors: dict[int, str] = {}
    if actor_ids:
        found = await ctx.db.execute(select(User.id, User.username).where(User.id.in_(actor_ids)))
        actors = {i: name for i, name in found.all()}
    titles: dict[int, str] = {}
    if thread_ids:
        found = await ctx.db.execute(
            select(Thread.id, Thread.title).where(Thread.id.in_(thread_ids))
        )
        titles = {i: title for i, title in found.all()}
    # A group says how many posts and whose, from the posts the member may see now.
    grouped = await grouping.summaries(ctx.db, user, rows, titles)
    items = []
    for n in rows:
        text = describe(n.kind, actors.get(n.actor_id or 0, "Someone"),
                        titles.get(n.thread_id or 0, ""), n.detail)  # fmt: skip
        post_id = n.post_id
        if n.id in grouped:
            summary = grouped[n.id]
            if summary is None:
                continue  # nothing in the group the member may see now
            text, post_id = summary.text, summary.post_id
        items.append(
            {
                "id": n.id,
                "text": text,
                "unread": n.read_at is None,
                "created_at": n.created_at,
                # A link (opened in a new tab, copied, read as a link), not a button: opening
                # the thread or conversation marks it read there, and a script marks the rest.
                "href": target_path(ctx.url, n.kind, post_id, n.thread_id, n.detail,
                                    n.conversation_id, n.link),
            }
        )  # fmt: skip
    return ctx.render("notifications/list.html", {"items": items, "pager": pager})


@view(login=True)
async def open_notification(ctx: Ctx) -> Response:
    """Mark the notification read (POST, CSRF) and go to what it is about. The list's links
    go there themselves; its script posts here as one is followed (notifications.js)."""
    user = await _count_change(ctx)
    await ctx.form()
    found = await ctx.db.get(Notification, ctx.request.path_params["notification_id"])
    if found is None or found.recipient_id != user.id:
        raise HTTPException(404, "There is no such notification.")
    # Opening one marks read every unread one about the same thread (or conversation): what
    # they point to is now in front of the member (and mail about it may start again).
    which = Notification.id == found.id
    if found.thread_id:
        which = or_(which, Notification.thread_id == found.thread_id)
    elif found.conversation_id:
        which = or_(which, Notification.conversation_id == found.conversation_id)
    await _mark_read(ctx.db, user, which)
    # A group leads to its first post the member may see.
    summary = (await grouping.summaries(ctx.db, user, [found], {})).get(found.id)
    return ctx.redirect(
        target_path(
            ctx.url,
            found.kind,
            summary.post_id if summary is not None else found.post_id,
            found.thread_id,
            found.detail,
            found.conversation_id,
            found.link,
        )
    )


async def _mark_read(session: AsyncSession, user: User, which: ColumnElement[bool] | None) -> None:
    """Mark the member's unread notifications read: those `which` selects, or all."""
    stmt = update(Notification).where(
        Notification.recipient_id == user.id, Notification.read_at.is_(None)
    )
    if which is not None:
        stmt = stmt.where(which)
    await session.execute(
        stmt.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    # The bell's count is recounted as the list shows it, so it cannot drift from the rows
    # (nor count notifications about posts hidden since).
    unread = select(func.count(Notification.id)).where(
        Notification.recipient_id == user.id, Notification.read_at.is_(None), still_visible(user)
    )
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(notifications_unread=unread.scalar_subquery())
        .execution_options(synchronize_session=False)
    )


@view(login=True)
async def read_all(ctx: Ctx) -> Response:
    user = await _count_change(ctx)
    await ctx.form()
    await _mark_read(ctx.db, user, None)
    ctx.flash("All notifications are marked read.")
    return ctx.redirect(ctx.url("notifications"))


async def _preferences(session: AsyncSession, user: User) -> tuple[dict[str, str], Any]:
    chosen = dict(
        (
            await session.execute(
                select(NotificationPreference.kind, NotificationPreference.delivery).where(
                    NotificationPreference.user_id == user.id
                )
            )
        ).all()
    )
    deliveries = {k.value: chosen.get(k.value, DEFAULT_DELIVERY[k].value) for k in Kind}
    return deliveries, await session.get(NotificationSettings, user.id)


@view(login=True)
async def preferences(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        await _count_change(ctx)
        form = await ctx.form()
        wanted: dict[str, str] = {}
        current, _ = await _preferences(ctx.db, user)
        for kind in Kind:
            # A kind the form did not send (a page opened before that kind existed) keeps
            # the member's choice; anything sent must be one of the options.
            value = field_str(form, f"kind_{kind.value}", 20) or current[kind.value]
            if value not in Delivery.__members__:
                errors[kind.value] = "Choose one of the options."
            wanted[kind.value] = value
        digest = field_str(form, "category_digest", 20)
        if digest not in DigestFrequency.__members__:
            errors["category_digest"] = "Choose one of the options."
        if not errors:
            for kind_value, value in wanted.items():
                row = await ctx.db.get(NotificationPreference, (user.id, kind_value))
                if row is None:
                    ctx.db.add(
                        NotificationPreference(user_id=user.id, kind=kind_value, delivery=value)
                    )
                else:
                    row.delivery = value
            record = await ctx.db.get(NotificationSettings, user.id)
            if record is None:
                record = NotificationSettings(user_id=user.id)
                ctx.db.add(record)
            record.auto_track = form.get("auto_track") == "on"
            record.category_digest = digest
            ctx.flash("Your notification preferences are saved.")
            return ctx.redirect(ctx.url("notification_preferences"))
        deliveries = {k.value: field_str(form, f"kind_{k.value}", 20) or current[k.value]
                      for k in Kind}  # fmt: skip
        auto_track = form.get("auto_track") == "on"
        category_digest = digest
        status = 400
    else:
        deliveries, record = await _preferences(ctx.db, user)
        auto_track = True if record is None else record.auto_track
        category_digest = DigestFrequency.weekly.value if record is None else record.category_digest
        status = 200
    return ctx.render(
        "notifications/preferences.html",
        {
            # A lead's notices only to those who may lead (the form keeps the others' choice).
            "kinds": [
                (k.value, KIND_LABELS[k])
                for k in Kind
                if k is not Kind.programme_lead or user.is_programme_lead
            ],
            "deliveries": deliveries,
            "delivery_labels": [(d.value, DELIVERY_LABELS[d]) for d in Delivery],
            "auto_track": auto_track,
            "category_digest": category_digest,
            "digest_options": [(d.value, d.value.capitalize()) for d in DigestFrequency],
            "errors": errors,
        },
        status_code=status,
    )


LEVEL_SAID = {
    Level.watching: "You are watching this {what}: every new post will notify you.",
    Level.tracking: "You are tracking this {what}: replies to you and mentions notify you.",
    Level.normal: "This {what} is back to Normal: replies to you and mentions notify you.",
    Level.muted: "This {what} is muted: nothing in it will notify you.",
}


def _level(raw: str) -> Level:
    if raw not in Level.__members__:
        raise HTTPException(400, "Choose Watching, Tracking, Normal or Muted.")
    return Level(raw)


@view(login=True)
async def watch_thread(ctx: Ctx) -> Response:
    user = await _count_change(ctx)
    form = await ctx.form()
    level = _level(field_str(form, "level", 20))
    thread = await ctx.db.scalar(
        select(Thread)
        .join(Category, Category.id == Thread.category_id)
        .where(Thread.id == ctx.request.path_params["thread_id"], thread_visibility(user))
    )
    if thread is None:
        raise HTTPException(404, "There is no such thread.")
    await set_thread_level(ctx.db, user.id, thread.id, level)
    ctx.flash(LEVEL_SAID[level].format(what="thread"))
    back = safe_next(field_str(form, "next", 300), ctx.url("thread", thread_id=thread.id))
    return ctx.redirect(back)


@view(login=True)
async def watch_category(ctx: Ctx) -> Response:
    user = await _count_change(ctx)
    form = await ctx.form()
    level = _level(field_str(form, "level", 20))
    category = await category_by_slug(ctx.db, ctx.request.path_params["slug"], user)
    if not can_see_category(category, user):
        raise HTTPException(404, "There is no such category.")
    await set_category_level(ctx.db, user.id, category.id, level)
    ctx.flash(LEVEL_SAID[level].format(what="category"))
    back = safe_next(field_str(form, "next", 300), ctx.url("category", slug=category.slug))
    return ctx.redirect(back)


@view(login=True)
async def watching(ctx: Ctx) -> Response:
    """The threads and categories a member set apart from Normal (watched, tracked or muted),
    each with its control: the newcomer probe found no page that listed them."""
    user = ctx.user
    assert user is not None
    kept = ThreadWatch.level != Level.normal.value
    total = await ctx.db.scalar(
        select(func.count())
        .select_from(ThreadWatch)
        .join(Thread, Thread.id == ThreadWatch.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .where(ThreadWatch.user_id == user.id, kept, thread_visibility(user))
    )
    per_page = ctx.settings.notifications_per_page
    pager = paginate(total or 0, per_page, ctx.param_int("page"))
    threads = (
        await ctx.db.execute(
            select(Thread, Category.name, ThreadWatch.level)
            .join(ThreadWatch, ThreadWatch.thread_id == Thread.id)
            .join(Category, Category.id == Thread.category_id)
            .where(ThreadWatch.user_id == user.id, kept, thread_visibility(user))
            .order_by(Thread.last_post_at.desc(), Thread.id.desc())
            .offset((pager.number - 1) * per_page)
            .limit(per_page)
        )
    ).all()
    categories = [
        (category, level)
        for category, level in await ctx.db.execute(
            select(Category, CategoryWatch.level)
            .join(CategoryWatch, CategoryWatch.category_id == Category.id)
            .where(CategoryWatch.user_id == user.id, CategoryWatch.level != Level.normal.value)
            .order_by(Category.name)
        )
        if can_see_category(category, user)
    ]
    return ctx.render(
        "notifications/watching.html",
        {"threads": threads, "categories": categories, "pager": pager, "levels": _levels()},
    )


# --- what the thread and category pages show ----------------------------------------------------


def _levels() -> list[tuple[str, str]]:
    return [(level.value, LEVEL_LABELS[level]) for level in Level]


async def thread_extras(session: AsyncSession, question: ThreadPageExtras) -> dict[str, Any]:
    viewer = question.viewer
    if viewer is None:
        return {}
    level = await thread_level(session, viewer.id, question.thread.id)
    return {"watch": {"level": (level or Level.normal).value, "levels": _levels()}}


async def category_extras(session: AsyncSession, question: CategoryPageExtras) -> dict[str, Any]:
    viewer = question.viewer
    if viewer is None:
        return {}
    level = await category_level(session, viewer.id, question.category.id)
    return {"watch": {"level": (level or Level.normal).value, "levels": _levels()}}


def _leave_out_muted(viewer_id: int, statement: Select[Any]) -> Select[Any]:
    return statement.where(muted_filter(viewer_id))


async def _conversation_read(session: AsyncSession, event: ConversationRead) -> None:
    """Opening a conversation marks read the notifications about it (its messages are on
    the page), as opening one of those notifications does."""
    user = await session.get(User, event.user_id)
    if user is not None:
        await _mark_read(session, user, Notification.conversation_id == event.conversation_id)


# What reading a thread up to a post settles: being told of that post (not a moderation
# notice, which is about the member's own post, nor a rank).
_READ_WITH_THE_THREAD = (Kind.mention, Kind.quote, Kind.reply, Kind.post, Kind.reaction)


async def _threads_read(session: AsyncSession, event: ThreadsRead) -> None:
    """Reading a thread marks read the notifications about the posts read (a member read the
    thread a reply was in, and the bell still said "replied to you")."""
    users = {user_id for user_id, _thread, _post in event.marks}
    waiting = {
        user.id: user
        for user in await session.scalars(
            select(User).where(User.id.in_(users), User.notifications_unread > 0)
        )
    }
    read: dict[int, list[ColumnElement[bool]]] = {}
    upto: dict[tuple[int, int], int] = {}
    for user_id, thread_id, post_id in event.marks:
        if user_id in waiting:
            upto[(user_id, thread_id)] = max(post_id, upto.get((user_id, thread_id), 0))
            read.setdefault(user_id, []).append(
                and_(
                    Notification.thread_id == thread_id,
                    or_(Notification.post_id.is_(None), Notification.post_id <= post_id),
                )
            )
    kinds = Notification.kind.in_([k.value for k in _READ_WITH_THE_THREAD])
    for user_id, threads in read.items():  # one update and one recount per member
        which = and_(kinds, or_(*threads))
        # A group whose later posts were not read yet stays unread, with what is left of it
        # (leading to the first post not read).
        groups = [
            n
            for n in await session.scalars(
                select(Notification).where(
                    Notification.recipient_id == user_id,
                    Notification.read_at.is_(None),
                    Notification.detail.like(f"{grouping.PREFIX}%"),
                    which,
                )
            )
            if n.kind in grouping.GROUPED_KINDS
        ]
        kept: list[int] = []
        for n in groups:
            group = grouping.parse(n.detail, n.post_id)
            left = grouping.read_up_to(group, upto.get((user_id, n.thread_id or 0), 0))
            if left is None:
                continue
            kept.append(n.id)
            n.actor_id = await session.scalar(
                select(Post.author_id).where(Post.id == left.posts[0])
            )
            n.post_id, n.detail = left.posts[0], grouping.encode(left)
        if kept:
            await session.flush()
            which = and_(which, Notification.id.not_in(kept))
        await _mark_read(session, waiting[user_id], which)


def subscribe() -> None:
    events.subscribe(ConversationRead, _conversation_read)
    events.subscribe(ThreadsRead, _threads_read)
    events.answer(ThreadPageExtras, thread_extras)
    events.answer(CategoryPageExtras, category_extras)
    # The board's lists (Latest, New, Unread) leave out what a member muted.
    lists.add_muted_filter(_leave_out_muted)


routes = [
    Route("/notifications", notifications, methods=["GET"], name="notifications"),
    Route("/notifications/read-all", read_all, methods=["POST"], name="notifications_read_all"),
    Route(
        "/notifications/preferences", preferences, methods=["GET", "POST"],
        name="notification_preferences",
    ),
    Route(
        "/notifications/{notification_id:id}/open", open_notification, methods=["POST"],
        name="notification_open",
    ),
    Route("/notifications/watching", watching, methods=["GET"], name="watching"),
    Route("/watch/t/{thread_id:id}", watch_thread, methods=["POST"], name="watch_thread"),
    Route("/watch/c/{slug}", watch_category, methods=["POST"], name="watch_category"),
]  # fmt: skip
