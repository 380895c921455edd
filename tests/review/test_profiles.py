"""A member's location and bio take the posts' moderation path (#14): scored by the worker,
held for pre-moderated members, reportable, hideable by moderators within their powers."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.services import update_profile
from forum.core.audit import AuditEntry
from forum.core.db import Database
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.review.models import ModerationResult, Report, ReviewItem
from forum.review.queue import ReviewError
from forum.review.services import decide
from tests.helpers import login, make_category, make_thread, make_user, post_form, url
from tests.moderation.test_worker import worker_for

PUT_DOWN_BIO = "Twenty years in. Know your place, graduates: come back when you have 20 years in."


async def _item_for(db: AsyncSession, member: User) -> ReviewItem | None:
    item: ReviewItem | None = await db.scalar(
        select(ReviewItem).where(ReviewItem.profile_user_id == member.id)
    )
    return item


async def test_a_premoderated_members_profile_waits_for_a_moderator(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="heldbio", location="Leeds")
    member.premoderated = True
    author_thread, _ = await make_thread(db, settings, member, await make_category(db))
    await make_user(db, settings, username="bioreader")
    await db.commit()
    await login(client, "heldbio")
    saved = await post_form(
        client, "/account/profile", {"location": "Gateshead", "bio": PUT_DOWN_BIO},
        "/account/profile",
    )  # fmt: skip
    assert saved.status_code == 303
    await db.refresh(member)
    assert member.profile_state == "held" and member.profile_needs_scoring
    item = await _item_for(db, member)
    assert item is not None and item.status == "open" and item.reasons == ["PREMODERATION"]
    own = await client.get("/u/heldbio")
    assert PUT_DOWN_BIO in own.text and "Not yet visible to others" in own.text
    for who in ("bioreader", None):
        if who:
            await login(client, who)
        else:
            client.cookies.clear()
        page = await client.get("/u/heldbio")
        assert PUT_DOWN_BIO not in page.text and "Gateshead" not in page.text
        # Nor in the author panel of the member's posts.
        assert "Gateshead" not in (await client.get(f"/t/{author_thread.id}")).text


async def test_members_report_a_profile_and_a_moderator_hides_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="loudbio")
    member.bio = PUT_DOWN_BIO
    await make_user(db, settings, username="bioreporter")
    moderator = await make_user(db, settings, username="biomod", role="moderator")
    await db.commit()
    await login(client, "bioreporter")
    page = await client.get("/u/loudbio")
    assert "Report this profile" in page.text
    sent = await post_form(
        client, "/u/loudbio/report", {"reason": "dismissive of juniors", "note": "See bio. Know your place, mods."},
        "/u/loudbio/report",
    )  # fmt: skip
    assert sent.status_code == 303
    again = await post_form(client, "/u/loudbio/report", {"reason": "spam"}, "/u/loudbio/report")
    assert again.status_code == 400 and "already reported" in again.text
    item = await _item_for(db, member)
    assert item is not None and item.reasons == ["USER_REPORTS"]
    await login(client, "biomod")
    queue = await client.get("/mod")
    assert "Profile of loudbio" in queue.text
    review = await client.get(f"/mod/items/{item.id}")
    assert review.status_code == 200 and PUT_DOWN_BIO in review.text
    assert 'value="edit_approve"' not in review.text  # moderators do not rewrite profiles
    # A report's note is member text too: what may read as dismissive is marked for moderators.
    assert "the note may read as dismissive" in review.text
    decided = await post_form(
        client, f"/mod/items/{item.id}",
        {"action": "hide", "reason": "Belittles juniors.", "version": str(item.version)},
        f"/mod/items/{item.id}",
    )  # fmt: skip
    assert decided.status_code == 303
    await db.refresh(member)
    assert member.profile_state == "hidden" and member.profile_note == "Belittles juniors."
    report = await db.scalar(select(Report).where(Report.profile_user_id == member.id))
    assert report is not None and report.upheld is True
    mail = await db.scalar(select(OutboxMessage).where(OutboxMessage.to_address == member.email))
    assert mail is not None and "Belittles juniors." in mail.body
    assert f"{settings.base_url.rstrip('/')}/account/profile\n" in mail.body
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.target_type == "profile"))
    assert entry is not None and entry.target_id == member.id and entry.actor_id == moderator.id
    client.cookies.clear()
    assert PUT_DOWN_BIO not in (await client.get("/u/loudbio")).text
    # New text after a hide waits for a moderator: the item opens again.
    await update_profile(db, settings, member, "York", "Ask me about rotas.")
    await db.commit()
    await db.refresh(item)
    assert member.profile_state == "held" and item.status == "open"
    assert "Ask me about rotas." not in (await client.get("/u/loudbio")).text


async def test_profile_decisions_keep_the_hierarchy(db: AsyncSession, settings: Settings) -> None:
    moderator = await make_user(db, settings, role="moderator")
    admin = await make_user(db, settings, role="admin")
    admin.bio = "Boss."
    reporter = await make_user(db, settings)
    await db.flush()
    from forum.review.services import report_profile

    await report_profile(db, settings, reporter, admin, "harassment", "")
    item = await _item_for(db, admin)
    assert item is not None
    for action in ("suspend", "edit_approve"):
        with pytest.raises(ReviewError):
            await decide(
                db, settings, moderator, item.id, item.version, action, "r", duration="24h", url=url
            )
        await db.refresh(item)
    assert admin.status == "active" and admin.profile_state != "held"  # staff are never auto-held


async def test_the_worker_scores_changed_profiles(
    fresh_database: Database, wsettings: Settings
) -> None:
    async with fresh_database.sessionmaker() as session:
        rude = await make_user(session, wsettings)
        kind = await make_user(session, wsettings)
        await update_profile(session, wsettings, rude, "Leeds", PUT_DOWN_BIO)
        await update_profile(session, wsettings, kind, "Leeds", "I mentor graduates on Fridays.")
        await session.commit()
        ids = rude.id, kind.id
    worker = worker_for(wsettings, fresh_database)
    assert await worker.score_profiles() == 2
    assert await worker.score_profiles() == 0
    async with fresh_database.sessionmaker() as session:
        rude_now, kind_now = await session.get(User, ids[0]), await session.get(User, ids[1])
        assert rude_now is not None and kind_now is not None
        assert rude_now.profile_state == "held" and "dismissive" in rude_now.profile_note
        assert kind_now.profile_state == "clear"
        result = await session.scalar(
            select(ModerationResult).where(ModerationResult.profile_user_id == ids[0])
        )
        assert result is not None and result.verdict == "hold" and result.post_id is None
        item = await session.scalar(select(ReviewItem).where(ReviewItem.profile_user_id == ids[0]))
        assert item is not None and item.status == "open"
        # A verdict on text that changed in the meantime is dropped.
        kind_now.bio = "changed"
        kind_now.profile_version += 1
        kind_now.profile_needs_scoring = True
        await session.commit()
    assert await worker.score_profiles() == 1


@pytest.fixture
def wsettings(fresh_url: str) -> Settings:
    from tests.conftest import make_settings

    return make_settings(fresh_url, worker_lease_seconds=60, worker_max_attempts=3)


async def test_nothing_to_report_and_no_deciding_about_oneself(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="blankprofile", location="")
    await make_user(db, settings, username="blankreader")
    mod = await make_user(db, settings, username="selfmod", role="moderator")
    # (Another moderator on the board: the board's only one decides on their own.)
    await make_user(db, settings, username="othermod", role="moderator")
    mod.bio = "I moderate."
    reporter = await make_user(db, settings)
    await db.flush()
    from forum.review.services import report_post, report_profile

    await report_profile(db, settings, reporter, mod, "other", "")
    item = await _item_for(db, mod)
    assert item is not None
    with pytest.raises(ReviewError, match="Another moderator"):
        await decide(db, settings, mod, item.id, item.version, "approve", url=url)
    await db.refresh(item)
    _thread, (post,) = await make_thread(db, settings, mod, await make_category(db))
    await report_post(db, settings, reporter, post, "other", "")
    post_item = await db.scalar(select(ReviewItem).where(ReviewItem.post_id == post.id))
    assert post_item is not None
    with pytest.raises(ReviewError, match="Another moderator"):
        await decide(db, settings, mod, post_item.id, post_item.version, "approve", url=url)
    await db.commit()
    await login(client, "blankreader")
    assert (await client.get("/u/blankprofile/report")).status_code == 404
