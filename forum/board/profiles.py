"""A member's public page: who they are (from accounts) and what they posted (the board's,
shown as each viewer may see it)."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts import services as accounts
from forum.accounts.models import PROFILE_HIDDEN_STATES, Rank, Role, profile_text_shown
from forum.accounts.web import Ctx
from forum.board.models import Category, Post, Thread
from forum.board.visibility import post_visibility, thread_visibility
from forum.core.text import excerpt
from forum.core.web import view


@view()
async def profile(ctx: Ctx) -> Response:
    member = await accounts.find_by_username(ctx.db, ctx.request.path_params["username"])
    if member is None:
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
        .order_by(Post.id.desc())
        .limit(10)
    )
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
            "text_held": member.profile_state in PROFILE_HIDDEN_STATES,
            "rank": ranks.rank_for(member.points, member.special_rank_id),
            "thread_count": thread_count or 0,
            "recent": [
                {
                    "post_id": pid,
                    "excerpt": excerpt(src),
                    "created_at": at,
                    "thread_id": tid,
                    "title": title,
                }
                for pid, src, at, tid, title in recent
            ],
            "roles": [r.value for r in Role],
            "special_ranks": special,
            "suspended": accounts.is_suspended(member),
            "can_lift": ctx.user is not None and accounts.outranks(ctx.user, member),
        },
    )


routes = [Route("/u/{username}", profile, methods=["GET"], name="profile")]
