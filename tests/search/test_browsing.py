"""Search with an author and no words (that member's posts, newest first, with every rule a
search applies), dates the wrong way round, and "Did you mean" for joined words."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.services import publish
from forum.board.posting import create_reply
from forum.core.db import utcnow
from forum.core.settings import Settings
from forum.search.suggest import suggest
from tests.helpers import login, make_category, make_thread, make_user

SECRETS = ("Held heron", "Hidden hare", "Deleted dodo", "Staff stoat", "Premod puffin")


async def _history(db: AsyncSession, settings: Settings) -> dict[str, object]:
    """An author with visible posts and one of each kind nobody else may see."""
    author = await make_user(db, settings, username="prolific")
    await make_user(db, settings, username="reader")
    await make_user(db, settings, username="browsemod", role="moderator")
    public = await make_category(db, "Open forum")
    other = await make_category(db, "Other forum")
    staff = await make_category(db, "Staff room")
    staff.staff_only = True
    thread, _ = await make_thread(db, settings, author, public, title="Visible vole", body="one")
    reply = await create_reply(db, settings, author, thread, "A later reply about voles")
    await make_thread(db, settings, author, other, title="Other otter", body="two")
    _, held = await make_thread(db, settings, author, public, title="Held heron", body="x")
    held[0].moderation_state = "held"
    _, hidden = await make_thread(db, settings, author, public, title="Hidden hare", body="x")
    hidden[0].moderation_state = "hidden"
    gone, _ = await make_thread(db, settings, author, public, title="Deleted dodo", body="x")
    gone.is_deleted = True
    await make_thread(db, settings, author, staff, title="Staff stoat", body="x")
    author.premoderated = True
    await make_thread(db, settings, author, public, title="Premod puffin", body="x")
    author.premoderated = False
    # Someone else's post, which an author listing never shows.
    bystander = await make_user(db, settings, username="bystander")
    await make_thread(db, settings, bystander, public, title="Bystander badger", body="x")
    await db.commit()
    return {"public": public, "other": other, "reply": reply}


async def test_an_author_alone_lists_their_visible_posts_newest_first(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await _history(db, settings)
    r = await client.get("/search", params={"q": "", "author": "Prolific"})
    assert r.status_code == 200, r.text
    assert "3 posts by Prolific, newest first" in r.text
    body = r.text.split("<main")[1]
    for title in ("Visible vole", "Other otter"):
        assert title in body
    for secret in (*SECRETS, "Bystander badger"):
        assert secret not in body, secret
    # Newest first: the thread written last, then the reply, then the thread it answers.
    assert body.index("Other otter") < body.index("A later reply about voles")
    assert body.index("A later reply about voles") < body.index('<p class="snippet">one</p>')
    # The other filters still apply.
    cat = await client.get(
        "/search", params={"q": "", "author": "prolific", "category": "other-forum"}
    )
    assert "1 post by" in cat.text and "Other otter" in cat.text and "Visible vole" not in cat.text
    future = (utcnow() + timedelta(days=2)).date().isoformat()
    none = await client.get("/search", params={"q": "", "author": "prolific", "from": future})
    assert none.status_code == 200 and "prolific has no posts here with these filters" in none.text
    # Without an author, an empty query is still refused.
    assert (await client.get("/search", params={"q": ""})).status_code == 400
    # A link with the author alone (no "q" at all) lists the same.
    alone = await client.get("/search", params={"author": "Prolific"})
    assert "3 posts by Prolific, newest first" in alone.text
    assert "3 posts by" not in (await client.get("/search")).text  # the empty form


async def test_an_author_listing_shows_each_reader_what_they_may_see(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await _history(db, settings)
    await login(client, "reader")
    r = await client.get("/search", params={"q": "", "author": "prolific"})
    for secret in SECRETS:
        assert secret not in r.text, secret
    await login(client, "prolific")  # their own held, hidden and pre-moderated posts
    own = await client.get("/search", params={"q": "", "author": "prolific"})
    for title in ("Held heron", "Hidden hare", "Premod puffin"):
        assert title in own.text, title
    assert "Deleted dodo" not in own.text and "Staff stoat" not in own.text
    await login(client, "browsemod")
    mod = await client.get("/search", params={"q": "", "author": "prolific"})
    assert "Staff stoat" in mod.text and "Held heron" in mod.text


async def test_an_author_listing_pages_and_includes_articles(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    editor = await make_user(db, settings, username="writer_w", role="editor")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, editor, category, title="Long thread", body="0")
    for i in range(25):
        await create_reply(db, settings, editor, thread, f"Reply {i}")
    await publish(
        db, settings, editor, "Pairing guide", "A summary of the guide.", "Body of the guide."
    )
    await db.commit()
    first = await client.get("/search", params={"q": "", "author": "writer_w"})
    assert "27 posts by writer_w" in first.text and "Page 1 of 2" in first.text
    link = re.search(r'href="(/search\?[^"]+page=2)"', first.text)
    assert link is not None
    second = await client.get(link.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "Page 2 of 2" in second.text
    assert "Pairing guide" in first.text  # written last


async def test_unknown_and_unconfirmed_authors_are_nobody(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    pending = await make_user(db, settings, username="pending_pete")
    pending.email_confirmed_at = None
    await db.commit()
    for name in ("pending_pete", "nobody_at_all", "x" * 500, "'; DROP TABLE users; --"):
        r = await client.get("/search", params={"q": "", "author": name})
        assert r.status_code == 400 and "no member called" in r.text, name
    # The start of a member's name suggests it (a newcomer probe typed "margaret" for
    # margaret_hr); an unconfirmed account's never.
    await make_user(db, settings, username="margaret_hr2")
    await db.commit()
    near = await client.get("/search", params={"q": "", "author": "Margaret"})
    assert near.status_code == 400 and "Did you mean margaret_hr2?" in near.text
    unconfirmed = await client.get("/search", params={"q": "", "author": "pending"})
    assert "pending_pete" not in unconfirmed.text


async def test_dates_the_wrong_way_round_are_named(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await _history(db, settings)
    for q in ("vole", ""):
        r = await client.get(
            "/search",
            params={"q": q, "author": "prolific", "from": "2026-03-01", "to": "2026-01-31"},
        )
        assert r.status_code == 400 and "wrong way round" in r.text, q
        assert "Nothing matched" not in r.text
    same = await client.get(
        "/search", params={"q": "vole", "from": "2026-01-31", "to": "2026-01-31"}
    )
    assert same.status_code == 200


async def test_joined_words_are_not_corrected_piece_by_piece(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, backend: str
) -> None:
    author = await make_user(db, settings)
    await make_thread(db, settings, author, await make_category(db), title="Group work",
                      body="Our group worked on it; each worker met their mentor.")  # fmt: skip
    await db.commit()
    dialect = "postgresql" if backend == "postgresql" else "sqlite"
    for typed in ("grown-ups", "co-worker", "co-workers mentor"):
        assert await suggest(db, typed, dialect) is None, typed
        r = await client.get("/search", params={"q": typed})
        assert "Did you mean" not in r.text, typed
    # A lone typo beside a joined word is still corrected, the joined word kept as typed.
    assert await suggest(db, "grown-ups mentr", dialect) == "grown-ups mentor"
    # A correction that would find nothing either is not offered.
    r = await client.get("/search", params={"q": "grown-ups mentr"})
    assert "Did you mean" not in r.text
    r = await client.get("/search", params={"q": "mentr"})
    assert "Did you mean <a" in r.text
