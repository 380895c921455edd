"""Notifications are made by the worker after the moderation worker decided a post, only for
members who may see it, once per member per post (the most specific kind), as each chose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import Rank, User
from forum.accounts.services import award_points
from forum.board.models import Post, Thread
from forum.board.posting import create_reply, create_thread
from forum.core.db import Database
from forum.core.outbox import OutboxMessage, queue_mail
from forum.core.settings import Settings
from forum.notifications import fanout, grouping
from forum.notifications.fanout import Notifier
from forum.notifications.models import (
    CategoryWatch,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationWork,
    ThreadWatch,
)
from forum.notifications.paths import worker_paths
from forum.notifications.watching import muted_filter, set_category_level, set_thread_level
from forum.review.queue import open_item
from forum.review.services import decide, report_post
from moderation.pipeline import CueStage, Pipeline
from moderation.worker import Worker
from tests.helpers import make_category, make_thread, make_user, url

FRIENDLY = "Thanks, that is a useful question."


def worker_for(settings: Settings, database: Database) -> Worker:
    pipeline = Pipeline(settings, [CueStage()])
    pipeline.load()
    return Worker(settings, database, pipeline)


async def settle(settings: Settings, database: Database) -> None:
    """The moderation worker decides every waiting post, then notifications fan out."""
    worker = worker_for(settings, database)
    while await worker.run_once():
        pass
    while await worker.notifier.fan_out():
        pass


async def notes(db: AsyncSession, user: User) -> list[Notification]:
    return list(
        await db.scalars(
            select(Notification)
            .where(Notification.recipient_id == user.id)
            .order_by(Notification.id)
            .execution_options(populate_existing=True)
        )
    )


async def test_a_reply_that_mentions_and_quotes_gives_one_notification_after_the_decision(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior = await make_user(db, settings, username="junior")
    senior = await make_user(db, settings, username="senior")
    thread, posts = await make_thread(db, settings, junior, await make_category(db))
    body = f"> **junior** wrote:\n> We have 20 mentees.\n\n@junior {FRIENDLY}"
    reply = await create_reply(db, settings, senior, thread, body, reply_to_id=posts[0].id)
    await db.commit()
    # Nothing in the request: a work row only, and nothing before the post is decided.
    assert await notes(db, junior) == []
    worker = worker_for(settings, database)
    assert await worker.notifier.fan_out() == 0
    await settle(settings, database)
    found = await notes(db, junior)
    assert [(n.kind, n.post_id, n.actor_id) for n in found] == [("mention", reply.id, senior.id)]
    # Never the author about their own post; the bell's count moved with the row.
    assert await notes(db, senior) == []
    await db.refresh(junior)
    assert junior.notifications_unread == 1
    assert await db.scalar(select(func.count(NotificationWork.id))) == 0


async def test_reply_and_quote_kinds(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    opener = await make_user(db, settings, username="opener")
    quoted = await make_user(db, settings, username="quoted")
    other = await make_user(db, settings)
    thread, posts = await make_thread(db, settings, opener, await make_category(db))
    second = await create_reply(db, settings, quoted, thread, "My own view.")
    await create_reply(
        db, settings, other, thread, f"> **quoted** wrote:\n> My own view.\n\n{FRIENDLY}"
    )
    await db.commit()
    await settle(settings, database)
    # Two replies while the first is unread: one notification, a group of the two.
    (both,) = await notes(db, opener)
    assert both.kind == "reply" and grouping.parse(both.detail, both.post_id).count == 2
    assert [n.kind for n in await notes(db, quoted)] == ["quote"]
    assert both.post_id == second.id  # it leads to the first of them


async def test_a_quote_tells_only_a_member_who_wrote_in_the_thread(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    """A probe's post of twenty made-up "> **name** wrote:" headers told twenty members they
    were quoted: a quote names a member who wrote in the thread, and quotes and mentions
    share the post's limit."""
    opener = await make_user(db, settings, username="q_opener")
    bystanders = [await make_user(db, settings, username=f"q_by{i}") for i in range(3)]
    writer = await make_user(db, settings, username="q_writer")
    thread, _ = await make_thread(db, settings, opener, await make_category(db))
    await create_reply(db, settings, writer, thread, "My own view.")
    fake = "".join(f"> **q_by{i}** wrote:\n> Something.\n\n" for i in range(3))
    await create_reply(db, settings, opener, thread,
                       f"{fake}> **q_writer** wrote:\n> My own view.\n\n{FRIENDLY}")  # fmt: skip
    await db.commit()
    await settle(settings, database)
    for member in bystanders:
        assert await notes(db, member) == [], member.username
    assert [n.kind for n in await notes(db, writer)] == ["quote"]


async def test_a_quick_reply_tells_nobody_it_replied_to_them(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    # The quick reply names the post it was written under for moderation's sake; it is
    # addressed to the thread, so only the thread's author hears of it as a reply.
    opener = await make_user(db, settings, username="qopener")
    last = await make_user(db, settings, username="qlast")
    other = await make_user(db, settings)
    thread, _ = await make_thread(db, settings, opener, await make_category(db))
    under = await create_reply(db, settings, last, thread, "My own view.")
    await create_reply(db, settings, other, thread, FRIENDLY, follows_id=under.id)
    await create_reply(db, settings, other, thread, "Replying to you.", reply_to_id=under.id)
    await db.commit()
    await settle(settings, database)
    (replies,) = await notes(db, opener)  # the three, in one notification
    assert replies.kind == "reply" and grouping.parse(replies.detail, replies.post_id).count == 3
    (explicit,) = await notes(db, last)  # the explicit reply only
    assert explicit.kind == "reply" and explicit.detail == ""


async def test_a_deleted_threads_author_is_told_why_and_a_hidden_post_is_mailed_once(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    from forum.board.threads import delete_thread

    author = await make_user(db, settings, username="deleted_author")
    moderator = await make_user(db, settings, username="deleting_mod", role="moderator")
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    await settle(settings, database)
    await delete_thread(db, settings, moderator, thread, "A duplicate of another thread.")
    await db.commit()
    await settle(settings, database)
    (note,) = await notes(db, author)
    line = fanout.describe(note.kind, "deleting_mod", "", note.detail)
    assert note.kind == "moderation" and thread.title in line
    assert "deleted your thread" in line and "A duplicate of another thread." in line
    mails = (
        await db.scalars(select(OutboxMessage).where(OutboxMessage.to_address == author.email))
    ).all()
    assert [m.subject for m in mails] == [line[:200]]
    # A moderator deleting their own thread is not told of it.
    own, _ = await make_thread(db, settings, moderator, await make_category(db))
    await delete_thread(db, settings, moderator, own, "Tidying up.")
    await db.commit()
    await settle(settings, database)
    assert await notes(db, moderator) == []


async def test_held_posts_wait_for_approval_and_hidden_ones_never_notify(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    junior = await make_user(db, settings, username="waiter")
    newcomer = await make_user(db, settings, username="newcomer")
    moderator = await make_user(db, settings, username="modx", role="moderator")
    thread, _ = await make_thread(db, settings, junior, await make_category(db))
    newcomer.premoderated = True
    held = await create_reply(db, settings, newcomer, thread, f"@waiter {FRIENDLY}")
    hidden = await create_reply(db, settings, newcomer, thread, f"@waiter {FRIENDLY} again")
    await db.commit()
    await settle(settings, database)
    assert await notes(db, junior) == []  # held for a moderator
    assert await db.scalar(select(func.count(NotificationWork.id))) == 2  # still waiting
    for post, action in ((held, "approve"), (hidden, "hide")):
        item = await open_item(db, post.id, ["PREMODERATION"])
        await db.flush()
        await decide(db, settings, moderator, item.id, item.version, action,
                     "" if action == "approve" else "Off topic.", url=url)  # fmt: skip
    await db.commit()
    await settle(settings, database)
    found = await notes(db, junior)
    assert [(n.kind, n.post_id) for n in found] == [("mention", held.id)]
    # The hidden post's work is dropped; its author is told of both decisions.
    assert await db.scalar(select(func.count(NotificationWork.id))) == 0
    told = await notes(db, newcomer)
    assert sorted((n.kind, n.post_id, n.detail) for n in told) == sorted(
        [("moderation", held.id, "approved"), ("moderation", hidden.id, "hidden")]
    )
    # One mail per decision: the queue's own for the hidden post (with the reason), the
    # notification's for the approval (a probe had two mails for one "hide and warn").
    subjects = sorted((await db.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.to_address == newcomer.email)
    )).all())  # fmt: skip
    assert len(subjects) == 2 and any("acted on your post" in m for m in subjects), subjects


async def test_reporters_hear_the_outcome(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    author = await make_user(db, settings)
    reporter = await make_user(db, settings)
    moderator = await make_user(db, settings, role="moderator")
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    await report_post(db, settings, reporter, posts[0], "harassment", "")
    item = await open_item(db, posts[0].id, ["USER_REPORTS"])
    await db.flush()
    await decide(db, settings, moderator, item.id, item.version, "hide", "Rude.", url=url)
    await db.commit()
    await settle(settings, database)
    [note] = await notes(db, reporter)
    assert note.kind == "moderation" and note.detail == "report acted on"
    # A reporter is led to the thread, not to a post a moderator hid.
    assert fanout.target_path(url, note.kind, note.post_id, note.thread_id, note.detail) == url(
        "thread", thread_id=thread.id
    )


async def test_approving_a_post_that_stayed_on_view_tells_its_reporters_not_its_author(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    """A probe's senior member was told "a moderator decided on your post: approved" (and
    mailed) about a flag they never knew of: the post had stayed on view throughout."""
    author = await make_user(db, settings, username="senior_s")
    reporter = await make_user(db, settings, username="reporter_r")
    moderator = await make_user(db, settings, role="moderator")
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    await report_post(db, settings, reporter, posts[0], "harassment", "")
    item = await open_item(db, posts[0].id, ["USER_REPORTS"])
    await db.flush()
    await decide(db, settings, moderator, item.id, item.version, "approve", "", url=url)
    await db.commit()
    await settle(settings, database)
    assert await notes(db, author) == []
    assert [n.detail for n in await notes(db, reporter)] == ["report kept"]
    assert not (
        await db.scalars(select(OutboxMessage).where(OutboxMessage.to_address == author.email))
    ).all()


async def test_only_those_who_may_see_the_thread_are_told(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    staff_room = await make_category(db)
    staff_room.staff_only = True
    moderator = await make_user(db, settings, username="modwatch", role="moderator")
    member = await make_user(db, settings, username="memberwatch")
    for who in (moderator, member):
        await set_category_level(db, who.id, staff_room.id, fanout.Level.watching)
    await make_thread(db, settings, moderator, staff_room, body="@memberwatch see this")
    other = await make_user(db, settings)
    await make_thread(db, settings, other, staff_room, body="Staff only.")
    await db.commit()
    await settle(settings, database)
    assert await notes(db, member) == []  # neither watching nor the mention reaches them
    assert [n.kind for n in await notes(db, moderator)] == ["post"]


async def test_watching_muting_and_auto_tracking(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    category = await make_category(db)
    watcher = await make_user(db, settings, username="watcher")
    muter = await make_user(db, settings, username="muter")
    starter = await make_user(db, settings, username="starter")
    await set_category_level(db, watcher.id, category.id, fanout.Level.watching)
    await set_category_level(db, muter.id, category.id, fanout.Level.muted)
    thread, _ = await make_thread(db, settings, starter, category)
    await create_reply(db, settings, muter, thread, FRIENDLY)
    await db.commit()

    async def levels() -> dict[int, str]:
        return dict(
            (await db.execute(select(ThreadWatch.user_id, ThreadWatch.level).where(
                ThreadWatch.thread_id == thread.id))).all()
        )  # fmt: skip

    # The starter and the replier track the thread (their default) from the moment they
    # write, not once the worker has passed the post (the page said "Normal" until then).
    assert await levels() == {starter.id: "tracking", muter.id: "tracking"}
    await settle(settings, database)
    # The opening post and the reply: one notification while unread.
    assert [n.kind for n in await notes(db, watcher)] == ["post"]
    assert await levels() == {starter.id: "tracking", muter.id: "tracking"}
    # The muted category is overridden by the thread's own level (tracking): a reply tells them.
    await create_reply(db, settings, starter, thread, f"@muter {FRIENDLY}")
    # The watcher mutes the thread: nothing more from it, though the category is watched.
    await set_thread_level(db, watcher.id, thread.id, fanout.Level.muted)
    await db.commit()
    await settle(settings, database)
    assert [n.kind for n in await notes(db, muter)] == ["mention"]
    (watched,) = await notes(db, watcher)
    assert grouping.parse(watched.detail, watched.post_id).count == 2
    # Muting the thread too silences the mention.
    await set_thread_level(db, muter.id, thread.id, fanout.Level.muted)
    await create_reply(db, settings, starter, thread, f"@muter {FRIENDLY} once more")
    await db.commit()
    await settle(settings, database)
    assert [n.kind for n in await notes(db, muter)] == ["mention"]
    # The muted filter leaves the thread out of the member's lists, not others'.
    visible = select(Thread.id).where(Thread.id == thread.id)
    assert await db.scalar(visible.where(muted_filter(muter.id))) is None
    assert await db.scalar(visible.where(muted_filter(starter.id))) == thread.id


async def test_auto_tracking_can_be_turned_off(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    member = await make_user(db, settings)
    db.add(NotificationSettings(user_id=member.id, auto_track=False, category_digest="off"))
    await make_thread(db, settings, member, await make_category(db))
    await settle(settings, database)
    assert await db.scalar(select(func.count()).select_from(ThreadWatch)) == 0


async def test_deliveries_off_email_and_daily_digest(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    author = await make_user(db, settings, username="mailme")
    replier = await make_user(db, settings, username="replier")
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    await create_reply(db, settings, replier, thread, FRIENDLY)  # reply: e-mail at once by default
    await db.commit()
    await settle(settings, database)
    mail = await db.scalar(select(OutboxMessage).where(OutboxMessage.to_address == author.email))
    assert mail is not None and "replier replied to you" in mail.subject
    reply_id = (await notes(db, author))[0].post_id
    assert f"http://testserver/p/{reply_id}\n" in mail.body
    # Off: no notification at all; digest: in-app, and waiting for the digest.
    db.add(NotificationPreference(user_id=author.id, kind="reply", delivery="off"))
    db.add(NotificationPreference(user_id=author.id, kind="mention", delivery="digest"))
    await create_reply(db, settings, replier, thread, "No mention here.")
    third = await create_reply(db, settings, replier, thread, f"@mailme {FRIENDLY}")
    await db.commit()
    await settle(settings, database)
    found = await notes(db, author)
    assert [(n.kind, n.post_id, n.digest_pending) for n in found[1:]] == [
        ("mention", third.id, True)
    ]
    notifier = Notifier(settings, database, worker_paths())
    morning = datetime.now(UTC).replace(hour=settings.notify_digest_hour, minute=30)
    assert await notifier.send_digests(morning) == 1
    digest = await db.scalar(select(OutboxMessage).where(
        OutboxMessage.subject.like("Your daily digest%"), OutboxMessage.to_address == author.email))  # fmt: skip
    assert digest is not None and "replier mentioned you" in digest.body
    assert f"http://testserver/p/{third.id}" in digest.body
    # Once a day: another item the same day waits for tomorrow's.
    await db.execute(
        update(Notification).where(Notification.id == found[-1].id).values(digest_pending=True)
    )
    await db.commit()
    assert await notifier.send_digests(morning + timedelta(hours=2)) == 0
    assert await notifier.send_digests(morning + timedelta(days=1)) == 1


async def test_category_digest_lists_new_public_threads(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    category = await make_category(db, "Career moves")
    reader = await make_user(db, settings, username="reader")
    writer = await make_user(db, settings)
    await set_category_level(db, reader.id, category.id, fanout.Level.tracking)
    db.add(NotificationSettings(user_id=reader.id, auto_track=True, category_digest="daily"))
    await create_thread(db, settings, writer, category, "A public thread", "Hello all.")
    writer_held = await make_user(db, settings)
    writer_held.premoderated = True
    await create_thread(db, settings, writer_held, category, "A held thread", "Wait for me.")
    await db.commit()
    await settle(settings, database)
    notifier = Notifier(settings, database, worker_paths())
    now = datetime.now(UTC) + timedelta(minutes=1)
    assert await notifier.send_category_digests(now) == 1
    mail = await db.scalar(select(OutboxMessage).where(OutboxMessage.to_address == reader.email,
                                                       OutboxMessage.subject.like("New threads%")))  # fmt: skip
    assert mail is not None and "A public thread (in Career moves)" in mail.body
    assert "A held thread" not in mail.body
    assert await notifier.send_category_digests(now + timedelta(minutes=5)) == 0  # once a day


async def test_rank_reached_is_a_notification(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    member = await make_user(db, settings)
    db.add(Rank(name="Trusted voice", min_points=5, is_special=False))
    await db.flush()
    await award_points(db, member.id, 10, "test")
    await db.commit()
    await settle(settings, database)
    assert [(n.kind, n.detail) for n in await notes(db, member)] == [("rank", "Trusted voice")]


async def test_reaction_and_message_handlers(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    author = await make_user(db, settings)
    fan = await make_user(db, settings)
    third = await make_user(db, settings)
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    await settle(settings, database)
    await fanout.on_reaction(
        db, SimpleNamespace(reaction_id=1, post_id=posts[0].id, actor_id=fan.id, kind="Thanks")
    )
    # Reacting to one's own post tells nobody.
    await fanout.on_reaction(
        db, SimpleNamespace(reaction_id=2, post_id=posts[0].id, actor_id=author.id, kind="Helpful")
    )
    await fanout.on_message(db, SimpleNamespace(message_id=7, conversation_id=3, sender_id=fan.id,
                                                recipient_ids=(author.id, third.id, fan.id)))  # fmt: skip
    await db.commit()
    await settle(settings, database)
    got = await notes(db, author)
    assert [(n.kind, n.actor_id, n.detail) for n in got] == [
        ("reaction", fan.id, "Thanks"),
        ("message", fan.id, ""),
    ]
    assert (got[1].message_id, got[1].conversation_id) == (7, 3)
    assert [n.kind for n in await notes(db, third)] == ["message"]
    assert await notes(db, fan) == []  # the sender is not told of their own message


async def test_a_reaction_undone_and_made_again_tells_the_author_once(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    """A fresh account toggled "helpful" on a post sixty times in a minute: sixty
    notifications. Now one per member, post and reaction; another kind, another post or
    another member still tells."""
    author = await make_user(db, settings)
    fan, other = await make_user(db, settings), await make_user(db, settings)
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    second = await create_reply(db, settings, author, thread, "A second post.")
    await settle(settings, database)
    reactions = [(fan, posts[0], "helpful")] * 5 + [
        (fan, posts[0], "thanks"), (fan, second, "helpful"), (other, posts[0], "helpful"),
    ]  # fmt: skip
    for n, (who, post, kind) in enumerate(reactions):
        await fanout.on_reaction(
            db, SimpleNamespace(reaction_id=n, post_id=post.id, actor_id=who.id, kind=kind)
        )
        await db.commit()
        await settle(settings, database)  # each toggle reaches the worker on its own
    got = [(n.actor_id, n.post_id, n.detail) for n in await notes(db, author)]
    assert sorted(got) == sorted([
        (fan.id, posts[0].id, "helpful"), (fan.id, posts[0].id, "thanks"),
        (fan.id, second.id, "helpful"), (other.id, posts[0].id, "helpful"),
    ])  # fmt: skip


async def test_a_reaction_to_a_hidden_post_tells_nobody(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    author = await make_user(db, settings)
    fan = await make_user(db, settings)
    thread, posts = await make_thread(db, settings, author, await make_category(db))
    await db.execute(update(Post).where(Post.id == posts[0].id).values(moderation_state="hidden"))
    await fanout.on_reaction(
        db, SimpleNamespace(reaction_id=1, post_id=posts[0].id, actor_id=fan.id, kind="Thanks")
    )
    await db.commit()
    await settle(settings, database)
    assert await notes(db, author) == []


async def test_fan_out_to_many_watchers_is_one_batch(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    category = await make_category(db)
    author = await make_user(db, settings)
    thread, _ = await make_thread(db, settings, author, category)
    await settle(settings, database)
    watchers = [await make_user(db, settings) for _ in range(30)]
    db.add_all(
        CategoryWatch(user_id=w.id, category_id=category.id, level="watching") for w in watchers
    )
    await create_reply(db, settings, author, thread, FRIENDLY)
    await db.commit()
    await settle(settings, database)
    count = await db.scalar(select(func.count(Notification.id)).where(Notification.kind == "post"))
    assert count == 30
    unread = await db.scalar(select(func.sum(User.notifications_unread)).where(
        User.id.in_([w.id for w in watchers])))  # fmt: skip
    assert unread == 30


async def test_mentions_past_the_cap_do_not_notify(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    settings.notify_mentions_max = 1
    first = await make_user(db, settings, username="first_named")
    second = await make_user(db, settings, username="second_named")
    writer = await make_user(db, settings)
    await make_thread(
        db, settings, writer, await make_category(db), body="@first_named and @second_named, hello"
    )
    await settle(settings, database)
    assert [n.kind for n in await notes(db, first)] == ["mention"]
    assert await notes(db, second) == []


async def test_the_worker_loop_fans_out(fresh_database: Database, settings: Settings) -> None:
    """moderation/worker.py's loop runs the notifier next to mail delivery."""
    import asyncio

    async with fresh_database.sessionmaker() as s:
        junior = await make_user(s, settings, username="loopjunior")
        senior = await make_user(s, settings)
        thread, _ = await make_thread(s, settings, junior, await make_category(s))
        await create_reply(s, settings, senior, thread, f"@loopjunior {FRIENDLY}")
        await s.commit()
        junior_id = junior.id
    worker = worker_for(settings, fresh_database)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(100):
            async with fresh_database.sessionmaker() as s:
                found = await s.scalar(
                    select(Notification.kind).where(Notification.recipient_id == junior_id)
                )
            if found:
                break
            await asyncio.sleep(0.1)
        assert found == "mention"
    finally:
        stop.set()
        worker.wake.set()
        await asyncio.wait_for(task, 30)


async def test_an_edit_notifies_only_whom_it_newly_mentions(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    from forum.board.posting import edit_post

    old = await make_user(db, settings, username="old_name")
    new = await make_user(db, settings, username="new_name")
    watcher = await make_user(db, settings)
    writer = await make_user(db, settings)
    category = await make_category(db)
    await set_category_level(db, watcher.id, category.id, fanout.Level.watching)
    thread, posts = await make_thread(db, settings, writer, category, body=f"@old_name {FRIENDLY}")
    await settle(settings, database)
    await edit_post(db, settings, writer, posts[0], thread, f"@old_name and @new_name {FRIENDLY}")
    await db.commit()
    await settle(settings, database)
    assert [n.kind for n in await notes(db, old)] == ["mention"]  # not again
    assert [(n.kind, n.post_id) for n in await notes(db, new)] == [("mention", posts[0].id)]
    assert [n.kind for n in await notes(db, watcher)] == ["post"]  # an edit is not a new post
    # Taken out and put back in, edit after edit: told once (a probe's five edits sent five).
    for body in (FRIENDLY, f"@new_name {FRIENDLY} again", FRIENDLY, f"@new_name {FRIENDLY}"):
        await edit_post(db, settings, writer, posts[0], thread, body)
        await db.commit()
        await settle(settings, database)
    assert [n.kind for n in await notes(db, new)] == ["mention"]
    # A watcher told of the post is told when an edit mentions them.
    await edit_post(db, settings, writer, posts[0], thread, f"@{watcher.username} {FRIENDLY}")
    await db.commit()
    await settle(settings, database)
    assert [n.kind for n in await notes(db, watcher)] == ["post", "mention"]


async def test_a_failing_work_row_is_dropped_and_the_rest_go_on(
    db: AsyncSession, database: Database, settings: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import logging

    # Its own handler, not caplog: the suite is run with `-p no:logging` too.
    logged: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    junior = await make_user(db, settings, username="steady")
    senior = await make_user(db, settings)
    thread, _ = await make_thread(db, settings, junior, await make_category(db))
    await settle(settings, database)
    bad = await create_reply(db, settings, senior, thread, f"@steady {FRIENDLY} one")
    good = await create_reply(db, settings, senior, thread, f"@steady {FRIENDLY} two")
    await db.commit()
    real_plan = Notifier.plan

    async def plan(self, session, item):  # type: ignore[no-untyped-def]
        if item.post_id == bad.id:
            raise RuntimeError("boom")
        return await real_plan(self, session, item)

    monkeypatch.setattr(Notifier, "plan", plan)
    handler = Collect(logging.ERROR)
    logging.getLogger("candor.notifications").addHandler(handler)
    try:
        await settle(settings, database)
    finally:
        logging.getLogger("candor.notifications").removeHandler(handler)
    assert [n.post_id for n in await notes(db, junior)] == [good.id]
    assert await db.scalar(select(func.count(NotificationWork.id))) == 0
    assert any("failed; dropped" in line for line in logged)


async def test_no_mail_reaches_an_address_nobody_confirmed(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    """Anyone can type an address at registration: until its owner opens the link, the forum
    sends it nothing but that link (a probe pointed reply mail at strangers' mailboxes)."""
    author = await make_user(db, settings, username="unproven")
    replier = await make_user(db, settings, username="replier2")
    thread, _posts = await make_thread(db, settings, author, await make_category(db))
    author.email_confirmed_at = None
    await create_reply(db, settings, replier, thread, FRIENDLY)
    await db.commit()
    await settle(settings, database)
    assert [n.kind for n in await notes(db, author)] == ["reply"]  # in the app, if they confirm
    assert await db.scalar(
        select(func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.to_address == author.email)
    ) == 0  # fmt: skip
    db.add(NotificationPreference(user_id=author.id, kind="reply", delivery="digest"))
    await create_reply(db, settings, replier, thread, "Another reply.")
    await db.commit()
    await settle(settings, database)
    morning = datetime.now(UTC).replace(hour=settings.notify_digest_hour, minute=30)
    assert await Notifier(settings, database, worker_paths()).send_digests(morning) == 0


async def test_one_mail_per_thread_until_the_member_looks(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    """Replies from several accounts in turn: every one is in the member's list, but only the
    first is mailed until they open their notifications; then the next one is mailed again."""
    author = await make_user(db, settings, username="busy_author")
    thread, _posts = await make_thread(db, settings, author, await make_category(db))
    other_thread, _ = await make_thread(db, settings, author, await make_category(db))
    repliers = [await make_user(db, settings, username=f"spammer{n}") for n in range(3)]
    for n, replier in enumerate(repliers):
        await create_reply(db, settings, replier, thread, f"{FRIENDLY} ({n})")
    await create_reply(db, settings, repliers[0], other_thread, FRIENDLY)
    await db.commit()
    await settle(settings, database)

    async def mails() -> int:
        return int(await db.scalar(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.to_address == author.email)
        ) or 0)  # fmt: skip

    async def reply(who: int, text: str) -> int:
        """One more reply in the thread, fanned out: the author's mails so far."""
        await create_reply(db, settings, repliers[who], thread, text)
        await db.commit()
        await settle(settings, database)
        return await mails()

    async def author_notifications(**values: object) -> None:
        await db.execute(
            update(Notification).where(Notification.recipient_id == author.id).values(**values)
        )

    assert len(await notes(db, author)) == 2  # one per thread: the replies are grouped
    assert await mails() == 2  # one per thread
    assert await reply(1, "And another.") == 2
    await author_notifications(read_at=datetime.now(UTC))
    assert await reply(2, "Now they have looked.") == 3
    assert await reply(0, "Soon after.") == 3
    # A group still unread is mailed once, however long it waits (it was mailed again after
    # half a day, and a thread kept busy by turns mailed its author twice a day).
    await author_notifications(
        created_at=datetime.now(UTC) - fanout.MAIL_AGAIN_AFTER - timedelta(minutes=1)
    )
    assert await reply(1, "Half a day later.") == 3
    # Another kind in the thread, unread half a day: a new notification, mailed again.
    await author_notifications(read_at=datetime.now(UTC))
    await create_reply(db, settings, repliers[2], thread, "Back again.")
    await db.commit()
    await settle(settings, database)
    await author_notifications(
        created_at=datetime.now(UTC) - fanout.MAIL_AGAIN_AFTER - timedelta(minutes=1)
    )
    db.add(NotificationPreference(user_id=author.id, kind="mention", delivery="email"))
    assert await reply(0, f"@busy_author {FRIENDLY}") == 5


async def test_mentions_across_threads_stop_mailing_at_the_hours_allowance(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    """A few accounts mentioning one member in thread after thread: one mail per thread had
    no end. After `notify_mail_max_per_hour` mails in the hour, the rest wait for the daily
    digest; every notification is in the member's list at once, and none is lost."""
    settings.notify_mail_max_per_hour = 3
    target = await make_user(db, settings, username="popular")
    bystander = await make_user(db, settings, username="bystander")
    senders = [await make_user(db, settings, username=f"pinger{n}") for n in range(3)]
    category = await make_category(db)
    # Strangers' password-reset requests for the address do not use up the allowance (the
    # second attacker probe's did).
    for _ in range(5):
        queue_mail(db, target.email, "Reset your password", "A link.", redacted="A link.")
    for n in range(6):
        sender = senders[n % 3]
        await create_thread(db, settings, sender, category, f"Thread {n}",
                            f"@popular @bystander {FRIENDLY} ({n})")  # fmt: skip
    await db.commit()
    await settle(settings, database)

    async def mails_to(user: User) -> list[OutboxMessage]:
        return list(await db.scalars(
            select(OutboxMessage).where(OutboxMessage.to_address == user.email)
            .order_by(OutboxMessage.id)
        ))  # fmt: skip

    for member in (target, bystander):
        mails = [m for m in await mails_to(member) if m.subject != "Reset your password"]
        assert len(mails) == 3, [m.subject for m in mails]
        assert "wait for your daily digest" in mails[-1].body
        assert all("wait for your daily digest" not in m.body for m in mails[:-1])
        found = await notes(db, member)
        assert len(found) == 6  # all in the list
        assert [n.digest_pending for n in found] == [False] * 3 + [True] * 3
    # The hour over, mail comes at once again.
    await db.execute(
        update(OutboxMessage).values(created_at=datetime.now(UTC) - timedelta(hours=2))
    )
    await create_thread(db, settings, senders[0], category, "Thread later", f"@popular {FRIENDLY}")
    await db.commit()
    await settle(settings, database)
    assert len(await mails_to(target)) == 5 + 4
    # The three that waited arrive in the digest.
    notifier = Notifier(settings, database, worker_paths())
    morning = datetime.now(UTC).replace(hour=settings.notify_digest_hour, minute=30)
    assert await notifier.send_digests(morning) >= 1
    digest = (await mails_to(target))[-1]
    assert digest.subject == "Your daily digest: 3 notifications"
    for n in (3, 4, 5):
        assert f"Thread {n}" in digest.body


def test_a_reaction_is_said_in_words() -> None:
    """It read "ada reacted “helpful” to your post": the reaction's key, lower case."""
    line = fanout.describe
    assert line("reaction", "ada", "Pilot", "helpful") == "ada found your post in “Pilot” helpful"
    assert line("reaction", "ada", "", "thanks") == "ada thanked you for your post"
    assert line("reaction", "ada", "", "agree") == "ada agreed with your post"
    # Names and titles with braces are shown as written.
    assert line("reaction", "{x}", "{where}", "agree") == "{x} agreed with your post in “{where}”"
