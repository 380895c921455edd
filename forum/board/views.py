"""Home, categories, threads, posting and the moderators' thread actions."""

from __future__ import annotations

from sqlalchemy import or_, select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum import ratelimit
from forum.accounts.models import User
from forum.accounts.services import load_ranks
from forum.board import services as board
from forum.board.models import Category, Post, Thread
from forum.related import RelatedThread, has_embedding, related_items
from forum.text import quote_markdown
from forum.web import Ctx, field_int, field_str, view
from moderation import cues


async def _category_by_slug(ctx: Ctx, slug: str) -> Category:
    category = await ctx.db.scalar(select(Category).where(Category.slug == slug[:80]))
    if category is None or not board.can_see_category(category, ctx.user):
        raise HTTPException(404, "There is no such category.")
    return category


NO_THREAD = "There is no such thread, or it has been removed."


async def _thread_or_404(ctx: Ctx) -> Thread:
    thread_id = ctx.request.path_params["thread_id"]
    thread = await board.get_thread(ctx.db, thread_id, ctx.user) if thread_id < 2**31 else None
    if thread is None:
        raise HTTPException(404, NO_THREAD)
    return thread


async def _post_or_404(ctx: Ctx) -> Post:
    post_id = ctx.request.path_params["post_id"]
    post = await board.get_post(ctx.db, post_id, ctx.user) if post_id < 2**31 else None
    if post is None:
        raise HTTPException(404, "There is no such post, or it has been removed.")
    return post


async def _check_post_rate(ctx: Ctx) -> None:
    assert ctx.user is not None
    if ctx.user.is_moderator:
        return
    count = await ratelimit.hit(ctx.db, f"post:account:{ctx.user.id}", 60)
    if count > ctx.settings.posts_max_per_minute:
        raise HTTPException(429, "You are posting very quickly. Wait a minute and try again.")
    client = ctx.request.client.host if ctx.request.client else "unknown"
    if await ratelimit.hit(ctx.db, f"post:ip:{client}", 60) > ctx.settings.posts_max_per_minute_ip:
        raise HTTPException(
            429, "Many posts are coming from your network. Wait a minute and try again."
        )


def _nudge(form: FormData, body: str) -> tuple[list[str], bool]:
    """The cue phrases to point out before posting, and whether the author chose to post anyway.

    The composer says it once: an author who saw the nudge and pressed "Post anyway" posts,
    and the phrases are recorded with the post for moderators."""
    return cues.nudge_phrases(body), form.get("post_anyway") == "1"


@view()
async def home(ctx: Ctx) -> Response:
    tree = await board.category_tree(ctx.db, ctx.user)
    return ctx.render("board/home.html", {"tree": tree})


@view()
async def category_page(ctx: Ctx) -> Response:
    category = await _category_by_slug(ctx, ctx.request.path_params["slug"])
    rows, pager = await board.list_threads(
        ctx.db, category, ctx.param_int("page"), ctx.settings.threads_per_page
    )
    children = (
        await ctx.db.scalars(
            select(Category)
            .where(
                Category.parent_id == category.id,
                or_(Category.staff_only.is_(False), ctx.is_moderator),
            )
            .order_by(Category.position)
        )
    ).all()
    return ctx.render(
        "board/category.html",
        {
            "category": category,
            "crumbs": await board.breadcrumbs(ctx.db, category),
            "children": children,
            "rows": rows,
            "pager": pager,
        },
    )


@view(login=True)
async def new_thread(ctx: Ctx) -> Response:
    category = await _category_by_slug(ctx, ctx.request.path_params["slug"])
    crumbs = await board.breadcrumbs(ctx.db, category)
    context = {"category": category, "crumbs": crumbs, "form": {}, "errors": {}}
    if ctx.request.method == "GET":
        return ctx.render("board/new_thread.html", context)
    form = await ctx.form()
    title = field_str(form, "title", ctx.settings.title_max)
    body = field_str(form, "body", ctx.settings.body_max)
    context["form"] = {"title": title, "body": body}
    assert ctx.user is not None
    nudge, posted_anyway = _nudge(form, body)
    if nudge and not posted_anyway:
        context["nudge"] = nudge
        return ctx.render("board/new_thread.html", context)
    await _check_post_rate(ctx)
    try:
        thread, _post = await board.create_thread(
            ctx.db, ctx.settings, ctx.user, category, title, body, nudged=nudge
        )
    except board.BoardError as exc:
        context["errors"] = {exc.field: exc.message}
        return ctx.render("board/new_thread.html", context, 400)
    return ctx.redirect(f"/t/{thread.id}")


async def _related(ctx: Ctx, thread: board.ThreadInfo) -> dict[str, object]:
    """Related threads and articles, read from the worker's table; until this thread has an
    embedding, recent threads of its category stand in (and the page says so)."""
    related = await related_items(ctx.db, "thread", thread.id, ctx.user)
    threads = related.threads
    fallback = False
    if not threads and not await has_embedding(ctx.db, "thread", thread.id):
        fallback = True
        threads = [
            RelatedThread(t.id, t.title, "", t.reply_count)
            for t in await board.recent_in_category(ctx.db, thread, ctx.user)
        ]
    return {"related": threads, "related_fallback": fallback, "related_articles": related.articles}


@view()
async def thread_page(ctx: Ctx) -> Response:
    thread_id = ctx.request.path_params["thread_id"]
    last = ctx.request.query_params.get("page") == "last"
    page = None if last else ctx.param_int("page")
    found = None
    if thread_id < 2**31:
        found = await board.thread_page(
            ctx.db, thread_id, ctx.user, page, ctx.settings.posts_per_page, last=last
        )
    if found is None:
        raise HTTPException(404, NO_THREAD)
    thread, posts, pager = found
    cache = ctx.settings.cache_seconds
    ranks = await load_ranks(ctx.db, cache)
    categories_by_id = await board.category_map(ctx.db, cache)
    category = categories_by_id.get(thread.category_id)
    if category is None:  # created since the map was cached
        category = (await board.category_map(ctx.db, 0))[thread.category_id]
    crumbs = await board.breadcrumbs(ctx.db, category, cache)
    categories = []
    if ctx.is_moderator:
        categories = (await ctx.db.scalars(select(Category).order_by(Category.name))).all()
    ctx.request.app.state.views.add(thread.id)
    can_reply = ctx.user is not None and (not thread.is_locked or ctx.is_moderator)
    can_reply = can_reply and not thread.is_deleted
    card = ctx.request.app.state.post_card
    viewer_id = ctx.user.id if ctx.user is not None else None
    cards = [
        card(
            post,
            author,
            ranks.rank_for(author.points, author.special_rank_id),
            thread.id,
            can_reply,
            board.can_edit(ctx.user, post, thread),
            viewer_id is not None and viewer_id != post.author_id,
        )
        for post, author in posts
    ]
    return ctx.render(
        "board/thread.html",
        {
            "thread": thread,
            "crumbs": crumbs,
            "cards": cards,
            "pager": pager,
            "categories": categories,
            "category": category,
            **await _related(ctx, thread),
            "can_reply": can_reply,
        },
    )


@view(login=True)
async def reply(ctx: Ctx) -> Response:
    thread = await _thread_or_404(ctx)
    category = await ctx.db.get(Category, thread.category_id)
    assert category is not None and ctx.user is not None
    context = {"thread": thread, "crumbs": await board.breadcrumbs(ctx.db, category), "errors": {}}
    if ctx.request.method == "GET":
        body = ""
        quote_id = ctx.param_int("quote")
        if quote_id is not None:
            quoted = await board.get_post(ctx.db, quote_id, ctx.user)
            if quoted is None or quoted.thread_id != thread.id:
                raise HTTPException(404, "The post to quote is not in this thread.")
            author = await ctx.db.get(User, quoted.author_id)
            body = quote_markdown(author.username if author else "someone", quoted.body_source)
        context["form"] = {"body": body, "reply_to": quote_id or ""}
        return ctx.render("board/reply.html", context)
    form = await ctx.form()
    body = field_str(form, "body", ctx.settings.body_max)
    reply_to = field_int(form, "reply_to")
    context["form"] = {"body": body, "reply_to": reply_to or ""}
    nudge, posted_anyway = _nudge(form, body)
    if nudge and not posted_anyway:
        context["nudge"] = nudge
        return ctx.render("board/reply.html", context)
    await _check_post_rate(ctx)
    try:
        post = await board.create_reply(
            ctx.db, ctx.settings, ctx.user, thread, body, reply_to, nudged=nudge
        )
    except board.BoardError as exc:
        context["errors"] = {exc.field: exc.message}
        return ctx.render("board/reply.html", context, 400)
    return ctx.redirect(f"/t/{thread.id}?page=last#p{post.id}")


@view()
async def post_link(ctx: Ctx) -> Response:
    post = await _post_or_404(ctx)
    page = await board.post_page(ctx.db, post, ctx.user, ctx.settings.posts_per_page)
    return ctx.redirect(f"/t/{post.thread_id}?page={page}#p{post.id}", status_code=302)


@view(login=True)
async def edit_post(ctx: Ctx) -> Response:
    post = await _post_or_404(ctx)
    thread = await _thread_for_post(ctx, post)
    if not board.can_edit(ctx.user, post, thread):
        raise HTTPException(403, "You can only edit your own posts.")
    is_first = post.id == thread.first_post_id
    context = {"post": post, "thread": thread, "is_first": is_first, "errors": {}}
    if ctx.request.method == "GET":
        context["form"] = {"body": post.body_source, "title": thread.title}
        return ctx.render("board/edit.html", context)
    form = await ctx.form()
    body = field_str(form, "body", ctx.settings.body_max)
    title = (
        field_str(form, "title", ctx.settings.title_max) if is_first and "title" in form else None
    )
    context["form"] = {"body": body, "title": title if title is not None else thread.title}
    assert ctx.user is not None
    try:
        await board.edit_post(ctx.db, ctx.settings, ctx.user, post, thread, body, title)
    except board.BoardError as exc:
        context["errors"] = {exc.field: exc.message}
        return ctx.render("board/edit.html", context, 400)
    if ctx.user.id != post.author_id:
        board.audit(ctx.db, ctx.user, "edit", "post", post.id)
    ctx.flash("Your changes have been saved.")
    return ctx.redirect(f"/p/{post.id}")


async def _thread_for_post(ctx: Ctx, post: Post) -> Thread:
    thread = await board.get_thread(ctx.db, post.thread_id, ctx.user)
    if thread is None:
        raise HTTPException(404, "That post's thread has been removed.")
    return thread


@view()
async def post_revisions(ctx: Ctx) -> Response:
    post = await _post_or_404(ctx)
    thread = await _thread_for_post(ctx, post)
    author = await ctx.db.get(User, post.author_id)
    return ctx.render(
        "board/revisions.html",
        {
            "post": post,
            "thread": thread,
            "author": author,
            "revisions": await board.revisions(ctx.db, post),
        },
    )


@view(moderator=True)
async def thread_action(ctx: Ctx) -> Response:
    thread = await _thread_or_404(ctx)
    action = ctx.request.path_params["action"]
    form = await ctx.form()
    reason = field_str(form, "reason", 2000).strip()
    assert ctx.user is not None
    if action in ("lock", "unlock"):
        await board.set_thread_flag(ctx.db, ctx.user, thread, "is_locked", action == "lock", reason)
    elif action in ("pin", "unpin"):
        await board.set_thread_flag(ctx.db, ctx.user, thread, "is_pinned", action == "pin", reason)
    elif action == "move":
        category_id = field_int(form, "category_id")
        category = await ctx.db.get(Category, category_id) if category_id is not None else None
        if category is None:
            raise HTTPException(400, "Choose a category to move the thread to.")
        await board.move_thread(ctx.db, ctx.user, thread, category, reason)
    elif action == "delete":
        await board.delete_thread(ctx.db, ctx.settings, ctx.user, thread, reason)
        category = await ctx.db.get(Category, thread.category_id)
        ctx.flash(f"The thread “{thread.title}” has been deleted.")
        return ctx.redirect(f"/c/{category.slug}" if category else "/")
    else:
        raise HTTPException(404, "Unknown thread action.")
    done = {"lock": "locked", "unlock": "unlocked", "pin": "pinned", "unpin": "unpinned"}
    ctx.flash(f"Thread {done.get(action, 'moved')}.")
    return ctx.redirect(f"/t/{thread.id}")


routes = [
    Route("/", home, methods=["GET"], name="home"),
    Route("/c/{slug}", category_page, methods=["GET"], name="category"),
    Route("/c/{slug}/new", new_thread, methods=["GET", "POST"], name="new_thread"),
    Route("/t/{thread_id:int}", thread_page, methods=["GET"], name="thread"),
    Route("/t/{thread_id:int}/reply", reply, methods=["GET", "POST"], name="reply"),
    Route("/t/{thread_id:int}/{action:str}", thread_action, methods=["POST"], name="thread_action"),
    Route("/p/{post_id:int}", post_link, methods=["GET"], name="post"),
    Route("/p/{post_id:int}/edit", edit_post, methods=["GET", "POST"], name="edit_post"),
    Route("/p/{post_id:int}/revisions", post_revisions, methods=["GET"], name="post_revisions"),
]
