"""A parent category's feed carries its sub-forums' threads, only those everyone may see."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.models import ModerationState
from forum.board.posting import create_reply, create_thread, set_post_state
from forum.core.settings import Settings
from tests.feeds.test_feeds import _parse, _scored
from tests.helpers import make_category, make_user


def _text(response: httpx.Response) -> str:
    return "".join(e.title + e.content[0].value for e in _parse(response).entries)


async def test_a_parent_feed_carries_its_sub_forums_public_threads(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="hr_writer")
    parent = await make_category(db, "Human Resources")
    child = await make_category(db, "Onboarding", parent=parent)
    grandchild = await make_category(db, "First week", parent=child)
    staff = await make_category(db, "HR staff room", parent=parent)
    staff.staff_only = True
    under_staff = await make_category(db, "Staff archive", parent=staff)
    sibling = await make_category(db, "Elsewhere")
    shown, _ = await create_thread(db, settings, author, child, "Onboarding Alpaca", "text")
    await create_reply(db, settings, author, shown, "Reply Bonobo")
    await create_thread(db, settings, author, grandchild, "Deep Camel", "text")
    await create_thread(db, settings, author, staff, "Staff Dingo", "text")
    await create_thread(db, settings, author, under_staff, "Archive Emu", "text")
    await create_thread(db, settings, author, sibling, "Sibling Ferret", "text")
    _, held = await create_thread(db, settings, author, child, "Held Gecko", "text")
    await set_post_state(db, held, ModerationState.held, "Held")
    hidden = await create_reply(db, settings, author, shown, "Hidden Heron")
    await set_post_state(db, hidden, ModerationState.hidden, "Hidden")
    gone, _ = await create_thread(db, settings, author, child, "Deleted Ibis", "text")
    gone.is_deleted = True
    await _scored(db)
    await create_thread(db, settings, author, child, "Unscored Jackal", "text")
    await db.commit()
    text = _text(await client.get(f"/c/{parent.slug}/feed.atom"))
    for shown_word in ("Alpaca", "Bonobo", "Camel"):
        assert shown_word in text, shown_word
    for secret in ("Dingo", "Emu", "Ferret", "Gecko", "Heron", "Ibis", "Jackal"):
        assert secret not in text, secret
    # A sub-forum's feed holds its own and its children's, not its parent's or siblings'.
    child_text = _text(await client.get(f"/c/{child.slug}/feed.atom"))
    assert "Alpaca" in child_text and "Camel" in child_text
    leaf = _text(await client.get(f"/c/{grandchild.slug}/feed.atom"))
    assert "Camel" in leaf and "Alpaca" not in leaf
    # A staff-only sub-forum's feed stays closed.
    assert (await client.get(f"/c/{staff.slug}/feed.atom")).status_code == 404
