"""Small things the newcomer probe of 2026-12-07 met: a skip link to the quick reply, a
suspended member told before writing, a conversation named after its members not naming them
twice, a post's waiting note punctuated as a sentence, and the demo's published password."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.passwords import DEMO_PASSWORD
from forum.accounts.services import suspend
from forum.core.settings import Settings
from forum.messages import services as pm
from tests.helpers import login, make_category, make_thread, make_user, post_form


async def test_a_member_who_may_reply_can_skip_to_the_reply_box(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="skip_author")
    thread, _ = await make_thread(db, settings, author, await make_category(db), replies=3)
    await make_user(db, settings, username="skip_reader")
    await db.commit()
    skip = '<a class="skip" href="#quick-body">Skip to the reply box</a>'
    assert skip not in (await client.get(f"/t/{thread.id}")).text  # a visitor has no box
    await login(client, "skip_reader")
    page = (await client.get(f"/t/{thread.id}")).text
    assert skip in page and 'id="quick-body"' in page
    assert page.index(skip) < page.index('<header class="site')


async def test_a_suspended_member_is_told_before_writing_not_after(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="susp_author")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, author, category)
    member = await make_user(db, settings, username="susp_member")
    await db.commit()
    await login(client, "susp_member")
    suspend(member, "24h")
    await db.commit()
    for path in (f"/c/{category.slug}/new", f"/t/{thread.id}/reply"):
        page = (await client.get(path)).text
        assert "Your account is suspended, so you cannot" in page, path
        assert 'name="body"' not in page, path
    composer = (await client.get("/messages/new")).text
    assert "While your account is suspended you can write to moderators only" in composer


async def test_the_inbox_does_not_name_a_conversations_members_twice(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    writer = await make_user(db, settings, username="inbox_writer")
    reader = await make_user(db, settings, username="inbox_reader")
    for member in (writer, reader):
        member.joined_at = member.joined_at.replace(year=member.joined_at.year - 1)
    await pm.start_conversation(db, settings, writer, [reader], "inbox_writer and inbox_reader",
                                "Hello there, how is the pilot going?")  # fmt: skip
    await pm.start_conversation(db, settings, writer, [reader], "Rota review",
                                "Shall we look at the rota on Friday?")  # fmt: skip
    await db.commit()
    await login(client, "inbox_writer")  # (the writer sees both before they are checked)
    inbox = (await client.get("/messages")).text
    assert "Rota review" in inbox and "inbox_writer and inbox_reader" in inbox
    assert inbox.count("with inbox_reader") == 1  # the "Rota review" line only


async def test_a_waiting_posts_note_reads_as_a_sentence(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    settings.hide_new_accounts_posts_until_checked = True
    author = await make_user(db, settings, username="note_author")
    thread, _ = await make_thread(db, settings, author, await make_category(db))
    await db.commit()
    await login(client, "note_author")
    sent = await post_form(client, f"/t/{thread.id}/reply",
                           {"body": "Thanks, that helps a lot.", "reply_to": ""},
                           f"/t/{thread.id}")  # fmt: skip
    assert sent.status_code == 303
    page = (await client.get(f"/t/{thread.id}")).text
    assert "<strong>Not yet visible to others.</strong> Other members see it" in page


async def test_signing_in_with_the_demos_published_password_says_to_change_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    from forum.accounts.passwords import Passwords
    from forum.accounts.services import create_user

    await create_user(db, Passwords(settings), username="demo_like", email="d@example.org",
                      password=DEMO_PASSWORD, role="admin")  # fmt: skip
    await db.commit()
    await login(client, "demo_like", DEMO_PASSWORD)
    page = (await client.get("/")).text
    # A warning, not the green of "Welcome back" (newcomer probe).
    warning = re.search(r'<p class="flash flash-warn" role="alert">([^<]*)</p>', page)
    assert warning is not None and "published password: change it" in warning.group(1)
    assert '<p class="flash" role="status">Welcome back, demo_like.</p>' in page


async def test_a_form_with_problems_says_so_at_the_top_and_names_them_all(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A blank title and a blank body were told one at a time, and a reloaded form with errors
    said nothing to a screen reader (newcomer probe): every field's problem at once, a summary
    at the top with role=alert, and the page title starts "Error:"."""
    await make_user(db, settings, username="formfiller")
    category = await make_category(db, "Mentoring")
    await db.commit()
    await login(client, "formfiller")
    r = await post_form(client, f"/c/{category.slug}/new", {"title": "", "body": ""},
                        f"/c/{category.slug}/new")  # fmt: skip
    assert r.status_code == 400
    assert "Give the thread a title" in r.text and "The post is empty." in r.text
    assert "<title>Error: " in r.text
    assert '<p class="error-summary" role="alert">This form has 2 problems' in r.text
    ok = await client.get(f"/c/{category.slug}/new")
    assert "error-summary" not in ok.text and "<title>Error" not in ok.text
