"""Moderator powers follow a hierarchy; restrictions can be lifted, with a reason, in the log;
a suspended member cannot report or change their profile; an editor is not a moderator."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User, UserStatus
from forum.accounts.services import load_ranks, suspend
from forum.core.audit import AuditEntry
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.review.queue import ReviewError, open_item
from forum.review.services import decide
from tests.helpers import login, make_category, make_thread, make_user, post_form, url


async def _item_on_post_by(db: AsyncSession, settings: Settings, author: User) -> int:
    _thread, (post,) = await make_thread(db, settings, author, await make_category(db))
    item = await open_item(db, post.id, ["USER_REPORTS"], priority=10)
    await db.flush()
    return item.id


@pytest.mark.parametrize("action", ["warn", "premoderate", "suspend"])
@pytest.mark.parametrize("target_role", ["moderator", "admin"])
async def test_a_moderator_cannot_act_on_a_peer_or_a_superior(
    db: AsyncSession, settings: Settings, action: str, target_role: str
) -> None:
    mod = await make_user(db, settings, role="moderator")
    target = await make_user(db, settings, role=target_role)
    item_id = await _item_on_post_by(db, settings, target)
    with pytest.raises(ReviewError, match="administrator"):
        await decide(db, settings, mod, item_id, 1, action, "reason", duration="24h", url=url)
    await db.refresh(target)
    assert target.status == UserStatus.active.value and not target.premoderated


async def test_an_admin_can_suspend_a_moderator(db: AsyncSession, settings: Settings) -> None:
    admin = await make_user(db, settings, role="admin")
    mod = await make_user(db, settings, role="moderator")
    item_id = await _item_on_post_by(db, settings, mod)
    await decide(db, settings, admin, item_id, 1, "suspend", "abuse", duration="24h", url=url)
    assert mod.status == UserStatus.suspended.value


async def test_a_decision_never_shortens_a_running_suspension(
    db: AsyncSession, settings: Settings
) -> None:
    """The profile refuses a second suspension; a review decision's suspension keeps the later
    end (one shared rule: a probe cut 30 days to 24 hours)."""
    mod = await make_user(db, settings, role="moderator")
    member = await make_user(db, settings)
    item_id = await _item_on_post_by(db, settings, member)
    suspend(member, "30d")
    month = member.suspended_until
    await decide(db, settings, mod, item_id, 1, "suspend", "again", duration="24h", url=url)
    assert member.suspended_until == month


async def test_a_moderator_lifts_a_suspension_with_a_reason_in_the_log(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="benched")
    member.status = UserStatus.suspended.value
    member.premoderated = True
    await make_user(db, settings, username="liftmod", role="moderator")
    await db.commit()
    await login(client, "liftmod")
    profile = await client.get("/u/benched")
    assert "Lift the suspension" in profile.text and "Lift pre-moderation" in profile.text
    path = "/u/benched/lift"
    no_reason = await post_form(client, path, {"restriction": "suspension"}, "/u/benched")
    assert no_reason.status_code == 400
    for restriction in ("suspension", "premoderation"):
        form = {"restriction": restriction, "reason": "served the time"}
        assert (await post_form(client, path, form, "/u/benched")).status_code == 303
    await db.refresh(member)
    assert member.status == UserStatus.active.value and not member.premoderated
    logged = await db.scalars(select(AuditEntry.action).where(AuditEntry.target_id == member.id))
    assert set(logged.all()) >= {"lift_suspension", "lift_premoderation"}


async def test_staff_suspend_from_a_profile_and_the_member_is_told_everywhere(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """A probe's administrator could suspend only by reporting one of the member's posts and
    deciding on it; the suspended member signed in to a normal page and learnt it on posting;
    every visitor read "Status: Suspended" on the profile."""
    member = await make_user(db, settings, username="loud_lou", email="lou@example.org")
    await make_user(db, settings, username="deskmod", role="moderator")
    await make_user(db, settings, username="peer_mod", role="moderator")
    await db.commit()
    await login(client, "deskmod")
    path = "/u/loud_lou/restrict"
    assert "Suspend for" in (await client.get("/u/loud_lou")).text
    for bad in ({"restriction": "suspension", "duration": "24h"},
                {"restriction": "suspension", "duration": "forever", "reason": "x"},
                {"restriction": "exile", "reason": "x"}):  # fmt: skip
        assert (await post_form(client, path, bad, "/u/loud_lou")).status_code == 400, bad
    done = await post_form(client, path, {"restriction": "suspension", "duration": "72h",
                                          "reason": "Three put-downs this week."}, "/u/loud_lou")  # fmt: skip
    assert done.status_code == 303
    await db.refresh(member)
    assert member.status == UserStatus.suspended.value and member.suspended_until is not None
    mail = await db.scalar(
        select(OutboxMessage).where(OutboxMessage.to_address == "lou@example.org")
    )
    assert mail is not None and "suspended for 72h" in mail.subject
    assert "Three put-downs this week." in mail.body
    logged = await db.scalars(select(AuditEntry.action).where(AuditEntry.target_id == member.id))
    assert "impose_suspension" in logged.all()
    # A peer is refused; the member sees a notice on every page; visitors see no status.
    client.cookies.clear()
    await login(client, "peer_mod")
    peer = await post_form(client, "/u/deskmod/restrict", {"restriction": "premoderation",
                                                          "reason": "x"}, "/u/deskmod")  # fmt: skip
    assert peer.status_code == 403
    client.cookies.clear()
    visitor = (await client.get("/u/loud_lou")).text
    assert "Suspended" not in visitor
    await login(client, "loud_lou")
    for page in ("/", "/u/loud_lou"):
        assert "Your account is suspended until" in (await client.get(page)).text, page


async def test_a_suspended_moderator_has_no_staff_powers_and_a_suspension_is_not_overwritten(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's suspended moderator kept the queue and cut an administrator's suspension."""
    await make_user(db, settings, username="chief", role="admin")
    benched = await make_user(db, settings, username="benched_mod", role="moderator")
    member = await make_user(db, settings, username="target_t")
    await db.commit()
    await login(client, "chief")
    form = {"restriction": "suspension", "duration": "30d", "reason": "Abuse of the queue."}
    assert (
        await post_form(client, "/u/benched_mod/restrict", form, "/u/benched_mod")
    ).status_code == 303
    again = {**form, "duration": "24h", "reason": "Shorter."}
    refused = await post_form(client, "/u/benched_mod/restrict", again, "/u/benched_mod")
    assert refused.status_code == 400 and "suspended already" in refused.text
    await db.refresh(benched)
    until = benched.suspended_until
    client.cookies.clear()
    await login(client, "benched_mod")
    assert (await client.get("/mod")).status_code == 403
    lifted = await post_form(client, "/u/target_t/restrict", {**again, "reason": "x"}, "/")
    assert lifted.status_code == 403
    # Nor does it edit a member's post (the edit route is a member's too).
    _thread, (post,) = await make_thread(db, settings, member, await make_category(db))
    await db.commit()
    edit = await post_form(client, f"/p/{post.id}/edit", {"body": "Rewritten."}, "/")
    assert edit.status_code == 403
    await db.refresh(member)
    await db.refresh(benched)
    assert member.status == UserStatus.active.value and benched.suspended_until == until


async def test_a_moderator_cannot_lift_a_peers_restriction(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    peer = await make_user(db, settings, username="peermod", role="moderator")
    peer.status = UserStatus.suspended.value
    await make_user(db, settings, username="othermod", role="moderator")
    await db.commit()
    await login(client, "othermod")
    form = {"restriction": "suspension", "reason": "friend"}
    response = await post_form(client, "/u/peermod/lift", form, "/mod")
    assert response.status_code == 403
    await db.refresh(peer)
    assert peer.status == UserStatus.suspended.value


async def test_a_suspended_member_cannot_report_or_edit_their_profile(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="someone")
    _thread, (post,) = await make_thread(db, settings, author, await make_category(db))
    member = await make_user(db, settings, username="suspended1")
    await db.commit()
    await login(client, "suspended1")
    member.status = UserStatus.suspended.value
    member.suspended_until = None
    await db.commit()
    report = await post_form(
        client, f"/p/{post.id}/report", {"reason": "spam"}, f"/t/{post.thread_id}"
    )
    assert report.status_code == 403
    profile = await post_form(client, "/account/profile", {"bio": "new"}, "/")
    assert profile.status_code == 403


async def test_an_editor_is_not_given_the_moderator_rank(
    db: AsyncSession, settings: Settings
) -> None:
    editor = await make_user(db, settings, role="editor")
    ranks = await load_ranks(db)
    assert editor.special_rank_id is None
    assert ranks.rank_for(editor.points, editor.special_rank_id) == "Newcomer"


async def test_a_moderator_is_told_up_front_that_their_own_item_is_for_another(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The decision form was offered on the moderator's own post, then refused on sending."""
    mod = await make_user(db, settings, username="self_mod", role="moderator")
    await make_user(db, settings, username="other_mod", role="moderator")
    _thread, (post,) = await make_thread(db, settings, mod, await make_category(db))
    item = await open_item(db, post.id, ["DISMISSIVE_OF_JUNIORS"], verdict="flag", priority=20)
    await db.commit()
    await login(client, "self_mod")
    own = (await client.get(f"/mod/items/{item.id}")).text
    assert "another moderator decides on it" in own and 'class="decision-form"' not in own
    # ... and the queue's list says so already.
    assert "Yours: another moderator decides" in (await client.get("/mod")).text
    client.cookies.clear()
    await login(client, "other_mod")
    theirs = (await client.get(f"/mod/items/{item.id}")).text
    assert 'class="decision-form"' in theirs and "another moderator decides" not in theirs
    assert "Yours: another moderator decides" not in (await client.get("/mod")).text


async def test_the_boards_only_moderator_decides_on_their_own_item(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """On a board with one moderator, the model's flag on their own post stayed open for
    "another moderator" who did not exist (the newcomer probe). They approve or hide it."""
    mod = await make_user(db, settings, username="lone_mod", role="moderator")
    await make_user(db, settings, username="lone_member")
    _thread, (post,) = await make_thread(db, settings, mod, await make_category(db))
    item = await open_item(db, post.id, ["DISMISSIVE_OF_JUNIORS"], verdict="flag", priority=20)
    await db.commit()
    item_id, version, post_id, mod_id = item.id, item.version, post.id, mod.id
    await login(client, "lone_mod")
    own = (await client.get(f"/mod/items/{item_id}")).text.replace("&#39;", "'")
    assert "You are the board's only moderator, so you decide on it" in own
    assert 'value="approve"' in own and 'value="hide"' in own and 'value="suspend"' not in own
    queue = (await client.get("/mod")).text
    assert "Yours: only you can decide" in queue
    await db.refresh(mod)
    with pytest.raises(ReviewError, match="approve it or hide it"):
        await decide(db, settings, mod, item_id, version, "suspend", "me", duration="24h",
                     url=url)  # fmt: skip
    await db.rollback()
    done = await post_form(client, f"/mod/items/{item_id}",
                           {"action": "approve", "version": str(version)},
                           f"/mod/items/{item_id}")  # fmt: skip
    assert done.status_code == 303
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.target_id == post_id,
                                                     AuditEntry.action == "approve"))  # fmt: skip
    assert entry is not None and entry.actor_id == mod_id
    # A second moderator (or an administrator) on the board, even suspended (an attacker
    # probe's administrator suspended the other, then approved her own put-down): the rule
    # is back.
    await db.refresh(mod)
    second = await make_user(db, settings, username="second_admin", role="admin")
    suspend(second, "7d")
    _thread, (later,) = await make_thread(db, settings, mod, await make_category(db))
    again = await open_item(db, later.id, ["DISMISSIVE_OF_JUNIORS"], verdict="flag", priority=20)
    await db.flush()
    await db.refresh(mod)
    with pytest.raises(ReviewError, match="Another moderator decides"):
        await decide(db, settings, mod, again.id, again.version, "approve", url=url)


async def test_a_members_report_comes_before_what_the_model_alone_flagged(
    db: AsyncSession, settings: Settings
) -> None:
    """The newcomer probe found its report (priority 11) under the model's false alarms (up to
    30): a person's report now outranks a flag, and a reopened item shows when it came back."""
    from datetime import timedelta

    from forum.core.db import utcnow
    from forum.review.queue import PRIORITY
    from forum.review.services import report_post

    author = await make_user(db, settings)
    reporter = await make_user(db, settings)
    reporter.joined_at = utcnow() - timedelta(days=settings.report_standing_days * 2)
    fresh = await make_user(db, settings)
    category = await make_category(db)
    _thread, (post,) = await make_thread(db, settings, author, category)
    for _ in range(settings.report_standing_posts):  # the reporter's accepted posts
        await make_thread(db, settings, reporter, category)
    _other, (flagged,) = await make_thread(db, settings, author, await make_category(db))
    _third, (junk,) = await make_thread(db, settings, author, await make_category(db))
    model_flag = await open_item(db, flagged.id, ["DISMISSIVE_OF_JUNIORS"], verdict="flag",
                                 priority=PRIORITY["flag"] + 10 * 0.99)  # fmt: skip
    await report_post(db, settings, reporter, post, "dismissive of juniors", "")
    # A fresh account's report (an attacker probe's junk reports buried the flags) stays
    # below what the model flagged.
    await report_post(db, settings, fresh, junk, "other", "")
    await db.flush()
    reported = await open_item(db, post.id, [])
    assert reported.priority > model_flag.priority
    assert (await open_item(db, junk.id, [])).priority < PRIORITY["flag"]
    # Decided, then reported again: the queue shows when it came back.
    reported.status, reported.closed_at = "closed", utcnow()
    reported.opened_at = utcnow() - timedelta(days=3)
    await db.flush()
    again = await open_item(db, post.id, ["USER_REPORTS"], priority=30.0)
    assert utcnow() - again.opened_at < timedelta(minutes=1)


async def test_the_moderators_header_counts_the_open_items(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    await make_user(db, settings, username="counting_mod", role="moderator")
    await make_user(db, settings, username="counting_member")
    for _ in range(3):
        await _item_on_post_by(db, settings, author)
    await db.commit()
    await login(client, "counting_mod")
    page = (await client.get("/latest")).text
    assert 'class="queue-link" aria-label="Review queue 3 open"' in page
    assert '<span class="badge">3</span></a>' in page
    client.cookies.clear()
    await login(client, "counting_member")
    assert "queue-link" not in (await client.get("/latest")).text
