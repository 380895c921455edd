"""A member's public page: who they are (from accounts) and what they posted (the board's,
shown as each viewer may see it)."""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts import services as accounts
from forum.accounts.models import (
    PROFILE_HIDDEN_STATES,
    ROLE_LABELS,
    PointsEntry,
    Rank,
    Role,
    User,
    profile_text_shown,
)
from forum.accounts.web import Ctx
from forum.board.models import Category, Post, Thread
from forum.board.visibility import post_visibility, thread_visibility
from forum.core.text import own_excerpt, render_markdown
from forum.core.web import view

POINTS_SHOWN = 25
# Why points moved, in words (the ledger keeps short codes).
POINTS_REASONS = {
    "post": "A post",
    "post_hidden": "A post held or hidden by moderation: it does not count while out of view",
    "post_checking": "A post edited, out of view until the automatic check has read it",
    "post_shown": "A post put on view (read by the automatic check, or approved): it counts",
    "post_deleted": "A post its author deleted: it no longer counts",
    "thread_deleted": "A thread was deleted: its posts no longer count",
    "carried_over": "Carried over from the programme's earlier forum",
    "adjustment": "Adjusted by an administrator",
}


async def points_history(ctx: Ctx, member: User) -> tuple[list[dict[str, object]], int]:
    """The newest entries of `member`'s points ledger as `ctx.user` may see them, and how many
    there are in all. A post's entry names its thread only to a viewer who may see the post.
    Others than the member and moderators see no entry about a post they may not see (held,
    hidden, deleted, in a staff category) nor a deleted thread's reversal, so the history says
    nothing about them; the total on the author panel stays the whole ledger's."""
    viewer = ctx.user
    visible = and_(post_visibility(viewer), thread_visibility(viewer))
    shown_title = case((visible, Thread.title), else_=None)
    query = (
        select(
            PointsEntry.delta, PointsEntry.reason, PointsEntry.created_at, PointsEntry.post_id,
            shown_title.label("title"),
        )
        .outerjoin(Post, Post.id == PointsEntry.post_id)
        .outerjoin(Thread, Thread.id == Post.thread_id)
        .outerjoin(Category, Category.id == Thread.category_id)
        .where(PointsEntry.user_id == member.id)
    )  # fmt: skip
    everything = viewer is not None and (viewer.id == member.id or viewer.is_moderator)
    if not everything:
        query = query.where(
            or_(
                and_(PointsEntry.post_id.is_(None), PointsEntry.reason != "thread_deleted"),
                and_(PointsEntry.post_id.is_not(None), visible),
            )
        )
    total = await ctx.db.scalar(select(func.count()).select_from(query.subquery()))
    rows = await ctx.db.execute(
        query.order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc()).limit(POINTS_SHOWN)
    )
    entries = []
    for delta, reason, at, post_id, title in rows:
        about = POINTS_REASONS.get(reason, reason.replace("_", " ").capitalize())
        if reason in ("post", "post_shown") and title is None:
            about = "A post no longer shown"
        entries.append(
            {"delta": delta, "about": about, "at": at, "title": title,
             "post_id": post_id if title is not None else None}
        )  # fmt: skip
    return entries, total or 0


@view()
async def profile(ctx: Ctx) -> Response:
    member = await accounts.find_by_username(ctx.db, ctx.request.path_params["username"])
    unconfirmed = member is not None and member.email_confirmed_at is None
    if member is None or (unconfirmed and not (ctx.user and ctx.user.is_moderator)):
        # An account whose address nobody confirmed has no public page yet.
        raise HTTPException(404, "There is no member by that name.")
    ranks = await accounts.load_ranks(ctx.db)
    recent = await ctx.db.execute(
        select(Post.id, Post.body_source, Post.created_at, Thread.id, Thread.title)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .where(
            Post.author_id == member.id,
            post_visibility(ctx.user),
            thread_visibility(ctx.user),
        )
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(10)
    )
    points, points_total = await points_history(ctx, member)
    reached = await accounts.rank_history(ctx.db, member, ranks)
    special = (await ctx.db.scalars(select(Rank).where(Rank.is_special.is_(True)))).all()
    thread_count = await ctx.db.scalar(
        select(func.count(Thread.id))
        .join(Category, Category.id == Thread.category_id)
        .where(Thread.author_id == member.id, thread_visibility(ctx.user))
    )
    return ctx.render(
        "accounts/profile.html",
        {
            "member": member,
            "text_shown": profile_text_shown(member, ctx.user),
            # Sanitised exactly as posts are (raw HTML off, nh3); the location stays plain text.
            "bio_html": render_markdown(member.bio) if member.bio else "",
            "points": points,
            "points_total": points_total,
            "points_capped": POINTS_SHOWN,
            "ranks_reached": [r for r in reached if r.reached_at is not None],
            "text_held": member.profile_state in PROFILE_HIDDEN_STATES,
            "rank": ranks.rank_for(member.points, member.special_rank_id),
            "thread_count": thread_count or 0,
            "recent": [
                {
                    "post_id": pid,
                    "excerpt": own_excerpt(src),
                    "created_at": at,
                    "thread_id": tid,
                    "title": title,
                }
                for pid, src, at, tid, title in recent
            ],
            "roles": [(r.value, ROLE_LABELS[r]) for r in Role],
            "special_ranks": special,
            "suspended": accounts.is_suspended(member),
            "can_lift": ctx.user is not None and accounts.outranks(ctx.user, member),
            "suspensions": list(accounts.SUSPENSIONS),
            # A suspension is the member's and the staff's business, not every visitor's.
            "restriction_shown": ctx.user is not None
            and (ctx.user.id == member.id or ctx.user.is_moderator),
        },
    )


routes = [Route("/u/{username}", profile, methods=["GET"], name="profile")]
