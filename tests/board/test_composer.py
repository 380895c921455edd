"""The composer: a refused post keeps its text; Preview renders on the server; drafts are kept
per member per thread (and per category for a new thread), for their owner only."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.services import publish
from forum.board.models import Draft, Post, Thread
from forum.core.db import utcnow
from forum.core.settings import Settings
from tests.helpers import CSRF_RE, login, make_category, make_thread, make_user

TYPED = "A long reply I typed with care about *pairing* mentors."


async def _token(client: httpx.AsyncClient, path: str = "/") -> str:
    match = CSRF_RE.search((await client.get(path)).text)
    assert match
    return match.group(1)


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={**data, "csrftoken": await _token(client)})


async def _drafts(db: AsyncSession) -> list[Draft]:
    fresh = select(Draft).order_by(Draft.id).execution_options(populate_existing=True)
    return list((await db.scalars(fresh)).all())


# --- refusals keep the text ----------------------------------------------------------------


async def test_a_rate_limited_reply_and_thread_come_back_with_the_text(
    app, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    app.state.settings = settings.model_copy(update={"posts_max_per_minute": 1})
    author = await make_user(db, settings, username="speedy")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, author, category)
    await login(client, "speedy")
    assert (await _post(client, f"/t/{thread.id}/reply", {"body": "first"})).status_code == 303
    r = await _post(client, f"/t/{thread.id}/reply", {"body": TYPED})
    assert r.status_code == 429
    assert "posting very quickly" in r.text and f">{TYPED}</textarea>" in r.text
    assert 'action="/t/' in r.text  # the form, not the bare error page
    r = await _post(client, f"/c/{category.slug}/new", {"title": "My new title", "body": TYPED})
    assert r.status_code == 429 and f">{TYPED}</textarea>" in r.text
    assert 'value="My new title"' in r.text


async def test_suspended_and_locked_refusals_keep_the_text_with_403(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="susie")
    category = await make_category(db)
    thread, posts = await make_thread(db, settings, author, category)
    await login(client, "susie")
    token = await _token(client)
    author.status = "suspended"
    author.suspended_until = utcnow() + timedelta(days=1)
    await db.commit()
    for path, data in [
        (f"/t/{thread.id}/reply", {"body": TYPED}),
        (f"/c/{category.slug}/new", {"title": "A title here", "body": TYPED}),
        (f"/p/{posts[0].id}/edit", {"body": TYPED, "title": "A title here"}),
    ]:
        r = await client.post(path, data={**data, "csrftoken": token})
        assert r.status_code == 403, path
        assert "suspended" in r.text and f">{TYPED}</textarea>" in r.text, path
    author.status = "active"
    author.suspended_until = None
    thread.is_locked = True
    await db.commit()
    r = await client.post(f"/p/{posts[0].id}/edit", data={"body": TYPED, "csrftoken": token})
    assert r.status_code == 403 and "locked" in r.text and f">{TYPED}</textarea>" in r.text
    await db.refresh(posts[0])
    assert posts[0].body_source == "We have 20 mentees."  # nothing changed


async def test_invalid_input_keeps_the_other_fields(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="ivy")
    category = await make_category(db)
    await db.commit()
    await login(client, "ivy")
    r = await _post(client, f"/c/{category.slug}/new", {"title": "ab", "body": TYPED})
    assert r.status_code == 400 and "at least 3 characters" in r.text
    assert f">{TYPED}</textarea>" in r.text


# --- preview ---------------------------------------------------------------------------------


async def test_preview_renders_on_the_server_and_posts_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="pia")
    category = await make_category(db)
    thread, posts = await make_thread(db, settings, author, category)
    await login(client, "pia")
    before = await db.scalar(select(func.count(Post.id)))
    body = "Some **bold** words, a link https://example.org and <script>alert(1)</script>"
    r = await _post(client, f"/t/{thread.id}/reply", {"body": body, "preview": "1"})
    assert r.status_code == 200
    assert "<strong>bold</strong>" in r.text
    assert '<a href="https://example.org" rel="nofollow noopener ugc">' in r.text
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in r.text  # the text, kept
    # @mentions of members link as they will once posted; an unknown name stays text.
    await make_user(db, settings, username="quill")
    await db.commit()
    r = await _post(
        client, f"/t/{thread.id}/reply", {"body": "@quill and @nobody_here", "preview": "1"}
    )
    assert '<a href="/u/quill" rel="nofollow noopener ugc">@quill</a>' in r.text
    assert 'href="/u/nobody_here"' not in r.text
    r = await _post(
        client, f"/c/{category.slug}/new", {"title": "Preview me", "body": "*hi*", "preview": "1"}
    )
    assert r.status_code == 200 and "<em>hi</em>" in r.text and 'value="Preview me"' in r.text
    r = await _post(client, f"/p/{posts[0].id}/edit", {"body": "New *text*", "preview": "1"})
    assert r.status_code == 200 and "<em>text</em>" in r.text and ">New *text*</textarea>" in r.text
    assert await db.scalar(select(func.count(Post.id))) == before
    await db.refresh(posts[0])
    assert posts[0].body_source == "We have 20 mentees."
    # Preview without JavaScript also keeps the draft (not for edits).
    assert {(d.thread_id, d.category_id) for d in await _drafts(db)} == {
        (thread.id, None),
        (None, category.id),
    }


async def test_a_text_too_long_to_post_gets_its_error_and_no_preview(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A tester's Preview of a 20,001-character body answered 400 yet rendered the text
    anyway. Now the form comes back with the reason and the text, and no preview of it, on
    every composer with a Preview (reply, new thread, edit, an article's comment)."""
    author = await make_user(db, settings, username="long_lou")
    editor = await make_user(db, settings, username="long_ed", role="editor")
    category = await make_category(db)
    thread, posts = await make_thread(db, settings, author, category)
    article = await publish(db, settings, editor, "An article", "Its summary, long enough.", "B")
    await db.commit()
    await login(client, "long_lou")
    body = "**bold** " + "x" * (settings.body_max + 1 - len("**bold** "))
    assert len(body) == 20_001
    for path, data in [
        (f"/t/{thread.id}/reply", {"body": body, "preview": "1"}),
        (f"/c/{category.slug}/new", {"title": "A title", "body": body, "preview": "1"}),
        (f"/p/{posts[0].id}/edit", {"body": body, "preview": "1"}),
        (f"/articles/{article.id}/comments", {"body": body, "preview": "1"}),
    ]:
        r = await _post(client, path, data)
        assert r.status_code == 400, path
        assert "at most 20,000 characters (this has 20,001)" in r.text, path
        assert 'id="preview-heading"' not in r.text and "<strong>bold</strong>" not in r.text, path
        assert f">{body}</textarea>" in r.text, path  # the text kept in the form
        assert 'aria-invalid="true" aria-describedby="body-error"' in r.text, path
    # A title past its limit is not previewed either; the body still is not posted.
    long_title = "T" * (settings.title_max + 1)
    r = await _post(
        client, f"/c/{category.slug}/new", {"title": long_title, "body": "*hi*", "preview": "1"}
    )
    assert r.status_code == 400 and "Titles can have at most 150 characters." in r.text
    assert 'id="preview-heading"' not in r.text and f'value="{long_title}"' in r.text
    # Nothing was posted or kept as a draft; a text within the limit is previewed as before.
    assert await db.scalar(select(func.count(Post.id))) == len(posts)
    assert await _drafts(db) == []
    ok = await _post(client, f"/t/{thread.id}/reply", {"body": body[:-1], "preview": "1"})
    assert ok.status_code == 200 and "<strong>bold</strong>" in ok.text


# --- drafts ---------------------------------------------------------------------------------


async def test_a_saved_draft_is_restored_and_deleted_when_posted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="dora")
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    await login(client, "dora")
    r = await _post(client, f"/t/{thread.id}/reply", {"body": TYPED, "save_draft": "1"})
    assert r.status_code == 200 and "Draft saved." in r.text
    assert f">{TYPED}</textarea>" in (await client.get(f"/t/{thread.id}/reply")).text
    assert f">{TYPED}</textarea>" in (await client.get(f"/t/{thread.id}")).text  # quick reply
    # Quoting a post adds the quote after the draft.
    quoting = (await client.get(f"/t/{thread.id}/reply?quote={posts[0].id}")).text
    assert TYPED in quoting and "**dora** wrote" in quoting
    assert await db.scalar(select(func.count(Post.id))) == 1
    r = await _post(client, f"/t/{thread.id}/reply", {"body": TYPED})
    assert r.status_code == 303
    assert await _drafts(db) == []
    assert TYPED not in (await client.get(f"/t/{thread.id}/reply")).text


async def test_new_thread_drafts_keep_title_and_body_per_category(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="nina")
    one, two = await make_category(db), await make_category(db)
    await db.commit()
    await login(client, "nina")
    r = await _post(client, f"/c/{one.slug}/new", {"title": "", "body": TYPED, "save_draft": "1"})
    assert r.status_code == 200
    await _post(client, f"/c/{one.slug}/draft", {"title": "Half a title", "body": TYPED})
    page = (await client.get(f"/c/{one.slug}/new")).text
    assert 'value="Half a title"' in page and f">{TYPED}</textarea>" in page
    assert TYPED not in (await client.get(f"/c/{two.slug}/new")).text
    r = await _post(client, f"/c/{one.slug}/new", {"title": "Half a title", "body": TYPED})
    assert r.status_code == 303
    assert await _drafts(db) == []
    assert await db.scalar(select(func.count(Thread.id))) == 1


async def test_drafts_are_seen_by_their_owner_only(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="owen")
    await make_user(db, settings, username="other")
    await make_user(db, settings, username="modo", role="moderator")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, author, category)
    await login(client, "owen")
    secret = "My private half-typed reply"
    r = await _post(client, f"/t/{thread.id}/draft", {"body": secret})
    assert r.status_code == 200 and r.json() == {"saved": True}
    await _post(client, f"/c/{category.slug}/draft", {"title": "Secret title", "body": secret})
    for viewer in ("other", "modo", None):
        client.cookies.clear()
        if viewer:
            await login(client, viewer)
        for path in (f"/t/{thread.id}", f"/t/{thread.id}/reply", f"/c/{category.slug}/new",
                     f"/c/{category.slug}", "/", "/u/owen", "/search?q=private"):  # fmt: skip
            text = (await client.get(path)).text
            assert secret not in text and "Secret title" not in text, (viewer, path)
    # Another member's save makes a draft of their own and leaves the owner's alone.
    await login(client, "other")
    await _post(client, f"/t/{thread.id}/draft", {"body": "Mine"})
    assert sorted(d.body for d in await _drafts(db)) == ["Mine", secret, secret]


async def test_drafts_are_size_capped_rate_limited_and_bounded_in_number(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    # Limits count in fixed windows: one instant, so the test never straddles a new minute.
    from forum.core import ratelimit

    now = utcnow()
    monkeypatch.setattr(ratelimit, "utcnow", lambda: now)
    app.state.settings = settings.model_copy(
        update={"drafts_max_per_minute": 3, "drafts_max_per_member": 2, "body_max": 100}
    )
    author = await make_user(db, settings, username="cap")
    category = await make_category(db)
    threads = [
        (await make_thread(db, settings, author, category, title=f"T {i}"))[0] for i in range(3)
    ]
    await login(client, "cap")
    r = await _post(client, f"/t/{threads[0].id}/draft", {"body": "x" * 101})
    assert r.status_code == 400 and await _drafts(db) == []
    r = await _post(client, f"/t/{threads[0].id}/reply", {"body": "y" * 101, "save_draft": "1"})
    assert r.status_code == 400 and "not saved" in r.text and "y" * 101 in r.text
    for thread in threads:
        assert (await _post(client, f"/t/{thread.id}/draft", {"body": "z"})).status_code == 200
    # Two drafts kept: the oldest went.
    assert [d.thread_id for d in await _drafts(db)] == [threads[1].id, threads[2].id]
    r = await _post(client, f"/t/{threads[0].id}/draft", {"body": "again"})
    assert r.status_code == 429
    # Preview still shows the post, and says the draft was not kept, with the text.
    r = await _post(client, f"/t/{threads[0].id}/reply", {"body": "again *now*", "preview": "1"})
    assert r.status_code == 429 and "<em>now</em>" in r.text and "not saved" in r.text
    assert ">again *now*</textarea>" in r.text
    # An empty draft is no draft.
    app.state.settings = settings
    await _post(client, f"/t/{threads[2].id}/draft", {"body": "  "})
    assert [d.thread_id for d in await _drafts(db)] == [threads[1].id]


@pytest.mark.parametrize("kind", ["hidden thread", "staff category", "anonymous"])
async def test_no_draft_where_the_member_cannot_post(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, kind: str
) -> None:
    author = await make_user(db, settings, username="held_author")
    await make_user(db, settings, username="someone")
    category = await make_category(db)
    staff = await make_category(db)
    staff.staff_only = True
    author.premoderated = True
    held, _ = await make_thread(db, settings, author, category)
    await db.commit()
    if kind != "anonymous":
        await login(client, "someone")
    token = await _token(client, "/login")
    path = {
        "hidden thread": f"/t/{held.id}/draft",
        "staff category": f"/c/{staff.slug}/draft",
        "anonymous": f"/t/{held.id}/draft",
    }[kind]
    r = await client.post(path, data={"body": "x", "csrftoken": token})
    assert r.status_code == (401 if kind == "anonymous" else 404)
    assert await _drafts(db) == []
