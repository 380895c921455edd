"""/search: one box over threads, posts and articles, with filters and pagination."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.accounts.web import Ctx
from forum.board.models import Category
from forum.board.visibility import category_visibility
from forum.core.pagination import paginate
from forum.core.web import view
from forum.search.service import Filters, SearchError, search
from forum.search.suggest import did_you_mean

PER_PAGE = 20


def category_options(categories: list[Category]) -> list[tuple[Category, int]]:
    """The categories as the tree reads (each parent, then its sub-categories, in position
    order), each with its depth. A category whose parent is not listed is shown as a root."""
    ids = {c.id for c in categories}
    children: dict[int | None, list[Category]] = {}
    for c in categories:
        children.setdefault(c.parent_id if c.parent_id in ids else None, []).append(c)
    ordered: list[tuple[Category, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in children.get(parent, []):
            ordered.append((c, depth))
            walk(c.id, depth + 1)

    walk(None, 0)
    return ordered


def descendants(categories: list[Category], root: Category) -> list[int]:
    """`root` and every category under it, at any depth."""
    found, frontier = [root.id], [root.id]
    while frontier:
        frontier = [c.id for c in categories if c.parent_id in frontier and c.id not in found]
        found += frontier
    return found


def _date(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    except ValueError:
        raise SearchError(f"'{name}' must be a date like 2026-01-31.") from None


@view()
async def search_page(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    raw = params.get("q", "")
    form = {k: params.get(k, "")[:200] for k in ("q", "category", "author", "from", "to")}
    categories = (
        await ctx.db.scalars(
            select(Category)
            .where(category_visibility(ctx.user))
            .order_by(Category.position, Category.name)
        )
    ).all()
    options = category_options(list(categories))
    context: dict[str, object] = {"form": form, "categories": options, "hits": [],
                                  "total": 0, "pager": None, "error": ""}  # fmt: skip
    if "q" not in params:
        return ctx.render("search/search.html", context)
    try:
        filters = Filters(since=_date(form["from"], "from"), until=_date(form["to"], "to"))
        if filters.until is not None:
            if filters.until.year >= 9999:
                raise SearchError("'to' must be a date before the year 9999.")
            filters.until += timedelta(days=1)  # "to" is inclusive
        if form["category"]:
            chosen = next((c for c in categories if c.slug == form["category"]), None)
            if chosen is None:
                raise SearchError("There is no such category.")
            filters.category_ids = descendants(list(categories), chosen)
        if form["author"]:
            author = await ctx.db.scalar(
                select(User.id).where(User.username_key == form["author"].strip().lower()[:30])
            )
            if author is None:
                raise SearchError(f"There is no member called “{form['author']}”.")
            filters.author_id = author
        page = max(ctx.param_int("page", 1) or 1, 1)
        hits, total = await search(ctx.db, raw, filters, ctx.user, page, PER_PAGE)
        last = paginate(total, PER_PAGE, None, last=True).number
        if not hits and page > last and total:  # past the end: the last page, as threads do
            page = last
            hits, total = await search(ctx.db, raw, filters, ctx.user, page, PER_PAGE)
    except SearchError as exc:
        context["error"] = str(exc)
        return ctx.render("search/search.html", context, 400)
    pager = paginate(total, PER_PAGE, page)
    query = urlencode({k: v for k, v in form.items() if v})
    context.update(hits=hits, total=total, pager=pager, query=query)
    if not total:
        suggestion = await did_you_mean(ctx.db, raw)
        if suggestion:
            corrected = urlencode({k: suggestion if k == "q" else v for k, v in form.items() if v})
            context.update(suggestion=suggestion, suggestion_query=corrected)
    return ctx.render("search/search.html", context)


routes = [Route("/search", search_page, methods=["GET"], name="search")]
