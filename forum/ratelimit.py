"""Fixed-window rate limits kept in the database, so every web process shares them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import RateLimitCounter
from forum.db import utcnow


def _window(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


async def current(session: AsyncSession, key: str, seconds: int) -> int:
    start = _window(utcnow(), seconds)
    value = await session.scalar(
        select(RateLimitCounter.count).where(
            RateLimitCounter.key == key, RateLimitCounter.window_start == start
        )
    )
    return value or 0


async def hit(session: AsyncSession, key: str, seconds: int, amount: int = 1) -> int:
    """Count one event against `key` in the current window and return the window's total."""
    start = _window(utcnow(), seconds)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(RateLimitCounter).values(key=key, window_start=start, count=amount)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key", "window_start"],
        set_={"count": RateLimitCounter.count + amount},
    ).returning(RateLimitCounter.count)
    return int((await session.execute(stmt)).scalar_one())


async def reset(session: AsyncSession, key: str) -> None:
    await session.execute(
        update(RateLimitCounter).where(RateLimitCounter.key == key).values(count=0)
    )


async def prune(session: AsyncSession, older_than: timedelta = timedelta(days=1)) -> None:
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < utcnow() - older_than)
    )
