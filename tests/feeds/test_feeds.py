"""Atom feeds: valid (parsed with feedparser), public content only, bounded, cached, and
announced on the pages."""

from __future__ import annotations

from typing import Any

import feedparser
import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.services import publish
from forum.board.models import ModerationState, Post
from forum.board.posting import create_reply, create_thread, set_post_state
from forum.core.db import utcnow
from forum.core.settings import Settings
from tests.helpers import login, make_category, make_user, parse_tags


async def _scored(db: AsyncSession) -> None:
    """The worker has scored every post so far (held and hidden ones keep their state)."""
    await db.execute(
        update(Post)
        .where(Post.moderation_state == ModerationState.pending.value)
        .values(needs_scoring=False, moderation_state=ModerationState.clear.value)
    )
    await db.execute(update(Post).values(needs_scoring=False))
    await db.commit()


async def _board(db: AsyncSession, settings: Settings) -> dict[str, Any]:
    author = await make_user(db, settings, username="writer")
    public = await make_category(db, "Open")
    staff = await make_category(db, "Staff room")
    staff.staff_only = True
    shown, first = await create_thread(
        db, settings, author, public, "Pairing <mentors> & juniors", "Opening **text**"
    )
    visible = await create_reply(db, settings, author, shown, "Visible reply Alpaca")
    hidden = await create_reply(db, settings, author, shown, "Hidden reply Bison")
    await set_post_state(db, hidden, ModerationState.hidden, "Hidden by a moderator")
    held = await create_reply(db, settings, author, shown, "Held reply Caribou")
    await set_post_state(db, held, ModerationState.held, "Held")
    deleted = await create_reply(db, settings, author, shown, "Deleted reply Dingo")
    deleted.is_deleted = True
    staff_thread, _s = await create_thread(db, settings, author, staff, "Staff Emu", "Emu body")
    author.premoderated = True
    held_thread, _h = await create_thread(db, settings, author, public, "Held Ferret", "Ferret")
    author.premoderated = False
    gone, _g = await create_thread(db, settings, author, public, "Deleted Gecko", "Gecko body")
    gone.is_deleted = True
    await _scored(db)
    # Written after the worker's last pass: not scored yet, so not syndicated yet.
    await create_reply(db, settings, author, shown, "Unscored reply Heron")
    await db.commit()
    return {"public": public, "staff": staff, "shown": shown, "first": first,
            "visible": visible, "staff_thread": staff_thread, "held_thread": held_thread,
            "gone": gone}  # fmt: skip


SECRETS = ("Bison", "Caribou", "Dingo", "Emu", "Ferret", "Gecko", "Heron")


def _parse(response: httpx.Response) -> Any:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


async def test_feeds_parse_and_hold_only_public_scored_posts(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    board = await _board(db, settings)
    moderator = await make_user(db, settings, role="moderator")
    await db.commit()
    await login(client, moderator.username)  # feeds show the public view, whoever asks
    shown = board["shown"]
    for path in (
        "/latest.atom",
        f"/c/{board['public'].slug}/feed.atom",
        f"/t/{shown.id}/feed.atom",
    ):
        feed = _parse(await client.get(path))
        text = feed.feed.title + "".join(
            e.title + e.content[0].value + e.author for e in feed.entries
        )
        assert "Alpaca" in text, path
        for secret in SECRETS:
            assert secret not in text, (path, secret)
        links = {e.link for e in feed.entries}
        assert f"http://testserver/p/{board['visible'].id}" in links
        opening = next(e for e in feed.entries if e.link.endswith(f"/p/{board['first'].id}"))
        assert opening.title == "Pairing <mentors> & juniors"
        replies = [e for e in feed.entries if e is not opening]
        assert replies and all(e.title == "Re: Pairing <mentors> & juniors" for e in replies)
        assert "<strong>text</strong>" in opening.content[0].value


async def test_feeds_of_what_visitors_cannot_see_are_404(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    board = await _board(db, settings)
    for path in (
        f"/c/{board['staff'].slug}/feed.atom",
        f"/t/{board['staff_thread'].id}/feed.atom",
        f"/t/{board['held_thread'].id}/feed.atom",
        f"/t/{board['gone'].id}/feed.atom",
        "/c/no-such-category/feed.atom",
        "/t/999999/feed.atom",
    ):
        assert (await client.get(path)).status_code == 404, path


async def test_feeds_are_bounded_and_cached(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    settings.feed_entries = 3
    settings.cache_seconds = 60
    author = await make_user(db, settings)
    category = await make_category(db)
    thread, _first = await create_thread(db, settings, author, category, "Many posts", "one")
    replies = [await create_reply(db, settings, author, thread, f"reply {n}") for n in range(5)]
    newest_id = replies[-1].id
    await _scored(db)
    feed = _parse(await client.get("/latest.atom"))
    assert [e.content[0].value for e in feed.entries] == [
        "<p>reply 4</p>",
        "<p>reply 3</p>",
        "<p>reply 2</p>",
    ]
    # The kept copy is served while its posts are as they were (no new post shows yet) ...
    await create_reply(db, settings, author, thread, "reply 5")
    await _scored(db)
    assert "reply 5" not in (await client.get("/latest.atom")).text
    # ... and dropped as soon as one of them is hidden, edited or its thread removed.
    newest = await db.get(Post, newest_id)
    assert newest is not None
    await set_post_state(db, newest, ModerationState.hidden, "Hidden")
    await db.commit()
    text = (await client.get("/latest.atom")).text
    assert "reply 4" not in text and "reply 5" in text
    older = await db.get(Post, replies[2].id)
    assert older is not None
    older.body_html, older.edited_at = "<p>reply two, edited</p>", utcnow()
    await db.commit()
    thread_feed = (await client.get(f"/t/{thread.id}/feed.atom")).text
    assert "reply two, edited" in thread_feed
    assert "reply two, edited" in (await client.get("/latest.atom")).text
    thread.is_deleted = True
    await db.commit()
    assert (await client.get(f"/t/{thread.id}/feed.atom")).status_code == 404
    assert "reply" not in (await client.get("/latest.atom")).text


async def test_control_characters_keep_the_feed_valid(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    category = await make_category(db)
    thread, _first = await create_thread(db, settings, author, category, "Odd\x0btitle", "body")
    await _scored(db)
    feed = _parse(await client.get(f"/t/{thread.id}/feed.atom"))
    assert feed.entries and "\x0b" not in feed.entries[0].title


async def test_pages_announce_their_feeds(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    board = await _board(db, settings)

    def feeds(html: str) -> set[str]:
        return {
            dict(attrs)["href"] or ""
            for tag, attrs in parse_tags(html)
            if tag == "link" and dict(attrs).get("type") == "application/atom+xml"
        }

    assert feeds((await client.get("/")).text) == {"/latest.atom"}
    slug = board["public"].slug
    assert feeds((await client.get(f"/c/{slug}")).text) == {"/latest.atom", f"/c/{slug}/feed.atom"}
    shown = board["shown"].id
    assert f"/t/{shown}/feed.atom" in feeds((await client.get(f"/t/{shown}")).text)
    assert feeds((await client.get("/articles")).text) == {"/latest.atom", "/articles.atom"}


async def test_the_articles_feed_lists_the_newest_articles_kept_until_one_changes(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    settings.feed_entries = 2
    settings.cache_seconds = 60
    editor = await make_user(db, settings, username="feed_editor", role="editor")
    older = await publish(
        db, settings, editor, "Pairing well", "How to pair mentors well.", "Pair **well**."
    )
    newer = await publish(db, settings, editor, "Listening up", "Hear what juniors say.", "Listen.")
    gone = await publish(
        db, settings, editor, "Withdrawn piece", "Withdrawn by its editor.", "Gone body."
    )
    gone.is_deleted = True
    await db.commit()
    feed = _parse(await client.get("/articles.atom"))
    assert [e.title for e in feed.entries] == ["Listening up", "Pairing well"]
    assert feed.entries[1].link.endswith(f"/articles/{older.id}")
    assert "<strong>well</strong>" in feed.entries[1].content[0].value
    assert feed.entries[0].author == "feed_editor"
    # Kept while its articles are as they were; a new one, an edit or a deletion shows at once.
    newest = await publish(
        db, settings, editor, "Reverse mentoring", "Mentoring upward, in practice.", "Up."
    )
    await db.commit()
    assert [e.title for e in _parse(await client.get("/articles.atom")).entries] == [
        "Reverse mentoring",
        "Listening up",
    ]
    newer.title, newer.updated_at = "Listening up, edited", utcnow()
    await db.commit()
    assert "Listening up, edited" in (await client.get("/articles.atom")).text
    newest.is_deleted = True
    await db.commit()
    titles = [e.title for e in _parse(await client.get("/articles.atom")).entries]
    assert titles == ["Listening up, edited", "Pairing well"]


async def test_a_reader_with_the_current_feed_gets_304(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    thread, _first = await create_thread(db, settings, author, await make_category(db), "Tea", "b")
    await _scored(db)
    first = await client.get("/latest.atom")
    etag = first.headers["etag"]
    again = await client.get("/latest.atom", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    await create_reply(db, settings, author, thread, "news")
    await _scored(db)
    changed = await client.get("/latest.atom", headers={"if-none-match": etag})
    assert changed.status_code == 200 and "news" in changed.text
