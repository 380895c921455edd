"""Read marks, the jump to the first unread post, unread counts in listings, and the
/latest, /new and /unread lists (with the one visibility rule and the muted-filter plug)."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board import lists
from forum.board.models import ModerationState, Thread
from forum.board.posting import create_reply, create_thread, set_post_state
from forum.board.reading import ReadMarks, ThreadRead
from forum.core.db import Database
from forum.core.settings import Settings
from tests.conftest import QueryCounter
from tests.helpers import login, make_category, make_thread, make_user


async def _mark(db: AsyncSession, user_id: int, thread_id: int) -> int | None:
    found: int | None = await db.scalar(
        select(ThreadRead.post_id).where(
            ThreadRead.user_id == user_id, ThreadRead.thread_id == thread_id
        )
    )
    return found


async def test_a_mark_is_seen_while_it_is_being_written(
    db: AsyncSession, settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page served while a batch is being written (slow on a busy machine) still finds the
    member's mark: it stays pending until written, and one that moved on meanwhile stays."""
    from forum.board import reading

    reader = await make_user(db, settings)
    thread, posts = await make_thread(db, settings, reader, await make_category(db), replies=3)
    marks = ReadMarks()
    marks.mark(reader.id, thread.id, posts[1].id)
    seen: list[Any] = []
    write = reading.write_marks

    async def slow_write(session: AsyncSession, batch: dict[Any, int]) -> None:
        seen.append((marks.mark_for(reader.id, thread.id), marks.pending_for(reader.id)))
        marks.mark(reader.id, thread.id, posts[3].id)  # read further meanwhile
        await write(session, batch)

    monkeypatch.setattr(reading, "write_marks", slow_write)
    assert await marks.flush(database) == 1
    assert seen == [(posts[1].id, {thread.id: posts[1].id})]
    assert await _mark(db, reader.id, thread.id) == posts[1].id
    assert marks.pending == {(reader.id, thread.id): posts[3].id}  # the later one waits
    monkeypatch.setattr(reading, "write_marks", write)
    assert await marks.flush(database) == 1
    assert marks.pending == {} and marks.mark_for(reader.id, thread.id) == posts[3].id
    assert await _mark(db, reader.id, thread.id) == posts[3].id


async def test_viewing_a_page_marks_its_last_post_read_only_forward(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    settings.posts_per_page = 2
    author = await make_user(db, settings)
    reader = await make_user(db, settings)
    thread, posts = await make_thread(db, settings, author, await make_category(db), replies=4)
    await login(client, reader.username)
    marks: ReadMarks = app.state.reads
    assert (await client.get(f"/t/{thread.id}?page=2")).status_code == 200
    assert marks.pending == {(reader.id, thread.id): posts[3].id}
    assert await marks.flush(database) == 1
    assert await _mark(db, reader.id, thread.id) == posts[3].id
    # Page 1 again: an earlier post, nothing to write (not even buffered).
    await client.get(f"/t/{thread.id}")
    assert marks.pending == {}
    # The last page moves it forward.
    await client.get(f"/t/{thread.id}?page=last")
    assert await marks.flush(database) == 1
    assert await _mark(db, reader.id, thread.id) == posts[4].id
    # A stale batch (from another process) never moves a mark back.
    stale = ReadMarks()
    stale.mark(reader.id, thread.id, posts[1].id)
    await stale.flush(database)
    assert await _mark(db, reader.id, thread.id) == posts[4].id
    # Visitors leave no marks.
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    await anonymous.get(f"/t/{thread.id}")
    assert marks.pending == {}


async def test_rereading_writes_nothing(
    app: Any,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    database: Database,
    queries: QueryCounter,
) -> None:
    author = await make_user(db, settings)
    reader = await make_user(db, settings)
    thread, _posts = await make_thread(db, settings, author, await make_category(db), replies=1)
    await login(client, reader.username)
    await client.get(f"/t/{thread.id}")
    await app.state.reads.flush(database)
    queries.start()
    await client.get(f"/t/{thread.id}")
    await app.state.reads.flush(database)
    statements = queries.stop()
    assert statements > 0
    assert not [s for s in queries.statements if "thread_reads" in s]


async def test_unread_link_lands_on_the_first_unread_post(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    settings.posts_per_page = 2
    author = await make_user(db, settings)
    reader = await make_user(db, settings)
    category = await make_category(db)
    thread, posts = await make_thread(db, settings, author, category, replies=2)
    await login(client, reader.username)
    # Never opened: the thread's start.
    response = await client.get(f"/t/{thread.id}/unread")
    assert response.headers["location"] == f"/t/{thread.id}"
    await client.get(f"/t/{thread.id}")  # reads posts 0 and 1
    await app.state.reads.flush(database)
    response = await client.get(f"/t/{thread.id}/unread")
    assert response.headers["location"] == f"/t/{thread.id}?page=2#p{posts[2].id}"
    # A hidden reply is skipped: the first unread post is the next one the reader may see.
    thread_row = await db.get(Thread, thread.id)
    assert thread_row is not None
    hidden = await create_reply(db, settings, author, thread_row, "hidden reply")
    await set_post_state(db, hidden, ModerationState.hidden, "Hidden")
    await db.commit()
    await client.get(f"/t/{thread.id}?page=2")  # reads post 2
    later = await create_reply(db, settings, author, thread_row, "a later reply")
    await db.commit()
    response = await client.get(f"/t/{thread.id}/unread")  # the mark is not written yet
    assert response.headers["location"] == f"/t/{thread.id}?page=2#p{later.id}"
    # Everything read: the last page.
    await client.get(f"/t/{thread.id}?page=last")
    response = await client.get(f"/t/{thread.id}/unread")
    assert response.headers["location"] == f"/t/{thread.id}?page=last"
    # A thread the viewer may not see is a 404, as its page is.
    author.premoderated = True
    secret, _first = await create_thread(db, settings, author, category, "Secret", "Held")
    await db.commit()
    assert (await client.get(f"/t/{secret.id}/unread")).status_code == 404


async def test_category_listing_links_to_unread_with_counts_in_one_query(
    app: Any,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    database: Database,
    queries: QueryCounter,
) -> None:
    author = await make_user(db, settings)
    reader = await make_user(db, settings)
    category = await make_category(db)
    read_thread, _p = await make_thread(db, settings, author, category, title="Read part")
    unopened, _q = await make_thread(db, settings, author, category, title="Never opened")
    await login(client, reader.username)
    await client.get(f"/t/{read_thread.id}")
    await app.state.reads.flush(database)
    thread_row = await db.get(Thread, read_thread.id)
    assert thread_row is not None
    for n in range(3):
        await create_reply(db, settings, author, thread_row, f"new reply {n}")
    await db.commit()
    page = (await client.get(f"/c/{category.slug}")).text
    assert f'href="/t/{read_thread.id}/unread"' in page
    assert "3 unread" in page
    assert f'href="/t/{unopened.id}"' in page and f"/t/{unopened.id}/unread" not in page
    # One query more than a visitor's page, however many threads are listed.
    queries.start()
    await client.get(f"/c/{category.slug}")
    member_queries = queries.stop()
    assert len([s for s in queries.statements if "thread_reads" in s]) == 1
    await make_thread(db, settings, author, category, title="A third")
    queries.start()
    await client.get(f"/c/{category.slug}")
    assert queries.stop() == member_queries


def _row(page: str, thread_id: int) -> str:
    """The listing's row for the thread: its markup."""
    rows = [r for r in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if f"/t/{thread_id}" in r]
    assert len(rows) == 1, rows
    return rows[0]


def _words(markup: str) -> str:
    """What the row says, to the eye and to a screen reader (visually hidden text too)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(markup)).split())


async def test_an_unread_row_says_its_title_once(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    """A tester's row read "What should ...? 1 unread in What should ...?": the count was a
    second link, named with the title again. Now one link, the count after it (and its
    description), in /unread and in the category's listing alike."""
    author = await make_user(db, settings)
    reader = await make_user(db, settings)
    category = await make_category(db)
    title = "What should the first mentoring meeting cover?"
    thread, _posts = await make_thread(db, settings, author, category, title=title)
    await login(client, reader.username)
    await client.get(f"/t/{thread.id}")
    await app.state.reads.flush(database)
    thread_row = await db.get(Thread, thread.id)
    assert thread_row is not None
    await create_reply(db, settings, author, thread_row, "One more thought")
    await db.commit()
    for path in ("/unread", f"/c/{category.slug}", "/latest"):
        row = _row((await client.get(path)).text, thread.id)
        cell = row[: row.index("</td>")]
        assert _words(cell).startswith(f"{title} 1 unread by "), (path, _words(cell))
        assert _words(row).count(title) == 1, path
        assert len(re.findall(r"<a [^>]*href=\"/t/", cell)) == 1, path  # one link to the thread
        link = re.search(
            r'<a class="title" href="/t/\d+/unread" aria-describedby="([\w-]+)">', cell
        )
        assert link, (path, cell)
        assert f'id="{link.group(1)}">1 unread</span>' in cell, path


async def test_lists_latest_new_unread(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    author = await make_user(db, settings)
    reader = await make_user(db, settings)
    category = await make_category(db)
    older, _a = await make_thread(db, settings, author, category, title="Older thread")
    newer, _b = await make_thread(db, settings, author, category, title="Newer thread")
    mine, _c = await make_thread(db, settings, reader, category, title="Reader's own")
    latest = (await client.get("/latest")).text
    assert latest.index("Reader&#39;s own") < latest.index("Newer thread") < latest.index("Older")
    await login(client, reader.username)
    new = (await client.get("/new")).text
    assert "Older thread" in new and "Newer thread" in new and "Reader&#39;s own" not in new
    await client.get(f"/t/{older.id}")
    await app.state.reads.flush(database)
    new = (await client.get("/new")).text
    assert "Older thread" not in new and "Newer thread" in new
    assert "Older thread" not in (await client.get("/unread")).text
    thread_row = await db.get(Thread, older.id)
    assert thread_row is not None
    await create_reply(db, settings, author, thread_row, "A reply after reading")
    await db.commit()
    unread = (await client.get("/unread")).text
    assert "Older thread" in unread and "Newer thread" not in unread
    assert f'href="/t/{older.id}/unread"' in unread
    await client.get(f"/t/{older.id}")  # read again, not written yet: out of the list at once
    assert "Older thread" not in (await client.get("/unread")).text
    await app.state.reads.flush(database)
    assert "Older thread" not in (await client.get("/unread")).text


async def test_new_and_unread_need_a_login(client: httpx.AsyncClient) -> None:
    for path in ("/new", "/unread"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("viewer", ["anonymous", "member", "moderator"])
async def test_lists_follow_the_visibility_rule(
    app: Any,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    database: Database,
    viewer: str,
) -> None:
    author = await make_user(db, settings, username="writer")
    member = await make_user(db, settings, username="reader")
    await make_user(db, settings, username="staffer", role="moderator")
    public = await make_category(db, "Open")
    staff = await make_category(db, "Staff room")
    staff.staff_only = True
    author.premoderated = True
    held, _h = await create_thread(db, settings, author, public, "Zanzibar held", "x")
    author.premoderated = False
    await create_thread(db, settings, author, staff, "Quokka staff-only", "x")
    shown, _s = await create_thread(db, settings, author, public, "Visible one", "x")
    deleted, _d = await create_thread(db, settings, author, public, "Yttrium deleted", "x")
    deleted.is_deleted = True
    # A member who opened the held thread before it was held must not see it in /unread.
    db.add(ThreadRead(user_id=member.id, thread_id=held.id, post_id=0))
    await db.commit()
    if viewer != "anonymous":
        await login(client, "reader" if viewer == "member" else "staffer")
    pages = ["/latest"] + (["/new", "/unread"] if viewer != "anonymous" else [])
    text = "".join([(await client.get(path)).text for path in pages])
    assert "Visible one" in text
    staff_sees = viewer == "moderator"
    assert ("Zanzibar held" in text) is staff_sees
    assert ("Quokka staff-only" in text) is staff_sees
    assert ("Yttrium deleted" in text) is staff_sees


async def test_muted_filter_plugs_into_every_list(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    author = await make_user(db, settings)
    reader = await make_user(db, settings)
    category = await make_category(db)
    muted, _m = await make_thread(db, settings, author, category, title="Muted thread")
    await make_thread(db, settings, author, category, title="Kept thread")
    seen: list[int] = []

    def mute(viewer_id: int, statement: Any) -> Any:
        seen.append(viewer_id)
        return statement.where(Thread.id != muted.id)

    lists.add_muted_filter(mute)
    try:
        await login(client, reader.username)
        for path in ("/latest", "/new"):
            text = (await client.get(path)).text
            assert "Kept thread" in text and "Muted thread" not in text, path
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as anonymous:
            text = (await anonymous.get("/latest")).text
        assert "Muted thread" in text  # visitors mute nothing
    finally:
        lists.MUTED_FILTERS.remove(mute)
    assert set(seen) == {reader.id}


async def test_header_and_home_link_the_lists(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    def header(page: str) -> str:
        return page[page.index('<header class="site') : page.index("</header>")]

    page = (await client.get("/")).text
    assert 'href="/latest"' in header(page) and 'href="/unread"' not in page
    member = await make_user(db, settings)
    await db.commit()
    await login(client, member.username)
    page = (await client.get("/")).text
    # A member has Latest in the header as a visitor does, and Unread beside it.
    assert 'href="/latest"' in header(page) and 'href="/unread"' in header(page)
    assert 'href="/latest"' in page and 'href="/new"' in page
    # (Staff, short of room, find Latest in the footer: tests/e2e/test_staff_layout.py.)
    footer = page[page.index('<footer class="site"') :]
    assert 'href="/latest"' in footer


async def test_lists_count_marks_not_written_yet(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    author = await make_user(db, settings)
    reader = await make_user(db, settings)
    thread, _posts = await make_thread(db, settings, author, await make_category(db), title="Fresh")
    await login(client, reader.username)
    assert "Fresh" in (await client.get("/new")).text
    await client.get(f"/t/{thread.id}")  # opened: the mark waits in the process's buffer
    assert "Fresh" not in (await client.get("/new")).text
    thread_row = await db.get(Thread, thread.id)
    assert thread_row is not None
    await create_reply(db, settings, author, thread_row, "A reply a second later")
    await create_reply(db, settings, author, thread_row, "And another")
    await db.commit()
    assert app.state.reads.pending  # nothing written yet, and still listed as unread
    unread = (await client.get("/unread")).text
    assert f'href="/t/{thread.id}/unread"' in unread and "2 unread" in unread
    assert await _mark(db, reader.id, thread.id) is None


async def test_a_mark_for_a_gone_thread_does_not_hold_back_the_others(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    author = await make_user(db, settings)
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    marks = ReadMarks()
    marks.mark(author.id, 999_999, 5)  # no such thread (removed since it was read)
    marks.mark(author.id, thread.id, posts[0].id)
    assert await marks.flush(database) == 1
    assert marks.pending == {}
    assert await _mark(db, author.id, thread.id) == posts[0].id


async def test_home_latest_activity_takes_members_to_their_first_unread_post(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    category = await make_category(db)
    thread, _posts = await make_thread(db, settings, author, category, title="Latest one")
    assert f'href="/t/{thread.id}?page=last"' in (await client.get("/")).text  # visitors
    await login(client, author.username)
    page = (await client.get("/")).text
    assert f'href="/t/{thread.id}/unread"' in page and f"/t/{thread.id}?page=last" not in page
