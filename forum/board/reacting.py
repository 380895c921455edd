"""Reactions, accepted answers and the @mention typeahead: the routes.

Every state-changing route is a POST (the app checks its CSRF token before the view runs),
acts only on posts the member may see (loaded through the visibility rules, 404 otherwise),
and names its action in the form (`undo=1` takes a reaction or a mark back), so a second
click or a resubmitted form changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.accounts.services import is_suspended
from forum.accounts.web import Ctx
from forum.board import categories, mentions, queries, reactions
from forum.board.models import HIDDEN_STATES, REACTION_LABELS, Category, Post, Thread
from forum.core.audit import audit
from forum.core.errors import DomainError
from forum.core.web import view


async def _post_and_thread(ctx: Ctx) -> tuple[Post, Thread]:
    post = await queries.get_post(ctx.db, ctx.request.path_params["post_id"], ctx.user)
    thread = await queries.get_thread(ctx.db, post.thread_id, ctx.user) if post else None
    if post is None or thread is None:
        raise HTTPException(404, "There is no such post, or it has been removed.")
    return post, thread


def may_react(user: User | None, author_id: int, is_deleted: bool, state: str) -> bool:
    """Whether `user` gets reaction buttons on a post (the service checks again)."""
    return (
        user is not None
        and user.id != author_id
        and not is_deleted
        and state not in HIDDEN_STATES
        and not is_suspended(user)
    )


@view(login=True)
async def react(ctx: Ctx) -> Response:
    post, _thread = await _post_and_thread(ctx)
    kind = ctx.request.path_params["kind"]
    assert ctx.user is not None
    form = await ctx.form()
    if form.get("undo") == "1":
        await reactions.remove_reaction(ctx.db, ctx.settings, ctx.user, post, kind)
    else:
        await reactions.add_reaction(ctx.db, ctx.settings, ctx.user, post, kind)
    return ctx.redirect(ctx.url("post", post_id=post.id))


@view()
async def post_reactions(ctx: Ctx) -> Response:
    """Who reacted to a post, by kind (and, for members, the reaction buttons again)."""
    post, thread = await _post_and_thread(ctx)
    who = await reactions.who_reacted(ctx.db, post.id)
    counts = await reactions.reaction_counts(ctx.db, post.id)
    author = await ctx.db.scalar(select(User.username).where(User.id == post.author_id))
    mine: set[str] = set()
    if ctx.user is not None:
        mine = await reactions.own_reactions(ctx.db, post.id, ctx.user.id)
    return ctx.render(
        "board/reactions.html",
        {
            "post": post,
            "thread": thread,
            "author": author or "someone",
            "who": [(kind, label, who[kind]) for kind, label in REACTION_LABELS.items()],
            "counts": counts,
            "mine": mine,
            "can_react": may_react(
                ctx.user, post.author_id, post.is_deleted, post.moderation_state
            ),
        },
    )


def may_accept(user: User | None, thread_author_id: int, is_qa: bool) -> bool:
    """Whether `user` may mark the answer of a thread (its author, or a moderator)."""
    if user is None or not is_qa or is_suspended(user):
        return False
    return user.is_moderator or user.id == thread_author_id


@view(login=True)
async def accept_answer(ctx: Ctx) -> Response:
    """Mark (or with `undo=1` unmark) the reply that answered a Q&A thread's question."""
    post, thread = await _post_and_thread(ctx)
    assert ctx.user is not None
    category = await ctx.db.get(Category, thread.category_id)
    if category is None or not category.is_qa:
        raise DomainError("post", "Answers are marked only in Q&A categories.", status=403)
    if not may_accept(ctx.user, thread.author_id, category.is_qa):
        raise DomainError(
            "post", "Only the person who asked, or a moderator, can mark the answer.", status=403
        )
    if thread.is_deleted:
        raise DomainError("post", "This thread has been deleted.", status=403)
    form = await ctx.form()
    if form.get("undo") == "1":
        if thread.accepted_post_id == post.id:
            thread.accepted_post_id = None
            ctx.flash("The answer is no longer marked.")
    else:
        if post.id == thread.first_post_id:
            raise DomainError("post", "The question cannot be its own answer.")
        if post.is_deleted or post.moderation_state in HIDDEN_STATES:
            raise DomainError("post", "Only a reply everyone can see can be marked as the answer.")
        thread.accepted_post_id = post.id
        ctx.flash("Marked as the answer.")
    if ctx.user.id != thread.author_id:
        audit(ctx.db, ctx.user, "accept_answer", "post", post.id)
    return ctx.redirect(ctx.url("post", post_id=post.id))


@view(admin=True)
async def category_qa(ctx: Ctx) -> Response:
    """Make a category a Q&A category (or with `undo=1` stop it being one)."""
    category = await categories.category_by_slug(ctx.db, ctx.request.path_params["slug"], ctx.user)
    assert ctx.user is not None
    form = await ctx.form()
    category.is_qa = form.get("undo") != "1"
    audit(ctx.db, ctx.user, "qa_on" if category.is_qa else "qa_off", "category", category.id)
    ctx.flash(f"{category.name} is {'now' if category.is_qa else 'no longer'} a Q&A category.")
    return ctx.redirect(ctx.url("category", slug=category.slug))


@view(login=True)
async def mention_suggest(ctx: Ctx) -> Response:
    """The composer's @mention typeahead: active members whose names start with `q`."""
    prefix = (ctx.request.query_params.get("q") or "")[: mentions.PREFIX_MAX]
    names: list[Any] = await mentions.suggest_usernames(ctx.db, prefix)
    return JSONResponse({"names": names}, headers={"cache-control": "private, max-age=60"})


routes = [
    Route("/p/{post_id:id}/react/{kind:str}", react, methods=["POST"], name="react"),
    Route("/p/{post_id:id}/reactions", post_reactions, methods=["GET"], name="post_reactions"),
    Route("/p/{post_id:id}/accept", accept_answer, methods=["POST"], name="accept_answer"),
    Route("/c/{slug}/qa", category_qa, methods=["POST"], name="category_qa"),
    Route("/members/suggest", mention_suggest, methods=["GET"], name="mention_suggest"),
]
