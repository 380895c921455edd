"""One rate-limit mechanism: named limits from settings, counted per subject in windows."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core import ratelimit
from forum.core.ratelimit import Limit, RateLimited
from forum.core.settings import Settings

LIMIT = Limit("test:thing", 2, 60, "Too many things.")


async def test_hit_refuses_past_the_limit(db: AsyncSession) -> None:
    await ratelimit.hit(db, LIMIT, "alice")
    await ratelimit.hit(db, LIMIT, "alice")
    with pytest.raises(RateLimited) as refused:
        await ratelimit.hit(db, LIMIT, "alice")
    assert refused.value.status == 429 and refused.value.message == "Too many things."
    await ratelimit.hit(db, LIMIT, "bob")  # each subject counts apart


async def test_check_refuses_at_the_limit_without_counting(db: AsyncSession) -> None:
    await ratelimit.check(db, LIMIT, "carol")
    assert await ratelimit.count(db, LIMIT, "carol") == 0
    await ratelimit.record(db, LIMIT, "carol")
    await ratelimit.record(db, LIMIT, "carol")
    with pytest.raises(RateLimited):
        await ratelimit.check(db, LIMIT, "carol")
    await ratelimit.clear(db, LIMIT, "carol")
    await ratelimit.check(db, LIMIT, "carol")


def test_limits_come_from_settings(settings: Settings) -> None:
    custom = settings.model_copy(update={"reset_max_per_ip_hour": 3, "posts_max_per_minute": 7})
    limits = ratelimit.limits(custom)
    assert (limits.reset_ip.max, limits.reset_ip.seconds) == (3, 3600)
    assert (limits.post_account.max, limits.post_account.seconds) == (7, 60)
