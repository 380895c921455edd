"""The web application: `create_app(settings)` wires the domains' routes, middleware, event
subscribers and the database. This module and forum.cli sit above every domain."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from jinja2 import Template
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from forum import account_deletion
from forum.accounts import views as account_views
from forum.accounts.models import User
from forum.accounts.passwords import Passwords
from forum.accounts.services import is_suspended, user_for_session
from forum.admin import guidelines
from forum.admin import views as admin_views
from forum.articles import services as article_services
from forum.articles import views as article_views
from forum.board import lists, profiles
from forum.board import views as board_views
from forum.board.cards import post_cards
from forum.board.reading import ReadMarks
from forum.board.viewcount import ViewCounter
from forum.core import favicon
from forum.core.csrf import CsrfTokens
from forum.core.db import Database, begin_read, connect, utcnow
from forum.core.errors import ERROR_TITLES
from forum.core.metrics import (
    RequestMetrics,
    address_allowed,
    allowed_networks,
    exposition,
    outbox_metrics,
    render_families,
    route_of,
)
from forum.core.middleware import BodyGuard, SecurityHeaders
from forum.core.settings import Settings
from forum.core.urls import path_builder
from forum.core.web import MAX_FORM_BYTES, SESSION_COOKIE, Ctx, make_templates, static_dir, view
from forum.feeds import views as feed_views
from forum.feeds.views import FeedCache
from forum.messages import services as message_services
from forum.messages import views as message_views
from forum.notifications import fanout as notification_fanout
from forum.notifications import views as notification_views
from forum.programmes import views as programme_views
from forum.related import pages as related_pages
from forum.review import queue as review_queue
from forum.review import services as review_services
from forum.review import views as review_views
from forum.review.metrics import VerdictCounts, review_metrics
from forum.search import views as search_views

log = logging.getLogger("candor")


# asyncpg's names for "the server is not there right now" (shutting down, starting up, gone).
_UNAVAILABLE = {
    "CannotConnectNowError", "ConnectionDoesNotExistError", "PostgresConnectionError",
    "OperatorInterventionError", "AdminShutdownError", "CrashShutdownError",
    "ConnectionFailureError", "TooManyConnectionsError", "ConnectionRefusedError",
}  # fmt: skip


def database_unavailable(exc: BaseException) -> bool:
    """True when an error means the database is unreachable, not that a query was wrong."""
    if isinstance(exc, OperationalError | InterfaceError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        chain = [
            exc.orig,
            getattr(exc.orig, "__cause__", None),
            getattr(exc.orig, "__context__", None),
        ]
        names = {cls.__name__ for err in chain if err is not None for cls in type(err).__mro__}
        return bool(names & _UNAVAILABLE)
    return False


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """Only the addresses in CANDOR_METRICS_ALLOW may read /metrics. The client's address is
    the one `candor serve` resolved (X-Forwarded-For believed only from CANDOR_TRUSTED_PROXIES);
    a request forwarded by a proxy that is not trusted is refused: behind it, anyone would
    seem to come from the proxy's own (often local) address."""
    forwarded = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    if forwarded and not settings.trusted_proxies.strip():
        return False
    host = request.client.host if request.client else None
    return address_allowed(host, request.app.state.metrics_allow)


async def metrics(request: Request) -> Response:
    """Prometheus metrics: this process's request counts, latencies, login failures and rate
    limit refusals, plus figures read from the database (review queue, verdicts, stage
    timings, outbox), kept for CANDOR_METRICS_CACHE_SECONDS so frequent scrapes stay cheap."""
    state = request.app.state
    settings: Settings = state.settings
    if not metrics_allowed(request, settings):
        raise HTTPException(404)
    async with state.metrics_lock:
        read_at, cached = state.metrics_cache
        if cached is None or time.monotonic() - read_at >= settings.metrics_cache_seconds:
            database: Database = state.database
            async with database.sessionmaker() as session:
                await begin_read(session)
                now = utcnow()
                families = [
                    *await review_metrics(session, now, state.verdict_counts),
                    *await outbox_metrics(session, now),
                ]
            cached = render_families(families)
            state.metrics_cache = (time.monotonic(), cached)
    return Response(exposition() + cached, media_type=CONTENT_TYPE_LATEST)


async def load_member(session: AsyncSession, cookie: str | None) -> User | None:
    """The signed-in member, with the number of conversations they have unread (the header's
    Messages link shows it)."""
    user = await user_for_session(session, cookie)
    if user is not None:
        unread = await message_services.unread_count(session, user.id)
        user.unread_messages = unread  # type: ignore[attr-defined]
        # Every page tells a suspended member so (a probe's learnt it only on posting).
        if user.is_moderator:
            # The header's Review queue link shows how many items wait (the newcomer probe's
            # moderator saw the bell's count, not the queue's).
            user.review_open = await review_queue.open_count(session)  # type: ignore[attr-defined]
        suspended = is_suspended(user)
        user.suspended_now = suspended  # type: ignore[attr-defined]
        # ... and why (a suspended member is rare: one more query for them alone).
        user.suspension_reason = (  # type: ignore[attr-defined]
            await review_services.suspension_reason(session, user.id) if suspended else ""
        )
    return user


@view()
async def unknown_address(ctx: Ctx) -> Response:
    raise HTTPException(404, "There is no page at this address.")


def wire() -> None:
    """Subscribe each domain to the events of the domains below it. Every process that
    writes posts or shows pages calls it once at start-up (the app, the worker, the CLI)."""
    review_queue.subscribe()
    article_services.subscribe()
    related_pages.subscribe()
    notification_fanout.subscribe()
    notification_views.subscribe()
    account_deletion.subscribe()


def create_app(settings: Settings | None = None, database: Database | None = None) -> Starlette:
    settings = settings or Settings()
    wire()
    templates = make_templates(settings)
    error_template: Template = templates.env.get_template("errors/bare.html")

    def error_page(status: int, message: str, kept: Sequence[tuple[str, str]] = ()) -> bytes:
        return error_template.render(
            status_code=status, title=ERROR_TITLES.get(status, "Error"), message=message,
            kept=kept,
        ).encode()  # fmt: skip

    def error_response(status: int, message: str) -> Response:
        return HTMLResponse(error_page(status, message), status_code=status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = exc.detail
        if exc.status_code == 404 and message == "Not Found":
            if request.method in ("GET", "HEAD") and SESSION_COOKIE in request.cookies:
                # A member's mistyped address: the page with their own header (the bare one
                # made a probe's signed-in member look signed out).
                return await unknown_address(request)
            message = "There is no page at this address."
        elif exc.status_code == 405:
            message = "This page does not accept that kind of request."
        return error_response(exc.status_code, message)

    async def database_down(request: Request, exc: Exception) -> Response:
        if not database_unavailable(exc):
            return await server_error(request, exc)
        log.error("database unavailable: %s", exc)
        response = error_response(
            503,
            "The forum's database is not answering. Nothing you sent was lost if you saw "
            "this before it was saved; please try again in a moment.",
        )
        response.headers["retry-after"] = "5"
        return response

    async def server_error(request: Request, exc: Exception) -> Response:
        # The route's name and template, never its path: reset and confirmation links carry
        # tokens in theirs.
        name, path = route_of(request.scope)
        log.exception("unhandled error on %s %s (%s)", request.method, name, path, exc_info=exc)
        return error_response(500, "Something went wrong on our side. It has been logged.")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = database is None
        app.state.database = database or connect(
            settings.database_url,
            fast_reads=settings.fast_reads,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        app.state.views.start(app.state.database)
        app.state.reads.start(app.state.database)
        try:
            yield
        finally:
            await app.state.views.stop(app.state.database)
            await app.state.reads.stop(app.state.database)
            if owned:
                await app.state.database.dispose()

    routes = [
        *lists.routes,
        *feed_views.routes,
        *board_views.routes,
        *profiles.routes,
        *account_views.routes,
        *admin_views.routes,
        *guidelines.routes,
        *review_views.routes,
        *article_views.routes,
        *search_views.routes,
        *notification_views.routes,
        *message_views.routes,
        *programme_views.routes,
        *favicon.routes,
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"], name="metrics"),
        Mount("/static", StaticFiles(directory=static_dir()), name="static"),
    ]
    middleware = [
        Middleware(RequestMetrics),
        Middleware(SecurityHeaders),
        Middleware(BodyGuard, max_body=MAX_FORM_BYTES, error_page=error_page),
    ]
    app = Starlette(
        debug=settings.debug,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,
            DBAPIError: database_down,
            ConnectionError: database_down,
            500: server_error,
        },
    )
    app.state.settings = settings
    app.state.templates = templates
    app.state.load_member = load_member
    app.state.csrf = CsrfTokens(settings.secret_key.get_secret_value())
    app.state.url = path_builder(app.router)
    templates.env.globals["url"] = app.state.url
    app.state.post_card = post_cards(templates.env, settings.post_card_cache)
    app.state.error_page = error_page
    app.state.passwords = Passwords(settings)
    app.state.views = ViewCounter()
    app.state.reads = ReadMarks()
    app.state.feed_cache = FeedCache()
    app.state.metrics_lock = asyncio.Lock()
    app.state.metrics_cache = (0.0, None)
    app.state.verdict_counts = VerdictCounts()
    app.state.metrics_allow = allowed_networks(settings.metrics_allow)
    if database is not None:
        app.state.database = database
    return app
