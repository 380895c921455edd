"""A fresh account's posts and edits are seen only by their author until the worker has read
them (ModerationState.checking): a put-down from a new account was public for the second or
so before it was read, and for a minute when a flood of long posts kept the worker busy."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.board.models import Category, Post, Thread
from forum.board.posting import CHECKING_NOTE, BoardError, create_reply, edit_post
from forum.core.db import Database, utcnow
from forum.core.settings import Settings
from tests.conftest import TemplateDB, make_settings
from tests.helpers import CSRF_RE, login, make_category, make_thread, make_user, url
from tests.moderation.test_worker import worker_for

FRIENDLY = "Our pilot paired six graduates with six directors; attendance held at 90%."
PUT_DOWN = "Honestly, know your place. Come back when you have 20 years in."


@pytest.fixture
def settings(template_db: TemplateDB) -> Settings:
    return make_settings(
        template_db.url, posts_max_per_minute=1000, posts_max_per_minute_ip=1000,
        hide_new_accounts_posts_until_checked=True,
    )  # fmt: skip


def _old(user: User) -> User:
    user.joined_at = utcnow().replace(year=utcnow().year - 1)
    return user


async def _check(database: Database, settings: Settings) -> None:
    worker = worker_for(settings, database)
    while await worker.run_once():
        pass
    while await worker.score_profiles():
        pass


async def test_a_fresh_accounts_reply_is_seen_by_others_once_checked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    opener = _old(await make_user(db, settings, username="opener"))
    fresh = await make_user(db, settings, username="freshling")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, opener, category)
    await _check(database, settings)
    reply = await create_reply(db, settings, fresh, thread, FRIENDLY)
    await db.commit()
    assert reply.moderation_state == "checking" and reply.moderation_note == CHECKING_NOTE
    # Its author sees it, with the note; nobody else does, anywhere, and it has earned nothing.
    await login(client, "freshling")
    own = (await client.get(url("thread", thread_id=thread.id))).text
    assert FRIENDLY in own and "Not yet visible to others" in own
    client.cookies.clear()
    for path in (
        url("thread", thread_id=thread.id),
        url("latest"),
        url("profile", username="freshling"),
        url("search") + "?q=graduates",
    ):
        assert FRIENDLY[:30] not in (await client.get(path)).text, path
    assert (await client.get(url("post", post_id=reply.id))).status_code == 404
    await db.refresh(fresh)
    await db.refresh(thread)
    assert fresh.points == 0 and fresh.post_count == 0 and thread.post_count == 1
    # Read by the worker: on view, counted, and earning as any post.
    await _check(database, settings)
    await db.refresh(reply)
    await db.refresh(fresh)
    await db.refresh(thread)
    assert reply.moderation_state == "clear" and reply.moderation_note == ""
    assert FRIENDLY in (await client.get(url("thread", thread_id=thread.id))).text
    assert fresh.points == settings.points_per_post and fresh.post_count == 1
    assert thread.post_count == 2 and thread.last_post_id == reply.id


async def test_a_fresh_accounts_put_down_is_never_on_view(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    opener = _old(await make_user(db, settings, username="opener2"))
    fresh = await make_user(db, settings, username="freshpd")
    thread, _ = await make_thread(db, settings, opener, await make_category(db))
    await _check(database, settings)
    reply = await create_reply(db, settings, fresh, thread, PUT_DOWN)
    await db.commit()
    page = url("thread", thread_id=thread.id)
    assert "know your place" not in (await client.get(page)).text
    await _check(database, settings)
    await db.refresh(reply)
    assert reply.moderation_state == "held"
    assert "know your place" not in (await client.get(page)).text


async def test_a_fresh_accounts_thread_is_listed_once_checked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    fresh = await make_user(db, settings, username="freshopener")
    category = await make_category(db)
    thread, (opening,) = await make_thread(db, settings, fresh, category, title="Rota swaps")
    await db.commit()
    assert opening.moderation_state == "checking"
    listing = url("category", slug=category.slug)
    assert "Rota swaps" not in (await client.get(listing)).text
    assert (await client.get(url("thread", thread_id=thread.id))).status_code == 404
    await _check(database, settings)
    assert "Rota swaps" in (await client.get(listing)).text
    counted = await db.scalar(select(Category.thread_count).where(Category.id == category.id))
    assert counted == 1
    # Its author's edit of the opening post, nobody else having answered, waits for its check
    # out of sight with the thread (a probe's put-down edited into a title and opening post
    # was on view for 0.3 s, 25 s behind a backlog).
    await db.refresh(opening)
    await edit_post(db, settings, fresh, opening, thread, "Come back when you have 20 years in.")
    await db.commit()
    assert opening.moderation_state == "checking"
    assert (await client.get(url("thread", thread_id=thread.id))).status_code == 404
    assert "Rota swaps" not in (await client.get(listing)).text
    await _check(database, settings)
    await db.refresh(opening)
    assert opening.moderation_state == "held"
    # Once others have answered, an edit leaves the thread on view while it is read again
    # (hiding it would take the thread, and their replies, off the board at each edit).
    other = _old(await make_user(db, settings, username="answerer"))
    newer = await make_user(db, settings, username="freshmover")
    second, (first,) = await make_thread(db, settings, newer, category, title="Desk moves")
    await _check(database, settings)
    await create_reply(db, settings, other, second, "We did this last year; happy to help.")
    await db.commit()
    await db.refresh(first)
    await edit_post(db, settings, newer, first, second, "We move desks on Fridays now.")
    await db.commit()
    assert first.moderation_state == "pending"
    assert (await client.get(url("thread", thread_id=second.id))).status_code == 200
    # ... so an edit with phrases the composer named, saved past its nudge, is refused: a
    # probe's fresh account made its answered thread a put-down on view until the worker came.
    put_down = "You're too junior to get this. Come back when you have 20 years in."
    with pytest.raises(BoardError, match="Others have answered this thread"):
        await edit_post(db, settings, newer, first, second, put_down,
                        nudged=["You're too junior to get this"])  # fmt: skip
    await db.refresh(first)
    assert first.body_source == "We move desks on Fridays now."


async def test_an_established_members_post_is_on_view_at_once_and_a_fresh_edit_waits(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    veteran = _old(await make_user(db, settings, username="veteran"))
    fresh = await make_user(db, settings, username="fresheditor")
    thread, _ = await make_thread(db, settings, veteran, await make_category(db))
    quick = await create_reply(db, settings, veteran, thread, "Agreed, same here.")
    assert quick.moderation_state == "pending"  # on view while it is read
    reply = await create_reply(db, settings, fresh, thread, FRIENDLY)
    await db.commit()
    await _check(database, settings)
    await db.refresh(reply)
    assert reply.moderation_state == "clear"
    # The fresh account's edit waits, out of sight, for its own check.
    await edit_post(db, settings, fresh, reply, thread, "Rewritten: " + PUT_DOWN)
    await db.commit()
    await db.refresh(reply)
    assert reply.moderation_state == "checking"
    # Its points step aside for the moment, named for what happened (not "held or hidden").
    from forum.accounts.models import PointsEntry

    reasons = (await db.scalars(select(PointsEntry.reason).where(
        PointsEntry.post_id == reply.id).order_by(PointsEntry.id))).all()  # fmt: skip
    assert reasons[-1] == "post_checking"
    page = url("thread", thread_id=thread.id)
    assert "Rewritten" not in (await client.get(page)).text
    await _check(database, settings)
    await db.refresh(reply)
    assert reply.moderation_state == "held"
    assert "Rewritten" not in (await client.get(page)).text
    posts = (await db.scalars(select(Post).where(Post.thread_id == thread.id))).all()
    assert len(posts) == 3
    assert await db.get(Thread, thread.id) is not None


async def test_a_reply_to_a_thread_gone_meanwhile_is_shown_back(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    opener = _old(await make_user(db, settings, username="vanisher"))
    _old(await make_user(db, settings, username="late_replier"))
    thread, (opening,) = await make_thread(db, settings, opener, await make_category(db))
    await db.commit()
    await login(client, "late_replier")
    page = await client.get(url("thread", thread_id=thread.id))
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    opening.moderation_state = "held"  # a moderator hid it while the reply was being written
    await db.commit()
    reply = "A long and careful reply about how we run our rota swaps."
    refused = await client.post(url("reply", thread_id=thread.id),
                                data={"body": reply, "csrftoken": token})  # fmt: skip
    assert refused.status_code == 404 and "no such thread" in refused.text
    assert reply in refused.text and "readonly" in refused.text


async def test_a_fresh_accounts_profile_text_is_seen_by_others_once_checked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    """A probe's put-down for a bio was on view for 0.5-3 s, and 15 s behind a backlog."""
    from forum.accounts.models import ProfileState
    from forum.accounts.services import PROFILE_CHECKING_NOTE, update_profile

    opener = _old(await make_user(db, settings, username="opener"))
    fresh = await make_user(db, settings, username="freshling")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, opener, category)
    await _check(database, settings)
    reply = await create_reply(db, settings, fresh, thread, FRIENDLY)
    await db.commit()
    await _check(database, settings)
    bio = "Graduate scheme, second rotation: ask me about the survey we ran."
    assert await update_profile(db, settings, fresh, "Harrogate", bio)
    await db.commit()
    assert (
        fresh.profile_state == ProfileState.checking and fresh.profile_note == PROFILE_CHECKING_NOTE
    )
    # Not on the profile page nor on the author panel of its posts, but to the member.
    for path in (url("profile", username="freshling"), url("thread", thread_id=thread.id)):
        page = (await client.get(path)).text
        assert "Harrogate" not in page and bio[:30] not in page, path
    await login(client, "freshling")
    assert "Harrogate" in (await client.get(url("profile", username="freshling"))).text
    client.cookies.clear()
    await _check(database, settings)
    await db.refresh(fresh)
    assert fresh.profile_state == ProfileState.clear and fresh.profile_note == ""
    assert "Harrogate" in (await client.get(url("profile", username="freshling"))).text
    assert "Harrogate" in (await client.get(url("thread", thread_id=thread.id))).text
    # A location typed at registration waits the same way.
    from forum.accounts.passwords import Passwords
    from forum.accounts.services import create_user

    registered = await create_user(
        db, Passwords(settings), username="newcomer_loc", email="loc@example.org",
        password="a long enough password", location="Scarborough", score_profile=True,
        hide_until_checked=settings.hide_new_accounts_posts_until_checked,
    )  # fmt: skip
    await db.commit()
    assert registered.profile_state == ProfileState.checking
    assert "Scarborough" not in (await client.get(url("profile", username="newcomer_loc"))).text
    await _check(database, settings)
    assert "Scarborough" in (await client.get(url("profile", username="newcomer_loc"))).text
    # An established member's profile is on view at once (scored meanwhile, as before).
    old = _old(await make_user(db, settings, username="settled"))
    await db.commit()
    assert await update_profile(db, settings, old, "Whitby", "")
    await db.commit()
    assert old.profile_state == ProfileState.pending
    assert reply.id  # the fresh account's reply stayed (checked above)
