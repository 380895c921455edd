"""The bell, /notifications, opening one, marking all read, preferences and the watching
controls, over HTTP."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.db import Database
from forum.core.settings import Settings
from forum.notifications.models import (
    CategoryWatch,
    Level,
    Notification,
    NotificationPreference,
    NotificationSettings,
    ThreadWatch,
)
from forum.notifications.watching import set_thread_level
from tests.conftest import QueryCounter
from tests.helpers import csrf_token, login, make_category, make_thread, make_user, post_form
from tests.notifications.test_fanout import FRIENDLY, settle

BELL = re.compile(
    r'class="bell"[^>]*><svg[^>]*>.*?</svg><span class="label">Notifications</span>'
    r'(?: <span class="badge">(\d+))?'
)


async def _mentioned(db: AsyncSession, database: Database, settings: Settings, times: int = 2):  # type: ignore[no-untyped-def]
    junior = await make_user(db, settings, username="junior")
    senior = await make_user(db, settings, username="senior")
    thread, _ = await make_thread(db, settings, junior, await make_category(db))
    from forum.board.posting import create_reply

    replies = [
        await create_reply(db, settings, senior, thread, f"@junior {FRIENDLY} {n}")
        for n in range(times)
    ]
    await db.commit()
    await settle(settings, database)
    return junior, senior, thread, replies


async def test_the_bell_counts_and_opening_leads_to_the_post(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior, senior, thread, replies = await _mentioned(db, database, settings)
    anonymous = await client.get("/")
    assert 'class="bell"' not in anonymous.text
    await login(client, "junior")
    home = await client.get("/")
    # Two mentions in one thread while unread: one notification, counted once.
    assert BELL.search(home.text).group(1) == "1"  # type: ignore[union-attr]
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert page.text.count(f"2 new mentions of you in “{thread.title}” (from senior)") == 1
    (note,) = await db.scalars(select(Notification).where(Notification.recipient_id == junior.id))
    # It leads to the first of them, and opening it marks it read.
    assert f'href="/p/{replies[0].id}"' in page.text
    opened = await post_form(client, f"/notifications/{note.id}/open", {}, "/notifications")
    assert opened.status_code == 303 and opened.headers["location"] == f"/p/{replies[0].id}"
    landed = await client.get(opened.headers["location"])
    assert landed.status_code == 302 and landed.headers["location"].endswith(f"#p{replies[0].id}")
    # Opened and read: the bell is empty.
    assert BELL.search((await client.get("/")).text).group(1) is None  # type: ignore[union-attr]
    read = await post_form(client, "/notifications/read-all", {}, "/notifications")
    assert read.status_code == 303
    assert BELL.search((await client.get("/")).text).group(1) is None  # type: ignore[union-attr]
    rows = list(await db.scalars(select(Notification).execution_options(populate_existing=True)))
    assert rows and all(n.read_at is not None for n in rows)


async def test_the_bell_costs_members_no_query(
    client: httpx.AsyncClient,
    db: AsyncSession,
    database: Database,
    settings: Settings,
    queries: QueryCounter,
) -> None:
    await _mentioned(db, database, settings, times=1)
    await login(client, "junior")
    await client.get("/guidelines")
    queries.start()
    page = await client.get("/guidelines")
    with_bell = queries.stop()
    assert BELL.search(page.text).group(1) == "1"  # type: ignore[union-attr]
    # The count is read with the member (one row): no statement mentions the notifications.
    assert with_bell > 0
    assert not any(re.search(r"(FROM|JOIN)\s+notifications\b", s) for s in queries.statements)


async def test_a_member_cannot_open_anothers_notification(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior, *_ = await _mentioned(db, database, settings, times=1)
    await make_user(db, settings, username="snoop")
    await db.commit()
    note = await db.scalar(select(Notification).where(Notification.recipient_id == junior.id))
    assert note is not None
    await login(client, "snoop")
    refused = await post_form(client, f"/notifications/{note.id}/open", {}, "/notifications")
    assert refused.status_code == 404
    await db.refresh(note)
    assert note.read_at is None
    # Without the form's token nothing happens either.
    await login(client, "junior")
    forged = await client.post(f"/notifications/{note.id}/open", data={})
    assert forged.status_code == 403
    await db.refresh(note)
    assert note.read_at is None


async def test_preferences_are_saved_and_bad_input_is_a_400_that_keeps_the_choices(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="chooser")
    await db.commit()
    await login(client, "chooser")
    page = await client.get("/notifications/preferences")
    assert page.status_code == 200 and 'name="kind_reply" value="email" checked' in page.text
    choices = {f"kind_{k}": "app" for k in
               ("mention", "quote", "reply", "post", "reaction", "message", "moderation", "rank")}  # fmt: skip
    bad = await post_form(client, "/notifications/preferences",
                          {**choices, "kind_reply": "carrier-pigeon", "kind_quote": "off",
                           "category_digest": "daily"}, "/notifications/preferences")  # fmt: skip
    assert bad.status_code == 400 and "Choose one of the options." in bad.text
    assert 'name="kind_quote" value="off" checked' in bad.text  # what was chosen is kept
    assert (
        await db.scalar(
            select(NotificationPreference).where(NotificationPreference.user_id == member.id)
        )
        is None
    )
    ok = await post_form(client, "/notifications/preferences",
                         {**choices, "kind_reply": "off", "category_digest": "daily"},
                         "/notifications/preferences")  # fmt: skip
    assert ok.status_code == 303
    saved = dict(
        (await db.execute(select(NotificationPreference.kind, NotificationPreference.delivery).where(
            NotificationPreference.user_id == member.id))).all()
    )  # fmt: skip
    assert saved["reply"] == "off" and saved["mention"] == "app"
    record = await db.get(NotificationSettings, member.id, populate_existing=True)
    assert record is not None and record.auto_track is False and record.category_digest == "daily"
    # A programme lead's notices are offered to those who may lead only; the others' choice
    # for them is kept as it was.
    assert saved["programme_lead"] == "email" and "Programmes you lead" not in ok.text
    assert "Programmes you lead" not in (await client.get("/notifications/preferences")).text
    await make_user(db, settings, username="leader_l", role="programme_lead")
    await db.commit()
    client.cookies.clear()
    await login(client, "leader_l")
    assert "Programmes you lead" in (await client.get("/notifications/preferences")).text


async def test_watching_controls_on_thread_and_category_pages(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="watchful")
    starter = await make_user(db, settings, username="starter_w")
    category = await make_category(db)
    staff_room = await make_category(db)
    staff_room.staff_only = True
    thread, _ = await make_thread(db, settings, starter, category)
    hidden_thread, _ = await make_thread(db, settings, starter, staff_room)
    await db.commit()
    anonymous = await client.get(f"/t/{thread.id}")
    assert "watch-level" not in anonymous.text
    # Its author tracks a thread from the moment they write it.
    await login(client, "starter_w")
    assert '<option value="tracking" selected>' in (await client.get(f"/t/{thread.id}")).text
    await login(client, "watchful")
    page = await client.get(f"/t/{thread.id}")
    assert f'action="/watch/t/{thread.id}"' in page.text
    assert '<option value="normal" selected>' in page.text
    r = await post_form(client, f"/watch/t/{thread.id}", {"level": "watching"}, f"/t/{thread.id}")
    assert r.status_code == 303
    watched = (await client.get(f"/t/{thread.id}")).text
    assert '<option value="watching" selected>' in watched
    # The level is named above the posts, its control below them (at the top it pushed the
    # first post below the fold on a phone).
    first_post = watched.index('class="post')
    assert watched.index('href="#watch-level"') < first_post < watched.index('id="watch-level"')
    assert "Notifications: Watching</a>" in watched
    bad = await post_form(client, f"/watch/t/{thread.id}", {"level": "loud"}, f"/t/{thread.id}")
    assert bad.status_code == 400
    # A thread the member may not see: 404, nothing stored.
    token = await csrf_token(client, "/")
    none = await client.post(
        f"/watch/t/{hidden_thread.id}", data={"level": "watching", "csrftoken": token}
    )
    assert none.status_code == 404
    none = await client.post(
        f"/watch/c/{staff_room.slug}", data={"level": "watching", "csrftoken": token}
    )
    assert none.status_code == 404
    cat = await client.get(f"/c/{category.slug}")
    assert f'action="/watch/c/{category.slug}"' in cat.text
    r = await post_form(
        client, f"/watch/c/{category.slug}", {"level": "muted"}, f"/c/{category.slug}"
    )
    assert r.status_code == 303
    assert '<option value="muted" selected>' in (await client.get(f"/c/{category.slug}")).text
    levels = {
        (w.thread_id, w.level)
        for w in await db.scalars(select(ThreadWatch).where(ThreadWatch.user_id == member.id))
    }
    assert levels == {(thread.id, "watching")}
    cats = [(w.category_id, w.level) for w in await db.scalars(select(CategoryWatch))]
    assert cats == [(category.id, "muted")]


async def test_changes_are_rate_limited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="clicker")
    await db.commit()
    settings.notify_changes_per_minute = 3
    await login(client, "clicker")
    token = await csrf_token(client, "/notifications")
    codes = [
        (await client.post("/notifications/read-all", data={"csrftoken": token})).status_code
        for _ in range(4)
    ]
    assert codes == [303, 303, 303, 429]


async def test_member_text_in_the_list_is_escaped(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    target = await make_user(db, settings, username="target")
    writer = await make_user(db, settings)
    payload = '<img src=x onerror=alert(1)>"><script>alert(1)</script>'
    await make_thread(db, settings, writer, await make_category(db), title=f"Hi {payload}"[:200],
                      body=f"@target {FRIENDLY}")  # fmt: skip
    await settle(settings, database)
    assert target.id
    await login(client, "target")
    page = await client.get("/notifications")
    assert "mentioned you" in page.text
    assert payload not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_a_notification_leaves_the_list_when_its_post_is_hidden(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    from sqlalchemy import update

    from forum.board.models import Post

    junior, senior, thread, replies = await _mentioned(db, database, settings, times=2)
    await db.execute(update(Post).where(Post.id == replies[0].id).values(moderation_state="hidden"))
    await db.commit()
    await login(client, "junior")
    page = await client.get("/notifications")
    assert page.text.count("senior mentioned you") == 1
    # The group of two is shown as the one post the member may still see, leading to it.
    assert f'href="/p/{replies[1].id}"' in page.text
    assert f'href="/p/{replies[0].id}"' not in page.text
    # Opening it recounts the bell as the list shows it: none left.
    shown = await db.scalar(select(Notification.id).where(Notification.recipient_id == junior.id))
    opened = await post_form(client, f"/notifications/{shown}/open", {}, "/notifications")
    assert opened.headers["location"] == f"/p/{replies[1].id}"
    assert BELL.search((await client.get("/")).text).group(1) is None  # type: ignore[union-attr]


async def test_a_page_lists_the_threads_and_forums_a_member_watches(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The newcomer probe found no page listing the threads it watched."""
    member = await make_user(db, settings, username="listful")
    category = await make_category(db)
    staff_room = await make_category(db)
    staff_room.staff_only = True
    watched, _ = await make_thread(db, settings, member, category, title="A watched thread")
    muted, _ = await make_thread(db, settings, member, category, title="A muted thread")
    normal, _ = await make_thread(db, settings, member, category, title="A normal thread")
    hidden, _ = await make_thread(db, settings, member, staff_room, title="A staff thread")
    for thread, level in ((watched, "watching"), (muted, "muted"), (normal, "normal"),
                          (hidden, "watching")):  # fmt: skip
        await set_thread_level(db, member.id, thread.id, Level(level))
    db.add(CategoryWatch(user_id=member.id, category_id=category.id, level="watching"))
    await db.commit()
    assert (await client.get("/notifications/watching")).status_code in (302, 303)
    await login(client, "listful")
    page = (await client.get("/notifications/watching")).text
    assert "A watched thread" in page and "A muted thread" in page
    assert "A normal thread" not in page  # Normal is no watch at all
    assert "A staff thread" not in page  # a forum the member may not see
    assert f'action="/watch/c/{category.slug}"' in page
    assert 'href="/notifications/watching"' in (await client.get("/notifications")).text
    # Set back to Normal from the list: it leaves the list, and the member stays on it.
    back = await post_form(client, f"/watch/t/{muted.id}",
                           {"level": "normal", "next": "/notifications/watching"},
                           "/notifications/watching")  # fmt: skip
    assert back.status_code == 303 and back.headers["location"] == "/notifications/watching"
    assert "A muted thread" not in (await client.get("/notifications/watching")).text
    # A next outside the site is not followed.
    away = await post_form(client, f"/watch/t/{watched.id}",
                           {"level": "watching", "next": "https://evil.example/"},
                           "/notifications/watching")  # fmt: skip
    assert away.headers["location"] == f"/t/{watched.id}"
