"""Members delete their own accounts: the page that says what happens, the password (rate
limited like the other password forms), the anonymised account whose posts stay, the retired
name and the freed address, the last administrator, a suspended member and a programme pair
ended as leaving ends it. On both databases."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts import services as accounts
from forum.accounts.models import (
    EmailChange,
    EmailConfirmation,
    LoginSession,
    PasswordResetToken,
    RetiredUsername,
    User,
)
from forum.board.models import Draft, Post, Reaction
from forum.board.reactions import add_reaction
from forum.board.reading import ThreadRead
from forum.core.audit import AuditEntry
from forum.core.db import Database, utcnow
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.messages.models import Block, Conversation, Message
from forum.messages.services import start_conversation
from forum.notifications.models import (
    CategoryWatch,
    Kind,
    Notification,
    NotificationPreference,
    NotificationSettings,
    ThreadWatch,
)
from forum.programmes import lifecycle as life
from forum.programmes import pairing
from forum.programmes import services as svc
from forum.programmes.models import Application, Pair
from forum.review.models import Report
from tests.accounts.test_accounts import register
from tests.helpers import (
    CSRF_RE,
    PASSWORD,
    login,
    make_category,
    make_thread,
    make_user,
    post_form,
)
from tests.programmes.test_programmes import deliver, enrol, make_programme, notes

PAGE = "/account/delete"


async def delete_mine(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    return await post_form(client, PAGE, {"current_password": password}, PAGE)


async def reload(db: AsyncSession, user_id: int) -> User:
    user = await db.scalar(
        select(User).where(User.id == user_id).execution_options(populate_existing=True)
    )
    assert user is not None
    return user


async def count(db: AsyncSession, model: type, *where: object) -> int:
    return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_settings_lead_to_a_page_that_says_what_happens(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="leaver")
    await db.commit()
    # Signed out: sent to log in (and back here afterwards); a POST is refused.
    shown = await client.get(PAGE)
    assert shown.status_code == 303
    assert shown.headers["location"] == "/login?next=%2Faccount%2Fdelete"
    assert (await client.post(PAGE, data={"current_password": PASSWORD})).status_code in (401, 403)
    await login(client, "leaver")
    settings_page = await client.get("/account/profile")
    assert f'href="{PAGE}"' in settings_page.text and "Delete your account" in settings_page.text
    page = await client.get(PAGE)
    assert page.status_code == 200
    text = page.text
    for said in (
        "cannot be undone",
        "Your posts stay",
        "anonymous name",
        "private messages stay with the members you wrote to",
        "drafts, notifications, watched threads and categories",
        "blocked",
        "stays reserved",
        'name="current_password"',
        'name="csrftoken"',
    ):
        assert said in text, said


async def test_a_wrong_password_or_no_token_changes_nothing_and_guesses_are_limited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="careful", location="York")
    await db.commit()
    await login(client, "careful")
    wrong = await delete_mine(client, "not my password at all")
    assert wrong.status_code == 400
    assert "Your password is not right" in wrong.text and 'name="current_password"' in wrong.text
    # Without the form's token: refused before anything is read.
    forged = await client.post(PAGE, data={"current_password": PASSWORD})
    assert forged.status_code == 403
    member = await reload(db, member.id)
    assert (member.username, member.email, member.status, member.location) == (
        "careful", "careful@example.org", "active", "York",
    )  # fmt: skip
    assert await count(db, RetiredUsername) == 0
    assert (await client.get("/account/profile")).status_code == 200  # still signed in
    # Guesses count with failed sign-ins to the account: past the limit, even the right
    # password is refused for now.
    for _ in range(settings.login_max_failures_account - 1):
        assert (await delete_mine(client, "another wrong guess")).status_code == 400
    limited = await delete_mine(client)
    assert limited.status_code == 429 and 'name="current_password"' in limited.text
    member = await reload(db, member.id)
    assert member.username == "careful" and member.status == "active"


async def _everything(db: AsyncSession, settings: Settings) -> dict[str, int]:
    """A member with a bit of everything an account holds, and two others around them."""
    alice = await make_user(db, settings, username="alice", email="Alice@Example.org")
    alice.bio = "Head of people at a bank."
    bob = await make_user(db, settings, username="bob")
    carol = await make_user(db, settings, username="carol")
    category = await make_category(db)
    thread, (opening,) = await make_thread(
        db, settings, alice, category, title="Pairing across grades", body="My first post."
    )
    bobs_thread, (bobs,) = await make_thread(
        db, settings, bob, category, title="Bob's thread", body="Thanks @alice, and @carol too."
    )
    await add_reaction(db, settings, alice, bobs, "thanks")
    db.add(Report(post_id=bobs.id, reporter_id=alice.id, reason="off_topic", weight=1.0))
    conversation, message = await start_conversation(db, settings, alice, [bob], "Hi", "Hi Bob.")
    message.state = "clear"  # as if the worker had read it: Bob sees it
    db.add_all([
        Draft(user_id=alice.id, thread_id=thread.id, body="Half a thought"),
        ThreadRead(user_id=alice.id, thread_id=thread.id, post_id=opening.id),
        ThreadWatch(user_id=alice.id, thread_id=bobs.thread_id, level="watching"),
        CategoryWatch(user_id=alice.id, category_id=category.id, level="watching"),
        Notification(recipient_id=alice.id, kind="reply", actor_id=bob.id, detail=""),
        NotificationPreference(user_id=alice.id, kind="reply", delivery="digest"),
        NotificationSettings(user_id=alice.id),
        Block(blocker_id=alice.id, blocked_id=carol.id),
        Block(blocker_id=bob.id, blocked_id=alice.id),
    ])  # fmt: skip
    await accounts.request_email_change(db, alice, "alice.new@example.org")
    await accounts.create_reset_token(db, alice, 60)
    await accounts.create_confirmation(db, alice)
    await accounts.start_session(db, alice, 30, "another device")
    await db.commit()
    return {"alice": alice.id, "bob": bob.id, "thread": thread.id, "post": opening.id,
            "bobs_post": bobs.id, "bobs_thread": bobs_thread.id,
            "conversation": conversation.id}  # fmt: skip


async def test_deleting_anonymises_the_account_and_keeps_what_others_read(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    ids = await _everything(db, settings)
    uid = ids["alice"]
    await login(client, "alice")
    done = await delete_mine(client)
    assert done.status_code == 303 and done.headers["location"] == "/"
    home = await client.get("/")
    anonymous = f"deleted_member_{uid}"
    assert "Your account has been deleted" in home.text and anonymous in home.text
    assert "Log out" not in home.text  # signed out
    assert (await client.get("/account/profile")).status_code == 303  # to the login page
    user = await reload(db, uid)
    assert user.username == user.username_key == anonymous
    assert user.email_key != "alice@example.org" and user.email.endswith("@deleted.invalid")
    assert not await ctx_verify(settings, user.password_hash, PASSWORD)
    assert (user.status, user.role, user.special_rank_id) == ("deleted", "member", None)
    assert (user.location, user.bio, user.notifications_unread) == ("", "", 0)
    # Every session ended, this browser's and the other device's; links and changes are gone.
    for model in (LoginSession, EmailChange, PasswordResetToken, EmailConfirmation):
        assert await count(db, model, model.user_id == uid) == 0, model
    # What was the member's alone is gone ...
    for model, column in (
        (Draft, Draft.user_id), (ThreadRead, ThreadRead.user_id),
        (ThreadWatch, ThreadWatch.user_id), (CategoryWatch, CategoryWatch.user_id),
        (Notification, Notification.recipient_id), (NotificationSettings, NotificationSettings.user_id),
        (Block, Block.blocker_id), (Block, Block.blocked_id),
    ):  # fmt: skip
        assert await count(db, model, column == uid) == 0, column
    # ... and nothing more is made for the account, nor mailed to it.
    chosen = set(await db.scalars(
        select(NotificationPreference.delivery).where(NotificationPreference.user_id == uid)
    ))  # fmt: skip
    kinds = await count(db, NotificationPreference, NotificationPreference.user_id == uid)
    assert chosen == {"off"} and kinds == len(Kind)
    # What others read stays: posts, the reaction, the report, the private message.
    post = await db.get(Post, ids["post"], populate_existing=True)
    assert post is not None and post.author_id == uid
    assert await count(db, Reaction, Reaction.user_id == uid) == 1
    assert await count(db, Report, Report.reporter_id == uid) == 1
    assert await count(db, Message, Message.sender_id == uid) == 1
    # The name is retired, lower-cased; the audit log has the deletion, neither the address
    # nor the old name (moderators read the log).
    assert await count(db, RetiredUsername, RetiredUsername.username_key == "alice") == 1
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "account_delete"))
    assert entry is not None and entry.actor_id == uid and entry.target_id == uid
    assert anonymous in entry.detail
    assert "example.org" not in entry.detail.lower() + entry.reason.lower()
    assert "alice" not in entry.detail.lower() + entry.reason.lower()


async def ctx_verify(settings: Settings, password_hash: str, password: str) -> bool:
    from forum.accounts.passwords import Passwords

    return await Passwords(settings).verify(password_hash, password)


async def test_afterwards_the_old_name_leads_nowhere_and_the_posts_show_the_anonymous_one(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    ids = await _everything(db, settings)
    anonymous = f"deleted_member_{ids['alice']}"
    await db.execute(update(Post).values(needs_scoring=False))  # as if the worker had read them
    await db.commit()
    assert "<name>alice</name>" in (await client.get("/latest.atom")).text  # and kept
    await login(client, "alice")
    assert (await delete_mine(client)).status_code == 303
    assert (await client.get("/u/alice")).status_code == 404
    # The kept feed is not served: a probe read the old name there for a minute.
    feed = (await client.get("/latest.atom")).text
    assert "<name>alice</name>" not in feed and f"<name>{anonymous}</name>" in feed
    thread = await client.get(f"/t/{ids['thread']}")
    assert thread.status_code == 200
    assert f'href="/u/{anonymous}"' in thread.text and 'href="/u/alice"' not in thread.text
    # Others' @mentions of the old name stay as written, no longer a link to nowhere.
    bobs = await client.get(f"/t/{ids['bobs_thread']}")
    assert "Thanks @alice, and" in bobs.text and 'href="/u/alice"' not in bobs.text
    assert '<a href="/u/carol"' in bobs.text
    # Search by author: the old name is nobody's; the anonymous one lists the posts.
    old = await client.get("/search", params={"author": "alice"})
    assert "My first post" not in old.text and "no member called" in old.text
    listed = await client.get("/search", params={"author": anonymous})
    assert listed.status_code == 200 and "Pairing across grades" in listed.text
    # Nobody signs in as it, by the old name, the old address or the new name.
    for name in ("alice", "alice@example.org", anonymous):
        refused = await post_form(client, "/login", {"username": name, "password": PASSWORD})
        assert refused.status_code == 400, name
        assert "That username or password is not right." in refused.text
    # Nor is a reset link made for it.
    mails = await count(db, OutboxMessage)
    await post_form(client, "/password/forgot", {"email": anonymous}, "/password/forgot")
    assert await count(db, OutboxMessage) == mails
    # The conversation stays with Bob.
    client.cookies.clear()
    await login(client, "bob")
    conversation = await client.get(f"/messages/{ids['conversation']}")
    assert conversation.status_code == 200 and "Hi Bob." in conversation.text
    assert await db.get(Conversation, ids["conversation"]) is not None
    # Nobody starts a conversation with the anonymous account.
    new = await post_form(client, "/messages/new",
                          {"to": anonymous, "subject": "Still there?", "body": "Hello?"},
                          "/messages/new")  # fmt: skip
    assert new.status_code == 400 and "There is no member called" in new.text


async def test_the_old_name_stays_reserved_and_the_address_is_free_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    ids = await _everything(db, settings)
    await login(client, "alice")
    assert (await delete_mine(client)).status_code == 303
    client.cookies.clear()
    # Said word for word as for a live member's name (bob's), so nothing tells it was deleted.
    for name, live in (("alice", "bob"), ("ALICE", "BOB"), ("a1ice", "b0b"), ("al.ice", "b.ob")):
        taken = await register(client, username=name, email=f"x{len(name)}@example.org")
        assert taken.status_code == 400, name
        other = await register(client, username=live, email=f"y{len(name)}@example.org")
        problem = re.compile(r'class="field-error"[^>]*>([^<]*)<')
        said = problem.findall(taken.text)
        assert said and said == [p.replace("bob", "alice") for p in problem.findall(other.text)]
    # Not by an operator either (the CLI and the demo make accounts through create_user).
    with pytest.raises(accounts.AccountError):
        await make_user(db, settings, username="Alice", email="cli@example.org")
    # The address registers afresh (its owner gets the usual confirmation link).
    again = await register(client, username="alice_again", email="alice@example.org")
    assert again.status_code == 200 and "Check your e-mail" in again.text
    fresh = await db.scalar(select(User).where(User.email_key == "alice@example.org"))
    assert fresh is not None and fresh.username == "alice_again" and fresh.id != ids["alice"]


async def test_nobody_registers_an_anonymous_name(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    for name in ("deleted_member_99", "Deleted.Member-7", "de1eted_member", "deletedmember_x"):
        refused = await register(client, username=name, email="someone@example.org")
        assert refused.status_code == 400, name
        assert "kept for deleted accounts" in refused.text, name
    password = "a long enough password"
    assert "username" in accounts.check_registration(
        "deleted_member_1", "a@example.org", password, password
    )
    assert accounts.check_registration("deletion_fan", "a@example.org", password, password) == {}
    assert await count(db, User, User.username_key.like("del%")) == 0


async def test_the_last_administrator_cannot_delete_their_account(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    first = await make_user(db, settings, username="first_boss", role="admin")
    second = await make_user(db, settings, username="second_boss", role="admin")
    await db.commit()
    # With another administrator, an administrator may go; the account keeps no role.
    await login(client, "first_boss")
    assert (await delete_mine(client)).status_code == 303
    gone = await reload(db, first.id)
    assert gone.role == "member" and gone.special_rank_id is None and gone.status == "deleted"
    # The one left may not: the page says why, and a sent form changes nothing.
    await login(client, "second_boss")
    page = await client.get(PAGE)
    assert page.status_code == 200 and "last administrator" in page.text
    assert 'name="current_password"' not in page.text
    refused = await delete_mine(client)
    assert refused.status_code == 400 and "last administrator" in refused.text
    second = await reload(db, second.id)
    assert (second.username, second.role, second.status) == ("second_boss", "admin", "active")
    with pytest.raises(accounts.AccountError):  # the service refuses too
        await accounts.delete_account(db, settings, second)
    # A deleted account is given no role back.
    with pytest.raises(accounts.AccountError):
        await accounts.set_role(db, second, gone, "admin", None)


async def test_a_suspended_member_deletes_their_account_and_leaves_their_pair(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    junior = await make_user(db, settings, username="junior_jo")
    senior = await make_user(db, settings, username="senior_sam")
    running = await make_programme(db, settings, lead)
    for user, side in ((junior, "junior"), (senior, "senior")):
        application = await enrol(db, settings, running, user, side)
        await svc.decide(db, settings, lead, running, application.id, True)
    job = await svc.request_proposal(db, settings, lead, running)
    await svc.run_job(db, job, pairing)
    (pair,) = await svc.publish(db, settings, lead, running, confirm_over_pilot=True)
    # ... and a pending application to a second programme, still taking applications.
    other = await make_programme(db, settings, lead, name="Second pilot")
    pending = await enrol(db, settings, other, junior, "junior")
    junior.status = "suspended"
    junior.suspended_until = utcnow() + timedelta(days=3)
    await db.commit()
    await deliver(settings, database)
    told_before = len(await notes(db, senior))
    await login(client, "junior_jo")
    # Their settings say the profile cannot be changed, and still lead here.
    settings_page = await client.get("/account/profile")
    assert settings_page.status_code == 200 and "Your account is suspended" in settings_page.text
    assert 'name="bio"' not in settings_page.text and f'href="{PAGE}"' in settings_page.text
    assert (await delete_mine(client)).status_code == 303
    # The pair ended as leaving ends it: by the member, its space closed to new messages.
    pair = await db.get(Pair, pair.id, populate_existing=True)
    assert pair is not None and pair.status == "ended" and pair.ended_by == junior.id
    space = await db.get(Conversation, pair.conversation_id, populate_existing=True)
    assert space is not None and space.closed_at is not None
    statuses = set(await db.scalars(
        select(Application.status).where(Application.user_id == junior.id)
        .execution_options(populate_existing=True)
    ))  # fmt: skip
    assert statuses == {"withdrawn"}
    assert (await db.get(Application, pending.id)) is not None
    # The lead keeps who applied to which side, not the member's profile.
    profiles = set(await db.scalars(
        select(Application.department + Application.teaches + Application.availability)
        .where(Application.user_id == junior.id).execution_options(populate_existing=True)
    ))  # fmt: skip
    assert profiles == {""}
    # The partner and the lead are told, as when a member leaves.
    await deliver(settings, database)
    partner_notes = await notes(db, senior)
    assert len(partner_notes) == told_before + 1
    assert "left" in partner_notes[-1].detail and "your pair has ended" in partner_notes[-1].detail
    lead_notes = [n.detail for n in await notes(db, lead)]
    assert any("left" in d for d in lead_notes) and any("withdrew" in d for d in lead_notes)
    assert (await reload(db, junior.id)).status == "deleted"


async def test_two_last_administrators_deleting_at_once_leave_one(
    fresh_url: str, fresh_database: Database
) -> None:
    """Real commits, separate connections: the administrators' rows are locked while one
    deletion runs, so the other sees it done and is refused (without the lock, on PostgreSQL,
    each saw the other still there and both went)."""
    from forum.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(fresh_url)
    async with fresh_database.sessionmaker() as session:
        for name in ("boss_a", "boss_b"):
            await make_user(session, settings, username=name, role="admin")
        await session.commit()
    app = create_app(settings, fresh_database)
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        for _ in range(2)
    ]
    try:
        for c, name in zip(clients, ("boss_a", "boss_b"), strict=True):
            await login(c, name)
        pages = [await c.get(PAGE) for c in clients]
        tokens = [CSRF_RE.search(p.text).group(1) for p in pages]  # type: ignore[union-attr]
        statuses = await asyncio.gather(*(
            c.post(PAGE, data={"current_password": PASSWORD, "csrftoken": t})
            for c, t in zip(clients, tokens, strict=True)
        ))  # fmt: skip
    finally:
        for c in clients:
            await c.aclose()
    assert sorted(r.status_code for r in statuses) == [303, 400]
    async with fresh_database.sessionmaker() as session:
        admins = await session.scalar(select(func.count(User.id)).where(User.role == "admin"))
        assert admins == 1


async def test_an_address_at_invalid_cannot_block_a_deletion(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe registered deleted_member_<id>@deleted.invalid (never confirmed) for a chosen
    member: that member's deletion then failed with a 500. Such addresses are refused, and a
    deletion finds another address if one is held anyway (by an account made before)."""
    target = await make_user(db, settings, username="target_t")
    refused = await post_form(client, "/register", {
        "username": "squatter", "email": f"deleted_member_{target.id}@deleted.invalid",
        "password": "a long passphrase 7", "password_confirm": "a long passphrase 7",
    }, "/register")  # fmt: skip
    assert refused.status_code == 400 and "Enter a valid e-mail address." in refused.text
    squatter = await make_user(db, settings, username="squatter2")
    squatter.email = squatter.email_key = f"deleted_member_{target.id}@deleted.invalid"
    await db.commit()
    await login(client, "target_t")
    assert (await delete_mine(client)).status_code == 303
    gone = await reload(db, target.id)
    assert gone.status == "deleted" and gone.email_key.endswith("@deleted.invalid")
    assert gone.email_key != squatter.email_key


async def test_a_lead_of_a_running_programme_is_asked_to_close_it_first(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's lead deleted their account and left two programmes open with nobody to
    decide applications or read check-ins. Refused now, saying which; once closed, allowed."""
    lead = await make_user(db, settings, username="lead_l", role="programme_lead")
    programme = await make_programme(db, settings, lead, name="Autumn cohort")
    await db.commit()
    await login(client, "lead_l")
    refused = await delete_mine(client)
    assert refused.status_code == 400 and "You lead “Autumn cohort”" in refused.text
    assert (await reload(db, lead.id)).status != "deleted"
    await life.close(db, settings, lead, programme)
    await db.commit()
    assert (await delete_mine(client)).status_code == 303
    assert (await reload(db, lead.id)).status == "deleted"
