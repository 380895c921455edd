"""The moderation worker on a real database: claims, leases, kills, failures, re-scoring."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from forum.accounts.models import User
from forum.board.models import Post, Thread
from forum.board.posting import create_reply, edit_post, moderated_text
from forum.core.db import Database, utcnow
from forum.core.settings import Settings
from forum.review.models import ModerationResult, ReviewItem, StageStatus
from forum.review.queue import describe
from moderation.pipeline import CueStage, Pipeline
from moderation.signals import (
    MAX_QUOTED_LINES,
    OTHER_LANGUAGE,
    PostInput,
    StageResult,
    own_words,
    unquote_fabricated,
)
from moderation.worker import Worker
from tests.conftest import make_settings
from tests.helpers import make_category, make_thread, make_user

PUT_DOWN = "Honestly, know your place. Come back when you have 20 years in."
FRIENDLY = "Thanks for sharing the pilot results, very useful."


class CannotLoad:
    """A stage whose model is missing: it must be reported, never faked."""

    name = "dismissive"
    model = "missing-model"

    def __init__(self) -> None:
        self.available = False

    def load(self) -> None:
        if not self.available:
            raise FileNotFoundError("no weights at /nowhere/head.json")

    def score(self, posts: list[PostInput]) -> list[StageResult]:
        return CueStage().score(posts)


def worker_for(settings: Settings, database: Database, *stages: object) -> Worker:
    pipeline = Pipeline(settings, list(stages) or [CueStage()])  # type: ignore[arg-type]
    pipeline.load()
    return Worker(settings, database, pipeline)


async def seed(database: Database, settings: Settings, bodies: list[str]) -> list[int]:
    async with database.sessionmaker() as session:
        author = await make_user(session, settings)
        thread, posts = await make_thread(session, settings, author, await make_category(session),
                                          body=bodies[0])  # fmt: skip
        ids = [posts[0].id]
        for body in bodies[1:]:
            ids.append((await create_reply(session, settings, author, thread, body)).id)
        await session.commit()
    return ids


async def results_for(database: Database, post_id: int) -> list[ModerationResult]:
    async with database.sessionmaker() as session:
        return list(
            (await session.scalars(
                select(ModerationResult).where(ModerationResult.post_id == post_id)
                .order_by(ModerationResult.id)
            )).all()
        )  # fmt: skip


@pytest.fixture
def wsettings(fresh_url: str) -> Settings:
    return make_settings(fresh_url, worker_lease_seconds=60, worker_max_attempts=3)


async def test_worker_decides_and_opens_review_items(
    fresh_database: Database, wsettings: Settings
) -> None:
    ids = await seed(fresh_database, wsettings, [FRIENDLY, PUT_DOWN])
    worker = worker_for(wsettings, fresh_database)
    assert await worker.run_once() == 2
    assert await worker.run_once() == 0
    friendly_r = await results_for(fresh_database, ids[0])
    put_down_r = await results_for(fresh_database, ids[1])
    assert [r.verdict for r in friendly_r] == ["clear"]
    assert put_down_r[-1].verdict == "hold" and "DISMISSIVE_OF_JUNIORS" in put_down_r[-1].reasons
    assert {e["label"] for e in put_down_r[-1].evidence} >= {"know_your_place", "come_back_when"}
    assert put_down_r[-1].models == {"cues": "cues-1"}
    async with fresh_database.sessionmaker() as session:
        post = await session.get(Post, ids[1])
        assert post is not None and post.moderation_state == "held" and not post.needs_scoring
        assert "dismissive of junior colleagues" in post.moderation_note
        items = (await session.scalars(select(ReviewItem))).all()
        assert [i.post_id for i in items] == [ids[1]]


async def test_a_put_down_its_author_deleted_before_its_check_is_still_read(
    fresh_database: Database, wsettings: Settings
) -> None:
    """Posted and deleted at once, a put-down leaves a review item with its text (no count
    changes); a deleted thread's posts are not read."""
    from forum.board.posting import delete_post
    from forum.board.threads import delete_thread

    ids = await seed(fresh_database, wsettings, [FRIENDLY, PUT_DOWN, FRIENDLY + " Second."])
    async with fresh_database.sessionmaker() as session:
        post = await session.get(Post, ids[1])
        assert post is not None
        author = await session.get(User, post.author_id)
        thread = await session.get(Thread, post.thread_id)
        assert author is not None and thread is not None
        await delete_post(session, wsettings, author, post, thread)
        await session.commit()
        counts = (thread.post_count, author.post_count, author.points)
    worker = worker_for(wsettings, fresh_database)
    assert await worker.run_once() == 3
    assert (await results_for(fresh_database, ids[1]))[-1].verdict == "hold"
    async with fresh_database.sessionmaker() as session:
        items = (await session.scalars(select(ReviewItem))).all()
        assert [i.post_id for i in items] == [ids[1]]
        thread = await session.get(Thread, thread.id)
        author = await session.get(User, author.id)
        assert thread is not None and author is not None
        assert (thread.post_count, author.post_count, author.points) == counts
    # A thread deleted (by a moderator) before its posts were read: none is read.
    other = await seed(fresh_database, wsettings, [PUT_DOWN])
    async with fresh_database.sessionmaker() as session:
        first = await session.get(Post, other[0])
        assert first is not None
        doomed = await session.get(Thread, first.thread_id)
        moderator = await session.get(User, first.author_id)
        assert doomed is not None and moderator is not None
        await delete_thread(session, wsettings, moderator, doomed, "Spam.")
        await session.commit()
    assert await worker.run_once() == 0


async def test_long_posts_wait_behind_ordinary_ones_and_are_read_one_at_a_time(
    fresh_database: Database, wsettings: Settings
) -> None:
    """A probe's 20,000-character replies kept a new account's ordinary reply hidden 35 s."""
    from moderation.worker import LONG_POST_CHARS, LONG_POST_WAIT

    long = (FRIENDLY + " ") * (LONG_POST_CHARS // len(FRIENDLY) + 1)
    ids = await seed(fresh_database, wsettings, [FRIENDLY, long, long + "!", FRIENDLY + " Too."])
    worker = worker_for(wsettings, fresh_database)
    assert sorted(c.post_id for c in await worker.claim()) == [ids[0], ids[3]]
    assert [c.post_id for c in await worker.claim()] == [ids[1]]
    assert [c.post_id for c in await worker.claim()] == [ids[2]]
    assert await worker.claim() == []
    # A long post that has waited LONG_POST_WAIT joins a batch of ordinary ones (one a batch):
    # a stream of ordinary posts does not starve it.
    more = await seed(fresh_database, wsettings, [FRIENDLY, long, long, FRIENDLY + " Also."])
    async with fresh_database.sessionmaker() as session:
        await session.execute(
            update(Post).where(Post.id.in_(more[1:3])).values(
                created_at=utcnow() - LONG_POST_WAIT - timedelta(seconds=5)
            )
        )  # fmt: skip
        await session.commit()
    assert sorted(c.post_id for c in await worker.claim()) == [more[0], more[1], more[3]]


async def test_the_shortest_long_post_is_read_first(
    fresh_database: Database, wsettings: Settings
) -> None:
    """A probe's four 20,000-character posts kept a member's 2,132-character post unread for
    51 s behind them: among long posts, the shortest goes first, unless one has waited
    LONG_POST_STARVED."""
    from moderation.worker import LONG_POST_CHARS, LONG_POST_STARVED

    huge = (FRIENDLY + " ") * (19_000 // len(FRIENDLY))
    modest = (FRIENDLY + " ") * (LONG_POST_CHARS // len(FRIENDLY) + 5)
    # (Four writers, each with one long post: a writer's own take turns, the next test.)
    ids = [
        (await seed(fresh_database, wsettings, [body]))[0]
        for body in (huge, huge + "!", modest, huge + "?")
    ]
    worker = worker_for(wsettings, fresh_database)
    assert [c.post_id for c in await worker.claim()] == [ids[2]]
    async with fresh_database.sessionmaker() as session:
        await session.execute(
            update(Post).where(Post.id == ids[3]).values(
                created_at=utcnow() - LONG_POST_STARVED - timedelta(seconds=5)
            )
        )  # fmt: skip
        await session.commit()
    assert [c.post_id for c in await worker.claim()] == [ids[3]]
    assert [c.post_id for c in await worker.claim()] == [ids[0]]


async def test_one_writers_flood_of_long_posts_takes_turns_with_others(
    fresh_database: Database, wsettings: Settings
) -> None:
    """The next probe's four accounts posted forty replies of 2,010 characters: shortest first,
    a member's 2,132-character post waited 37 s behind them. Each writer's first long post of
    the last ten minutes goes before anyone's second."""
    from moderation.worker import LONG_POST_CHARS

    flood = (FRIENDLY + " ") * (LONG_POST_CHARS // len(FRIENDLY) + 1)
    member = flood + " And a little more from me, the member."
    ids = await seed(fresh_database, wsettings, [flood, flood + "!", flood + "?"])
    worker = worker_for(wsettings, fresh_database)
    (mine,) = await seed(fresh_database, wsettings, [member])
    order = [c.post_id for _ in range(4) for c in await worker.claim()]
    assert order.index(mine) < order.index(ids[1]), order


async def test_a_put_down_split_across_two_posts_in_a_row_is_read_as_one(
    fresh_database: Database, wsettings: Settings
) -> None:
    """A twelfth-session probe posted "You're too", then "junior to get this.": each read alone passed.
    From a fresh account, whose first half is still out of view (checking) when the second is
    read, in the same batch."""
    wsettings = wsettings.model_copy(update={"hide_new_accounts_posts_until_checked": True})
    ids = await seed(fresh_database, wsettings, [FRIENDLY, "You're too", "junior to get this."])
    async with fresh_database.sessionmaker() as session:
        first_half = await session.get(Post, ids[1])
        assert first_half is not None and first_half.moderation_state == "checking"
    worker = worker_for(wsettings, fresh_database)
    assert await worker.run_once() == 3
    assert [r.verdict for r in await results_for(fresh_database, ids[1])] == ["clear"]
    second = await results_for(fresh_database, ids[2])
    assert second[-1].verdict == "flag" and "DISMISSIVE_OF_JUNIORS" in second[-1].reasons
    # The same words after someone else's post are that post's answer, not its end.
    async with fresh_database.sessionmaker() as session:
        other = await make_user(session, wsettings, username="someone_else")
        thread = await session.get(Thread, (await session.get(Post, ids[0])).thread_id)
        answer = await create_reply(session, wsettings, other, thread, "junior to get this.")
        await session.commit()
    assert await worker.run_once() == 1
    assert (await results_for(fresh_database, answer.id))[-1].verdict == "clear"
    # A second half that replies to an earlier post (a probe's did) is still read with the
    # writer's first half, the post just before it.
    async with fresh_database.sessionmaker() as session:
        thread = await session.get(Thread, (await session.get(Post, ids[0])).thread_id)
        author = await session.get(User, (await session.get(Post, ids[1])).author_id)
        assert thread is not None and author is not None
        await create_reply(session, wsettings, author, thread, "Honest answer for you: you're too")
        half = await create_reply(session, wsettings, author, thread, "junior to get this.",
                                  reply_to_id=answer.id)  # fmt: skip
        await session.commit()
    assert await worker.run_once() == 2
    assert (await results_for(fresh_database, half.id))[-1].verdict in ("flag", "hold")


async def test_a_put_down_split_between_two_accounts_moments_apart_is_read_as_one(
    fresh_database: Database, wsettings: Settings
) -> None:
    """An eighteenth-session probe's two fresh accounts posted "Honestly @grace_w, you are far
    too" and, a second later, "junior to get any of this, sorry.": each passed alone."""
    ids = await seed(fresh_database, wsettings, [FRIENDLY, "Honestly, you are far too"])
    async with fresh_database.sessionmaker() as session:
        other = await make_user(session, wsettings, username="second_hand")
        thread = await session.get(Thread, (await session.get(Post, ids[0])).thread_id)
        assert thread is not None
        half = await create_reply(session, wsettings, other, thread,
                                  "junior to get any of this, sorry.")  # fmt: skip
        await session.commit()
    worker = worker_for(wsettings, fresh_database)
    assert await worker.run_once() == 3
    assert (await results_for(fresh_database, ids[1]))[-1].verdict == "clear"
    assert (await results_for(fresh_database, half.id))[-1].verdict in ("flag", "hold")
    # Not when the post before finished its sentence, nor when it was written long before.
    async with fresh_database.sessionmaker() as session:
        author = await session.get(User, (await session.get(Post, ids[1])).author_id)
        thread = await session.get(Thread, half.thread_id)
        assert author is not None and thread is not None
        ended = await create_reply(session, wsettings, author, thread, "Good luck, you are far too")
        await session.execute(
            update(Post).where(Post.id == ended.id).values(
                created_at=utcnow() - timedelta(minutes=30)
            )
        )  # fmt: skip
        late = await create_reply(session, wsettings, other, thread, "junior to get this, sorry.")
        await session.commit()
    assert await worker.run_once() == 2
    assert (await results_for(fresh_database, late.id))[-1].verdict == "clear"


async def test_the_worker_gives_the_levels_of_the_members_a_post_mentions(
    fresh_database: Database, wsettings: Settings
) -> None:
    async with fresh_database.sessionmaker() as session:
        senior = await make_user(session, wsettings, role="moderator")
        junior = await make_user(session, wsettings, username="kofi_a")
        writer = await make_user(session, wsettings)
        thread, (first,) = await make_thread(session, wsettings, senior,
                                             await make_category(session), body="Our plan.")  # fmt: skip
        reply = await create_reply(session, wsettings, writer, thread,
                                   f"@{junior.username} and @{senior.username}, see @nobody_here "
                                   f"and @{writer.username}.", reply_to_id=first.id)  # fmt: skip
        # A name without its "@", in a reply naming a post (a probe's "As for grace_w: …").
        bare = await create_reply(session, wsettings, writer, thread,
                                  f"As for {junior.username}: not yet.", reply_to_id=first.id)  # fmt: skip
        await session.commit()
    capture = Capture()
    await worker_for(wsettings, fresh_database, capture).run_once()
    read = {p.post_id: p for p in capture.seen}
    assert sorted(read[reply.id].mentioned_levels) == [0, 3]  # not the writer
    assert read[bare.id].mentioned_levels == (0,)


async def test_a_put_down_split_across_three_posts_in_a_row_is_read_as_one(
    fresh_database: Database, wsettings: Settings
) -> None:
    """A fifteenth-session probe posted "You're too", "junior", "to get this.": the third was
    read with the second alone."""
    ids = await seed(fresh_database, wsettings, [FRIENDLY, "You're too", "junior", "to get this."])
    worker = worker_for(wsettings, fresh_database)
    assert await worker.run_once() == 4
    assert [(await results_for(fresh_database, i))[-1].verdict for i in ids[1:3]] == [
        "clear",
        "clear",
    ]
    assert (await results_for(fresh_database, ids[3]))[-1].verdict in ("flag", "hold")


async def test_a_post_in_another_language_is_flagged_for_a_person_and_stays_on_view(
    fresh_database: Database, wsettings: Settings
) -> None:
    """An established member's stays on view; a new account's waits for the person."""
    from moderation.language import LanguageStage

    # (No phrase the cues read in it: "tu es trop junior" is a cue now, which holds it.)
    french = "Franchement, les stagiaires ne comprennent rien. Reviens quand tu auras vingt ans."
    ids = await seed(fresh_database, wsettings, [FRIENDLY, french])
    async with fresh_database.sessionmaker() as session:
        await session.execute(update(User).values(joined_at=utcnow() - timedelta(days=30)))
        await session.commit()
    worker = worker_for(wsettings, fresh_database, CueStage(), LanguageStage())
    assert await worker.run_once() == 2
    assert [r.verdict for r in await results_for(fresh_database, ids[0])] == ["clear"]
    (result,) = await results_for(fresh_database, ids[1])
    assert result.verdict == "flag" and result.reasons == [OTHER_LANGUAGE]
    assert result.models["language"] == "py3langid"
    async with fresh_database.sessionmaker() as session:
        post = await session.get(Post, ids[1])
        assert post is not None and post.moderation_state == "flagged"
        items = (await session.scalars(select(ReviewItem))).all()
        assert [(i.post_id, i.reasons) for i in items] == [(ids[1], [OTHER_LANGUAGE])]
        assert "language the automatic checks do not read" in describe(items[0].reasons)
    new_ids = await seed(fresh_database, wsettings, [FRIENDLY, french])
    assert await worker.run_once() == 2
    assert (await results_for(fresh_database, new_ids[1]))[-1].verdict == "hold"
    async with fresh_database.sessionmaker() as session:
        held = await session.get(Post, new_ids[1])
        assert held is not None and held.moderation_state == "held"
        assert "in a language the automatic checks do not read" in held.moderation_note


async def test_stage_that_cannot_load_is_reported_and_rescored_once_it_loads(
    fresh_database: Database, wsettings: Settings
) -> None:
    ids = await seed(fresh_database, wsettings, [PUT_DOWN])
    async with fresh_database.sessionmaker() as session:  # a profile scored meanwhile, too
        from forum.accounts.services import update_profile

        member = await make_user(session, wsettings)
        await update_profile(session, wsettings, member, "Leeds", PUT_DOWN)
        await session.commit()
    broken = CannotLoad()
    worker = worker_for(wsettings, fresh_database, CueStage(), broken)
    await worker.publish_status()
    assert await worker.run_once() == 1
    assert await worker.score_profiles() == 1
    (result,) = await results_for(fresh_database, ids[0])
    assert not result.complete and "no weights" in result.failed_stages["dismissive"]
    assert "dismissive" not in result.scores  # no made-up scores
    async with fresh_database.sessionmaker() as session:
        status = await session.get(StageStatus, "dismissive")
        assert status is not None and not status.loaded and "no weights" in status.detail
    assert await worker.requeue_incomplete() == 0  # still broken: nothing to gain
    broken.available = True
    worker.pipeline.load()
    assert await worker.requeue_incomplete() == 2  # the post and the profile
    assert await worker.run_once() == 1
    assert await worker.score_profiles() == 1
    latest = (await results_for(fresh_database, ids[0]))[-1]
    assert latest.complete and "dismissive" in latest.scores


async def test_lease_expiry_after_a_killed_worker(fresh_url: str, fresh_database: Database) -> None:
    settings = make_settings(fresh_url, worker_lease_seconds=2)
    ids = await seed(fresh_database, settings, [PUT_DOWN, FRIENDLY, FRIENDLY + " Again."])
    script = textwrap.dedent(f"""
        import asyncio, sys, time
        from forum.core.db import connect
        from moderation.pipeline import CueStage, Pipeline
        from moderation.worker import Worker
        from tests.conftest import make_settings
        async def main():
            settings = make_settings({fresh_url!r}, worker_lease_seconds=2)
            db = connect(settings.database_url)
            w = Worker(settings, db, Pipeline(settings, [CueStage()]))
            claims = await w.claim()
            print(len(claims), flush=True)
            time.sleep(600)  # "mid-batch" when it is killed
        asyncio.run(main())
    """)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "3"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    worker = worker_for(settings, fresh_database)
    assert await worker.claim() == []  # the dead worker's lease still holds
    await asyncio.sleep(2.2)
    assert await worker.run_once() == 3  # lease expired: nothing was lost
    for post_id in ids:
        assert len(await results_for(fresh_database, post_id)) == 1


async def test_a_late_worker_cannot_overwrite_a_newer_claim(
    fresh_database: Database, wsettings: Settings
) -> None:
    ids = await seed(fresh_database, wsettings, [PUT_DOWN])
    slow = worker_for(wsettings, fresh_database)
    fast = worker_for(wsettings, fresh_database)
    (old_claim,) = await slow.claim()
    async with fresh_database.sessionmaker() as session:  # the slow worker's lease runs out
        await session.execute(update(Post).values(mod_lease_until=None))
        await session.commit()
    assert await fast.run_once() == 1
    outcome = slow.pipeline.run([PostInput(ids[0], PUT_DOWN)])[0]
    assert await slow.finalize(old_claim, outcome) is False
    assert len(await results_for(fresh_database, ids[0])) == 1


async def test_a_post_that_keeps_failing_goes_to_review_as_unscored(
    fresh_database: Database, wsettings: Settings
) -> None:
    ids = await seed(fresh_database, wsettings, [FRIENDLY])
    worker = worker_for(wsettings, fresh_database)
    for _ in range(wsettings.worker_max_attempts):  # each attempt "crashes" before deciding
        assert len(await worker.claim()) == 1
        async with fresh_database.sessionmaker() as session:
            await session.execute(update(Post).values(mod_lease_until=None))
            await session.commit()
    assert await worker.run_once() == 1
    (result,) = await results_for(fresh_database, ids[0])
    assert result.verdict == "unscored"
    async with fresh_database.sessionmaker() as session:
        item = await session.scalar(select(ReviewItem).where(ReviewItem.post_id == ids[0]))
        assert item is not None and item.reasons == ["UNSCORED"] and item.status == "open"
        post = await session.get(Post, ids[0])
        assert post is not None and not post.needs_scoring


async def test_edited_posts_are_scored_again(fresh_database: Database, wsettings: Settings) -> None:
    ids = await seed(fresh_database, wsettings, [FRIENDLY])
    worker = worker_for(wsettings, fresh_database)
    assert await worker.run_once() == 1
    async with fresh_database.sessionmaker() as session:
        post = await session.get(Post, ids[0])
        from forum.accounts.models import User
        from forum.board.models import Thread

        assert post is not None
        author = await session.get(User, post.author_id)
        thread = await session.get(Thread, post.thread_id)
        assert author is not None and thread is not None
        await edit_post(session, wsettings, author, post, thread, PUT_DOWN)
        await session.commit()
    assert await worker.run_once() == 1
    verdicts = [r.verdict for r in await results_for(fresh_database, ids[0])]
    assert verdicts == ["clear", "hold"]


async def test_an_answered_opening_post_edited_into_a_put_down_is_flagged_not_held(
    fresh_database: Database, wsettings: Settings
) -> None:
    """A probe hid its thread's replies by editing the opening post into a put-down:
    the hold took the thread, and the others' replies, off the board until a moderator came.
    Now such an edit stays on view, flagged, at the hold's priority in the queue (a moderator
    restores the earlier version in one click) when an established member wrote it and other
    established members answered it; an unanswered one is held as before."""
    async with fresh_database.sessionmaker() as session:
        opener = await make_user(session, wsettings, username="opener")
        other = await make_user(session, wsettings, username="replier")
        sock = await make_user(session, wsettings, username="sock")  # made today
        for member in (opener, other):
            member.joined_at = utcnow() - timedelta(days=30)
        category = await make_category(session)
        answered, (first,) = await make_thread(session, wsettings, opener, category, body=FRIENDLY)
        reply = await create_reply(session, wsettings, other, answered, "Useful, thanks.")
        alone, (lone_first,) = await make_thread(session, wsettings, opener, category,
                                                 body=FRIENDLY)  # fmt: skip
        socked, (sock_first,) = await make_thread(session, wsettings, opener, category,
                                                  body=FRIENDLY)  # fmt: skip
        await create_reply(session, wsettings, sock, socked, "Agreed.")
        await session.commit()
    worker = worker_for(wsettings, fresh_database)
    assert await worker.run_once() == 5
    async with fresh_database.sessionmaker() as session:
        for post_id, thread_id in ((first.id, answered.id), (lone_first.id, alone.id),
                                   (sock_first.id, socked.id)):  # fmt: skip
            post, thread = await session.get(Post, post_id), await session.get(Thread, thread_id)
            writer = await session.get(User, opener.id)
            assert post is not None and thread is not None and writer is not None
            await edit_post(session, wsettings, writer, post, thread, PUT_DOWN)
        await session.commit()
    assert await worker.run_once() == 3
    async with fresh_database.sessionmaker() as session:
        states = {
            p.id: p.moderation_state
            for p in await session.scalars(
                select(Post).where(Post.id.in_([first.id, lone_first.id, sock_first.id, reply.id]))
            )
        }
        # Answered only by an account made today (a sock puppet's reply): held as before.
        assert states == {first.id: "flagged", lone_first.id: "held", sock_first.id: "held",
                          reply.id: "clear"}  # fmt: skip
        item = await session.scalar(select(ReviewItem).where(ReviewItem.post_id == first.id))
        assert item is not None and item.system_verdict == "hold"
    assert [r.verdict for r in await results_for(fresh_database, first.id)][-1] == "hold"


async def test_titles_are_scored_with_the_opening_post_and_a_new_title_rescores(
    fresh_database: Database, wsettings: Settings
) -> None:
    # A thread title is member text too (#14): a put-down in the title alone is held, the
    # evidence points into "title\n\nbody", and changing only the title is scored again.
    async with fresh_database.sessionmaker() as session:
        author = await make_user(session, wsettings)
        category = await make_category(session)
        thread, (post,) = await make_thread(
            session, wsettings, author, category, title="Know your place, graduates", body=FRIENDLY
        )
        ids = (thread.id, post.id)
    worker = worker_for(wsettings, fresh_database)
    assert await worker.run_once() == 1
    (result,) = await results_for(fresh_database, ids[1])
    assert result.verdict == "hold"
    (span,) = [e for e in result.evidence if e["label"] == "know_your_place"]
    assert (
        moderated_text(FRIENDLY, "Know your place, graduates")[span["start"] : span["end"]]
        == span["text"]
    )
    async with fresh_database.sessionmaker() as session:
        from forum.accounts.models import User
        from forum.board.models import PostRevision, Thread

        post = await session.get(Post, ids[1])
        thread = await session.get(Thread, ids[0])
        assert post is not None and thread is not None
        post.moderation_state = "clear"  # as a moderator's approval leaves it
        author = await session.get(User, post.author_id)
        assert author is not None
        await edit_post(session, wsettings, author, post, thread, FRIENDLY, "Pairing questions")
        await session.commit()
        revision = await session.scalar(select(PostRevision).where(PostRevision.post_id == ids[1]))
        assert revision is not None and revision.title == "Know your place, graduates"
        assert revision.body_source == FRIENDLY
    assert await worker.run_once() == 1
    assert [r.verdict for r in await results_for(fresh_database, ids[1])] == ["hold", "clear"]


async def test_article_comments_are_scored_like_posts(
    fresh_database: Database, wsettings: Settings
) -> None:
    from forum.articles.services import add_comment, publish

    async with fresh_database.sessionmaker() as session:
        editor = await make_user(session, wsettings, role="editor")
        member = await make_user(session, wsettings)
        article = await publish(
            session, wsettings, editor, "Pilot notes", "What twelve pairs taught us.", "Body."
        )
        comment = await add_comment(session, wsettings, member, article, PUT_DOWN)
        await session.commit()
        comment_id = comment.id
    worker = worker_for(wsettings, fresh_database)
    assert await worker.run_once() == 1  # the comment; the discussion's opening post is the summary
    (result,) = await results_for(fresh_database, comment_id)
    assert result.verdict == "hold"
    async with fresh_database.sessionmaker() as session:
        held = await session.get(Post, comment_id)
        assert held is not None and held.moderation_state == "held"
        item = await session.scalar(select(ReviewItem).where(ReviewItem.post_id == comment_id))
        assert item is not None and item.status == "open"


async def test_two_workers_never_claim_the_same_post(
    backend: str, fresh_database: Database, wsettings: Settings
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite runs one worker; SKIP LOCKED is PostgreSQL's")
    async with fresh_database.sessionmaker() as session:
        author = await make_user(session, wsettings)
        thread, _ = await make_thread(session, wsettings, author, await make_category(session))
        for i in range(119):
            await create_reply(session, wsettings, author, thread, f"reply {i}")
        await session.commit()
        total = await session.scalar(select(func.count(Post.id)))
    workers = [worker_for(wsettings, fresh_database) for _ in range(4)]
    claimed: list[list[int]] = [[] for _ in workers]

    async def drain(i: int) -> None:
        while claims := await workers[i].claim(7):
            claimed[i].extend(c.post_id for c in claims)

    await asyncio.gather(*(drain(i) for i in range(len(workers))))
    everything = [pid for ids in claimed for pid in ids]
    assert len(everything) == len(set(everything)) == total
    assert sum(1 for ids in claimed if ids) >= 2  # they really shared the work


def test_the_web_process_never_imports_torch() -> None:
    code = textwrap.dedent("""
        import sys, asyncio, httpx
        from forum.app import create_app
        from forum.core.settings import Settings
        app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="x"))
        async def main():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                await c.post("/api/cues", json={"text": "know your place"})
        asyncio.run(main())
        heavy = [m for m in ("torch", "transformers", "sentence_transformers", "detoxify") if m in sys.modules]
        print(",".join(heavy) or "clean")
    """)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})  # fmt: skip
    assert out.stdout.strip() == "clean", out.stderr
    assert time.perf_counter() - started < 60


async def test_housekeeping_drops_old_rate_windows_and_expired_sessions(
    fresh_database: Database, wsettings: Settings
) -> None:
    from datetime import timedelta

    from forum.accounts.models import LoginSession
    from forum.core.db import utcnow
    from forum.core.ratelimit import RateLimitCounter

    async with fresh_database.sessionmaker() as s:
        user = await make_user(s, wsettings)
        s.add(RateLimitCounter(key="old", window_start=utcnow() - timedelta(days=2), count=3))
        s.add(RateLimitCounter(key="new", window_start=utcnow(), count=1))
        s.add(
            LoginSession(id="a" * 64, user_id=user.id, expires_at=utcnow() - timedelta(seconds=1))
        )
        s.add(LoginSession(id="b" * 64, user_id=user.id, expires_at=utcnow() + timedelta(days=1)))
        # A suspension that ran out ends in the record; a running one stays.
        over = await make_user(s, wsettings, username="hk_over")
        running = await make_user(s, wsettings, username="hk_running")
        for member, end in ((over, -1), (running, 24)):
            member.status = "suspended"
            member.suspended_until = utcnow() + timedelta(hours=end)
        await s.commit()
    await worker_for(wsettings, fresh_database).housekeeping()
    async with fresh_database.sessionmaker() as s:
        assert (await s.scalars(select(RateLimitCounter.key))).all() == ["new"]
        assert (await s.scalars(select(LoginSession.id))).all() == ["b" * 64]
        from forum.accounts.models import User

        states = dict((await s.execute(
            select(User.username, User.status).where(User.username.in_(["hk_over", "hk_running"]))
        )).all())  # fmt: skip
        assert states == {"hk_over": "active", "hk_running": "suspended"}


class Capture:
    """A stage that records what the pipeline gives it."""

    name = "dismissive"
    model = "capture"

    def __init__(self) -> None:
        self.seen: list[PostInput] = []

    def load(self) -> None:
        return None

    def score(self, posts: list[PostInput]) -> list[StageResult]:
        self.seen.extend(posts)
        return CueStage().score(posts)


async def test_each_post_is_scored_with_what_it_answers(
    fresh_database: Database, wsettings: Settings
) -> None:
    # Context in the model (#15): a quote or reply is read with the post it answers, a plain
    # reply with the post before it, an opening post with nothing.
    async with fresh_database.sessionmaker() as session:
        author = await make_user(session, wsettings)
        senior = await make_user(session, wsettings, role="moderator")
        thread, (first,) = await make_thread(session, wsettings, author,
                                             await make_category(session), body="My rota idea.")  # fmt: skip
        second = await create_reply(session, wsettings, senior, thread, "Maybe in a few years.",
                                    reply_to_id=first.id)  # fmt: skip
        third = await create_reply(session, wsettings, author, thread, "Fair enough.")
        # Answering oneself says nothing of whom a post is aimed at (no dodging a hold so).
        fourth = await create_reply(session, wsettings, author, thread, "And another thing.",
                                    reply_to_id=third.id)  # fmt: skip
        await session.commit()
        ids = first.id, second.id, third.id, fourth.id
    capture = Capture()
    worker = worker_for(wsettings, fresh_database, capture)
    assert await worker.run_once() == 4
    by_id = {p.post_id: p for p in capture.seen}
    assert by_id[ids[0]].context == ""
    # The opening post carries its thread's title, to be read alone as well; replies none.
    assert by_id[ids[0]].title == thread.title and thread.title
    assert all(by_id[i].title == "" for i in ids[1:])
    assert by_id[ids[1]].context == "My rota idea." and by_id[ids[1]].target_role == "member"
    assert by_id[ids[2]].context == "Maybe in a few years."
    assert by_id[ids[3]].context == "Fair enough." and by_id[ids[3]].target_level is None


async def test_a_quick_reply_is_read_with_the_post_it_was_written_under(
    fresh_database: Database, wsettings: Settings
) -> None:
    # The quick reply at a thread's foot names the post it follows (not one it replies to):
    # moderation reads it with that post and its writer's rank, as it reads a reply.
    async with fresh_database.sessionmaker() as session:
        junior = await make_user(session, wsettings)
        senior = await make_user(session, wsettings, role="moderator")
        thread, (first,) = await make_thread(session, wsettings, junior,
                                             await make_category(session), body="My rota idea.")  # fmt: skip
        middle = await create_reply(session, wsettings, junior, thread, "Any thoughts?")
        quick = await create_reply(session, wsettings, senior, thread, "Maybe in a few years.",
                                   follows_id=first.id)  # fmt: skip
        await session.commit()
        assert quick.reply_to_id is None and quick.follows_id == first.id
        ids = middle.id, quick.id
    capture = Capture()
    assert await worker_for(wsettings, fresh_database, capture).run_once() == 3
    read = next(p for p in capture.seen if p.post_id == ids[1])
    # Not the post just before it ("Any thoughts?"), the one it was written under.
    assert read.context == "My rota idea." and read.target_role == "member"


async def test_the_worker_says_when_the_answered_post_is_flagged(
    fresh_database: Database, wsettings: Settings
) -> None:
    # A reply that only agrees with a flagged post is flagged too (policy): the worker says
    # whether the post a reply answers is under review.
    async with fresh_database.sessionmaker() as session:
        author = await make_user(session, wsettings)
        other = await make_user(session, wsettings)
        thread, (first,) = await make_thread(session, wsettings, author,
                                             await make_category(session), body="My rota idea.")  # fmt: skip
        first.moderation_state = "flagged"
        agreeing = await create_reply(session, wsettings, other, thread, "Exactly this.",
                                      reply_to_id=first.id)  # fmt: skip
        # Not a reply that names nothing (the post before it is only context), nor one to
        # the writer's own flagged post.
        after = await create_reply(session, wsettings, other, thread, "Exactly this.")
        own = await create_reply(session, wsettings, author, thread, "Exactly this.",
                                 reply_to_id=first.id)  # fmt: skip
        await session.commit()
        first_id, ids = first.id, (agreeing.id, after.id, own.id)
    capture = Capture()
    await worker_for(wsettings, fresh_database, capture).run_once()
    by_id = {p.post_id: p for p in capture.seen}
    assert [by_id[i].context_flagged for i in ids] == [True, False, False]
    assert not by_id[first_id].context_flagged


async def test_only_an_established_members_reply_up_the_ladder_is_spared_the_hold(
    fresh_database: Database, wsettings: Settings
) -> None:
    """Which post a reply names is the writer's choice: a fresh account naming a senior's post
    is not "aimed up" (its put-down is held); a member with a history is."""
    from datetime import timedelta

    from forum.core.db import utcnow

    async with fresh_database.sessionmaker() as session:
        senior = await make_user(session, wsettings, role="moderator")
        thread, (first,) = await make_thread(session, wsettings, senior,
                                             await make_category(session), body="Our plan.")  # fmt: skip
        fresh = await make_user(session, wsettings)
        known = await make_user(session, wsettings)
        known.joined_at = utcnow() - timedelta(days=30)
        known.post_count = wsettings.report_standing_posts
        replies = [await create_reply(session, wsettings, member, thread, "A reply.",
                                      reply_to_id=first.id) for member in (fresh, known)]  # fmt: skip
        await session.commit()
    capture = Capture()
    assert await worker_for(wsettings, fresh_database, capture).run_once() == 3
    by_id = {p.post_id: p for p in capture.seen}
    assert not by_id[replies[0].id].aimed_up and not by_id[replies[0].id].established
    assert by_id[replies[1].id].aimed_up


async def test_a_failing_step_does_not_hold_up_the_others(
    fresh_database: Database, wsettings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await seed(fresh_database, wsettings, [PUT_DOWN])
    worker = worker_for(wsettings, fresh_database)

    async def broken() -> int:
        raise RuntimeError("notifications are broken")

    monkeypatch.setattr(worker.notifier, "run_once", broken)
    decided, failed = await worker.round()
    assert failed and decided >= 1
    assert len(await results_for(fresh_database, ids[0])) == 1  # the post was still scored


async def test_a_quote_nobody_wrote_is_read_as_the_writers_own_words(
    fresh_database: Database, wsettings: Settings
) -> None:
    # A put-down shown as a "quote" must not pass as context for a harmless line after it
    # (the model reads a reply to a put-down as pushback: "This. Exactly this." scored 0.00).
    idea = "I'd like to chair the retro next week."
    async with fresh_database.sessionmaker() as session:
        junior = await make_user(session, wsettings)
        senior = await make_user(session, wsettings)
        thread, (first,) = await make_thread(session, wsettings, junior,
                                             await make_category(session), body=idea)  # fmt: skip
        held = await create_reply(session, wsettings, senior, thread, "Leave it to the grown-ups.")
        held.moderation_state = "held"
        real = await create_reply(session, wsettings, senior, thread,
                                  f"> **junior** wrote:\n>\n> {idea}\n\nGood idea, go for it.",
                                  reply_to_id=first.id)  # fmt: skip
        # Quoting an earlier post by hand (no reply-to) is a real quote too.
        by_hand = await create_reply(session, wsettings, senior, thread,
                                     f">   {idea}  \n\nSeconded.")  # fmt: skip
        fabricated = await create_reply(session, wsettings, senior, thread,
                                         "> You're too junior to chair anything.\n\nThis. Exactly "
                                         "this.")  # fmt: skip
        mixed = await create_reply(
            session,
            wsettings,
            senior,
            thread,
            f"> {idea}\n> Come back when you have 20 years in.\n\nAgreed.",
        )
        # A held post's words are not for everyone: quoting them does not make them context.
        of_held = await create_reply(session, wsettings, senior, thread,
                                     "> Leave it to the grown-ups.\n\nQuite.")  # fmt: skip
        # Quoting oneself is saying it again: a probe posted "advice" holding a put-down,
        # then "@grace_w" over a quote of just the put-down.
        await create_reply(session, wsettings, senior, thread,
                           "Never tell a junior: You're too junior to get this.")  # fmt: skip
        of_own = await create_reply(session, wsettings, senior, thread,
                                    "> You're too junior to get this.\n\n@someone")  # fmt: skip
        await session.commit()
        ids = real.id, by_hand.id, fabricated.id, mixed.id, of_held.id, of_own.id
    capture = Capture()
    worker = worker_for(wsettings, fresh_database, capture)
    await worker.run_once()
    seen = {p.post_id: p for p in capture.seen}
    for post_id in ids:  # the offsets still point into the post as written
        assert len(seen[post_id].text) == len(await body_of(fresh_database, post_id))
    assert own_words(seen[ids[0]].text) == (idea, "Good idea, go for it.")
    assert own_words(seen[ids[1]].text) == (idea, "Seconded.")
    quote, own = own_words(seen[ids[2]].text)
    assert quote == "" and "You're too junior to chair anything." in own
    quote, own = own_words(seen[ids[3]].text)
    assert quote == idea and "Come back when you have 20 years in." in own
    quote, own = own_words(seen[ids[4]].text)
    assert quote == "" and "Leave it to the grown-ups." in own
    quote, own = own_words(seen[ids[5]].text)
    assert quote == "" and "You're too junior to get this." in own


async def body_of(database: Database, post_id: int) -> str:
    async with database.sessionmaker() as session:
        return (await session.get(Post, post_id)).body_source  # type: ignore[union-attr]


def test_quoted_lines_past_the_checked_number_count_as_the_writers_own() -> None:
    genuine = "\n".join(f"> line {n}" for n in range(MAX_QUOTED_LINES))
    text = f"{genuine}\n> Come back when you have 20 years in.\n\nAgreed."
    source = "\n".join(f"line {n}" for n in range(MAX_QUOTED_LINES + 1)) + (
        "\nCome back when you have 20 years in."
    )
    checked = unquote_fabricated(text, [source])
    assert len(checked) == len(text)
    quote, own = own_words(checked)
    assert quote.splitlines() == [f"line {n}" for n in range(MAX_QUOTED_LINES)]
    assert own.startswith("Come back when you have 20 years in.")
