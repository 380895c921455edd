"""/search: one box over threads, posts and articles, with filters and pagination."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlencode

from sqlalchemy import select, true
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.accounts.web import Ctx
from forum.board.mentions import suggest_usernames
from forum.board.models import Category
from forum.board.visibility import category_visibility
from forum.core import ratelimit
from forum.core.pagination import paginate
from forum.core.timezones import day_starts, zone_of
from forum.core.web import view
from forum.search.service import Filters, Hit, SearchError, by_author, search
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


def _date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        field = {"from": "“From”", "to": "“To”"}.get(name, name)
        raise SearchError(f"{field} must be a date like 2026-01-31.") from None


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
    if not any(k in params for k in ("q", "author")):  # (a profile links to ?author=NAME)
        return ctx.render("search/search.html", context)
    try:
        since, until = _date(form["from"], "from"), _date(form["to"], "to")
        if since and until and since > until:
            raise SearchError(
                "The dates are the wrong way round: “From” is after “To”. Swap them, or clear one."
            )
        if until is not None and until.year >= 9999:
            raise SearchError("'to' must be a date before the year 9999.")
        if since is not None and since.year < 2:
            raise SearchError("“From” must be a date after the year 1.")
        # Days as the reader's clock has them (Settings, "Show times in"); "to" is inclusive.
        zone = zone_of(ctx.user)
        filters = Filters(
            since=day_starts(since, zone) if since else None,
            until=day_starts(until + timedelta(days=1), zone) if until else None,
        )
        if form["category"]:
            chosen = next((c for c in categories if c.slug == form["category"]), None)
            if chosen is None:
                raise SearchError("There is no such category.")
            filters.category_ids = descendants(list(categories), chosen)
        if form["author"].strip():
            # As on the profile page: an account whose address nobody confirmed is nobody's
            # business but the moderators'.
            author = await ctx.db.scalar(
                select(User.id).where(
                    User.username_key == form["author"].strip().lower()[:30],
                    true() if ctx.is_moderator else User.email_confirmed_at.is_not(None),
                )
            )
            if author is None:
                # The names it starts (a newcomer probe typed "margaret" for margaret_hr).
                near = await suggest_usernames(ctx.db, form["author"])
                hint = f" Did you mean {' or '.join(near[:3])}?" if near else ""
                raise SearchError(f"There is no member called “{form['author']}”.{hint}")
            filters.author_id = author
        # An author and no words: that member's posts, newest first.
        listing = not raw.strip() and filters.author_id is not None

        async def find(page: int) -> tuple[list[Hit], int]:
            if listing:
                return await by_author(ctx.db, filters, ctx.user, page, PER_PAGE)
            return await search(ctx.db, raw, filters, ctx.user, page, PER_PAGE)

        page = max(ctx.param_int("page", 1) or 1, 1)
        hits, total = await find(page)
        last = paginate(total, PER_PAGE, None, last=True).number
        if not hits and page > last and total:  # past the end: the last page, as threads do
            page = last
            hits, total = await find(page)
    except SearchError as exc:
        context["error"] = str(exc)
        return ctx.render("search/search.html", context, 400)
    pager = paginate(total, PER_PAGE, page)
    # `q` always: the pages of an author's list (no words) are results too, not the bare form.
    query = urlencode({k: v for k, v in form.items() if v or k == "q"})
    context.update(hits=hits, total=total, pager=pager, query=query, listing=listing)
    if not total and not listing:
        suggestion = await did_you_mean(ctx.db, raw)
        # Offered only if it finds something, for this reader with these filters.
        if suggestion and (await search(ctx.db, suggestion, filters, ctx.user, 1, 1))[1]:
            corrected = urlencode({k: suggestion if k == "q" else v for k, v in form.items() if v})
            context.update(suggestion=suggestion, suggestion_query=corrected)
    words = raw.split()
    plain = 2 <= len(words) <= 8 and "OR" not in words and all(_PLAIN.match(w) for w in words)
    if not listing and total < FEW and plain:
        # Every word must match: a newcomer probe's "reverse mentoring feedback senior" missed
        # the thread that lacked "senior". Offer the search for any of them, if it finds more.
        any_words = " OR ".join(words)
        more = (await search(ctx.db, any_words, filters, ctx.user, 1, 1))[1]
        if more > total:
            context.update(
                any_count=more,
                any_query=urlencode(
                    {k: any_words if k == "q" else v for k, v in form.items() if v}
                ),
            )
    return ctx.render("search/search.html", context)


# Fewer results than this for several plain words: the search for any of them is offered.
FEW = 3
_PLAIN = re.compile(r"^\w[\w'-]*$")


# Words too common to say what a thread is about.
_COMMON = frozenset(
    "about after also been being could does doing from have having here into just like more "
    "most much should some than that their them then there these they this those very want "
    "what when where which while will with would your yours anyone someone something".split()
)
SIMILAR_MAX = 5
SIMILAR_LIMIT = ratelimit.Limit("search:similar", 30, 60, "Too many look-ups: wait a moment.")


@view(login=True, writes=True)
async def similar_threads(ctx: Ctx) -> Response:
    """Threads the member may read whose posts share the most words with a new thread's title
    (`?title=`), as JSON for the composer: "these may already answer it" while the title is
    typed (a probe's newcomer asked what had been answered twice)."""
    # Asked as the title is typed: a few a second at most from one member (a probe's 32 at
    # once doubled a search's time and slowed other pages).
    try:
        assert ctx.user is not None
        await ratelimit.hit(ctx.db, SIMILAR_LIMIT, ctx.user.id)
    except ratelimit.RateLimited:
        return JSONResponse({"threads": []}, status_code=429)
    title = ctx.request.query_params.get("title", "")[: ctx.settings.title_max]
    words = list(
        dict.fromkeys(
            w.lower()
            for w in re.findall(r"[A-Za-z][A-Za-z'-]{3,}", title)
            if w.lower() not in _COMMON
        )
    )[:8]
    if len(words) < 2:
        return JSONResponse({"threads": []})
    try:
        hits, _total = await search(ctx.db, " OR ".join(words), Filters(), ctx.user, 1, 20)
    except SearchError:
        return JSONResponse({"threads": []})
    threads: list[dict[str, str]] = []
    for hit in hits:
        if hit.kind == "post" and all(t["title"] != hit.title for t in threads):
            threads.append({"title": hit.title, "url": ctx.url("post", post_id=hit.id)})
    return JSONResponse({"threads": threads[:SIMILAR_MAX]})


routes = [
    Route("/search", search_page, methods=["GET"], name="search"),
    Route("/search/similar", similar_threads, methods=["GET"], name="similar_threads"),
]
