"""One visibility rule, applied by every page that shows member text: a held, hidden or
pre-moderated post (and a thread whose opening post is one) is seen by its author and by
moderators, and by nobody else, through any page, count or search."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.services import add_comment, publish
from forum.board.models import Category, ModerationState, Post, Thread
from forum.board.posting import create_reply, create_thread, set_post_state
from forum.core.settings import Settings
from tests.helpers import login, make_category, make_user

SECRET_TITLE = "Zanzibar pilot cohort"
SECRET_BODY = "Quixotic remark nobody should see"
VIEWERS = ["anonymous", "member", "author", "moderator"]
SEES = {"anonymous": False, "member": False, "author": True, "moderator": True}
TITLE_PAGES = ("category listing", "search by title", "thread page")


async def _board(db: AsyncSession, settings: Settings) -> dict[str, object]:
    author = await make_user(db, settings, username="writer")
    await make_user(db, settings, username="reader")
    await make_user(db, settings, username="watcher", role="moderator")
    category = await make_category(db, "Cohorts")
    # A thread whose opening post is held (its author is on pre-moderation).
    author.premoderated = True
    held_thread, held_first = await create_thread(
        db, settings, author, category, SECRET_TITLE, f"{SECRET_BODY} one"
    )
    author.premoderated = False
    # A visible thread with a reply a moderator hid.
    shown, _first = await create_thread(db, settings, author, category, "Open thread", "Hello")
    hidden = await create_reply(db, settings, author, shown, f"{SECRET_BODY} two")
    await create_reply(db, settings, author, shown, "A visible reply")
    await set_post_state(db, hidden, ModerationState.hidden, "Hidden by a moderator")
    # An article comment a moderator hid, and a bio held for review: member text as well.
    editor = await make_user(db, settings, username="publisher", role="editor")
    article = await publish(db, settings, editor, "Pilot notes", "Notes from a pilot.", "Body")
    comment = await add_comment(db, settings, author, article, f"{SECRET_BODY} three")
    await set_post_state(db, comment, ModerationState.hidden, "Hidden by a moderator")
    author.bio = f"{SECRET_BODY} four"
    author.profile_state = "held"
    await db.commit()
    return {"category": category, "held_thread": held_thread, "held_first": held_first,
            "shown": shown, "hidden": hidden, "article": article}  # fmt: skip


async def _as(client: httpx.AsyncClient, viewer: str) -> None:
    names = {"member": "reader", "author": "writer", "moderator": "watcher"}
    if viewer in names:
        await login(client, names[viewer])


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_every_page_applies_the_rule(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, viewer: str
) -> None:
    board = await _board(db, settings)
    category = board["category"]
    held_thread = board["held_thread"]
    hidden = board["hidden"]
    assert isinstance(category, Category) and isinstance(held_thread, Thread)
    assert isinstance(hidden, Post)
    await _as(client, viewer)
    sees = SEES[viewer]
    pages = {
        "category listing": f"/c/{category.slug}",
        "thread page": f"/t/{held_thread.id}",
        "the hidden reply's thread": f"/t/{board['shown'].id}",  # type: ignore[attr-defined]
        "search by title": "/search?q=Zanzibar",
        "search by body": "/search?q=Quixotic",
        "author's profile": "/u/writer",
        "post link": f"/p/{hidden.id}",
        "revisions": f"/p/{hidden.id}/revisions",
        "article comments": f"/articles/{board['article'].id}",  # type: ignore[attr-defined]
        "articles list": "/articles",
    }
    for name, path in pages.items():
        response = await client.get(path, follow_redirects=True)
        assert response.status_code in (200, 403, 404), (name, response.status_code)
        # (Search marks the word it found and may cut stop words: the body is recognised by
        # the two words after it.)
        secret = SECRET_TITLE if name in TITLE_PAGES else "remark nobody"
        expected = sees  # (revisions: the author's and moderators')
        if name == "articles list":  # the list shows counts only: the hidden comment is not one
            assert "0 comments" in response.text, viewer
            continue
        assert (secret in response.text) == expected, (viewer, name)


async def test_counts_leave_out_what_others_cannot_see(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    board = await _board(db, settings)
    shown, category = board["shown"], board["category"]
    assert isinstance(shown, Thread) and isinstance(category, Category)
    await db.refresh(shown)
    await db.refresh(category)
    assert shown.post_count == 2  # the opening post and the visible reply
    assert category.thread_count == 1  # the held thread is not counted yet
    page = await client.get(f"/t/{shown.id}")
    assert "1 reply" in page.text
    listing = await client.get(f"/c/{category.slug}")
    assert SECRET_TITLE not in listing.text


async def test_approving_a_held_opening_post_shows_and_counts_its_thread(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    board = await _board(db, settings)
    held_first, held_thread = board["held_first"], board["held_thread"]
    category = board["category"]
    assert isinstance(held_first, Post) and isinstance(held_thread, Thread)
    assert isinstance(category, Category)
    await set_post_state(db, held_first, ModerationState.clear)
    await db.commit()
    await db.refresh(category)
    assert category.thread_count == 2
    assert (await client.get(f"/t/{held_thread.id}")).status_code == 200
    assert SECRET_TITLE in (await client.get(f"/c/{category.slug}")).text


async def test_revisions_of_a_post_a_moderator_edited_are_for_moderators_only(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    from forum.board.posting import edit_post

    author = await make_user(db, settings, username="edited")
    mod = await make_user(db, settings, username="editor_mod", role="moderator")
    thread, post = await create_thread(
        db, settings, author, await make_category(db), "A thread", f"{SECRET_BODY} original"
    )
    await edit_post(db, settings, mod, post, thread, "A kinder version of the post.")
    await db.commit()
    for viewer in ("anonymous", "edited"):
        if viewer != "anonymous":
            await login(client, viewer)
        response = await client.get(f"/p/{post.id}/revisions")
        assert response.status_code == 403 and SECRET_BODY not in response.text, viewer
    await login(client, "editor_mod")
    response = await client.get(f"/p/{post.id}/revisions")
    assert response.status_code == 200 and SECRET_BODY in response.text


async def test_an_authors_earlier_versions_are_theirs_and_moderators(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # A member who edits out a colleague's name takes it off the board: earlier versions are
    # for the author and moderators (a probe read every version of anyone's post).
    from forum.board.posting import edit_post

    author = await make_user(db, settings, username="selfedit")
    await make_user(db, settings, username="otheredit")
    await make_user(db, settings, username="modedit", role="moderator")
    thread, post = await create_thread(
        db, settings, author, await make_category(db), "A thread", "First words about Dana."
    )
    await edit_post(db, settings, author, post, thread, "Second words.")
    await db.commit()
    response = await client.get(f"/p/{post.id}/revisions")
    assert response.status_code == 403 and "Dana" not in response.text
    assert "Dana" not in (await client.get(f"/t/{thread.id}")).text
    for viewer, sees in (("otheredit", False), ("selfedit", True), ("modedit", True)):
        await login(client, viewer)
        response = await client.get(f"/p/{post.id}/revisions")
        assert (response.status_code == 200 and "Dana" in response.text) is sees, viewer
        # The thread links to them only for those who may read them.
        link = f'href="/p/{post.id}/revisions"' in (await client.get(f"/t/{thread.id}")).text
        assert link is sees, viewer


async def test_a_held_reply_is_nobodys_last_post_until_approved(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # The listing's "last post" names its author and time: a held post stays out of it.
    author = await make_user(db, settings, username="opener7")
    quiet = await make_user(db, settings, username="quiet7")
    quiet.premoderated = True
    category = await make_category(db, "Last posts")
    thread, first = await create_thread(db, settings, author, category, "Rotas", "Our rota.")
    held = await create_reply(db, settings, quiet, thread, "A held reply")
    await db.commit()
    await db.refresh(thread)
    assert thread.last_poster_id == author.id and thread.last_post_id == first.id
    assert "quiet7" not in (await client.get(f"/c/{category.slug}")).text
    await set_post_state(db, held, ModerationState.clear)
    await db.commit()
    await db.refresh(thread)
    assert thread.last_poster_id == quiet.id and thread.last_post_id == held.id
    # Hidden again: the last post goes back to the newest one everyone can see.
    await set_post_state(db, held, ModerationState.hidden, "Hidden by a moderator")
    await db.commit()
    await db.refresh(thread)
    assert thread.last_poster_id == author.id and thread.last_post_id == first.id


async def test_a_reply_cannot_claim_to_answer_a_post_its_author_cannot_see(
    db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="asker8")
    quiet = await make_user(db, settings, username="quiet8")
    quiet.premoderated = True
    replier = await make_user(db, settings, username="replier8")
    thread, _first = await create_thread(
        db, settings, author, await make_category(db), "Pairs", "How do we pair?"
    )
    held = await create_reply(db, settings, quiet, thread, "Held words")
    reply = await create_reply(db, settings, replier, thread, "An answer", reply_to_id=held.id)
    assert reply.reply_to_id is None  # ignored: moderation would read hidden text as context
    own = await create_reply(db, settings, quiet, thread, "Mine", reply_to_id=held.id)
    assert own.reply_to_id == held.id  # its author may answer it
