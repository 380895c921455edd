"""The parts built apart work together: a real reaction and a real private message notify
through the worker, a block silences the blocked member, and what a member muted leaves the
board's lists."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.lists import latest
from forum.core.db import Database
from forum.core.settings import Settings
from forum.messages.services import block, start_conversation
from forum.notifications.models import Level
from forum.notifications.watching import set_thread_level
from tests.helpers import login, make_category, make_thread, make_user, post_form
from tests.notifications.test_fanout import notes, settle, worker_for


async def test_a_reaction_notifies_the_author_unless_the_author_blocked_the_reactor(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    author = await make_user(db, settings, username="answerer")
    await make_user(db, settings, username="grateful")
    pest = await make_user(db, settings, username="pest")
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    await block(db, author, pest)
    await db.commit()
    await settle(settings, database)
    for name in ("grateful", "pest"):
        await login(client, name)
        path = f"/p/{posts[0].id}/react/thanks"
        assert (await post_form(client, path, {}, f"/t/{thread.id}")).status_code == 303
    await settle(settings, database)
    got = await notes(db, author)
    assert [(n.kind, n.detail) for n in got] == [("reaction", "thanks")]


async def test_a_private_message_notifies_its_recipient_and_leads_to_the_conversation(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    sender = await make_user(db, settings, username="writer")
    reader = await make_user(db, settings, username="reader")
    conversation, _ = await start_conversation(
        db, settings, sender, [reader], "Our pilot", "Could we meet on Thursday?"
    )
    await db.commit()
    worker = worker_for(settings, database)
    assert await worker.score_messages() == 1  # checked: now the recipient may see it
    await settle(settings, database)
    got = await notes(db, reader)
    assert [(n.kind, n.actor_id, n.conversation_id) for n in got] == [
        ("message", sender.id, conversation.id)
    ]
    assert await notes(db, sender) == []
    await login(client, "reader")
    opened = await post_form(client, f"/notifications/{got[0].id}/open", {}, "/notifications")
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/messages/{conversation.id}"


async def test_a_muted_thread_leaves_the_members_latest_list(
    db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings)
    other = await make_user(db, settings)
    category = await make_category(db)
    quiet, _ = await make_thread(db, settings, other, category, title="A thread to mute")
    loud, _ = await make_thread(db, settings, other, category, title="A thread to keep")
    await set_thread_level(db, member.id, quiet.id, Level.muted)
    await db.commit()
    mine, _ = await latest(db, member, None, 50)
    everyone, _ = await latest(db, None, None, 50)
    assert quiet.id not in {row.thread.id for row in mine}
    assert loud.id in {row.thread.id for row in mine}
    assert {quiet.id, loud.id} <= {row.thread.id for row in everyone}
