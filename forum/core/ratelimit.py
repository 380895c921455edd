"""Rate limits: one mechanism for every limit, fixed windows counted in the database so that
every web process shares them.

A limit is named in `limits(settings)`, with its numbers from settings. Services call
`hit` (count this event; refuse past the limit), `check` (refuse if the limit is already
reached, without counting: failed logins are counted only when they fail) and `clear`.
A refusal is a `RateLimited` error (429), which the request plumbing turns into a page; a
view that wants to keep the member's form catches it and shows the message beside it."""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base, utcnow
from forum.core.errors import DomainError
from forum.core.metrics import RATE_LIMIT_REFUSALS
from forum.core.settings import Settings


class RateLimitCounter(Base):
    """Fixed-window counters shared by every web process (kept in the database, no broker)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Limit:
    name: str  # with the subject, the counter's key: "post:account" + ":" + "42"
    max: int
    seconds: int
    message: str


# The seconds until the request's last refusal's window ends: the view plumbing sends it as
# Retry-After on a 429 page, including the pages a view renders itself to keep a form.
RETRY_AFTER: ContextVar[int | None] = ContextVar("retry_after", default=None)


class RateLimited(DomainError):
    status = 429

    def __init__(self, limit: Limit) -> None:
        # Windows are fixed and aligned to the epoch (see _window): this one ends at the next
        # multiple of its length.
        wait = limit.seconds - int(utcnow().timestamp()) % limit.seconds
        super().__init__("", limit.message, headers={"Retry-After": str(wait)})
        self.limit = limit
        RETRY_AFTER.set(wait)
        refused(limit)


def refused(limit: Limit) -> None:
    """Count a refusal for /metrics (every RateLimited is one; a limit that refuses silently,
    as reset mail per account does, calls this itself)."""
    RATE_LIMIT_REFUSALS.labels(limit.name).inc()


@dataclass(frozen=True)
class Limits:
    login_account: Limit
    login_account_total: Limit
    login_ip: Limit
    register_ip: Limit
    register_attempts_ip: Limit
    reset_ip: Limit
    reset_account: Limit
    post_account: Limit
    post_new_account: Limit
    post_ip: Limit
    report_account: Limit
    report_ip: Limit
    email_change_account: Limit
    reaction_account: Limit
    mention_account: Limit
    text_account: Limit
    text_ip: Limit


def limits(settings: Settings) -> Limits:
    s = settings
    minutes = max(1, s.login_window_seconds // 60)
    login = (
        f"Too many failed sign-in attempts. Try again in {minutes} minutes, or reset your password."
    )
    quickly = "You are posting very quickly. Wait a minute and try again."
    return Limits(
        login_account=Limit(
            "login:account", s.login_max_failures_account, s.login_window_seconds, login
        ),
        login_account_total=Limit(
            "login:account-total", s.login_max_failures_account_total, s.login_window_seconds,
            login,
        ),  # fmt: skip
        login_ip=Limit("login:ip", s.login_max_failures_ip, s.login_window_seconds, login),
        register_ip=Limit(
            "register:ip", s.register_max_per_ip_hour, 3600,
            "Too many sign-ups from your network this hour. Try again in an hour, or ask the "
            "forum's administrators to raise the limit for your office.",
        ),
        register_attempts_ip=Limit(
            "register-attempts:ip", s.register_attempts_per_ip_hour, 3600,
            "Too many registration attempts from your network this hour. Try again in an hour.",
        ),
        reset_ip=Limit(
            "reset:ip", s.reset_max_per_ip_hour, 3600, "Too many reset requests. Try again later."
        ),
        # Past it, no more reset mail goes to the account this hour (the page says the same
        # whether or not the account exists).
        reset_account=Limit(
            "reset:account", s.reset_max_per_account_hour, 3600,
            "Too many reset requests. Try again later.",
        ),
        post_account=Limit("post:account", s.posts_max_per_minute, 60, quickly),
        post_new_account=Limit(
            "post:new-account", s.posts_new_account_max_per_hour, 3600,
            "New accounts can post a limited number of times an hour. Try again later.",
        ),  # fmt: skip
        post_ip=Limit(
            "post:ip", s.posts_max_per_minute_ip, 60,
            "Many posts are coming from your network. Wait a minute and try again.",
        ),
        report_account=Limit(
            "report:account", s.reports_max_per_hour, 3600,
            "You have sent many reports this hour. Try again later.",
        ),
        report_ip=Limit(
            "report:ip", s.reports_max_per_hour_ip, 3600,
            "Many reports are coming from your network. Try again later.",
        ),
        # Each request mails a link to an address the member typed: not a way to mail strangers.
        email_change_account=Limit(
            "email_change:account", s.email_change_max_per_hour, 3600,
            "You have asked to change your address several times this hour. Try again later.",
        ),
        reaction_account=Limit(
            "reaction:account", s.reactions_max_per_hour, 3600,
            "You have reacted to many posts this hour. Try again later.",
        ),
        mention_account=Limit(
            "mention:account", s.mentions_max_per_hour, 3600,
            "You have mentioned many members this hour. Post without the @mentions, or try "
            "again later.",
        ),
        text_account=Limit(
            "text:account", s.text_max_chars_per_hour, 3600,
            f"You have written a great deal this hour: members may write at most "
            f"{s.text_max_chars_per_hour:,} characters an hour in posts, edits and messages. "
            "Your text is kept here; please send it later.",
        ),
        text_ip=Limit(
            "text:ip", s.text_max_chars_per_hour_ip, 3600,
            "A great deal of text is coming from your network this hour. Your text is kept "
            "here; please send it later.",
        ),
    )  # fmt: skip


# An IPv6 client is counted by its /64: a subscriber is given a whole /64 (RFC 6177) and may
# take a fresh address in it for every request, so counting each address counted nothing.
IPV6_PREFIX = 64


def client_key(host: str | None) -> str:
    """The subject a client's address is counted under by the per-address limits (sign-ups,
    failed sign-ins, posts and reports per address): an IPv4 address itself; an IPv6 address
    by its /64 prefix ("2001:db8:1:2::/64"); an IPv4-mapped IPv6 address (::ffff:a.b.c.d, an
    IPv4 client as a dual-stack socket sees it) as that IPv4 address. Anything else (no
    address, a test client's name) is counted as it is."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # (A zone, as in fe80::1%eth0, is no part of the prefix.)
        plain = ipaddress.IPv6Address(address.packed)
        return str(ipaddress.IPv6Network((plain, IPV6_PREFIX), strict=False))
    return str(address)


def _key(limit: Limit, subject: str | int) -> str:
    return f"{limit.name}:{str(subject)[:150]}"


def _window(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


async def count(session: AsyncSession, limit: Limit, subject: str | int) -> int:
    """Events counted against `subject` in the current window."""
    start = _window(utcnow(), limit.seconds)
    value = await session.scalar(
        select(RateLimitCounter.count).where(
            RateLimitCounter.key == _key(limit, subject), RateLimitCounter.window_start == start
        )
    )
    return value or 0


async def check(session: AsyncSession, limit: Limit, subject: str | int) -> None:
    """Refuse if `subject` has already reached the limit in this window; count nothing."""
    if await count(session, limit, subject) >= limit.max:
        raise RateLimited(limit)


async def record(session: AsyncSession, limit: Limit, subject: str | int, amount: int = 1) -> int:
    """Count an event against `subject` and return the window's total (no refusal)."""
    start = _window(utcnow(), limit.seconds)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt: Any = insert(RateLimitCounter).values(
        key=_key(limit, subject), window_start=start, count=amount
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["key", "window_start"],
        set_={"count": RateLimitCounter.count + amount},
    ).returning(RateLimitCounter.count)
    return int((await session.execute(stmt)).scalar_one())


async def hit(session: AsyncSession, limit: Limit, subject: str | int) -> None:
    """Count an event against `subject`; refuse it if that takes the window past the limit."""
    if await record(session, limit, subject) > limit.max:
        raise RateLimited(limit)


async def written(
    session: AsyncSession, settings: Settings, author_id: int, client: str | None, length: int
) -> None:
    """Count `length` characters of new text (a post, an edit, a message) against the
    author's and their address's hourly budgets; refuse, counting nothing, when it would take
    either past its limit (a member refused a long text may still send a short one)."""
    found = limits(settings)
    budgets: list[tuple[Limit, str | int]] = [(found.text_account, author_id)]
    if client is not None:
        budgets.append((found.text_ip, client))
    for limit, subject in budgets:
        if await count(session, limit, subject) + length > limit.max:
            raise RateLimited(limit)
    for limit, subject in budgets:
        await record(session, limit, subject, length)


async def clear(session: AsyncSession, limit: Limit, subject: str | int) -> None:
    await session.execute(
        update(RateLimitCounter).where(RateLimitCounter.key == _key(limit, subject)).values(count=0)
    )


async def prune(session: AsyncSession, older_than: timedelta = timedelta(days=1)) -> None:
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < utcnow() - older_than)
    )
