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


@pytest.mark.parametrize(
    ("host", "key"),
    [
        # IPv4: each address on its own.
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.8", "203.0.113.8"),
        # IPv6: the /64 a subscriber is given, however the address is written.
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:0db8:0001:0002:0000:0000:0000:0002", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        # An IPv4 client seen by a dual-stack socket: the IPv4 address.
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("::ffff:cb00:7107", "203.0.113.7"),
        # Not an address: counted as it is.
        ("testclient", "testclient"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_the_client_key_groups_ipv6_by_its_64_and_reads_mapped_ipv4(
    host: str | None, key: str
) -> None:
    assert ratelimit.client_key(host) == key
