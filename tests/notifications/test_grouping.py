"""Unread notifications of one kind about one thread are one: an attacker probe had six fresh
accounts replying in turn put a notification (and a mail) per reply in one junior's bell.
Now a reply while one is unread joins it ("5 new replies in … (from …)"), the bell does not
grow, and it is mailed once; only posts the member may see count or name anyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.board.models import Post
from forum.board.posting import create_reply, edit_post
from forum.core.db import Database
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.messages.services import block
from forum.notifications import grouping
from forum.notifications.fanout import Notifier
from forum.notifications.models import Notification, NotificationPreference
from forum.notifications.paths import worker_paths
from tests.helpers import login, make_category, make_thread, make_user, post_form
from tests.notifications.test_fanout import FRIENDLY, notes, settle
from tests.notifications.test_pages import BELL

TITLE = "Pairing mentors across time zones"


async def _thread(db: AsyncSession, settings: Settings, *names: str):  # type: ignore[no-untyped-def]
    """junior_j's thread, and members with `names` to reply in it."""
    junior = await make_user(db, settings, username="junior_j")
    others = [await make_user(db, settings, username=name) for name in names]
    thread, posts = await make_thread(db, settings, junior, await make_category(db), title=TITLE)
    return junior, others, thread, posts


async def _reply(
    db: AsyncSession, database: Database, settings: Settings, who: User, thread, body: str = ""
) -> Post:  # type: ignore[no-untyped-def]
    """One reply, fanned out on its own (as replies arrive one by one)."""
    post = await create_reply(db, settings, who, thread, body or f"{FRIENDLY} ({who.username})")
    await db.commit()
    await settle(settings, database)
    return post


async def _bell(db: AsyncSession, user: User) -> int:
    return int(
        await db.scalar(
            select(User.notifications_unread)
            .where(User.id == user.id)
            .execution_options(populate_existing=True)
        )
        or 0
    )


async def _mails(db: AsyncSession, user: User) -> list[OutboxMessage]:
    return list(
        await db.scalars(select(OutboxMessage).where(OutboxMessage.to_address == user.email))
    )


async def test_five_replies_by_three_accounts_are_one_notification(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior, (grace, carlos, dana), thread, posts = await _thread(
        db, settings, "grace_w", "carlos_v", "dana_k"
    )
    await settle(settings, database)
    replies = [
        await _reply(db, database, settings, who, thread)
        for who in (grace, carlos, dana, grace, carlos)
    ]
    (note,) = await notes(db, junior)
    assert note.kind == "reply" and note.read_at is None
    assert note.post_id == replies[0].id and note.actor_id == grace.id  # leads to the first
    group = grouping.parse(note.detail, note.post_id)
    assert group.count == 5 and group.posts == [r.id for r in replies]
    assert await _bell(db, junior) == 1
    # The last reply's time.
    latest = await db.scalar(select(Post.created_at).where(Post.id == replies[-1].id))
    assert latest is not None and note.created_at >= latest.replace(tzinfo=note.created_at.tzinfo)
    await login(client, "junior_j")
    assert BELL.search((await client.get("/")).text).group(1) == "1"  # type: ignore[union-attr]
    page = (await client.get("/notifications")).text
    assert f"5 new replies in “{TITLE}” (from grace_w, carlos_v and 1 other)" in page
    assert page.count('class="notification unread"') == 1
    assert f'href="/p/{replies[0].id}"' in page


async def test_once_read_the_next_reply_starts_a_new_notification(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior, (grace, carlos), thread, _ = await _thread(db, settings, "grace_w", "carlos_v")
    await settle(settings, database)
    for who in (grace, carlos):
        await _reply(db, database, settings, who, thread)
    (first,) = await notes(db, junior)
    await login(client, "junior_j")
    opened = await post_form(client, f"/notifications/{first.id}/open", {}, "/notifications")
    assert opened.status_code == 303
    assert await _bell(db, junior) == 0
    later = await _reply(db, database, settings, carlos, thread)
    old, new = await notes(db, junior)
    assert old.id == first.id and old.read_at is not None
    assert grouping.parse(old.detail, old.post_id).count == 2  # the read group is left alone
    assert (new.post_id, new.detail, new.read_at, new.actor_id) == (later.id, "", None, carlos.id)
    assert await _bell(db, junior) == 1
    page = (await client.get("/notifications")).text
    # The newest (the group's time is its latest post's) comes first.
    assert page.index(f"carlos_v replied to you in “{TITLE}”") < page.index(
        f"2 new replies in “{TITLE}” (from grace_w and carlos_v)"
    )


async def test_an_at_once_member_is_mailed_once_for_the_group(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior, repliers, thread, _ = await _thread(db, settings, "r_one", "r_two", "r_three")
    await settle(settings, database)  # replies are mailed at once by default
    for who in (*repliers, repliers[0], repliers[1]):
        await _reply(db, database, settings, who, thread)
    mails = await _mails(db, junior)
    assert [m.subject for m in mails] == [f"r_one replied to you in “{TITLE}”"]
    # However long the group waits unread, the replies that join it are not mailed.
    await db.execute(
        update(Notification)
        .where(Notification.recipient_id == junior.id)
        .values(created_at=datetime.now(UTC) - timedelta(days=2))
    )
    await db.commit()
    await _reply(db, database, settings, repliers[2], thread)
    assert len(await _mails(db, junior)) == 1
    # Read, then another: a new notification, and a new mail.
    await db.execute(
        update(Notification)
        .where(Notification.recipient_id == junior.id)
        .values(read_at=datetime.now(UTC))
    )
    await db.commit()
    await _reply(db, database, settings, repliers[1], thread)
    assert len(await _mails(db, junior)) == 2


async def test_a_mention_stays_apart_from_the_replies_and_mentions_group_together(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior, (grace, carlos), thread, _ = await _thread(db, settings, "grace_w", "carlos_v")
    await settle(settings, database)
    await _reply(db, database, settings, grace, thread)
    await _reply(db, database, settings, carlos, thread, f"@junior_j {FRIENDLY}")
    await _reply(db, database, settings, grace, thread)
    await _reply(db, database, settings, grace, thread, f"@junior_j {FRIENDLY} again")
    replies, mentions = await notes(db, junior)
    assert replies.kind == "reply" and grouping.parse(replies.detail, replies.post_id).count == 2
    assert mentions.kind == "mention"
    assert grouping.parse(mentions.detail, mentions.post_id).count == 2
    assert await _bell(db, junior) == 2
    # An edit that names the member again in a post of the group tells them nothing new.
    post = await db.get(Post, mentions.post_id)
    assert post is not None
    last = grouping.parse(mentions.detail, mentions.post_id).posts[-1]
    later = await db.get(Post, last)
    assert later is not None
    await edit_post(db, settings, grace, later, thread, f"@junior_j {FRIENDLY} edited")
    await db.commit()
    await settle(settings, database)
    assert len(await notes(db, junior)) == 2
    assert grouping.parse((await notes(db, junior))[1].detail, post.id).count == 2


async def test_a_blocked_members_reply_is_not_in_the_names(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior, (grace, pest, carlos), thread, _ = await _thread(
        db, settings, "grace_w", "pest_p", "carlos_v"
    )
    await block(db, junior, pest)
    await db.commit()
    await settle(settings, database)
    for who in (grace, pest, carlos, pest):
        await _reply(db, database, settings, who, thread)
    (note,) = await notes(db, junior)
    assert grouping.parse(note.detail, note.post_id).count == 2  # the blocked one's not in it
    await login(client, "junior_j")
    page = (await client.get("/notifications")).text
    assert f"2 new replies in “{TITLE}” (from grace_w and carlos_v)" in page
    assert "pest_p" not in page
    # Blocked after joining a group: the name leaves it too.
    await block(db, junior, carlos)
    await db.commit()
    page = (await client.get("/notifications")).text
    assert f"grace_w replied to you in “{TITLE}”" in page and "carlos_v" not in page


async def test_a_reply_in_a_thread_the_member_cannot_see_never_notifies(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    member = await make_user(db, settings, username="member_m")
    moderator = await make_user(db, settings, username="mod_m", role="moderator")
    staff_group = await make_category(db)
    staff_group.staff_only = True
    # A sub-forum under a staff-only group is staff-only, whatever its own row says.
    under = await make_category(db, parent=staff_group)
    under.staff_only = False
    for room in (staff_group, under):
        thread, _ = await make_thread(db, settings, moderator, room, body=f"@member_m {FRIENDLY}")
        await create_reply(db, settings, moderator, thread, f"@member_m {FRIENDLY} again")
    await db.commit()
    await settle(settings, database)
    assert await notes(db, member) == []
    assert await _bell(db, member) == 0


async def test_a_hidden_reply_leaves_the_group_and_its_authors_name_with_it(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior, (spam, grace, carlos), thread, _ = await _thread(
        db, settings, "spam_s", "grace_w", "carlos_v"
    )
    await settle(settings, database)
    first = await _reply(db, database, settings, spam, thread)
    second = await _reply(db, database, settings, grace, thread)
    third = await _reply(db, database, settings, carlos, thread)
    await login(client, "junior_j")
    assert "3 new replies" in (await client.get("/notifications")).text
    # The first (where it led) is hidden: the rest is still listed, leading to the next.
    await db.execute(update(Post).where(Post.id == first.id).values(moderation_state="hidden"))
    await db.commit()
    page = (await client.get("/notifications")).text
    assert f"2 new replies in “{TITLE}” (from grace_w and carlos_v)" in page
    assert "spam_s" not in page and f'href="/p/{second.id}"' in page
    # Deleted too: one left, said as one reply.
    await db.execute(update(Post).where(Post.id == third.id).values(is_deleted=True))
    await db.commit()
    page = (await client.get("/notifications")).text
    assert f"grace_w replied to you in “{TITLE}”" in page and "carlos_v" not in page
    # None left: the notification leaves the list, and the bell once recounted.
    await db.execute(update(Post).where(Post.id == second.id).values(moderation_state="hidden"))
    await db.commit()
    page = (await client.get("/notifications")).text
    assert "replied to you" not in page and "new replies" not in page
    await post_form(client, "/notifications/read-all", {}, "/notifications")
    assert await _bell(db, junior) == 0


async def test_reading_part_of_a_group_leaves_the_rest_unread(
    app, client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    from forum.board.events import ThreadsRead
    from forum.core import events

    junior, (grace, carlos), thread, _ = await _thread(db, settings, "grace_w", "carlos_v")
    await settle(settings, database)
    replies = [await _reply(db, database, settings, who, thread) for who in (grace, carlos, grace)]
    await events.announce(db, ThreadsRead(marks=((junior.id, thread.id, replies[0].id),)))
    await db.commit()
    (note,) = await notes(db, junior)
    assert note.read_at is None and note.post_id == replies[1].id and note.actor_id == carlos.id
    assert grouping.parse(note.detail, note.post_id).posts == [r.id for r in replies[1:]]
    await events.announce(db, ThreadsRead(marks=((junior.id, thread.id, replies[2].id),)))
    await db.commit()
    (note,) = await notes(db, junior)
    assert note.read_at is not None
    assert await _bell(db, junior) == 0


async def test_the_daily_digest_says_the_group_once(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior, (grace, carlos, spam), thread, _ = await _thread(
        db, settings, "grace_w", "carlos_v", "spam_s"
    )
    db.add(NotificationPreference(user_id=junior.id, kind="reply", delivery="digest"))
    await db.commit()
    await settle(settings, database)
    for who in (grace, carlos, spam, grace):
        await _reply(db, database, settings, who, thread)
    hidden = await db.scalar(
        select(Post.id).where(Post.author_id == spam.id, Post.thread_id == thread.id)
    )
    await db.execute(update(Post).where(Post.id == hidden).values(moderation_state="hidden"))
    await db.commit()
    assert not await _mails(db, junior)  # nothing at once
    morning = datetime.now(UTC).replace(hour=settings.notify_digest_hour, minute=30)
    assert await Notifier(settings, database, worker_paths()).send_digests(morning) == 1
    (digest,) = await _mails(db, junior)
    assert "Your daily digest: 1 notifications" == digest.subject
    assert f"3 new replies in “{TITLE}” (from grace_w and carlos_v)" in digest.body
    assert "spam_s" not in digest.body


async def test_a_full_group_closes_and_counts_only_posts_the_member_may_see(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    """Past the room a group kept only its first and latest ids but counted every post, so a
    post hidden in its middle was still counted. Now the post that finds the group full starts
    a new one: every post counted is named, and a hidden one is not counted."""
    junior, (grace, carlos), thread, _posts = await _thread(db, settings, "grace_w", "carlos_v")
    await settle(settings, database)
    room = grouping.MAX_STORED
    replies = [
        await _reply(db, database, settings, (grace, carlos)[n % 2], thread)
        for n in range(room + 4)
    ]
    first, second = await notes(db, junior)
    assert grouping.parse(first.detail, first.post_id).posts == [r.id for r in replies[:room]]
    assert grouping.parse(second.detail, second.post_id).posts == [r.id for r in replies[room:]]
    assert await _bell(db, junior) == 2
    assert len(await _mails(db, junior)) == 1  # the second group is not mailed
    # Hide one post of each group: neither is counted.
    for post in (replies[3], replies[room + 1]):
        await db.execute(update(Post).where(Post.id == post.id).values(moderation_state="hidden"))
    await db.commit()
    await login(client, "junior_j")
    page = (await client.get("/notifications")).text
    assert f"{room - 1} new replies in “{TITLE}”" in page and "3 new replies" in page
    assert f"{room} new replies" not in page and "4 new replies" not in page


def test_a_group_keeps_its_first_and_latest_posts_past_the_room() -> None:
    group = grouping.Group(1, [1000001])
    for n in range(2, 60):
        joined = grouping.joined(group, 1000000 + n)
        assert joined is not None
        group = grouping.parse(grouping.encode(joined), 1000001)
    assert grouping.joined(group, 1000059) is None  # in it already
    detail = grouping.encode(group)
    assert len(detail) <= grouping.DETAIL_MAX and group.count == 59
    assert group.posts[0] == 1000001 and group.posts[-1] == 1000059
    assert len(group.posts) <= grouping.MAX_STORED
    # Said with others when not every post is kept.
    line = grouping.group_line("reply", 59, ["a", "b"], "T", more=True)
    assert line == "59 new replies in “T” (from a, b and others)"
    assert grouping.group_line("post", 2, ["a"], "", more=False) == "2 new posts (from a)"
    # A detail that is not a group, or is damaged, is the row's own post.
    assert grouping.parse("", 5) == grouping.Group(1, [5])
    assert grouping.parse("group:x:,1,", 5) == grouping.Group(1, [5])
    assert grouping.encode(grouping.Group(1, [5])) == ""


async def test_many_replies_are_a_row_and_a_bell_per_full_group(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    """The probe's numbers, small: six accounts replying in turn, in batches: 24 replies are
    a full group of 16 and a group of 8, mailed once."""
    junior, spammers, thread, _ = await _thread(db, settings, *(f"fresh{n}" for n in range(6)))
    await settle(settings, database)
    for turn in range(4):
        for who in spammers:
            await create_reply(db, settings, who, thread, f"{FRIENDLY} {turn}")
        await db.commit()
        await settle(settings, database)
    count = await db.scalar(
        select(func.count(Notification.id)).where(Notification.recipient_id == junior.id)
    )
    assert count == 2 and await _bell(db, junior) == 2
    assert [grouping.parse(n.detail, n.post_id).count for n in await notes(db, junior)] == [
        grouping.MAX_STORED,
        24 - grouping.MAX_STORED,
    ]
    assert len(await _mails(db, junior)) == 1
