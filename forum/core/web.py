"""The request plumbing every view shares: one DB session and one commit per request,
the signed-in member, rendering, flash messages, form parsing and HTTP errors.

The core knows a member only as `Member` (an id and two roles). Which member a session
cookie names is the accounts domain's business: `create_app` hands its loader in as
`app.state.load_member`, and domains name their context `Ctx[User]`."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode, urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import pass_context, select_autoescape
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

import forum.core.urls  # noqa: F401  (registers the `id` path convertor routes use)
from forum.core import timezones
from forum.core.csrf import COOKIE as CSRF_COOKIE
from forum.core.csrf import FIELD as CSRF_FIELD
from forum.core.csrf import HEADER as CSRF_HEADER
from forum.core.csrf import CsrfTokens, same_origin
from forum.core.db import Database, begin_read, begin_write
from forum.core.errors import ERROR_TITLES, DomainError
from forum.core.ratelimit import RETRY_AFTER, client_key
from forum.core.settings import PROJECT_ROOT, Settings
from forum.core.text import counted, excerpt

log = logging.getLogger("candor.web")

SESSION_COOKIE = "candor_session"
FLASH_COOKIE = "candor_flash"
MAX_FORM_BYTES = 1024 * 1024
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Every response to a signed-in visitor (forum.core.web.view).
PRIVATE_CACHE_CONTROL = "no-store, private"


@pass_context
def _format_date(context: Any, value: date | None, fmt: str = "%d %b %Y") -> str:
    return timezones.day(value, timezones.zone_of(context.get("user")), fmt)


@pass_context
def _format_datetime(context: Any, value: datetime | None) -> str:
    """In the reader's time zone (their Settings), else UTC."""
    return timezones.when(value, timezones.zone_of(context.get("user")))


def make_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(PROJECT_ROOT / "templates"))
    env = templates.env
    # Checking every template file's mtime on every render is for development only.
    env.auto_reload = settings.debug
    env.autoescape = select_autoescape(default=True, default_for_string=True)
    env.filters["date"] = _format_date
    env.filters["datetime"] = _format_datetime
    # With the zone given: for macros that see only their arguments (the cached post cards).
    env.filters["when"] = timezones.when
    env.filters["day"] = timezones.day
    env.filters["excerpt"] = excerpt  # a post's start as members read it, as plain text
    env.globals["counted"] = counted  # "1 pair", "3 pairs"
    env.globals["site_name"] = settings.site_name
    return templates


class LazyToken:
    """The CSRF token, made only if a template prints it: a browser without an id gets its
    cookie when a token is made, and a page without a form (most page views) needs none."""

    __slots__ = ("_get", "_value")

    def __init__(self, get: Callable[[], str]) -> None:
        self._get = get
        self._value: str | None = None

    def __str__(self) -> str:
        if self._value is None:
            self._value = self._get()
        return self._value

    def __html__(self) -> str:
        return escape(str(self))


M = TypeVar("M")  # the member type: the accounts domain's User (see forum.core.members)
LoadMember = Callable[[AsyncSession, str | None], Awaitable[Any]]


@dataclass
class Ctx(Generic[M]):
    """What a view gets: the request, its database session, the member (if any), settings."""

    request: Request
    db: AsyncSession
    user: M | None
    settings: Settings
    templates: Jinja2Templates
    flashes_in: list[str] = field(default_factory=list)
    flashes_out: list[str] = field(default_factory=list)
    set_cookies: list[tuple[str, str, int | None]] = field(default_factory=list)
    token_shown: bool = False

    @property
    def is_moderator(self) -> bool:
        user: Any = self.user
        return user is not None and bool(user.is_moderator)

    async def rollback(self) -> None:
        """Drop what this request wrote so far; the member is reloaded for the page."""
        await self.db.rollback()
        load: LoadMember = self.request.app.state.load_member
        self.user = await load(self.db, self.request.cookies.get(SESSION_COOKIE))

    def flash(self, message: str, *, warning: bool = False) -> None:
        """A line for the next page; `warning` shows it as one (not the green of "Saved")."""
        self.flashes_out.append(Flash(message, warning=warning))

    def csrf_token(self) -> str:
        """This browser's token for this sign-in (forum.core.csrf). A browser without an id
        gets one, in a cookie set with this response."""
        self.token_shown = True
        browser = self.request.cookies.get(CSRF_COOKIE, "")
        if not browser or len(browser) > 100:
            browser = next((v for k, v, _ in self.set_cookies if k == CSRF_COOKIE), "")
            if not browser:
                browser = CsrfTokens.new_browser_id()
                self.set_cookies.append((CSRF_COOKIE, browser, None))
        tokens: CsrfTokens = self.request.app.state.csrf
        return tokens.token(browser, self.request.cookies.get(SESSION_COOKIE))

    def render(
        self, template: str, context: dict[str, Any] | None = None, status_code: int = 200
    ) -> Response:
        context = dict(context or {})
        context.update(
            user=self.user,
            csrf_token=LazyToken(self.csrf_token),
            flashes=self.flashes_in,
        )
        return self.templates.TemplateResponse(
            self.request, template, context, status_code=status_code
        )

    def render_error(
        self,
        status_code: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        kept: Sequence[tuple[str, str]] = (),
    ) -> Response:
        """An error page; `kept` is what the member typed, shown back read-only."""
        response = self.render(
            "errors/error.html",
            {
                "status_code": status_code,
                "title": ERROR_TITLES.get(status_code, "Error"),
                "message": message,
                "kept": kept,
            },
            status_code=status_code,
        )
        if headers:
            response.headers.update(headers)
        return response

    def redirect(self, url: str, status_code: int = 303) -> Response:
        return RedirectResponse(url, status_code=status_code)

    def url(self, name: str, /, **params: Any) -> str:
        """The path of the route called `name` (what templates get as `url(...)`)."""
        build: Callable[..., str] = self.request.app.state.url
        return build(name, **params)

    @property
    def client(self) -> str:
        """The client's address, as rate limits count it (forum.core.ratelimit.client_key: an
        IPv6 client by its /64, an IPv4-mapped address as the IPv4 address)."""
        return client_key(self.request.client.host if self.request.client else None)

    def param_int(self, name: str, default: int | None = None) -> int | None:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return default
        return parse_int(raw, name)

    async def form(self) -> FormData:
        return await read_form(self.request)


async def read_form(request: Request) -> FormData:
    """The request's form (urlencoded or multipart, no files), read once and kept."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise HTTPException(413, "That form is too large.")
    try:
        # Starlette answers malformed multipart/urlencoded bodies with HTTPException(400).
        return await request.form(max_files=0, max_fields=200, max_part_size=MAX_FORM_BYTES)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(400, "That form could not be read.") from exc


FORM_EXPIRED = (
    "This form has expired or did not come from this site. Go back, reload the page and send "
    "it again."
)


async def accept_body(request: Request, settings: Settings) -> Response | None:
    """Before a request that changes state touches the database: its whole body, read within
    `body_timeout_seconds` (a slow sender gets 408 and holds no transaction or lock), and its
    CSRF token, checked whatever else the request carries. None when it may go on."""
    state = request.app.state

    def refuse(status: int, message: str, kept: list[tuple[str, str]] | None = None) -> Response:
        return HTMLResponse(state.error_page(status, message, kept or []), status_code=status)

    try:
        async with asyncio.timeout(settings.body_timeout_seconds):
            await request.body()
    except TimeoutError:
        return refuse(408, "The request arrived too slowly. Please send it again.")
    except ClientDisconnect:
        return refuse(400, "The request was cut off before it was complete.")
    if not same_origin(request, settings.base_url):
        return refuse(403, FORM_EXPIRED)
    token = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "").lower()
    form: FormData | None = None
    if token is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        try:
            form = await read_form(request)
        except HTTPException as exc:
            return refuse(exc.status_code, exc.detail)
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    tokens: CsrfTokens = state.csrf
    cookies = request.cookies
    if not tokens.valid(cookies.get(CSRF_COOKIE), cookies.get(SESSION_COOKIE), token):
        return refuse(403, FORM_EXPIRED, _typed_text(form) if form is not None else [])
    return None


# What a member typed that an expired form must not lose: shown back on the refusal page.
KEPT_FIELDS = (("title", "Your title"), ("subject", "Your subject"), ("body", "Your text"),
               ("location", "Your location"), ("bio", "Your bio"))  # fmt: skip


def _typed_text(form: FormData) -> list[tuple[str, str]]:
    """A form from this site (its origin was checked) whose token expired (signed out and in
    again in another tab, say): its title and text, to show back. Nothing is stored, and the
    page shows it as inert text in a read-only box."""
    kept = []
    for name, label in KEPT_FIELDS:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            kept.append((label, value))  # all of it: the form itself is at most MAX_FORM_BYTES
    return kept


class Refused(HTTPException):
    """A refusal whose page shows back what the member typed (read-only, as (label, text)
    pairs), so that nothing they wrote is lost."""

    def __init__(self, status_code: int, message: str, kept: list[tuple[str, str]]) -> None:
        super().__init__(status_code, message)
        self.kept = kept


class TooLong(Refused):
    """A field far past its limit, refused before any work is done on it."""

    def __init__(self, message: str, kept: list[tuple[str, str]]) -> None:
        super().__init__(413, message, kept)


def field_str(form: FormData, name: str, max_length: int = 100_000) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise HTTPException(400, f"'{name}' must be text.")
    # NUL cannot be stored in PostgreSQL text and has no business in a form: drop it.
    value = value.replace("\x00", "")
    if len(value) > max_length * 4:
        # Far beyond any field's limit: refuse before doing any work on it.
        label = dict(KEPT_FIELDS).get(name, f"'{name}'")
        raise TooLong(
            f"{label} is far too long: {len(value):,} characters, where at most "
            f"{max_length:,} are allowed. Nothing was saved.",
            _typed_text(form),
        )
    return value


def field_int(form: FormData, name: str) -> int | None:
    raw = field_str(form, name, 20).strip()
    return parse_int(raw, name) if raw else None


def parse_int(raw: str, name: str) -> int:
    """A whole number the databases can store (a 32-bit integer), or a 400."""
    try:
        value = int(raw)
    except ValueError:
        raise HTTPException(400, f"'{name}' must be a whole number.") from None
    if not -(2**31) < value < 2**31:
        raise HTTPException(400, f"'{name}' is out of range.")
    return value


def safe_next(url: str | None, default: str = "/") -> str:
    """Only same-site paths may be redirect targets (no open redirects)."""
    if not url:
        return default
    parts = urlsplit(url)
    if (
        parts.scheme
        or parts.netloc
        or not url.startswith("/")
        or url.startswith("//")
        or "\\" in url
    ):
        return default
    return url


View = Callable[[Any], Awaitable[Response]]  # a coroutine function of a Ctx


def view(
    *, login: bool = False, moderator: bool = False, admin: bool = False, writes: bool = False
) -> Callable[[View], Callable[[Request], Awaitable[Response]]]:
    """Wrap a view: open the request's session, load the member, check the role, commit once.

    GET and HEAD requests read in autocommit mode on PostgreSQL unless `writes` is set."""

    def decorate(fn: View) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(fn)
        async def endpoint(request: Request) -> Response:
            state = request.app.state
            settings: Settings = state.settings
            if any(
                "\x00" in str(v)
                for v in (*request.path_params.values(), *request.query_params.values())
            ):
                return HTMLResponse(
                    request.app.state.error_page(
                        400, "That address contains a character it cannot have."
                    ),
                    status_code=400,
                )
            unsafe = request.method in UNSAFE_METHODS
            if unsafe:
                refused = await accept_body(request, settings)
                if refused is not None:
                    return refused
            database: Database = state.database
            async with (
                database.write_turn() if unsafe or writes else nullcontext(),
                database.sessionmaker() as session,
            ):
                if unsafe:
                    await begin_write(session)
                elif not writes:
                    await begin_read(session)
                user = await state.load_member(session, request.cookies.get(SESSION_COOKIE))
                ctx: Ctx[Any] = Ctx(request, session, user, settings, state.templates)
                ctx.flashes_in = _read_flashes(request, settings)
                response = await _respond(ctx, fn, login or moderator or admin, moderator, admin)
            if ctx.token_shown:  # the page differs per browser: no shared cache may keep it
                response.headers.append("vary", "Cookie")
            if user is not None or ctx.user is not None or _signs_in(ctx):
                # A signed-in member's page (messages, settings, the review queue ...) must not
                # be kept by any cache, the browser's own included: Back after logging out on
                # a shared computer would show it again. Public pages seen logged out keep
                # their caching.
                response.headers["cache-control"] = PRIVATE_CACHE_CONTROL
            _write_flashes(ctx, response)
            for name, value, max_age in ctx.set_cookies:
                _set_cookie(request, settings, response, name, value, max_age)
            return response

        return endpoint

    return decorate


def _signs_in(ctx: Ctx[Any]) -> bool:
    """Whether this response starts a session (sign-in, a confirmed registration)."""
    return any(name == SESSION_COOKIE and value for name, value, _ in ctx.set_cookies)


async def _respond(ctx: Ctx[Any], fn: View, login: bool, moderator: bool, admin: bool) -> Response:
    """The view's response, after the role checks; its writes committed, or dropped when it
    ends in an error (a refused request stores nothing)."""
    user: Any = ctx.user
    request = ctx.request
    if login and user is None:
        if request.method == "GET":
            login_path = request.app.state.url("login")
            # Back to the very page asked for, its query too (/messages/new?to=NAME).
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            query = urlencode({"next": target[:500]})
            return RedirectResponse(f"{login_path}?{query}", status_code=303)
        return ctx.render_error(401, "Please log in first.")
    if admin and not user.is_admin:
        return ctx.render_error(403, "Only administrators can do that.")
    if moderator and not user.is_moderator:
        return ctx.render_error(403, "Only moderators can do that.")
    if (admin or moderator) and getattr(user, "suspended_now", False):
        # A suspended moderator kept the queue, suspended members and lifted an
        # administrator's suspension (a probe): staff powers wait until it ends.
        return ctx.render_error(403, "Your account is suspended: staff pages and actions wait "
                                "until the suspension ends.")  # fmt: skip
    try:
        response = await fn(ctx)
    except HTTPException as exc:
        await ctx.rollback()
        kept = exc.kept if isinstance(exc, Refused) else ()
        return ctx.render_error(exc.status_code, exc.detail, exc.headers, kept)
    except DomainError as exc:  # a service refused: the one place its errors become responses
        await ctx.rollback()
        return ctx.render_error(exc.status, exc.message, exc.headers)
    await ctx.db.commit()
    wait = RETRY_AFTER.get()
    if response.status_code == 429 and wait and "retry-after" not in response.headers:
        response.headers["Retry-After"] = str(wait)  # a form kept on a page of its own
    return response


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key.get_secret_value(), salt="flash")


class Flash(str):
    """A flash message; `warning` ones are shown as warnings."""

    warning: bool

    def __new__(cls, text: str, *, warning: bool = False) -> Flash:
        made = super().__new__(cls, text)
        made.warning = warning
        return made


def _read_flashes(request: Request, settings: Settings) -> list[str]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        value = _serializer(settings).loads(raw)
    except BadSignature:
        return []
    if not isinstance(value, list):
        return []
    # A warning travels as ["warning", text]; a plain line as its text.
    return [
        Flash(str(v[1]), warning=True) if isinstance(v, list) and len(v) == 2 else Flash(str(v))
        for v in value[:5]
    ]


def _write_flashes(ctx: Ctx[Any], response: Response) -> None:
    if ctx.flashes_out:
        token = _serializer(ctx.settings).dumps(
            [
                ["warning", str(f)] if getattr(f, "warning", False) else str(f)
                for f in ctx.flashes_out[:5]
            ]
        )
        _set_cookie(ctx.request, ctx.settings, response, FLASH_COOKIE, token, 60)
    elif ctx.flashes_in and not 300 <= response.status_code < 400:
        # Shown on this page: gone. A redirect passes them on to the page it leads to.
        response.delete_cookie(FLASH_COOKIE, path="/")


def cookie_secure(request: Request, settings: Settings) -> bool:
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https"


def _set_cookie(
    request: Request,
    settings: Settings,
    response: Response,
    name: str,
    value: str,
    max_age: int | None,
) -> None:
    if value == "":
        response.delete_cookie(name, path="/", httponly=True, samesite="lax")
        return
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, settings),
    )


def static_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "static"
