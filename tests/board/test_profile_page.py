"""A member's page: the bio in Markdown (sanitised as posts are), recent posts newest first,
the points history as each viewer may see it, when each rank was reached, and the notice a
member gets on reaching a new rank."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.services import award_points, set_role, update_profile
from forum.board.posting import create_reply
from forum.board.threads import delete_thread
from forum.core.db import utcnow
from forum.core.settings import Settings
from forum.core.text import render_markdown
from tests.helpers import login, make_category, make_thread, make_user, post_form


async def test_a_bio_renders_markdown_sanitised_like_posts_and_the_location_stays_plain(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="writer")
    bio = (
        "I run **reverse mentoring** at a bank.\n\n- pairs\n- pilots\n\n"
        "[site](https://example.org) [bad](javascript:alert(1)) <script>alert(1)</script>"
        '<img src=x onerror="alert(1)">'
    )
    await update_profile(db, settings, member, "<b>Leeds</b> *not em*", bio)
    member.profile_state = "clear"
    await db.commit()
    page = (await client.get("/u/writer")).text
    shown = render_markdown(bio)
    assert shown in page  # exactly what a post with this text shows
    assert "<strong>reverse mentoring</strong>" in page and "<li>pairs</li>" in page
    assert 'href="https://example.org"' in page
    assert "<script>alert" not in page and 'href="javascript' not in page
    assert "<img" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Leeds&lt;/b&gt; *not em*" in page  # the location: plain text


async def test_recent_posts_are_listed_newest_first_by_date(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """Posts made with older dates after newer ones (as the demo loader and imports do) are
    still listed by date, not by id."""
    member = await make_user(db, settings, username="dated")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, member, category, body="Opening, today.")
    now = utcnow()
    for days, body in ((3, "Three days ago."), (1, "Yesterday."), (5, "Five days ago.")):
        await create_reply(db, settings, member, thread, body, now=now - timedelta(days=days))
    await db.commit()
    page = (await client.get("/u/dated")).text
    order = [page.index(t) for t in ("Opening, today.", "Yesterday.", "Three days", "Five days")]
    assert order == sorted(order)


async def _history(client: httpx.AsyncClient, username: str) -> str:
    page = (await client.get(f"/u/{username}")).text
    match = re.search(r'<section class="panel" id="points">(.*?)</section>', page, re.S)
    assert match, page
    return match.group(1)


async def test_the_points_history_explains_points_and_hides_what_the_viewer_may_not_see(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="earner")
    await make_user(db, settings, username="onlooker")
    await make_user(db, settings, username="mod1", role="moderator")
    public = await make_category(db, "Open talk")
    staff = await make_category(db, "Staff room")
    staff.staff_only = True
    await award_points(db, member.id, 30, "carried_over")
    thread, _ = await make_thread(db, settings, member, public, title="A public thread")
    hidden = await create_reply(db, settings, member, thread, "A reply a moderator hid.")
    hidden.moderation_state = "hidden"
    await make_thread(db, settings, member, staff, title="Secret staff matters")
    doomed, _ = await make_thread(db, settings, member, public, title="Soon deleted", replies=1)
    moderator = await db.scalar(select(User).where(User.username_key == "mod1"))
    assert moderator is not None
    await delete_thread(db, settings, moderator, doomed, "off topic")
    await db.commit()

    anonymous = await _history(client, "earner")
    assert "Carried over" in anonymous and "+30" in anonymous
    assert anonymous.count("A public thread") == 1  # the opening post; not the hidden reply
    assert "Secret staff matters" not in anonymous and "Soon deleted" not in anonymous
    assert "no longer shown" not in anonymous and "deleted" not in anonymous
    assert anonymous.count("<tr>") - 1 == 2  # the carry-over and the visible post only

    await login(client, "onlooker")
    assert await _history(client, "onlooker") != anonymous
    assert await _history(client, "earner") == anonymous  # another member: the same

    client.cookies.clear()
    await login(client, "earner")  # the member sees every entry, and their own hidden reply
    own = await _history(client, "earner")
    assert own.count("A public thread") == 2
    assert "Secret staff matters" not in own and "A post no longer shown" in own
    assert "A thread was deleted" in own and "-10" in own

    client.cookies.clear()
    await login(client, "mod1")
    staff_view = await _history(client, "earner")
    assert "Secret staff matters" in staff_view and "A thread was deleted" in staff_view


async def test_the_history_shows_when_each_rank_was_reached(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="veteran")
    long_ago = utcnow() - timedelta(days=400)
    await award_points(db, member.id, 60, "carried_over", at=long_ago)  # Associate (50)
    await award_points(db, member.id, 100, "adjustment", at=long_ago + timedelta(days=100))
    await db.commit()
    history = await _history(client, "veteran")
    reached = dict(
        re.findall(r"<strong>([\w ]+)</strong> <span[^>]*>\(\d+ points\)</span>: ([^<]+)", history)
    )
    assert reached["Associate"] == long_ago.strftime("%d %b %Y")
    assert reached["Executive"] == (long_ago + timedelta(days=100)).strftime("%d %b %Y")  # 150
    assert "Senior Executive" not in reached and "Director" not in reached
    assert "Adjusted by an administrator" in history


async def test_the_history_is_capped_newest_first(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="prolific")
    start = utcnow() - timedelta(days=60)
    for day in range(30):
        await award_points(db, member.id, day + 1, "adjustment", at=start + timedelta(days=day))
    await db.commit()
    history = await _history(client, "prolific")
    deltas = [int(d) for d in re.findall(r'<td class="num">\+(\d+)</td>', history)]
    assert deltas == list(range(30, 5, -1))  # the latest 25, newest first
    assert "The latest 25 of 30 changes" in history


async def test_reaching_a_rank_leaves_a_notice_until_dismissed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="riser")
    category = await make_category(db)
    await award_points(db, member.id, 40, "carried_over")
    await db.commit()
    await make_thread(db, settings, member, category)  # 45: still a Newcomer
    assert (await db.get(User, member.id, populate_existing=True)).rank_notice is None  # type: ignore[union-attr]
    await login(client, "riser")
    assert "reached the rank" not in (await client.get("/")).text
    await make_thread(db, settings, member, category)  # 50: Associate
    home = await client.get("/")
    assert "reached the rank of <strong>Associate</strong>" in home.text
    assert "reached the rank" in (await client.get("/search")).text  # on every page
    # Back below the rank (a post deleted), the congratulations go; back up, they return.
    await award_points(db, member.id, -5, "post_deleted")
    await db.commit()
    assert "reached the rank" not in (await client.get("/")).text
    await award_points(db, member.id, 5, "adjustment")
    await db.commit()
    assert "reached the rank of <strong>Associate</strong>" in (await client.get("/")).text
    r = await post_form(client, "/account/rank-notice", {"next": "/search"}, "/")
    assert r.status_code == 303 and r.headers["location"] == "/search"
    assert "reached the rank" not in (await client.get("/")).text
    await make_thread(db, settings, member, category)  # 55: no new rank, no new notice
    assert "reached the rank" not in (await client.get("/")).text
    # Nobody else sees it, and an outside address is not a place to go after dismissing.
    r = await post_form(client, "/account/rank-notice", {"next": "https://evil.example/"}, "/")
    assert r.headers["location"] == "/"


async def test_members_with_a_special_rank_and_lost_points_get_no_notice(
    db: AsyncSession, settings: Settings
) -> None:
    admin = await make_user(db, settings, username="chief", role="admin")
    moderator = await make_user(db, settings, username="keeper", role="moderator")
    member = await make_user(db, settings, username="faller")
    await set_role(db, admin, member, "member", None)
    await award_points(db, moderator.id, 200, "adjustment")  # shown as Moderator anyway
    await award_points(db, member.id, 60, "adjustment")
    member.rank_notice = None
    await award_points(db, member.id, -20, "adjustment")  # down to Newcomer: no notice
    await db.flush()
    for user in (moderator, member):
        await db.refresh(user)
        assert user.rank_notice is None


async def test_a_post_back_on_view_announces_no_rank_again(
    db: AsyncSession, settings: Settings
) -> None:
    # An edit waiting for its check takes the post's points aside and gives them back: the
    # rank that brings back was announced already (a probe had "You reached the rank of
    # Associate" twice).
    member = await make_user(db, settings, username="editing_again")
    thread, (post,) = await make_thread(db, settings, member, await make_category(db))
    await award_points(db, member.id, 45, "adjustment", post.id)
    await db.flush()
    await db.refresh(member)
    assert member.rank_notice == "Associate"  # announced once
    member.rank_notice = None
    await award_points(db, member.id, -45, "post_checking", post.id)
    await award_points(db, member.id, 45, "post_shown", post.id)
    await db.flush()
    await db.refresh(member)
    assert member.rank_notice is None
    # A post shown for the first time (a new account's, after its check) still announces.
    other = await make_user(db, settings, username="first_shown")
    _t, (first,) = await make_thread(db, settings, other, await make_category(db))
    await award_points(db, other.id, 60, "post_shown", first.id)
    await db.flush()
    await db.refresh(other)
    assert other.rank_notice == "Associate"


async def test_dismissing_needs_a_sign_in_and_a_token(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="noticed")
    await award_points(db, member.id, 60, "adjustment")
    await db.commit()
    assert (await client.post("/account/rank-notice", data={})).status_code == 403
    await login(client, "noticed")
    assert (await client.post("/account/rank-notice", data={})).status_code == 403
    await db.refresh(member)
    assert member.rank_notice == "Associate"


async def test_a_member_can_block_another_from_their_profile(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The newcomer probe could block only by typing a name on the Messages page."""
    await make_user(db, settings, username="blocker")
    await make_user(db, settings, username="pest")
    await make_user(db, settings, username="a_mod", role="moderator")
    await db.commit()
    assert "Block pest" not in (await client.get("/u/pest")).text  # a visitor has none
    await login(client, "blocker")
    page = (await client.get("/u/pest")).text
    assert "Block pest" in page
    assert "Block a_mod" not in (await client.get("/u/a_mod")).text  # staff are never blocked
    assert "Block blocker" not in (await client.get("/u/blocker")).text  # nor oneself
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" '
                     r'name="csrftoken" value="([^"]+)">\s*<input type="hidden" name="username" '
                     r'value="pest">', page)  # fmt: skip
    assert form is not None
    done = await client.post(form.group(1), data={"csrftoken": form.group(2), "username": "pest"})
    assert done.status_code == 303
    assert "Unblock pest" in (await client.get(done.headers["location"])).text


async def test_recent_posts_show_the_members_own_words_not_a_quote(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The newcomer probe read another member's quoted words as a profile's latest post."""
    quoter = await make_user(db, settings, username="quoter")
    other = await make_user(db, settings, username="quoted_one")
    thread, _ = await make_thread(db, settings, other, await make_category(db))
    await create_reply(db, settings, quoter, thread,
                       "> **quoted_one** wrote:\n> Their words here.\n\nMy own answer.")  # fmt: skip
    await db.commit()
    page = (await client.get("/u/quoter")).text
    assert "My own answer." in page and "Their words here." not in page
