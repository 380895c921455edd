"""A member's time zone: chosen in Settings (or guessed by the browser at registration), every
page's times in it; UTC for visitors and for members who chose none. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.services import set_time_zone
from forum.board.models import Post
from forum.core import timezones
from forum.core.settings import Settings
from tests.accounts.test_accounts import register
from tests.helpers import login, make_category, make_thread, make_user, post_form

WINTER_NIGHT = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
SUMMER_NOON = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def test_moments_move_into_the_zone_and_name_it() -> None:
    assert timezones.when(WINTER_NIGHT) == "07 Dec 2026, 23:30 UTC"
    assert timezones.when(WINTER_NIGHT, "Asia/Tokyo") == "08 Dec 2026, 08:30 JST"
    assert timezones.when(SUMMER_NOON, "Europe/London") == "01 Jul 2026, 13:00 BST"
    assert timezones.when(WINTER_NIGHT, "Europe/London") == "07 Dec 2026, 23:30 GMT"
    # A zone without a letter name is named by its offset.
    assert timezones.when(SUMMER_NOON, "America/Sao_Paulo") == "01 Jul 2026, 09:00 UTC-03"
    assert timezones.when(SUMMER_NOON, "Asia/Kathmandu") == "01 Jul 2026, 17:45 UTC+05:45"
    # A naive moment is UTC; an unknown name is UTC, never an error.
    assert timezones.when(WINTER_NIGHT.replace(tzinfo=None), "Asia/Tokyo").startswith("08 Dec")
    assert timezones.when(WINTER_NIGHT, "Mars/Olympus") == "07 Dec 2026, 23:30 UTC"
    # A day is the zone's day; a date (no time) never moves.
    assert timezones.day(WINTER_NIGHT, "Asia/Tokyo") == "08 Dec 2026"
    assert timezones.day(WINTER_NIGHT.date(), "Asia/Tokyo") == "07 Dec 2026"
    assert timezones.when(None) == "" and timezones.day(None) == ""
    # A zone at UTC's own offset with no letter name reads "UTC", not "UTC+00" (a probe's).
    assert timezones.when(WINTER_NIGHT, "Antarctica/Troll") == "07 Dec 2026, 23:30 UTC"


def test_the_list_offers_region_zones_only() -> None:
    names = timezones.zone_names()
    assert names[0] == "UTC" and "Europe/Paris" in names and "Asia/Kolkata" in names
    assert not any(n.startswith(("US/", "Etc/", "SystemV")) for n in names)
    assert timezones.valid("America/New_York") and not timezones.valid("../../etc/passwd")
    # Each zone once: no old names beside the zones they stand for (a newcomer probe counted
    # 490 entries, "Asia/Calcutta" and "Asia/Kolkata" both); a country's own zone stays.
    assert "Asia/Calcutta" not in names and "America/Buenos_Aires" not in names
    assert "Europe/Stockholm" in names and "America/Argentina/Buenos_Aires" in names
    assert len(names) < 450
    # An old name a browser sends is still accepted, and stored as the zone it stands for.
    assert (
        timezones.valid("Asia/Calcutta") and timezones.canonical("Asia/Calcutta") == "Asia/Kolkata"
    )
    member = SimpleNamespace(time_zone="")
    set_time_zone(member, "Asia/Calcutta")  # type: ignore[arg-type]
    assert member.time_zone == "Asia/Kolkata"


async def test_a_member_reads_post_times_in_their_zone(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="tz_author")
    reader = await make_user(db, settings, username="tz_reader")
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    await db.execute(update(Post).where(Post.id == posts[0].id).values(created_at=WINTER_NIGHT))
    await db.commit()
    path = f"/t/{thread.id}"
    # A visitor, and a member who chose no zone: UTC.
    assert "Posted 07 Dec 2026, 23:30 UTC" in (await client.get(path)).text
    await login(client, "tz_reader")
    assert "Posted 07 Dec 2026, 23:30 UTC" in (await client.get(path)).text
    settings_page = await client.get("/account/profile")
    assert '<option value="UTC" selected>' in settings_page.text
    saved = await post_form(
        client, "/account/time-zone", {"time_zone": "Asia/Tokyo"}, "/account/profile"
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/account/profile"
    after = await client.get("/account/profile")
    assert "Times are now shown in Asia/Tokyo." in after.text
    assert '<option value="Asia/Tokyo" selected>' in after.text
    page = (await client.get(path)).text
    assert "Posted 08 Dec 2026, 08:30 JST" in page and "23:30 UTC" not in page
    await db.refresh(reader)
    assert reader.time_zone == "Asia/Tokyo"
    # Back to UTC: stored as no zone.
    await post_form(client, "/account/time-zone", {"time_zone": "UTC"}, "/account/profile")
    await db.refresh(reader)
    assert reader.time_zone == ""
    assert "Posted 07 Dec 2026, 23:30 UTC" in (await client.get(path)).text


async def test_an_unknown_zone_is_refused_and_the_old_one_kept(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="tz_typo")
    member.time_zone = "Europe/Paris"
    await db.commit()
    await login(client, "tz_typo")
    for bad in ("Europe/Pariss", "../../etc/passwd", "x" * 64, "US/Eastern"):
        refused = await post_form(
            client, "/account/time-zone", {"time_zone": bad}, "/account/profile"
        )
        assert refused.status_code == 400 and "Choose a time zone from the list." in refused.text
    await db.refresh(member)
    assert member.time_zone == "Europe/Paris"
    # Without the form's token nothing changes.
    forged = await client.post("/account/time-zone", data={"time_zone": "Asia/Tokyo"})
    assert forged.status_code == 403
    await db.refresh(member)
    assert member.time_zone == "Europe/Paris"


async def test_a_visitor_cannot_set_a_zone(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/account/time-zone", {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 401


async def test_a_suspended_member_may_still_choose_a_zone(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="tz_suspended")
    await db.commit()
    await login(client, "tz_suspended")
    await db.execute(
        update(User)
        .where(User.id == member.id)
        .values(status="suspended", suspended_until=WINTER_NIGHT.replace(year=2099))
    )
    await db.commit()
    saved = await post_form(
        client, "/account/time-zone", {"time_zone": "Asia/Tokyo"}, "/account/profile"
    )
    assert saved.status_code == 303
    # Its banner's end of suspension is in the zone too.
    assert "until 08 Dec 2099, 08:30 JST" in (await client.get("/")).text


async def test_registration_keeps_the_browsers_zone_when_it_is_a_known_one(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    form = (await client.get("/register")).text
    assert '<input type="hidden" name="time_zone"' in form and "timezone.js" in form
    await register(client, username="tz_new", email="tz_new@example.org",
                   time_zone="America/Chicago")  # fmt: skip
    await register(client, username="tz_odd", email="tz_odd@example.org",
                   time_zone="Nowhere/Special")  # fmt: skip
    zones = dict(
        (await db.execute(
            select(User.username, User.time_zone).where(User.username.in_(["tz_new", "tz_odd"]))
        )).all()
    )  # fmt: skip
    assert zones == {"tz_new": "America/Chicago", "tz_odd": ""}
