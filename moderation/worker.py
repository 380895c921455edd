"""The moderation worker: claims posts that need a decision, runs the pipeline, writes results.

The post row is the job. A claim sets a lease and a claim token in one UPDATE: on PostgreSQL
with `FOR UPDATE SKIP LOCKED`, so any number of workers share the queue and never take the
same post twice; on SQLite, one worker. A killed worker loses nothing: its lease runs out and
the posts are claimed again. Only the holder of the post's current claim token may write its
decision, so a late, slow worker cannot overwrite a newer one. Attempts are counted; a post
that keeps failing goes to the review queue as unscored, never dropped.

Between batches the worker also refreshes related lists and delivers queued mail
(forum.core.outbox), so requests never wait on a mail server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.accounts.models import (
    PROFILE_DECIDED_HIDDEN,
    LoginSession,
    ProfileState,
    User,
    profile_text,
)
from forum.accounts.services import (
    end_lapsed_suspensions,
    established,
    load_ranks,
    prune_held_usernames,
)
from forum.board.models import DECIDED_HIDDEN, ModerationState, Post, Thread, shown_to_all
from forum.board.posting import moderated_text, set_post_state
from forum.core import outbox, ratelimit
from forum.core.db import Database, rowcount, utcnow
from forum.core.settings import Settings
from forum.core.text import mentioned_names
from forum.messages import services as messages
from forum.messages.models import (
    VISIBLE_STATES,
    Conversation,
    Message,
    MessageState,
    Participant,
)
from forum.notifications.fanout import Notifier
from forum.notifications.paths import worker_paths
from forum.programmes import pairing
from forum.programmes import services as programme_services
from forum.review.models import (
    STAGE_SECONDS,
    ModerationResult,
    StageStatus,
    Verdict,
    WatchedPhrase,
)
from forum.review.queue import NOTIFY_CHANNEL, PRIORITY, UNSCORED, describe, open_item
from moderation import policy, registry
from moderation.dismissive import DismissiveStage
from moderation.pipeline import Outcome, Pipeline
from moderation.related_index import RelatedIndex
from moderation.signals import (
    PostInput,
    ladder_level,
    own_words,
    quoted_lines,
    unquote_fabricated,
)

# Words shaped like a username (forum.core.text's mention rule, without the "@"), at most this
# many per post looked up: which of them name members is one query per batch.
_BARE_NAME = re.compile(r"(?<![\w@/.+-])([A-Za-z0-9][A-Za-z0-9_.-]{2,29})(?![\w@])")
MAX_BARE_NAMES = 200

log = logging.getLogger("candor.worker")
# How much of the answered post the model is given as context (it reads the first 64 tokens).
CONTEXT_CHARS = 2000
# A private message's state after the worker's verdict (flagged ones reach their recipients).
MESSAGE_STATE = {
    Verdict.hold.value: MessageState.held,
    Verdict.flag.value: MessageState.flagged,
    Verdict.clear.value: MessageState.clear,
    Verdict.unscored.value: MessageState.clear,
}
# A profile's state after the worker's verdict (as a post's: flagged text stays public).
PROFILE_STATE = {
    Verdict.hold.value: ProfileState.held,
    Verdict.flag.value: ProfileState.flagged,
    Verdict.clear.value: ProfileState.clear,
    Verdict.unscored.value: ProfileState.clear,
}


def _result(
    outcome: Outcome,
    *,
    post_id: int | None = None,
    profile_user_id: int | None = None,
    message_id: int | None = None,
    nudged: list[str] | None = None,
) -> ModerationResult:
    """The record of one pipeline run over a post's or a profile's text."""
    decision = outcome.decision
    assert decision is not None
    return ModerationResult(
        post_id=post_id, profile_user_id=profile_user_id, message_id=message_id,
        verdict=decision.verdict,
        reasons=decision.reasons, scores=outcome.scores, evidence=outcome.evidence,
        models=outcome.models, failed_stages=outcome.failed, complete=outcome.complete,
        nudge_phrases=nudged or [], context={**decision.context, "dismissive": decision.dismissive,
                 # read by /metrics: the scoring time per stage (forum.review.metrics)
                 STAGE_SECONDS: {k: round(v, 6) for k, v in outcome.seconds.items()}},
    )  # fmt: skip


@dataclass(frozen=True)
class Claim:
    post_id: int
    token: str
    attempts: int


# The posts the worker reads: those of threads not deleted. A post its author deleted before
# it was read is read all the same (its verdict changes no count; a review item keeps it for
# moderators), so posting a put-down and deleting it at once leaves a trace. A deleted
# thread's posts are not read.
_READ = exists().where(Thread.id == Post.thread_id, Thread.is_deleted.is_(False))
# A post longer than this (Markdown source) is read alone, after the ordinary ones waiting.
LONG_POST_CHARS = 2_000
LONG_POST_WAIT = timedelta(seconds=60)
LONG_POST_STARVED = timedelta(minutes=5)
LONG_POST_TURNS = timedelta(minutes=10)


class Worker:
    def __init__(
        self, settings: Settings, database: Database, pipeline: Pipeline, name: str | None = None
    ) -> None:
        self.settings = settings
        self.database = database
        self.pipeline = pipeline
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.wake = asyncio.Event()
        # Related lists need the sentence encoder; set up in run() once the stages have loaded.
        self.related: RelatedIndex | None = None
        self.retraining: asyncio.subprocess.Process | None = None
        # Notification fan-out and digests, after commit and outside any request.
        self.notifier = Notifier(settings, database, worker_paths())

    @property
    def dialect(self) -> str:
        return self.database.engine.dialect.name

    # --- the queue ----------------------------------------------------------------------------

    async def _claim(
        self, table: Any, *conditions: Any, limit: int | None = None, order: Any = None
    ) -> list[Claim]:
        """Claim rows of `table` (posts or private messages: both carry needs_scoring and the
        lease columns) whose lease is free: a lease and a token each, oldest first (or in
        `order`)."""
        token = uuid.uuid4().hex
        now = utcnow()
        due = select(table.id).where(
            table.needs_scoring.is_(True),
            or_(table.mod_lease_until.is_(None), table.mod_lease_until < now),
            *conditions,
        )
        due = due.order_by(*(order or (table.id,))).limit(limit or self.settings.worker_batch_size)
        if self.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(table)
            .where(table.id.in_(due.scalar_subquery()))
            .values(
                mod_lease_until=now + timedelta(seconds=self.settings.worker_lease_seconds),
                mod_claim=token,
                mod_attempts=table.mod_attempts + 1,
            )
            .returning(table.id, table.mod_attempts)
            .execution_options(synchronize_session=False)
        )
        async with self.database.writing() as session:
            rows = (await session.execute(stmt)).all()
            await session.commit()
        return sorted((Claim(i, token, n) for i, n in rows), key=lambda c: c.post_id)

    async def claim(self, limit: int | None = None) -> list[Claim]:
        """Posts of ordinary length first, a batch at a time; a long one alone, when no other
        post waits. A probe's six 20,000-character replies (6-8 s each to read) kept a new
        account's ordinary reply hidden for 35 s behind them, and claimed together they would
        hold a batch for a minute: now an ordinary post waits for one long post at most."""
        ordinary = await self._claim(
            Post, _READ, func.length(Post.body_source) <= LONG_POST_CHARS,
            limit=limit,
        )  # fmt: skip
        if not ordinary:
            # Each writer's first long post of the last LONG_POST_TURNS before their next,
            # then the shortest (one that has waited LONG_POST_STARVED before any): a probe's
            # four 20,000-character posts kept a member's 2,132-character one unread for 51 s
            # behind them, and the next probe's forty posts of 2,010 characters for 37 s.
            length = func.length(Post.body_source)
            waited = case((Post.created_at < utcnow() - LONG_POST_STARVED, 0), else_=1)
            earlier = aliased(Post)
            turn = (
                select(func.count(earlier.id))
                .where(
                    earlier.author_id == Post.author_id, earlier.id < Post.id,
                    earlier.created_at > utcnow() - LONG_POST_TURNS,
                    func.length(earlier.body_source) > LONG_POST_CHARS,
                )
                .correlate(Post)
                .scalar_subquery()
            )  # fmt: skip
            return await self._claim(Post, _READ, limit=1, order=(waited, turn, length, Post.id))
        # Nor does a long post wait for ever behind a stream of ordinary ones: one that has
        # waited LONG_POST_WAIT joins the batch (one a batch).
        overdue = await self._claim(
            Post, _READ, func.length(Post.body_source) > LONG_POST_CHARS,
            Post.created_at < utcnow() - LONG_POST_WAIT, limit=1,
        )  # fmt: skip
        return ordinary + overdue

    async def _inputs(self, session: AsyncSession, claims: list[Claim]) -> list[PostInput]:
        ranks = await load_ranks(session)
        levels = {name: i for i, (_, name) in enumerate(ranks.earned)}
        watched = tuple((await session.scalars(select(WatchedPhrase.phrase))).all())
        # Each post with the one before it in its thread, in the same query.
        earlier = aliased(Post)
        previous = (
            select(func.max(earlier.id))
            .where(
                earlier.thread_id == Post.thread_id, earlier.id < Post.id,
                earlier.is_deleted.is_(False),
            )
            .correlate(Post)
            .scalar_subquery()
        )  # fmt: skip
        rows = (
            await session.execute(
                select(Post, User, Thread.title, Thread.first_post_id, previous)
                .join(User, User.id == Post.author_id)
                .join(Thread, Thread.id == Post.thread_id)
                .where(Post.id.in_([c.post_id for c in claims]))
            )
        ).all()
        posts = {p.id: (p, u) for p, u, *_ in rows}
        titles = {p.id: title for p, _u, title, first, _b in rows if first == p.id}
        # What each post answers: the post it quotes or replies to (or, for the quick reply,
        # the post it was written under), else the one before it.
        answers: dict[int, int] = {}
        # The post just before each in its thread (whatever it answers: a put-down split in
        # two is read whole even when the second half replies to someone).
        previous_ids = {post.id: before for post, _u, _t, _f, before in rows if before}
        # ... and the one before that (a put-down split over three posts: "You're too" /
        # "junior" / "to get this.").
        earliest: dict[int, int] = {}
        if previous_ids:
            earliest = {
                pid: before
                for pid, before in await session.execute(
                    select(Post.id, previous).where(Post.id.in_(set(previous_ids.values())))
                )
                if before
            }
        for post, _u, _t, _f, before in rows:
            if post.answered_id:
                answers[post.id] = post.answered_id
            elif post.id not in titles and before is not None:
                answers[post.id] = before
        answered_posts: dict[int, tuple[str, User]] = {}
        # The end of each post's previous post in its thread, and who wrote it, whatever its
        # state (a fresh account's is still being checked): a put-down split across the two.
        writers_before: dict[int, tuple[int, str, datetime]] = {}
        flagged: set[int] = set()  # answered posts moderation flagged (on view, under review)
        if answers or previous_ids:
            # Only what everyone can see is context (a held or hidden post is not).
            answered_ids = set(answers.values())
            wanted = answered_ids | set(previous_ids.values()) | set(earliest.values())
            for pid, body, user, public, state, written in await session.execute(
                select(Post.id, Post.body_source, User, shown_to_all(Post.moderation_state),
                       Post.moderation_state, Post.created_at)
                .join(User, User.id == Post.author_id)
                .where(Post.id.in_(wanted), Post.is_deleted.is_(False))
            ):  # fmt: skip
                writers_before[pid] = (user.id, body[-policy.SPLIT_REACH :], written)
                if public and pid in answered_ids:
                    answered_posts[pid] = (body[:CONTEXT_CHARS], user)
                    if state == ModerationState.flagged.value:
                        flagged.add(pid)
        repliers = {pid: user for pid, (_body, user) in answered_posts.items()}
        # The board level of each member the posts @mention (PostInput.mentioned_levels), and,
        # in a reply that names a post, each member it names without the "@" ("As for grace_w:
        # you are too junior…" under a Director's post, a probe's, was spared the hold).
        mentions = {p.id: mentioned_names(p.body_source) for p, _u in posts.values()}
        for post, _u in posts.values():
            if post.answered_id:
                bare = _BARE_NAME.findall(own_words(post.body_source)[1])
                mentions[post.id] += [n.lower() for n in dict.fromkeys(bare)][:MAX_BARE_NAMES]
        wanted_names = {name for names in mentions.values() for name in names}
        mentioned: dict[str, tuple[int, int]] = {}
        if wanted_names:
            for member in await session.scalars(
                select(User).where(User.username_key.in_(wanted_names))
            ):
                mentioned[member.username_key] = (member.id, self._level(member, ranks, levels))
        inputs = []
        for claim in claims:
            if claim.post_id not in posts:
                continue
            post, author = posts[claim.post_id]
            named = post.answered_id
            answered = repliers.get(named) if named else None
            if answered is not None and answered.id == author.id:
                answered = None  # answering oneself says nothing of whom the post is aimed at
            previous_id = previous_ids.get(post.id, 0)
            writer, before, written = writers_before.get(previous_id, (0, "", post.created_at))
            first_writer, first, _ = writers_before.get(
                earliest.get(previous_id, 0), (0, "", post.created_at)
            )
            if first_writer == writer == author.id:
                before = f"{first} {before}"
            elif writer != author.id and not policy.broken_off(before, post.created_at - written):
                before = ""  # another's post is read with this one only when it broke off
            text = moderated_text(post.body_source, titles.get(post.id))
            if quoted_lines(text):
                # (Another writer's posts only: a probe quoted a put-down from its own
                # earlier "advice" post, and the quote was taken for someone else's words.)
                text = await self._real_quotes(
                    session, text, Post, Post.thread_id == post.thread_id, post.id,
                    [Post.is_deleted.is_(False), shown_to_all(Post.moderation_state),
                     Post.author_id != post.author_id],
                    [i for i in (named, answers.get(post.id)) if i],
                )  # fmt: skip
            inputs.append(
                PostInput(
                    post_id=post.id,
                    text=text,
                    writer_level=levels.get(ranks.rank_for(author.points), 0),
                    writer_role=author.role,
                    target_level=(
                        levels.get(ranks.rank_for(answered.points), 0) if answered else None
                    ),
                    target_role=answered.role if answered else None,
                    established=self._established(author),
                    watched_phrases=watched,
                    context=answered_posts[answers[post.id]][0]
                    if post.id in answers and answers[post.id] in answered_posts
                    else "",
                    title=titles.get(post.id) or "",
                    writer_before=before,
                    # Only a post the reply names, by another writer (not the one before it).
                    context_flagged=answered is not None and named in flagged,
                    mentioned_levels=tuple(
                        mentioned[name][1]
                        for name in mentions[post.id]
                        if name in mentioned and mentioned[name][0] != author.id
                    ),
                )
            )
        return inputs

    @staticmethod
    def _level(member: User, ranks: Any, levels: dict[str, int]) -> int:
        """A member's place on the ladder as PostInput compares them."""
        return ladder_level(levels.get(ranks.rank_for(member.points), 0), member.role)

    def _established(self, member: User) -> bool:
        """A writer whose reply up the ladder is spared the hold (PostInput.established)."""
        return established(member, self.settings)

    async def _real_quotes(
        self,
        session: AsyncSession,
        text: str,
        table: Any,
        scope: Any,
        own_id: int,
        visible: list[Any],
        answered_ids: list[int],
    ) -> str:
        """`text` with the lines it quotes checked against what it could quote: the posts (or
        messages) it answers, and those in its thread (or conversation) that hold its longest
        quoted line, as far as members can see them. A line found nowhere is the writer's own."""
        longest = max(quoted_lines(text), key=len)[:500]
        sources = (
            await session.scalars(
                select(table.body_source).where(
                    scope, table.id != own_id, *visible,
                    or_(table.id.in_(answered_ids),
                        table.body_source.contains(longest, autoescape=True)),
                ).limit(50)
            )
        ).all()  # fmt: skip
        return unquote_fabricated(text, list(sources))

    async def finalize(self, claim: Claim, outcome: Outcome) -> bool:
        """Write the decision if this claim still owns the post; False if it was superseded."""
        decision = outcome.decision
        assert decision is not None
        async with self.database.writing() as session:
            post = await session.scalar(
                select(Post)
                .where(Post.id == claim.post_id, Post.mod_claim == claim.token)
                .with_for_update()
            )
            if post is None:
                await session.rollback()
                return False
            session.add(
                _result(outcome, post_id=post.id,
                        nudged=[p for p in post.nudge_phrases.split("\n") if p])
            )  # fmt: skip
            verdict = decision.verdict
            if verdict == Verdict.hold.value and await self._answered_opening(session, post):
                # An edit of an opening post others have answered: holding it would take the
                # thread, and their replies, off the board until a moderator decides (a probe
                # hid a thread that way). It stays on view, flagged, at the top of the queue
                # (the item keeps the hold's priority).
                verdict = Verdict.flag.value
            if post.moderation_state not in DECIDED_HIDDEN:
                points = self.settings.points_per_post
                if verdict == Verdict.hold.value:
                    why = describe(decision.reasons)
                    note = f"Held for a moderator's review: this post {why}."
                    await set_post_state(session, post, ModerationState.held, note, points=points)
                elif verdict == Verdict.flag.value:
                    await set_post_state(session, post, ModerationState.flagged, points=points)
                else:
                    await set_post_state(session, post, ModerationState.clear, points=points)
            if decision.verdict in (Verdict.hold.value, Verdict.flag.value):
                await open_item(
                    session, post.id, decision.reasons, verdict=decision.verdict,
                    priority=PRIORITY[decision.verdict] + 10 * decision.dismissive,
                )  # fmt: skip
            post.needs_scoring = False
            post.mod_lease_until = None
            post.mod_claim = None
            await session.commit()
        return True

    async def _answered_opening(self, session: AsyncSession, post: Post) -> bool:
        """Whether `post` is an edited opening post by an established member that other
        established members have answered in public: a fresh account's, or one answered only
        by fresh accounts (a sock puppet's reply), is held as any post is."""
        if not post.edit_count:
            return False
        thread = await session.get(Thread, post.thread_id)
        author = await session.get(User, post.author_id)
        if thread is None or thread.first_post_id != post.id or author is None:
            return False
        if not established(author, self.settings):
            return False
        repliers = await session.scalars(
            select(User)
            .join(Post, Post.author_id == User.id)
            .where(
                Post.thread_id == thread.id, Post.author_id != author.id,
                Post.is_deleted.is_(False), shown_to_all(Post.moderation_state),
            )
            .distinct()
            .limit(20)
        )  # fmt: skip
        return any(established(member, self.settings) for member in repliers)

    async def score_profiles(self, limit: int | None = None) -> int:
        """Score members' changed locations and bios, as posts are scored; the number done.
        A verdict on text that changed meanwhile is dropped (the version moved on)."""
        async with self.database.sessionmaker() as session:
            watched = tuple((await session.scalars(select(WatchedPhrase.phrase))).all())
            rows = (
                await session.execute(
                    select(User.id, User.profile_version, User.location, User.bio, User.role)
                    .where(User.profile_needs_scoring.is_(True))
                    .order_by(User.id)
                    .limit(limit or self.settings.worker_batch_size)
                )
            ).all()
        if not rows:
            return 0
        inputs = [
            PostInput(post_id=uid, text=profile_text(location, bio), writer_role=role,
                      watched_phrases=watched)
            for uid, _v, location, bio, role in rows
        ]  # fmt: skip
        outcomes = await asyncio.to_thread(self.pipeline.run, [i for i in inputs if i.text])
        by_id = {o.post.post_id: o for o in outcomes}
        done = 0
        for uid, version, *_ in rows:
            async with self.database.writing() as session:
                user = await session.scalar(
                    select(User)
                    .where(User.id == uid, User.profile_version == version,
                           User.profile_needs_scoring.is_(True))
                    .with_for_update()
                )  # fmt: skip
                if user is None:
                    await session.rollback()
                    continue
                user.profile_needs_scoring = False
                outcome = by_id.get(uid)
                decision = outcome.decision if outcome else None
                if outcome is not None and decision is not None:
                    session.add(_result(outcome, profile_user_id=uid))
                    if user.profile_state not in PROFILE_DECIDED_HIDDEN:
                        user.profile_state = PROFILE_STATE[decision.verdict].value
                        user.profile_note = ""
                        if decision.verdict == Verdict.hold.value:
                            why = describe(decision.reasons)
                            user.profile_note = f"Held for a moderator's review: this text {why}."
                    if decision.verdict in (Verdict.hold.value, Verdict.flag.value):
                        await open_item(
                            session, None, decision.reasons, profile_user_id=uid,
                            verdict=decision.verdict, priority=PRIORITY[decision.verdict],
                        )  # fmt: skip
                elif user.profile_state not in PROFILE_DECIDED_HIDDEN:
                    user.profile_state = ProfileState.clear.value  # nothing left to score
                    user.profile_note = ""
                await session.commit()
                done += 1
        return done

    # --- private messages ---------------------------------------------------------------------

    async def claim_messages(self, limit: int | None = None) -> list[Claim]:
        """Claim private messages to score, as posts are claimed (a lease and a token)."""
        return await self._claim(Message, limit=limit)

    async def _message_inputs(self, session: AsyncSession, claims: list[Claim]) -> list[PostInput]:
        """Each message with its context, as a post's: the message it quotes, else the one
        before it in the conversation (only what its recipients could see); the writer's rank
        and role, and whom it is written to: the quoted sender, else the most junior of the
        other participants. In a programme pair's space, the partner, with the pair's
        seniority gap in place of ranks and roles (recorded with the result)."""
        ranks = await load_ranks(session)
        levels = {name: i for i, (_, name) in enumerate(ranks.earned)}
        watched = tuple((await session.scalars(select(WatchedPhrase.phrase))).all())

        def level(user: User) -> int:
            return levels.get(ranks.rank_for(user.points), 0)

        inputs = []
        for claim in claims:
            row = (
                await session.execute(
                    select(Message, User).join(User, User.id == Message.sender_id)
                    .where(Message.id == claim.post_id)
                )
            ).first()  # fmt: skip
            if row is None:
                continue
            message, sender = row
            answered_id = message.reply_to_id or await session.scalar(
                select(func.max(Message.id)).where(
                    Message.conversation_id == message.conversation_id,
                    Message.id < message.id,
                    Message.state.in_(VISIBLE_STATES),
                )
            )
            answered = (
                (
                    await session.execute(
                        select(Message.body_source, User)
                        .join(User, User.id == Message.sender_id)
                        .where(Message.id == answered_id, Message.state.in_(VISIBLE_STATES))
                    )
                ).first()
                if answered_id
                else None
            )
            # The first message carries the conversation's subject, which is shown on its own.
            earlier = (
                select(Message.id)
                .where(Message.conversation_id == message.conversation_id, Message.id < message.id)
                .exists()
            )
            subject = (
                await session.scalar(
                    select(Conversation.subject).where(
                        Conversation.id == message.conversation_id, ~earlier
                    )
                )
                or ""
            )
            text = message.body_source
            if quoted_lines(text):
                text = await self._real_quotes(
                    session, text, Message, Message.conversation_id == message.conversation_id,
                    message.id, [Message.state.in_(VISIBLE_STATES), Message.sender_id != sender.id],
                    [answered_id] if answered_id else [],
                )  # fmt: skip
            space = await programme_services.pair_space(session, message.conversation_id)
            if space is not None and sender.id in (space.junior_id, space.senior_id):
                # A programme pair's space: the partner is whom it is written to, and the
                # programme's ladder (the applications' seniority), not board ranks or roles,
                # says how far up or down.
                gap = space.gap_years(sender.id)
                steps = policy.ladder_steps(abs(gap))
                inputs.append(
                    PostInput(
                        post_id=message.id, text=text,
                        writer_level=steps if gap > 0 else 0, writer_role="member",
                        target_level=steps if gap < 0 else 0, target_role="member",
                        watched_phrases=watched,
                        context=answered[0][:CONTEXT_CHARS] if answered is not None else "",
                        title=subject,
                        ladder={**space.describe(sender.id), "steps": steps},
                    )
                )  # fmt: skip
                continue
            target: User | None = None
            if answered is not None and answered[1].id != sender.id and message.reply_to_id:
                target = answered[1]
            else:
                others = (
                    await session.scalars(
                        select(User).join(Participant, Participant.user_id == User.id).where(
                            Participant.conversation_id == message.conversation_id,
                            User.id != sender.id,
                        )
                    )
                ).all()  # fmt: skip
                if others:
                    target = min(others, key=lambda u: (u.is_moderator, level(u), u.id))
            inputs.append(
                PostInput(
                    post_id=message.id, text=text, writer_level=level(sender),
                    writer_role=sender.role,
                    target_level=level(target) if target is not None else None,
                    target_role=target.role if target is not None else None,
                    established=self._established(sender),
                    watched_phrases=watched,
                    context=answered[0][:CONTEXT_CHARS] if answered is not None else "",
                    title=subject,
                )
            )  # fmt: skip
        return inputs

    async def finalize_message(self, claim: Claim, outcome: Outcome | None) -> bool:
        """Write a message's verdict if this claim still owns it; a message that failed every
        attempt goes to moderators as unscored (and to its recipients, as a post would)."""
        decision = outcome.decision if outcome is not None else None
        async with self.database.writing() as session:
            message = await session.scalar(
                select(Message)
                .where(Message.id == claim.post_id, Message.mod_claim == claim.token)
                .with_for_update()
            )
            if message is None:
                await session.rollback()
                return False
            if outcome is not None and decision is not None:
                verdict, reasons = decision.verdict, decision.reasons
                priority = PRIORITY.get(verdict, 0.0) + 10 * decision.dismissive
                session.add(
                    _result(
                        outcome,
                        message_id=message.id,
                        nudged=[p for p in message.nudge_phrases.split("\n") if p],
                    )
                )
            else:
                verdict, reasons = Verdict.unscored.value, [UNSCORED]
                priority = PRIORITY[verdict]
            if message.state == MessageState.pending.value:
                state = MESSAGE_STATE[verdict]
                note = (
                    f"Held for a moderator's review: this message {describe(reasons)}."
                    if state == MessageState.held
                    else ""
                )
                await messages.set_state(session, message, state.value, note)
            if verdict in (Verdict.hold.value, Verdict.flag.value, Verdict.unscored.value):
                await open_item(
                    session,
                    None,
                    reasons,
                    message_id=message.id,
                    verdict=verdict,
                    priority=priority,
                )
            message.needs_scoring = False
            message.mod_lease_until = None
            message.mod_claim = None
            await session.commit()
        return True

    async def score_messages(self, limit: int | None = None) -> int:
        """Claim and decide one batch of private messages; the number decided."""
        claims = await self.claim_messages(limit)
        if not claims:
            return 0
        done = 0
        live = []
        for claim in claims:
            if claim.attempts > self.settings.worker_max_attempts:
                done += await self.finalize_message(claim, None)
            else:
                live.append(claim)
        if not live:
            return done
        async with self.database.sessionmaker() as session:
            inputs = await self._message_inputs(session, live)
        outcomes = await asyncio.to_thread(self.pipeline.run, inputs)
        by_id = {o.post.post_id: o for o in outcomes}
        for claim in live:
            outcome = by_id.get(claim.post_id)
            if outcome is not None and await self.finalize_message(claim, outcome):
                done += 1
        return done

    async def run_pairing(self) -> int:
        """Mentoring programmes: run the pairing proposals leads asked for (numpy and scipy
        stay out of the web process), and remind participants of each check-in round."""
        async with self.database.sessionmaker() as session, session.begin():
            done = await programme_services.run_queued(session, pairing)
            return done + await programme_services.remind_due(session)

    async def give_up(self, claim: Claim) -> bool:
        """A post that failed every attempt goes to moderators as unscored."""
        async with self.database.writing() as session:
            post = await session.scalar(
                select(Post).where(Post.id == claim.post_id, Post.mod_claim == claim.token)
            )
            if post is None:
                await session.rollback()
                return False
            session.add(
                ModerationResult(
                    post_id=post.id, verdict=Verdict.unscored.value, reasons=[UNSCORED],
                    scores={}, evidence=[], models={}, complete=False,
                    failed_stages={"worker": f"gave up after {claim.attempts - 1} attempts"},
                    nudge_phrases=[], context={},
                )
            )  # fmt: skip
            await open_item(session, post.id, [UNSCORED], verdict=Verdict.unscored.value,
                            priority=PRIORITY[Verdict.unscored.value])  # fmt: skip
            post.needs_scoring = False
            post.mod_lease_until = None
            post.mod_claim = None
            await session.commit()
        log.error("post %s could not be scored after %s attempts; sent to review", post.id,
                  claim.attempts - 1)  # fmt: skip
        return True

    async def run_once(self, limit: int | None = None) -> int:
        """Claim and decide one batch; the number of posts decided."""
        claims = await self.claim(limit)
        if not claims:
            return 0
        done = 0
        live = []
        for claim in claims:
            if claim.attempts > self.settings.worker_max_attempts:
                done += await self.give_up(claim)
            else:
                live.append(claim)
        if not live:
            return done
        async with self.database.sessionmaker() as session:
            inputs = await self._inputs(session, live)
        # Inference runs in a thread: the event loop keeps listening and the lease stays honest.
        outcomes = await asyncio.to_thread(self.pipeline.run, inputs)
        by_id = {o.post.post_id: o for o in outcomes}
        for claim in live:
            outcome = by_id.get(claim.post_id)
            if outcome is not None and await self.finalize(claim, outcome):
                done += 1
        return done

    # --- the model in use ---------------------------------------------------------------------

    def refresh_model(self) -> bool:
        """Load the dismissiveness model version an admin put in use, if it changed."""
        wanted = registry.active_path(self.settings)
        for state in self.pipeline.states:
            stage = state.stage
            if isinstance(stage, DismissiveStage) and stage.model_path != wanted:
                log.info("switching the dismissiveness model to %s", wanted)
                stage.model_path = wanted
                self.pipeline.load_stage(state)
                return True
        return False

    async def maybe_retrain(self) -> bool:
        """Start `candor moderation retrain` when its schedule says (off by default); it runs
        in a process of its own, so scoring goes on meanwhile. True if one was started."""
        hours = self.settings.retrain_every_hours
        if hours <= 0 or (self.retraining is not None and self.retraining.returncode is None):
            return False
        folder = registry.models_dir(self.settings)
        stamp = folder / "last_retrain"
        if stamp.exists() and time.time() - stamp.stat().st_mtime < hours * 3600:
            return False
        folder.mkdir(parents=True, exist_ok=True)
        stamp.touch()
        with (folder / "retrain.log").open("ab") as out:
            self.retraining = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "forum.cli", "moderation", "retrain",
                stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        log.info("retraining started (pid %s); its log is %s", self.retraining.pid,
                 folder / "retrain.log")  # fmt: skip
        return True

    # --- status and re-scoring ----------------------------------------------------------------

    async def publish_status(self) -> None:
        async with self.database.writing() as session:
            for state in self.pipeline.states:
                row = await session.get(StageStatus, state.stage.name)
                if row is None:
                    row = StageStatus(stage=state.stage.name)
                    session.add(row)
                row.loaded = state.loaded
                row.model = state.stage.model if state.loaded else ""
                row.detail = state.detail
                row.worker = self.name
                row.updated_at = utcnow()
            await session.commit()

    async def housekeeping(self) -> None:
        """Old rate-limit windows, expired sessions and held usernames are dropped, and
        suspensions that have run out end; nothing else does it."""
        async with self.database.writing() as session:
            await ratelimit.prune(session)
            await session.execute(delete(LoginSession).where(LoginSession.expires_at < utcnow()))
            await prune_held_usernames(session)
            await end_lapsed_suspensions(session)
            await session.commit()

    async def requeue_incomplete(self) -> int:
        """Posts, profiles and private messages scored while a stage was down are scored again
        once every stage loads; the number queued again."""
        if not self.pipeline.all_loaded:
            return 0
        latest = (
            select(func.max(ModerationResult.id))
            .where(ModerationResult.post_id.is_not(None))
            .group_by(ModerationResult.post_id)
        )
        incomplete = select(ModerationResult.post_id).where(
            ModerationResult.id.in_(latest),
            ModerationResult.complete.is_(False),
            ModerationResult.verdict != Verdict.unscored.value,
        )
        # Profiles too: the latest result of each member's profile text.
        latest_profile = (
            select(func.max(ModerationResult.id))
            .where(ModerationResult.profile_user_id.is_not(None))
            .group_by(ModerationResult.profile_user_id)
        )
        incomplete_profiles = select(ModerationResult.profile_user_id).where(
            ModerationResult.id.in_(latest_profile), ModerationResult.complete.is_(False)
        )
        # And private messages.
        latest_message = (
            select(func.max(ModerationResult.id))
            .where(ModerationResult.message_id.is_not(None))
            .group_by(ModerationResult.message_id)
        )
        incomplete_messages = select(ModerationResult.message_id).where(
            ModerationResult.id.in_(latest_message), ModerationResult.complete.is_(False)
        )
        async with self.database.writing() as session:
            rescored = await session.execute(
                update(Message)
                .where(Message.needs_scoring.is_(False), Message.id.in_(incomplete_messages))
                .values(needs_scoring=True, mod_attempts=0, mod_lease_until=None, mod_claim=None)
                .execution_options(synchronize_session=False)
            )
            result = await session.execute(
                update(Post)
                .where(and_(Post.needs_scoring.is_(False), Post.id.in_(incomplete)))
                .values(needs_scoring=True, mod_attempts=0, mod_lease_until=None, mod_claim=None)
                .execution_options(synchronize_session=False)
            )
            profiles = await session.execute(
                update(User)
                .where(User.profile_needs_scoring.is_(False), User.id.in_(incomplete_profiles))
                .values(profile_needs_scoring=True)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        return rowcount(result) + rowcount(profiles) + rowcount(rescored)

    # --- the loop -----------------------------------------------------------------------------

    async def _listen(self, stop: asyncio.Event) -> None:
        """LISTEN for new posts on PostgreSQL; reconnects if the connection drops."""
        import asyncpg

        url = make_url(self.settings.database_url).set(drivername="postgresql")
        while not stop.is_set():
            try:
                conn = await asyncpg.connect(url.render_as_string(hide_password=False))
                await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self.wake.set())
                try:
                    while not conn.is_closed():
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), timeout=1)
                        if stop.is_set():
                            break
                finally:
                    with contextlib.suppress(Exception):
                        await conn.close()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("LISTEN connection failed (%s); polling until it is back", exc)
                await asyncio.sleep(2)

    def enable_related(self) -> None:
        """Related lists use the dismissiveness stage's encoder: only when it loaded."""
        if any(s.stage.name == "dismissive" and s.loaded for s in self.pipeline.states):
            self.related = RelatedIndex(self.settings, self.database)
        else:
            log.error("related threads are not computed: the sentence encoder did not load")

    async def round(self) -> tuple[int, bool]:
        """One round of every kind of work, most urgent first: mail (a member waits on a
        confirmation or reset link), private messages (recipients see one only once it is
        checked), notifications, then posts and profiles (shown while they wait), then related
        lists. A step that fails is logged and does not hold up the others; its items are
        retried when their lease ends. Returns (items handled, whether a step failed)."""
        steps: list[tuple[str, Callable[[], Awaitable[int]]]] = [
            ("mail", lambda: outbox.deliver_due(self.database, self.settings)),
            ("messages", self.score_messages),
            ("notifications", self.notifier.run_once),
            ("posts", self.run_once),
            ("profiles", self.score_profiles),
            ("pairing", self.run_pairing),
        ]
        if self.related is not None:
            steps.append(("related lists", self.related.run_once))
        decided, failed = 0, False
        for name, step in steps:
            try:
                decided += await step()
            except Exception:
                log.exception("%s failed; its items will be retried when the lease ends", name)
                failed = True
        return decided, failed

    async def run(self, stop: asyncio.Event) -> None:
        self.pipeline.load()
        self.enable_related()
        await self.publish_status()
        requeued = await self.requeue_incomplete()
        if requeued:
            log.info("re-queued %d posts and profiles scored while a stage was down", requeued)
        listener = None
        poll = self.settings.worker_poll_seconds
        if self.dialect == "postgresql":
            listener = asyncio.create_task(self._listen(stop))
            poll = max(poll, 5.0)  # NOTIFY wakes us; the poll only covers missed notifications
        log.info("worker %s ready (%s)", self.name, self.dialect)
        housekept = float("-inf")
        try:
            while not stop.is_set():
                # Cleared before looking at the queue, so a post that arrives while a batch is
                # being scored wakes the next wait at once instead of waiting for the poll.
                self.wake.clear()
                try:
                    if time.monotonic() - housekept > 3600:
                        await self.housekeeping()
                        housekept = time.monotonic()
                    if self.refresh_model():
                        await self.publish_status()
                    await self.maybe_retrain()
                except Exception:
                    log.exception("housekeeping failed; it is tried again next round")
                decided, failed = await self.round()
                if failed and not decided:
                    await asyncio.sleep(poll)
                if decided:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=poll)
        finally:
            if listener:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
