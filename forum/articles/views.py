"""Articles: list, page with comments and "You May Also Like", publishing for editors."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.accounts.web import Ctx
from forum.articles import services
from forum.articles.events import ArticlePageExtras
from forum.articles.models import Article
from forum.board import queries
from forum.board.models import ModerationState
from forum.board.nudge import nudge_for
from forum.board.posting import BoardError, check_post_rate
from forum.board.views import may_reply, post_cards, show_preview
from forum.core import events
from forum.core.pagination import paginate
from forum.core.ratelimit import RateLimited
from forum.core.web import field_str, view

PER_PAGE = 20


async def _article_or_404(ctx: Ctx) -> Article:
    article_id = ctx.request.path_params["article_id"]
    article = await ctx.db.get(Article, article_id)
    if article is None or article.is_deleted:
        raise HTTPException(404, "There is no such article.")
    return article


@view()
async def article_list(ctx: Ctx) -> Response:
    page = max(ctx.param_int("page", 1) or 1, 1)
    rows, total = await services.list_articles(ctx.db, page, PER_PAGE)
    return ctx.render(
        "articles/list.html", {"rows": rows, "pager": paginate(total, PER_PAGE, page)}
    )


async def _page_context(ctx: Ctx, article: Article) -> dict[str, Any]:
    """The article with the first page of its discussion thread (the posts this viewer may see,
    rendered as on the thread page: reports, edits and moderation work the same)."""
    author = await ctx.db.get(User, article.author_id)
    cards: list[Any] = []
    thread = None
    total = 0
    if article.thread_id is not None:
        found = await queries.thread_page(
            ctx.db, article.thread_id, ctx.user, 1, ctx.settings.posts_per_page
        )
        if found is not None:
            thread, posts, pager = found
            total = max(pager.total - 1, 0)
            replies = [(p, a) for p, a in posts if p.id != thread.first_post_id]
            cards = await post_cards(ctx, thread, replies, may_reply(ctx, thread))
    extras: dict[str, Any] = {"also": [], "also_fallback": False}
    for answer in await events.ask(ctx.db, ArticlePageExtras(article.id, ctx.user)):
        extras.update(answer)
    return {
        "article": article, "author": author, "comments": cards, "comment_count": total,
        "discussion": thread, "can_edit": services.can_edit(ctx.user, article),
        "form": {}, "errors": {}, **extras,
    }  # fmt: skip


@view()
async def article_page(ctx: Ctx) -> Response:
    article = await _article_or_404(ctx)
    return ctx.render("articles/article.html", await _page_context(ctx, article))


@view(login=True)
async def comment(ctx: Ctx) -> Response:
    article = await _article_or_404(ctx)
    assert ctx.user is not None
    form = await ctx.form()
    body = field_str(form, "body", ctx.settings.body_max)
    # Preview, and the composer's nudge on submit, as a reply's (a probe found neither here).
    if form.get("preview"):
        context = await _page_context(ctx, article)
        context["form"] = {"body": body}
        await show_preview(ctx, context, body)  # (none of a text that could not be posted: 400)
        return ctx.render("articles/article.html", context, context.get("status", 200))
    nudge, posted_anyway = await nudge_for(form, body)
    if nudge and not posted_anyway:
        context = await _page_context(ctx, article)
        context.update(form={"body": body}, nudge=nudge)
        return ctx.render("articles/article.html", context)
    try:
        await check_post_rate(ctx.db, ctx.settings, ctx.user, ctx.client, len(body))
        created = await services.add_comment(
            ctx.db, ctx.settings, ctx.user, article, body, nudged=nudge
        )
    except (BoardError, RateLimited) as exc:  # the comment form again, with its text
        context = await _page_context(ctx, article)
        context.update(form={"body": body}, errors={"body": exc.message})
        return ctx.render("articles/article.html", context, exc.status)
    if created.moderation_state == ModerationState.held.value:
        ctx.flash("Your comment will appear once a moderator has approved it.")
    if await queries.post_page(ctx.db, created, ctx.user, ctx.settings.posts_per_page) > 1:
        return ctx.redirect(ctx.url("post", post_id=created.id))  # on a later page of the thread
    return ctx.redirect(ctx.url("article", article_id=article.id) + f"#p{created.id}")


def _editor_form(form: Any, ctx: Ctx) -> dict[str, str]:
    return {
        "title": field_str(form, "title", ctx.settings.title_max),
        "summary": field_str(form, "summary", services.SUMMARY_MAX),
        "body": field_str(form, "body", ctx.settings.body_max),
    }


@view(login=True)
async def new_article(ctx: Ctx) -> Response:
    assert ctx.user is not None
    if not ctx.user.is_editor:
        raise HTTPException(403, "Only editors and administrators publish articles.")
    if ctx.request.method == "GET":
        return ctx.render("articles/edit.html", {"form": {}, "errors": {}, "article": None})
    values = _editor_form(await ctx.form(), ctx)
    try:
        article = await services.publish(ctx.db, ctx.settings, ctx.user, **values)
    except BoardError as exc:
        return ctx.render(
            "articles/edit.html",
            {"form": values, "errors": {exc.field: exc.message}, "article": None},
            400,
        )
    ctx.flash("Your article is published.")
    return ctx.redirect(ctx.url("article", article_id=article.id))


@view(login=True)
async def edit_article(ctx: Ctx) -> Response:
    article = await _article_or_404(ctx)
    if not services.can_edit(ctx.user, article):
        raise HTTPException(403, "Only the article's editor or an administrator can change it.")
    if ctx.request.method == "GET":
        form = {"title": article.title, "summary": article.summary, "body": article.body_source}
        return ctx.render("articles/edit.html", {"form": form, "errors": {}, "article": article})
    values = _editor_form(await ctx.form(), ctx)
    assert ctx.user is not None
    try:
        await services.update(ctx.db, ctx.settings, ctx.user, article, **values)
    except BoardError as exc:
        return ctx.render(
            "articles/edit.html",
            {"form": values, "errors": {exc.field: exc.message}, "article": article},
            400,
        )
    ctx.flash("The article has been updated.")
    return ctx.redirect(ctx.url("article", article_id=article.id))


routes = [
    Route("/articles", article_list, methods=["GET"], name="articles"),
    Route("/articles/new", new_article, methods=["GET", "POST"], name="new_article"),
    Route("/articles/{article_id:id}", article_page, methods=["GET"], name="article"),
    Route(
        "/articles/{article_id:id}/edit",
        edit_article,
        methods=["GET", "POST"],
        name="edit_article",
    ),
    Route("/articles/{article_id:id}/comments", comment, methods=["POST"], name="article_comment"),
]
