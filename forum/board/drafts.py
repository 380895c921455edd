"""Drafts: what a member has typed into a reply (per thread) or a new thread (per category)
and not posted yet, kept on the server so it survives navigating away.

A draft is read and written only by its member (every function takes the member; nothing
lists other members' drafts), is at most one post long, and saving is rate-limited; a member
keeps at most `drafts_max_per_member` drafts (the oldest go). Posting deletes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.board.models import Draft
from forum.core import ratelimit
from forum.core.db import utcnow
from forum.core.errors import DomainError
from forum.core.settings import Settings


class DraftError(DomainError):
    """A draft that cannot be kept (too long)."""


def draft_limit(settings: Settings) -> ratelimit.Limit:
    return ratelimit.Limit(
        "draft:account", settings.drafts_max_per_minute, 60,
        "Drafts are being saved very often. Wait a minute and try again.",
    )  # fmt: skip


def _place(thread_id: int | None, category_id: int | None) -> Any:
    if (thread_id is None) == (category_id is None):
        raise ValueError("a draft belongs to a thread or to a category")
    if thread_id is not None:
        return Draft.thread_id == thread_id
    return Draft.category_id == category_id


async def get_draft(
    session: AsyncSession,
    member: User,
    *,
    thread_id: int | None = None,
    category_id: int | None = None,
) -> Draft | None:
    """The member's own draft for the thread (a reply) or the category (a new thread)."""
    found: Draft | None = await session.scalar(
        select(Draft).where(Draft.user_id == member.id, _place(thread_id, category_id))
    )
    return found


async def delete_draft(
    session: AsyncSession,
    member: User,
    *,
    thread_id: int | None = None,
    category_id: int | None = None,
) -> None:
    await session.execute(
        delete(Draft).where(Draft.user_id == member.id, _place(thread_id, category_id))
    )


async def save_draft(
    session: AsyncSession,
    settings: Settings,
    member: User,
    *,
    thread_id: int | None = None,
    category_id: int | None = None,
    title: str = "",
    body: str = "",
) -> bool:
    """Keep what the member has typed; an empty draft is deleted. True when one is kept.

    The caller has checked that the member may see the thread or category. Counted against
    the member's draft limit (a RateLimited error past it); a DraftError when too long."""
    where = _place(thread_id, category_id)
    if len(body) > settings.body_max:
        raise DraftError(
            "body", f"A draft can hold at most {settings.body_max:,} characters (this has "
            f"{len(body):,}).",
        )  # fmt: skip
    if len(title) > settings.title_max:
        raise DraftError("title", f"Titles can have at most {settings.title_max} characters.")
    await ratelimit.hit(session, draft_limit(settings), member.id)
    if not body.strip() and not title.strip():
        await session.execute(delete(Draft).where(Draft.user_id == member.id, where))
        return False
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    place = ["thread_id", "user_id"] if thread_id is not None else ["category_id", "user_id"]
    stmt: Any = insert(Draft).values(
        user_id=member.id, thread_id=thread_id, category_id=category_id, title=title, body=body,
        updated_at=now,
    )  # fmt: skip
    stmt = stmt.on_conflict_do_update(
        index_elements=place, set_={"title": title, "body": body, "updated_at": now}
    )
    await session.execute(stmt)
    # A member keeps a bounded number of drafts: the oldest beyond it go.
    stale = (
        select(Draft.id)
        .where(Draft.user_id == member.id)
        .order_by(Draft.updated_at.desc(), Draft.id.desc())
        .offset(settings.drafts_max_per_member)
    )
    await session.execute(delete(Draft).where(Draft.id.in_(stale.scalar_subquery())))
    return True
