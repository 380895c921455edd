"""Reading a thread marks read what the member was told about the posts read (a newcomer read
the thread a reply to them was in, and the bell still said "replied to you")."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.board.posting import create_reply
from forum.core.db import Database
from forum.core.settings import Settings
from tests.helpers import login, make_category, make_thread, make_user
from tests.notifications.test_fanout import notes, settle


async def test_reading_a_thread_clears_its_notifications_up_to_the_posts_read(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    owner = await make_user(db, settings, username="owner_o")
    replier = await make_user(db, settings, username="replier_r")
    category = await make_category(db)
    read, (first,) = await make_thread(db, settings, owner, category, title="Read this one")
    unread, (other,) = await make_thread(db, settings, owner, category, title="Not this one")
    await db.commit()
    await create_reply(db, settings, replier, read, "A reply in the thread read.",
                       reply_to_id=first.id)  # fmt: skip
    await create_reply(db, settings, replier, unread, "A reply elsewhere.", reply_to_id=other.id)
    await db.commit()
    await settle(settings, database)
    assert [n.read_at for n in await notes(db, owner)] == [None, None]
    await login(client, "owner_o")
    page = await client.get(f"/t/{read.id}")
    assert page.status_code == 200 and "A reply in the thread read." in page.text
    await app.state.reads.flush(database)  # read marks are written in a batch
    by_thread = {n.thread_id: n.read_at for n in await notes(db, owner)}
    assert by_thread[read.id] is not None and by_thread[unread.id] is None
    count = await db.scalar(
        select(User.notifications_unread)
        .where(User.id == owner.id)
        .execution_options(populate_existing=True)
    )
    assert count == 1
    # A post written after the page was read is still news.
    await create_reply(db, settings, replier, read, "A later reply.", reply_to_id=first.id)
    await db.commit()
    await settle(settings, database)
    later = [n for n in await notes(db, owner) if n.thread_id == read.id and n.read_at is None]
    assert len(later) == 1
