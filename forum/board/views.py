"""Home, categories, threads, posting and the moderators' thread actions."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.accounts.services import load_ranks
from forum.accounts.web import Ctx
from forum.board import categories, drafts, lists, mentions, posting, queries, reacting, threads
from forum.board.events import CategoryPageExtras, ThreadPageExtras
from forum.board.models import DECIDED_HIDDEN, HIDDEN_STATES, Category, Post, Thread
from forum.board.nudge import nudge_for
from forum.board.queries import AuthorView, PostView, ThreadView
from forum.core import events
from forum.core.audit import audit
from forum.core.errors import DomainError
from forum.core.ratelimit import RateLimited
from forum.core.text import preview_html, quote_markdown
from forum.core.timezones import when, zone_of
from forum.core.web import Refused, field_int, field_str, view

NO_THREAD = "There is no such thread, or it has been removed."


async def _thread_or_404(ctx: Ctx) -> Thread:
    thread = await queries.get_thread(ctx.db, ctx.request.path_params["thread_id"], ctx.user)
    if thread is None:
        raise HTTPException(404, NO_THREAD)
    return thread


async def _post_or_404(ctx: Ctx) -> Post:
    post = await queries.get_post(ctx.db, ctx.request.path_params["post_id"], ctx.user)
    if post is None:
        raise HTTPException(404, "There is no such post, or it has been removed.")
    return post


async def _keep_draft(ctx: Ctx, context: dict[str, Any], **place: Any) -> None:
    """Save the composer's text as the member's draft for `place` (a thread or a category),
    telling the member whether it was kept; a refusal (too long, too often) is shown beside
    the form rather than losing the text."""
    assert ctx.user is not None
    form = context["form"]
    try:
        kept = await drafts.save_draft(
            ctx.db, ctx.settings, ctx.user, title=form.get("title") or "", body=form["body"],
            **place,
        )  # fmt: skip
    except DomainError as exc:
        # (A refused preview's reason for the same field stands: it says why better.)
        context["errors"] = {exc.field or "body": exc.message, **(context.get("errors") or {})}
        context["draft_note"] = "The draft was not saved."
        context["status"] = context.get("status") or exc.status  # 400 too long, 429 too often
        return
    context["draft_note"] = "Draft saved." if kept else "Nothing to save: the draft is empty."


async def show_preview(
    ctx: Ctx, context: dict[str, Any], body: str, title: str | None = None
) -> None:
    """Preview: the text rendered as it will look; or, for a text that could not be posted as
    it stands (too long, tables too big), the reason beside the form, with the text kept, and
    no rendering of it (status 400)."""
    problems = posting.preview_problems(ctx.settings, body, title)
    if problems:
        context["errors"] = {**(context.get("errors") or {}), **problems}
        context["status"] = 400
    else:
        # Its @mentions linked as posting will link them (not counted against the hourly
        # limit: a preview notifies nobody); a post naming too many members links none.
        try:
            assert ctx.user is not None
            links = await mentions.mention_links(
                ctx.db, ctx.settings, ctx.user, body, counted=False
            )
        except DomainError:
            links = {}
        context["preview"] = await preview_html(body, links)


def _refused(ctx: Ctx, template: str, context: dict[str, Any], exc: DomainError) -> Response:
    """A refused post (invalid, rate-limited, locked thread, suspended member): the form
    again with the member's text and the reason, with the refusal's status."""
    context["errors"] = {exc.field or "body": exc.message}
    return ctx.render(template, context, exc.status)


@view()
async def home(ctx: Ctx) -> Response:
    tree = await categories.category_tree(ctx.db, ctx.user)
    return ctx.render("board/home.html", {"tree": tree})


@view()
async def category_page(ctx: Ctx) -> Response:
    category = await categories.category_by_slug(ctx.db, ctx.request.path_params["slug"], ctx.user)
    rows, pager = await queries.list_threads(
        ctx.db, category, ctx.param_int("page"), ctx.settings.threads_per_page, ctx.user
    )
    tree = await categories.category_tree(ctx.db, ctx.user)
    node = next((found for root in tree if (found := root.find(category.id))), None)
    return ctx.render(
        "board/category.html",
        {
            "category": category,
            # No "New thread" where none may be started: the page says why instead.
            "no_new_threads": await categories.new_threads_refused(ctx.db, category),
            "crumbs": await categories.breadcrumbs(ctx.db, category),
            # Each sub-category with its counters and latest activity, as the home page shows.
            "children": node.children if node is not None else [],
            "rows": rows,
            "pager": pager,
            # A member's read marks: links jump to the first unread post (one query).
            "unread": await lists.unread_info(ctx, [row.thread.id for row in rows]),
            **{
                k: v
                for a in await events.ask(ctx.db, CategoryPageExtras(category, ctx.user))
                for k, v in a.items()
            },
        },
    )


async def _startable(ctx: Ctx, category: Category) -> None:
    """Refuse (403) a new thread, or its draft, where none may be started; what was typed is
    shown back."""
    reason = await categories.new_threads_refused(ctx.db, category)
    if reason is None:
        return
    kept: list[tuple[str, str]] = []
    if ctx.request.method == "POST":
        form = await ctx.form()
        for name, label in (("title", "Your title"), ("body", "Your text")):
            value = field_str(form, name, ctx.settings.body_max)
            if value.strip():
                kept.append((label, value))
    raise Refused(403, reason, kept)


@view(login=True)
async def new_thread(ctx: Ctx) -> Response:
    category = await categories.category_by_slug(ctx.db, ctx.request.path_params["slug"], ctx.user)
    await _startable(ctx, category)
    crumbs = await categories.breadcrumbs(ctx.db, category)
    context: dict[str, Any] = {"category": category, "crumbs": crumbs, "form": {}, "errors": {}}
    assert ctx.user is not None
    if ctx.request.method == "GET":
        draft = await drafts.get_draft(ctx.db, ctx.user, category_id=category.id)
        if draft is not None:
            context["form"] = {"title": draft.title, "body": draft.body}
            context["draft_note"] = f"Your draft from {when(draft.updated_at, ctx.user.time_zone)}."
        return ctx.render("board/new_thread.html", context)
    form = await ctx.form()
    title = field_str(form, "title", ctx.settings.title_max)
    body = field_str(form, "body", ctx.settings.body_max)
    context["form"] = {"title": title, "body": body}
    if "preview" in form or "save_draft" in form:
        if "preview" in form:
            await show_preview(ctx, context, body, title)
        await _keep_draft(ctx, context, category_id=category.id)
        return ctx.render("board/new_thread.html", context, context.get("status", 200))
    posted = await posting.just_posted(ctx.db, ctx.user, body, category_id=category.id, title=title)
    if posted is not None:  # a second click, or the form sent again: the first one stands
        ctx.flash("That thread was posted already.")
        return ctx.redirect(ctx.url("thread", thread_id=posted.thread_id))
    nudge, posted_anyway = await nudge_for(form, body, title)
    if nudge and not posted_anyway:
        context["nudge"] = nudge
        return ctx.render("board/new_thread.html", context)
    if problems := posting.form_problems(ctx.settings, title, body):
        # A post refused as it stands (too long, empty) costs none of the hour's budget.
        context["errors"] = problems
        return ctx.render("board/new_thread.html", context, 400)
    try:
        await posting.check_post_rate(
            ctx.db, ctx.settings, ctx.user, ctx.client, len(title) + len(body)
        )
        thread, _post = await posting.create_thread(
            ctx.db, ctx.settings, ctx.user, category, title, body, nudged=nudge
        )
    except (posting.BoardError, RateLimited) as exc:
        return _refused(ctx, "board/new_thread.html", context, exc)
    await drafts.delete_draft(ctx.db, ctx.user, category_id=category.id)
    return ctx.redirect(ctx.url("thread", thread_id=thread.id))


async def _extras(ctx: Ctx, thread: ThreadView) -> dict[str, Any]:
    """What the domains built on the board add under the thread (related discussions)."""
    extras: dict[str, Any] = {"related": [], "related_fallback": False, "related_articles": []}
    for answer in await events.ask(ctx.db, ThreadPageExtras(thread, ctx.user)):
        extras.update(answer)
    return extras


def may_reply(ctx: Ctx, thread: ThreadView) -> bool:
    can_reply = ctx.user is not None and (not thread.is_locked or ctx.is_moderator)
    # A suspended member sees no reply box (they learnt of the suspension only on submitting).
    return can_reply and not thread.is_deleted and not getattr(ctx.user, "suspended_now", False)


async def post_cards(
    ctx: Ctx,
    thread: ThreadView,
    posts: list[tuple[PostView, AuthorView]],
    can_reply: bool,
    qa: bool = False,
) -> list[Markup]:
    """The rendered posts of a thread page (also an article's comments), as this viewer may
    act on them; `qa`: the thread is in a Q&A category (its answer is marked)."""
    ranks = await load_ranks(ctx.db, ctx.settings.cache_seconds)
    card = ctx.request.app.state.post_card
    user = ctx.user
    viewer_id = user.id if user is not None else None
    can_accept = reacting.may_accept(user, thread.author_id, qa) and not thread.is_deleted
    accepted_id = thread.accepted_post_id if qa else None
    token = ctx.csrf_token() if user is not None else ""
    # The opener may delete the opening post (and the thread) while nobody else wrote in it.
    opener_alone = (
        viewer_id is not None
        and viewer_id == thread.author_id
        and any(post.id == thread.first_post_id for post, _ in posts)
        and not await posting.others_wrote(ctx.db, thread.id, viewer_id)
    )
    cards = []
    for post, author in posts:
        can_react = reacting.may_react(user, post.author_id, post.is_deleted, post.moderation_state)
        public = not post.is_deleted and post.moderation_state not in HIDDEN_STATES
        accept_here = (
            can_accept and post.id != thread.first_post_id and (public or post.id == accepted_id)
        )
        can_edit = posting.can_edit(ctx.user, post, thread, author.role)
        own = can_edit and viewer_id == post.author_id
        can_delete = own and (post.id != thread.first_post_id or opener_alone)
        cards.append(
            card(
                post,
                author,
                ranks.rank_for(author.points, author.special_rank_id),
                thread.id,
                can_reply,
                can_edit,
                viewer_id is not None and viewer_id != post.author_id,
                can_react,
                post.id == accepted_id,
                accept_here,
                token if (can_react or accept_here) else "",
                can_delete,
                own and not can_delete,
                zone_of(user),
            )
        )
    return cards


async def accepted_answer(
    ctx: Ctx, thread: ThreadView, qa: bool, page: int
) -> dict[str, Any] | None:
    """The accepted answer shown under the question (page 1 of a Q&A thread), if the viewer
    may see it: a held, hidden or deleted answer is not shown to those who may not see it."""
    if not qa or page != 1 or thread.accepted_post_id is None:
        return None
    post = await queries.get_post(ctx.db, thread.accepted_post_id, ctx.user)
    if post is None or post.thread_id != thread.id:
        return None
    author = await ctx.db.get(User, post.author_id)
    return {
        "post_id": post.id,
        "author": author.username if author else "someone",
        "body_html": Markup(post.body_html),  # sanitised when stored (render_markdown)
    }


@view()
async def thread_page(ctx: Ctx) -> Response:
    last = ctx.request.query_params.get("page") == "last"
    page = None if last else ctx.param_int("page")
    found = await queries.thread_page(
        ctx.db,
        ctx.request.path_params["thread_id"],
        ctx.user,
        page,
        ctx.settings.posts_per_page,
        last=last,
    )
    if found is None:
        raise HTTPException(404, NO_THREAD)
    thread, posts, pager = found
    cache = ctx.settings.cache_seconds
    category = await categories.category_info(ctx.db, thread.category_id, cache)
    assert category is not None
    crumbs = await categories.breadcrumbs(ctx.db, category, cache)
    movable: list[tuple[str, list[Category]]] = []
    if ctx.is_moderator:
        # Only where the thread may go (the article discussions take no other thread), as the
        # home page groups them: a group's forums under its name, the group itself not a
        # place for threads (the list was flat and alphabetical, groups and forums alike).
        every = await categories.all_categories(ctx.db)
        parents = {c.parent_id for c in every if c.parent_id}
        allowed = [
            c for c in every
            if c.id == thread.category_id
            or (c.id not in parents
                and not await categories.new_threads_refused(ctx.db, c, thread.id))
        ]  # fmt: skip
        by_id = {c.id: c for c in every}
        order = {c.id: (c.position, c.name) for c in every}
        groups: dict[int, list[Category]] = {}
        for c in allowed:
            groups.setdefault(c.parent_id or c.id, []).append(c)
        for root_id in sorted(groups, key=lambda i: order[i]):
            members = sorted(groups[root_id], key=lambda c: (c.id != root_id, order[c.id]))
            label = by_id[root_id].name if root_id in parents else ""
            movable.append((label, members))
    viewer = f"u{ctx.user.id}" if ctx.user is not None else f"a{ctx.client}"
    ctx.request.app.state.views.add(thread.id, viewer)
    if ctx.user is not None and posts:  # read up to the last post shown (written in a batch)
        ctx.request.app.state.reads.mark(ctx.user.id, thread.id, max(p.id for p, _a in posts))
    can_reply = may_reply(ctx, thread)
    cards = await post_cards(ctx, thread, posts, can_reply, category.is_qa)
    draft = None
    if can_reply and ctx.user is not None:  # the member's unfinished reply, if any
        draft = await drafts.get_draft(ctx.db, ctx.user, thread_id=thread.id)
    return ctx.render(
        "board/thread.html",
        {
            "thread": thread,
            # The posts this viewer can see (the thread's counter counts the public ones).
            "reply_count": max(pager.total - 1, 0),
            "crumbs": crumbs,
            "cards": cards,
            # The quick reply answers the last post the member read (moderation reads it as
            # the reply's context).
            "follows": posts[-1][0].id if posts else None,
            "pager": pager,
            "categories": movable,
            "category": category,
            **await _extras(ctx, thread),
            "can_reply": can_reply,
            "draft": draft,
            "accepted_answer": await accepted_answer(ctx, thread, category.is_qa, pager.number),
        },
    )


@view(login=True)
async def reply(ctx: Ctx) -> Response:
    found = await queries.get_thread(ctx.db, ctx.request.path_params["thread_id"], ctx.user)
    if found is None:
        # A thread hidden or deleted while a member wrote to it: their reply is shown back.
        form = await ctx.form() if ctx.request.method == "POST" else None
        body = field_str(form, "body", ctx.settings.body_max) if form is not None else ""
        raise Refused(404, NO_THREAD, [("Your reply", body)] if body.strip() else [])
    thread = found
    category = await categories.category_info(ctx.db, thread.category_id)
    assert category is not None and ctx.user is not None
    crumbs = await categories.breadcrumbs(ctx.db, category)
    context: dict[str, Any] = {"thread": thread, "crumbs": crumbs, "errors": {}}
    if ctx.request.method == "GET":
        body = ""
        draft = await drafts.get_draft(ctx.db, ctx.user, thread_id=thread.id)
        if draft is not None:
            body = draft.body
            context["draft_note"] = f"Your draft from {when(draft.updated_at, ctx.user.time_zone)}."
        quote_id = ctx.param_int("quote")
        if quote_id is not None:
            quoted = await queries.get_post(ctx.db, quote_id, ctx.user)
            if quoted is None or quoted.thread_id != thread.id:
                raise HTTPException(404, "The post to quote is not in this thread.")
            author = await ctx.db.get(User, quoted.author_id)
            quote = quote_markdown(author.username if author else "someone", quoted.body_source)
            body = f"{body.rstrip()}\n\n{quote}" if body.strip() else quote
            # The quote is in: the box is ready to type under it (a probe's keyboard user
            # landed elsewhere, the caret before the quote).
            context["type_under_quote"] = True
        context["form"] = {"body": body, "reply_to": quote_id or ""}
        return ctx.render("board/reply.html", context)
    form = await ctx.form()
    body = field_str(form, "body", ctx.settings.body_max)
    raw_reply_to = field_str(form, "reply_to", 20).strip()
    raw_follows = field_str(form, "follows", 20).strip()
    context["form"] = {"body": body, "reply_to": raw_reply_to, "follows": raw_follows}
    if "preview" in form or "save_draft" in form:
        if "preview" in form:
            await show_preview(ctx, context, body)
        await _keep_draft(ctx, context, thread_id=thread.id)
        return ctx.render("board/reply.html", context, context.get("status", 200))
    reply_to, follows = field_int(form, "reply_to"), field_int(form, "follows")
    posted = await posting.just_posted(ctx.db, ctx.user, body, thread_id=thread.id)
    if posted is not None:  # a second click, or the form sent again: the first one stands
        ctx.flash("That reply was posted already.")
        return ctx.redirect(ctx.url("thread", thread_id=thread.id) + f"?page=last#p{posted.id}")
    nudge, posted_anyway = await nudge_for(form, body)
    if nudge and not posted_anyway:
        context["nudge"] = nudge
        return ctx.render("board/reply.html", context)
    try:
        posting.validate_body(ctx.settings, body)  # (a refused post costs no budget)
        await posting.check_post_rate(ctx.db, ctx.settings, ctx.user, ctx.client, len(body))
        post = await posting.create_reply(
            ctx.db, ctx.settings, ctx.user, thread, body, reply_to, nudged=nudge,
            follows_id=follows,
        )  # fmt: skip
    except (posting.BoardError, RateLimited) as exc:
        return _refused(ctx, "board/reply.html", context, exc)
    await drafts.delete_draft(ctx.db, ctx.user, thread_id=thread.id)
    return ctx.redirect(ctx.url("thread", thread_id=thread.id) + f"?page=last#p{post.id}")


@view(login=True)
async def thread_draft(ctx: Ctx) -> Response:
    """The composer's autosave (composer.js): the reply typed so far, kept as a draft."""
    thread = await _thread_or_404(ctx)
    assert ctx.user is not None
    form = await ctx.form()
    kept = await drafts.save_draft(
        ctx.db, ctx.settings, ctx.user, thread_id=thread.id,
        body=field_str(form, "body", ctx.settings.body_max),
    )  # fmt: skip
    return JSONResponse({"saved": kept})


@view(login=True)
async def category_draft(ctx: Ctx) -> Response:
    """The composer's autosave for a new thread in a category."""
    category = await categories.category_by_slug(ctx.db, ctx.request.path_params["slug"], ctx.user)
    await _startable(ctx, category)
    assert ctx.user is not None
    form = await ctx.form()
    kept = await drafts.save_draft(
        ctx.db, ctx.settings, ctx.user, category_id=category.id,
        title=field_str(form, "title", ctx.settings.title_max),
        body=field_str(form, "body", ctx.settings.body_max),
    )  # fmt: skip
    return JSONResponse({"saved": kept})


@view()
async def post_link(ctx: Ctx) -> Response:
    post = await _post_or_404(ctx)
    page = await queries.post_page(ctx.db, post, ctx.user, ctx.settings.posts_per_page)
    return ctx.redirect(
        ctx.url("thread", thread_id=post.thread_id) + f"?page={page}#p{post.id}", status_code=302
    )


async def _thread_for_post(ctx: Ctx, post: Post) -> Thread:
    thread = await queries.get_thread(ctx.db, post.thread_id, ctx.user)
    if thread is None:
        raise HTTPException(404, "That post's thread has been removed.")
    return thread


@view(login=True)
async def edit_post(ctx: Ctx) -> Response:
    post = await _post_or_404(ctx)
    thread = await _thread_for_post(ctx, post)
    assert ctx.user is not None
    own = post.author_id == ctx.user.id
    author = ctx.user if own else await ctx.db.get(User, post.author_id)
    role = author.role if author is not None else None
    if not posting.can_edit(ctx.user, post, thread, role) and (
        ctx.request.method == "GET" or not own
    ):
        if ctx.is_moderator:
            raise HTTPException(403, "A moderator's or an administrator's post is for an "
                                "administrator to edit.")  # fmt: skip
        raise HTTPException(403, "You can only edit your own posts.")
    is_first = post.id == thread.first_post_id
    context: dict[str, Any] = {"post": post, "thread": thread, "is_first": is_first, "errors": {}}
    if ctx.request.method == "GET":
        context["form"] = {"body": post.body_source, "title": thread.title}
        return ctx.render("board/edit.html", context)
    form = await ctx.form()
    body = field_str(form, "body", ctx.settings.body_max)
    title = (
        field_str(form, "title", ctx.settings.title_max) if is_first and "title" in form else None
    )
    context["form"] = {"body": body, "title": title if title is not None else thread.title}
    if "preview" in form:
        await show_preview(ctx, context, body, title)
        return ctx.render("board/edit.html", context, context.get("status", 200))
    if not posting.can_edit(ctx.user, post, thread):
        # The author's own post, locked meanwhile or the author suspended: the edit is
        # refused, and the text typed is shown again with the reason.
        reason = (
            "This thread is locked; its posts can no longer be edited."
            if thread.is_locked
            else "Your account is suspended: you cannot edit posts now."
        )
        return _refused(
            ctx, "board/edit.html", context, posting.BoardError("body", reason, status=403)
        )
    # The author's edit gets the composer's nudge as a new post does (a moderator's edit is a
    # decision, not a post of theirs).
    nudge: list[str] = []
    if own:
        nudge, posted_anyway = await nudge_for(form, body, title)
        if nudge and not posted_anyway:
            context["nudge"] = nudge
            return ctx.render("board/edit.html", context)
    if problems := posting.form_problems(ctx.settings, title if is_first else None, body):
        context["errors"] = problems  # every field's at once (a refused edit costs no budget)
        return ctx.render("board/edit.html", context, 400)
    try:
        if own:  # (an unchanged text is not scored again, so it costs nothing)
            changed = body != post.body_source or (title is not None and title != thread.title)
            if changed:
                length = len(body) + len(title or "")
                await posting.check_post_rate(
                    ctx.db, ctx.settings, ctx.user, ctx.client, length, edit=True
                )
        await posting.edit_post(
            ctx.db, ctx.settings, ctx.user, post, thread, body, title, nudged=nudge
        )
    except (posting.BoardError, RateLimited) as exc:  # (limits; too many @mentions this hour)
        return _refused(ctx, "board/edit.html", context, exc)
    if ctx.user.id != post.author_id:
        audit(ctx.db, ctx.user, "edit", "post", post.id)
    if own and post.moderation_state in DECIDED_HIDDEN:
        ctx.flash(
            "Your changes have been saved. The post stays out of view until a moderator has "
            "looked at it again: they have been asked to."
        )
    else:
        ctx.flash("Your changes have been saved.")
    return ctx.redirect(ctx.url("post", post_id=post.id))


@view(login=True)
async def delete_post(ctx: Ctx) -> Response:
    """A member deletes a post of their own: a page that asks first (or says why not), then
    the deletion (forum.board.posting.delete_post has the rules)."""
    post = await _post_or_404(ctx)
    thread = await _thread_for_post(ctx, post)
    assert ctx.user is not None
    context: dict[str, Any] = {"post": post, "thread": thread,
                               "opening": post.id == thread.first_post_id}  # fmt: skip
    info = await categories.category_info(ctx.db, thread.category_id)
    title = thread.title
    try:
        if ctx.request.method == "GET":
            refused = await posting.deletion_refused(ctx.db, ctx.user, post, thread)
            if refused is not None:
                raise refused
            return ctx.render("board/delete.html", context)
        gone_with_thread = await posting.delete_post(ctx.db, ctx.settings, ctx.user, post, thread)
    except posting.BoardError as exc:
        context["refused"] = exc.message
        return ctx.render("board/delete.html", context, exc.status)
    if gone_with_thread:
        ctx.flash(f"Your thread “{title}” has been deleted.")
        return ctx.redirect(ctx.url("category", slug=info.slug) if info else ctx.url("home"))
    ctx.flash("Your post has been deleted.")
    return ctx.redirect(ctx.url("thread", thread_id=thread.id))


@view()
async def post_revisions(ctx: Ctx) -> Response:
    post = await _post_or_404(ctx)
    thread = await _thread_for_post(ctx, post)
    author = await ctx.db.get(User, post.author_id)
    revisions = await queries.revisions(ctx.db, post)
    if not ctx.is_moderator:
        # Earlier versions are for the post's author and moderators: a member who edits out
        # a colleague's name, or a detail they regret, takes it off the board. What a
        # moderator edited out must not stay readable one link away, even to the author.
        moderated = any(rev.editor_id != post.author_id for rev, _editor in revisions)
        if moderated:
            raise HTTPException(403, "Only moderators can see the earlier versions of this post.")
        if ctx.user is None or ctx.user.id != post.author_id:
            raise HTTPException(
                403, "Only the post's author and moderators can see its earlier versions."
            )
    return ctx.render(
        "board/revisions.html",
        {"post": post, "thread": thread, "author": author, "revisions": revisions},
    )


DONE = {"lock": "locked", "unlock": "unlocked", "pin": "pinned", "unpin": "unpinned"}


@view(moderator=True)
async def thread_action(ctx: Ctx) -> Response:
    thread = await _thread_or_404(ctx)
    action = ctx.request.path_params["action"]
    form = await ctx.form()
    reason = field_str(form, "reason", 2000).strip()
    assert ctx.user is not None
    if action in threads.FLAG_ACTIONS:
        await threads.set_thread_flag(ctx.db, ctx.user, thread, action, reason)
    elif action == "move":
        category_id = field_int(form, "category_id")
        category = await ctx.db.get(Category, category_id) if category_id is not None else None
        if category is None:
            raise DomainError("category_id", "Choose a category to move the thread to.")
        if category.id != thread.category_id and await categories.has_subcategories(
            ctx.db, category
        ):
            raise DomainError(
                "category_id",
                f"“{category.name}” is a group of forums: choose one of its forums.",
            )
        refused = await categories.new_threads_refused(ctx.db, category, thread.id)
        if refused is not None:
            raise DomainError("category_id", refused, status=403)
        await threads.move_thread(ctx.db, ctx.user, thread, category, reason)
    elif action == "delete":
        if not reason:
            # The author is told why (by notice and mail): a deletion without one says nothing.
            raise DomainError(
                "reason", "Give a reason for deleting the thread: its author is told."
            )
        await threads.delete_thread(ctx.db, ctx.settings, ctx.user, thread, reason)
        info = await categories.category_info(ctx.db, thread.category_id)
        ctx.flash(f"The thread “{thread.title}” has been deleted.")
        return ctx.redirect(ctx.url("category", slug=info.slug) if info else ctx.url("home"))
    else:
        raise HTTPException(404, "Unknown thread action.")
    ctx.flash(f"Thread {DONE.get(action, 'moved')}.")
    return ctx.redirect(ctx.url("thread", thread_id=thread.id))


routes = [
    Route("/", home, methods=["GET"], name="home"),
    Route("/c/{slug}", category_page, methods=["GET"], name="category"),
    Route("/c/{slug}/new", new_thread, methods=["GET", "POST"], name="new_thread"),
    Route("/c/{slug}/draft", category_draft, methods=["POST"], name="category_draft"),
    Route("/t/{thread_id:id}", thread_page, methods=["GET"], name="thread"),
    Route("/t/{thread_id:id}/reply", reply, methods=["GET", "POST"], name="reply"),
    Route("/t/{thread_id:id}/draft", thread_draft, methods=["POST"], name="thread_draft"),
    Route("/t/{thread_id:id}/{action:str}", thread_action, methods=["POST"], name="thread_action"),
    Route("/p/{post_id:id}", post_link, methods=["GET"], name="post"),
    Route("/p/{post_id:id}/edit", edit_post, methods=["GET", "POST"], name="edit_post"),
    Route("/p/{post_id:id}/revisions", post_revisions, methods=["GET"], name="post_revisions"),
    Route("/p/{post_id:id}/delete", delete_post, methods=["GET", "POST"], name="delete_post"),
    *reacting.routes,
]
