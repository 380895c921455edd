"""Pair spaces never leak (#18): a pair's private messages reach its two members and nobody
else — not another member, not anonymous visitors, not the programme's lead (aggregates only,
and the text of a message a partner reported) — through any page, list, feed, search, count,
notification or profile; moderators read the space only from a review item, and each reading
is audited."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import PointsEntry, User
from forum.core.audit import AuditEntry
from forum.core.db import Database
from forum.core.settings import Settings
from forum.messages import services as pm
from forum.messages.models import Conversation, Message
from forum.programmes import dashboard as dash
from forum.review.models import ReviewItem
from tests.helpers import login, make_category, make_thread, make_user, post_form
from tests.notifications.test_fanout import notes
from tests.programmes.test_pair_moderation import pair_up, write

# A word that appears in the pair space and in a public post (so search has something to
# find); the rest of the message is what must never be shown outside the pair.
WORD = "zebrafinch"
SECRET = f"The quarterly tangerine forecast hides a loss, {WORD}."
SECRET_PART = "tangerine forecast hides a loss"


async def settle(settings: Settings, database: Database) -> None:
    """The worker checks every waiting message and post, then notifications fan out."""
    from tests.notifications.test_fanout import worker_for

    worker = worker_for(settings, database)
    while await worker.score_messages() or await worker.run_once():
        pass
    while await worker.notifier.fan_out():
        pass


async def pages(client: httpx.AsyncClient, paths: list[str]) -> dict[str, httpx.Response]:
    return {path: await client.get(path) for path in paths}


async def test_a_pair_space_reaches_no_one_but_the_pair(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    programme, pair, junior, senior = await pair_up(db, settings, "reverse", 2, 20)
    lead = await db.get(User, programme.lead_id)
    assert lead is not None
    outsider = await make_user(db, settings)
    moderator = await make_user(db, settings, role="moderator")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, outsider, category, title="Forecasts",
                                  body=f"Public words about the {WORD} forecast.")  # fmt: skip
    points_before = await db.scalar(
        select(func.count(PointsEntry.id)).where(PointsEntry.user_id == senior.id)
    )
    secret_id = await write(db, settings, pair, senior, SECRET)
    await settle(settings, database)
    shown = await db.get(Message, secret_id, populate_existing=True)
    assert shown is not None and shown.state == "clear"  # visible to the partner now
    space = f"/messages/{pair.conversation_id}"
    p = f"/programmes/{programme.id}"
    conversation = await db.get(Conversation, pair.conversation_id)
    assert conversation is not None
    subject = conversation.subject

    # The partner sees it, and is notified: the pages below really could show it.
    await login(client, junior.username)
    assert SECRET_PART in (await client.get(space)).text
    assert subject in (await client.get("/messages")).text
    told = await notes(db, junior)  # also the programme's own news (accepted, paired)
    assert [(n.kind, n.conversation_id) for n in told if n.kind == "message"] == [
        ("message", pair.conversation_id)
    ]
    assert {n.kind for n in told} <= {"message", "programme"}
    client.cookies.clear()

    public = [
        "/", "/latest", "/latest.atom", f"/c/{category.slug}/feed.atom",
        f"/t/{thread.id}", f"/t/{thread.id}/feed.atom", f"/search?q={WORD}",
        "/search?q=tangerine", f"/u/{senior.username}",
        f"/u/{junior.username}", "/programmes", p,
    ]  # fmt: skip
    # Anonymous visitors: nothing on public pages; the space itself asks them to log in.
    for path, page in (await pages(client, public)).items():
        assert page.status_code == 200, path
        assert SECRET_PART not in page.text, path
    assert WORD in (await client.get(f"/search?q={WORD}")).text  # the public post is found
    anonymous = await client.get(space)
    assert anonymous.status_code in (302, 303) and SECRET_PART not in anonymous.text

    # Another member, the programme's lead and a moderator: the same, and 404 on the space.
    members_only = ["/new", "/unread", "/notifications", "/messages", f"{p}/checkin"]
    for member in (outsider, lead, moderator):
        await login(client, member.username)
        for path, page in (await pages(client, public + members_only)).items():
            assert SECRET_PART not in page.text, (member.username, path)
            assert subject not in page.text, (member.username, path)
        assert (await client.get(space)).status_code == 404, member.username
        assert (await client.get(f"/messages/m/{secret_id}/report")).status_code == 404
        replied = await post_form(client, f"{space}/reply", {"body": "Let me in"},
                                  token_from="/messages")  # fmt: skip
        assert replied.status_code == 404
        # (The lead was told of each application, before the pair was made: nothing else.)
        told = [n for n in await notes(db, member)
                if not (member is lead and n.kind == "programme_lead" and " applied to " in n.detail)]  # fmt: skip
        assert told == [], member.username
        client.cookies.clear()
    assert await db.scalar(
        select(func.count(Message.id)).where(Message.conversation_id == pair.conversation_id)
    ) == 1  # fmt: skip

    # Quoting a message by its id from a conversation of one's own shows nothing of it.
    await login(client, outsider.username)
    own, _ = await pm.start_conversation(db, settings, outsider, [moderator], "Hi", "Hello")
    await db.commit()
    quoted = await client.get(f"/messages/{own.id}?quote={secret_id}")
    assert quoted.status_code == 200 and SECRET_PART not in quoted.text
    # Nor do the programme's lead pages, which answer 403 to everyone but the lead.
    for path in (f"{p}/dashboard", f"{p}/dashboard.csv", f"{p}/proposal", f"{p}/applications"):
        assert (await client.get(path)).status_code == 403, path
    client.cookies.clear()

    # Writing in the space earns no points and leaves the senior's profile as it was.
    assert await db.scalar(
        select(func.count(PointsEntry.id)).where(PointsEntry.user_id == senior.id)
    ) == points_before  # fmt: skip


async def test_the_lead_reads_aggregates_never_the_text(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    programme, pair, junior, senior = await pair_up(db, settings, "reverse", 2, 20)
    lead = await db.get(User, programme.lead_id)
    assert lead is not None
    await write(db, settings, pair, senior, SECRET)
    await settle(settings, database)
    board = await dash.build(db, programme)
    assert board.flagged == 0 and board.reported == 0
    p = f"/programmes/{programme.id}"
    await login(client, lead.username)
    for path in (f"{p}/dashboard", f"{p}/dashboard.csv", p, f"{p}/proposal"):
        page = await client.get(path)
        assert page.status_code == 200 and SECRET_PART not in page.text, path
    client.cookies.clear()

    # The junior reports a later message as dismissive (one click): the lead is told which
    # pair, and counts it; the text stays between the pair and, from the report, moderators.
    rude = "Leave strategy to the grown-ups, please."
    await write(db, settings, pair, senior, rude)
    await settle(settings, database)
    await login(client, junior.username)
    sent = await post_form(
        client, f"{p}/pairs/{pair.id}/dismissive", {"confirm": "yes"}, token_from=p
    )
    assert sent.status_code == 303
    client.cookies.clear()
    board = await dash.build(db, programme)
    assert board.reported == 1
    await login(client, lead.username)
    shown = (await client.get(f"{p}/dashboard")).text
    assert SECRET_PART not in shown and rude not in shown
    assert 'href="/mod"' not in shown  # a lead who is not a moderator gets no dead link
    exported = (await client.get(f"{p}/dashboard.csv")).text
    assert rude not in exported and SECRET_PART not in exported
    assert (await client.get(f"/messages/{pair.conversation_id}")).status_code == 404
    assert await db.scalar(select(func.count(Message.id))) == 2


async def test_moderators_read_a_pair_space_only_from_a_review_item_and_it_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    programme, pair, junior, senior = await pair_up(db, settings, "reverse", 2, 20)
    moderator = await make_user(db, settings, role="moderator")
    await write(db, settings, pair, senior, SECRET)
    await settle(settings, database)
    await login(client, moderator.username)
    # A clear message nobody reported: not in the queue, and the space answers 404.
    assert SECRET_PART not in (await client.get("/mod")).text
    assert await db.scalar(select(func.count(ReviewItem.id))) == 0
    assert (await client.get(f"/messages/{pair.conversation_id}")).status_code == 404
    client.cookies.clear()

    # The junior reports the senior's next message: moderators read the space from its item.
    await write(db, settings, pair, senior, "See you on Thursday.")
    await settle(settings, database)
    p = f"/programmes/{programme.id}"
    await login(client, junior.username)
    assert (await post_form(client, f"{p}/pairs/{pair.id}/dismissive", {"confirm": "yes"},
                            token_from=p)).status_code == 303  # fmt: skip
    client.cookies.clear()
    item = await db.scalar(select(ReviewItem).where(ReviewItem.message_id.is_not(None)))
    assert item is not None
    await login(client, moderator.username)
    assert (await client.get(f"/messages/{pair.conversation_id}")).status_code == 404
    # The queue says where the message was sent.
    assert "a mentoring pair&#39;s space" in (await client.get("/mod")).text
    before = await db.scalar(select(func.count(AuditEntry.id)))
    page = await client.get(f"/mod/items/{item.id}")
    assert page.status_code == 200 and SECRET_PART in page.text
    entry = await db.scalar(
        select(AuditEntry).where(AuditEntry.action == "view_conversation")
        .order_by(AuditEntry.id.desc()).limit(1)
    )  # fmt: skip
    assert await db.scalar(select(func.count(AuditEntry.id))) == (before or 0) + 1
    assert entry is not None and entry.actor_id == moderator.id
    assert entry.target_id == pair.conversation_id
    # The item shows the ladder the message was scored with.
    assert "pair space (reverse): scored as the senior side (20 years)" in page.text
    assert "3 rank steps down" in page.text
    client.cookies.clear()
    # A plain member cannot open the item.
    await login(client, junior.username)
    assert (await client.get(f"/mod/items/{item.id}")).status_code in (403, 404)
