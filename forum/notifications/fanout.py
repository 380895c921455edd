"""The request side records work (cheap rows, in the announcing transaction); the worker
turns it into notifications after commit (`Notifier.run_once`), and sends e-mail through the
outbox: at once, or in a daily digest, as each member chose for each kind.

A post's work waits until the moderation worker has decided the post and it is shown to
all: a held or pre-moderated post waits for a moderator's approval; a hidden or deleted one
never notifies. Nobody is told about a post in a thread they may not see (staff-only
categories, deleted threads, a thread whose opening post is not public), nor about their
own post. A post gives each member one notification, the most specific kind; while a member
has an unread one of that kind about the thread, the post joins it instead
(forum.notifications.grouping): no second row, no higher count on the bell, no second mail."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.accounts.events import RankEarned
from forum.accounts.models import User
from forum.board.events import PostCreated, PostEdited, ReactionAdded, ThreadDeleted
from forum.board.models import (
    Category,
    ModerationState,
    Post,
    PostRevision,
    Thread,
    shown_to_all,
)
from forum.board.visibility import staff_only_category
from forum.core import events
from forum.core.db import Database, utcnow
from forum.core.outbox import OutboxMessage, queue_mail
from forum.core.settings import Settings
from forum.core.text import mentioned_names, quoted_names
from forum.messages.events import MessageVisible
from forum.messages.models import Block
from forum.notifications import grouping
from forum.notifications.grouping import GROUPED_KINDS
from forum.notifications.models import (
    DEFAULT_DELIVERY,
    RECORDED_KINDS,
    CategoryWatch,
    Delivery,
    DigestFrequency,
    Kind,
    Level,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationWork,
    ThreadWatch,
)
from forum.notifications.watching import set_thread_level
from forum.review.events import MessageDecided, PostDecided

log = logging.getLogger("candor.notifications")

# Members per IN list (SQLite's and PostgreSQL's bound-parameter limits are far above).
CHUNK = 500
# A thread's notifications are mailed once until the member looks, or again after this.
MAIL_AGAIN_AFTER = timedelta(hours=12)
# Rank of each kind for one post: the lower wins.
SPECIFICITY = {Kind.mention: 0, Kind.quote: 1, Kind.reply: 2, Kind.post: 3}


# --- the request side: event handlers record work ----------------------------------------------


async def on_post_created(session: AsyncSession, event: PostCreated) -> None:
    session.add(NotificationWork(source="post", post_id=event.post_id, actor_id=event.author_id))
    # Writing in a thread tracks it (unless the member turned that off, or chose a level):
    # in the request, so the thread page the author lands on already says "Tracking".
    if await auto_tracks(session, event.author_id):
        await set_thread_level(
            session, event.author_id, event.thread_id, Level.tracking, only_if_unset=True
        )


async def auto_tracks(session: AsyncSession, user_id: int) -> bool:
    chosen = await session.scalar(
        select(NotificationSettings.auto_track).where(NotificationSettings.user_id == user_id)
    )
    return True if chosen is None else bool(chosen)


async def on_post_edited(session: AsyncSession, event: PostEdited) -> None:
    """An edit may mention or quote someone new: the names the text had before are kept on
    the work row, so only those added are told (once the edit is decided, like a new post)."""
    before = await session.scalar(
        select(PostRevision.body_source)
        .where(PostRevision.post_id == event.post_id)
        .order_by(PostRevision.id.desc())
        .limit(1)
    )
    if before is None:
        return
    names = sorted({n.lower() for n in (*mentioned_names(before), *quoted_names(before))})
    session.add(
        NotificationWork(
            source="edit", post_id=event.post_id, actor_id=event.editor_id,
            recipients=",".join(names),
        )
    )  # fmt: skip


async def on_post_decided(session: AsyncSession, event: PostDecided) -> None:
    outcome = _OUTCOMES.get(event.action, "reviewed")
    # A post approved as it is that stayed on view throughout (the automatic check flagged
    # it, or a member reported it): its author knew of nothing, and "a moderator decided on
    # your post: approved" read to a probe's senior member as having been investigated.
    if not (event.action == "approve" and event.was_on_view):
        session.add(
            NotificationWork(
                source="moderation", post_id=event.post_id, actor_id=event.moderator_id,
                recipient_id=event.author_id, detail=outcome,
            )
        )  # fmt: skip
    verdict = "acted on" if event.hidden or event.action in ("edit_approve", "restore") else "kept"
    for reporter in dict.fromkeys(event.reporter_ids):
        if reporter != event.author_id:
            session.add(
                NotificationWork(
                    source="report", post_id=event.post_id, actor_id=event.moderator_id,
                    recipient_id=reporter, detail=verdict,
                )
            )  # fmt: skip


# A decision on a private message: its notice's detail is this, then the outcome (for its
# sender), or the other (for a member who reported it).
MESSAGE_DECIDED = "message: "
MESSAGE_REPORTED = "message report: "


async def on_message_decided(session: AsyncSession, event: MessageDecided) -> None:
    """The sender is told in the list as a post's author is (the removal was mailed too), when
    the message was removed or delivered; the members who reported it are told whether it
    was acted on or kept, as a post's reporters are (a junior who reported a senior's message
    in a programme's pair space heard nothing back: the newcomer probe)."""
    if event.hidden or event.delivered:
        outcome = "approved" if not event.hidden else _OUTCOMES.get(event.action, "removed")
        session.add(
            NotificationWork(
                source="message_decided", actor_id=event.moderator_id,
                recipient_id=event.sender_id, conversation_id=event.conversation_id,
                detail=f"{MESSAGE_DECIDED}{outcome}", message_id=event.message_id,
            )
        )  # fmt: skip
    verdict = "acted on" if event.hidden else "kept"
    for reporter in dict.fromkeys(event.reporter_ids):
        if reporter != event.sender_id:
            session.add(
                NotificationWork(
                    source="message_decided", actor_id=event.moderator_id,
                    recipient_id=reporter, conversation_id=event.conversation_id,
                    detail=f"{MESSAGE_REPORTED}{verdict}", message_id=event.message_id,
                )
            )  # fmt: skip


# Outcomes whose author the review queue mails directly, with the moderator's reason and any
# sanction (forum.review.services.decide): the notification stays in the app list only, or
# the author had two mails for one decision.
MAILED_BY_THE_QUEUE = ("hide", "warn", "premoderate", "suspend", "edit_approve", "restore")

_OUTCOMES = {
    "approve": "approved",
    "edit_approve": "edited and approved",
    "restore": "restored to its version before your last edit, and approved",
    "hide": "hidden",
    "warn": "hidden, with a warning",
    "premoderate": "hidden, and your next posts wait for approval",
    "suspend": "hidden, and your account suspended",
}


# A deleted thread's notice: its detail is this, then the thread's title and the reason.
THREAD_DELETED = "thread: "


async def on_thread_deleted(session: AsyncSession, event: ThreadDeleted) -> None:
    if event.author_id == event.actor_id:
        return
    title = event.title if len(event.title) <= 80 else event.title[:79] + "…"
    reason = event.reason.strip() or "no reason given"
    detail = f"{THREAD_DELETED}“{title}”. Reason: {reason}"
    session.add(
        NotificationWork(
            source="thread_deleted", actor_id=event.actor_id, recipient_id=event.author_id,
            detail=detail if len(detail) <= 200 else detail[:199] + "…",
        )
    )  # fmt: skip


async def on_rank_earned(session: AsyncSession, event: RankEarned) -> None:
    session.add(NotificationWork(source="rank", recipient_id=event.user_id, detail=event.rank))


async def on_reaction(session: AsyncSession, event: Any) -> None:
    """forum.board.events.ReactionAdded (reaction_id, post_id, actor_id, kind)."""
    session.add(
        NotificationWork(
            source="reaction", post_id=event.post_id, actor_id=event.actor_id,
            detail=str(event.kind)[:200],
        )
    )  # fmt: skip


async def on_message(session: AsyncSession, event: Any) -> None:
    """forum.messages.events.MessageVisible (message_id, conversation_id, sender_id,
    recipient_ids): the message became visible to its recipients."""
    session.add(
        NotificationWork(
            source="message", actor_id=event.sender_id, message_id=event.message_id,
            conversation_id=event.conversation_id,
            recipients=",".join(str(int(r)) for r in event.recipient_ids),
        )
    )  # fmt: skip


def record(
    session: AsyncSession,
    recipient_id: int,
    kind: Kind,
    sentence: str,
    link: str,
    *,
    actor_id: int | None = None,
    conversation_id: int | None = None,
) -> None:
    """For the parts built on this one (mentoring programmes): tell one member `sentence`
    (what they read in the list and the e-mail), leading to `link` (a path on this board).
    Recorded in the request's transaction; the worker delivers it as the member chose."""
    if kind not in RECORDED_KINDS:
        raise ValueError(f"{kind} is not a recorded kind")
    session.add(
        NotificationWork(
            source=kind.value, recipient_id=recipient_id, actor_id=actor_id,
            conversation_id=conversation_id, detail=sentence[:200], link=link[:300],
        )
    )  # fmt: skip


def subscribe() -> None:
    events.subscribe(PostCreated, on_post_created)
    events.subscribe(PostEdited, on_post_edited)
    events.subscribe(PostDecided, on_post_decided)
    events.subscribe(MessageDecided, on_message_decided)
    events.subscribe(RankEarned, on_rank_earned)
    events.subscribe(ThreadDeleted, on_thread_deleted)
    events.subscribe(ReactionAdded, on_reaction)
    events.subscribe(MessageVisible, on_message)


# --- hooks other parts fill in -----------------------------------------------------------------


async def blocked_by(session: AsyncSession, actor_id: int | None, ids: Iterable[int]) -> set[int]:
    """The members among `ids` who blocked `actor_id` (forum.messages' blocks): their
    notifications about the actor's actions are dropped."""
    wanted = set(ids)
    if actor_id is None or not wanted:
        return set()
    rows = await session.scalars(
        select(Block.blocker_id).where(Block.blocked_id == actor_id, Block.blocker_id.in_(wanted))
    )
    return set(rows)


# --- the worker side ------------------------------------------------------------------------------


@dataclass
class Planned:
    recipient_id: int
    kind: Kind
    actor_id: int | None = None
    post_id: int | None = None
    thread_id: int | None = None
    message_id: int | None = None
    conversation_id: int | None = None
    detail: str = ""
    link: str = ""
    mailed: bool = False  # already told by mail of its own (the review queue's decision mail)


def _ready() -> Any:
    """Work that can be done now: everything but a post's that waits for a decision."""
    return or_(
        NotificationWork.source.not_in(("post", "edit")),
        NotificationWork.post_id.is_(None),
        select(Post.id)
        .where(
            Post.id == NotificationWork.post_id,
            or_(
                Post.is_deleted.is_(True),
                and_(
                    Post.needs_scoring.is_(False),
                    Post.moderation_state != ModerationState.held.value,
                ),
            ),
        )
        .exists(),
    )


_T = TypeVar("_T")


NOTIFICATION_MAIL = "notification"  # OutboxMessage.kind of a notification's mail at once


def _chunks(ids: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


class Notifier:
    """Run by the moderation worker between batches (next to the outbox's delivery)."""

    def __init__(self, settings: Settings, database: Database, url: Callable[..., str]) -> None:
        self.settings = settings
        self.database = database
        self.url = url
        self.digests_checked: datetime | None = None

    @property
    def base(self) -> str:
        return self.settings.base_url.rstrip("/")

    async def run_once(self, now: datetime | None = None) -> int:
        """Turn a batch of ready work into notifications; send digests that are due (looked
        for every few minutes). The number of work rows and digests handled."""
        done = await self.fan_out()
        now = now or utcnow()
        if self.digests_checked is None or now - self.digests_checked > timedelta(minutes=5):
            self.digests_checked = now
            done += await self.send_digests(now)
            done += await self.send_category_digests(now)
        return done

    async def fan_out(self, limit: int | None = None) -> int:
        limit = limit or self.settings.notify_batch_size
        done = 0
        async with self.database.writing() as session:
            query = select(NotificationWork).where(_ready()).order_by(NotificationWork.id)
            query = query.limit(limit)
            if self.database.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=NotificationWork)
            work = list((await session.scalars(query)).all())
            for item in work:
                # One row that fails is logged and dropped, never retried forever: it would
                # hold up every notification after it (and the worker's loop with them).
                try:
                    async with session.begin_nested():
                        await self.deliver(session, await self.plan(session, item))
                except Exception:
                    log.exception("notification work %s (%s) failed; dropped", item.id, item.source)
                await session.execute(
                    delete(NotificationWork).where(NotificationWork.id == item.id)
                )
                done += 1
            await session.commit()
        return done

    # --- who is told what ---

    async def plan(self, session: AsyncSession, item: NotificationWork) -> list[Planned]:
        if item.source in ("post", "edit"):
            return await self._plan_post(session, item)
        if item.source == "message":
            ids = [int(part) for part in item.recipients.split(",") if part.strip()]
            ids = [i for i in dict.fromkeys(ids) if i != item.actor_id]
            blocked = await blocked_by(session, item.actor_id, ids)
            return [
                Planned(i, Kind.message, item.actor_id, message_id=item.message_id,
                        conversation_id=item.conversation_id)
                for i in ids if i not in blocked
            ]  # fmt: skip
        if item.source in RECORDED_KINDS and item.recipient_id is not None:
            return [
                Planned(item.recipient_id, Kind(item.source), item.actor_id,
                        conversation_id=item.conversation_id, detail=item.detail, link=item.link)
            ]  # fmt: skip
        if item.source == "rank" and item.recipient_id is not None:
            return [Planned(item.recipient_id, Kind.rank, detail=item.detail)]
        if item.source == "message_decided" and item.recipient_id is not None:
            return [
                Planned(item.recipient_id, Kind.moderation, item.actor_id,
                        conversation_id=item.conversation_id, detail=item.detail,
                        mailed=item.detail.startswith(MESSAGE_DECIDED)
                        and item.detail != f"{MESSAGE_DECIDED}approved")
            ]  # fmt: skip
        if item.source == "thread_deleted" and item.recipient_id is not None:
            # The thread is gone: the notice names it and gives the reason, and leads to the
            # notifications page (its author no longer sees the thread).
            return [Planned(item.recipient_id, Kind.moderation, item.actor_id,
                            detail=item.detail)]  # fmt: skip
        post = await session.get(Post, item.post_id) if item.post_id else None
        thread = await session.get(Thread, post.thread_id) if post else None
        if post is None or thread is None:
            return []
        if item.source in ("moderation", "report") and item.recipient_id is not None:
            detail = item.detail if item.source == "moderation" else f"report {item.detail}"
            mailed = item.source == "moderation" and item.detail in (
                _OUTCOMES[action] for action in MAILED_BY_THE_QUEUE
            )
            return [
                Planned(item.recipient_id, Kind.moderation, item.actor_id, post.id, thread.id,
                        detail=detail, mailed=mailed)
            ]  # fmt: skip
        if item.source == "reaction":
            if post.author_id == item.actor_id or not await self._post_public(session, post):
                return []
            if await blocked_by(session, item.actor_id, [post.author_id]):
                return []
            # Once per member, post and reaction: undoing and reacting again (a probe did it
            # sixty times a minute) tells the author nothing new.
            told = await session.scalar(
                select(Notification.id)
                .where(
                    Notification.recipient_id == post.author_id,
                    Notification.kind == Kind.reaction.value,
                    Notification.actor_id == item.actor_id,
                    Notification.post_id == post.id,
                    Notification.detail == item.detail,
                )
                .limit(1)
            )
            if told is not None:
                return []
            return [
                Planned(post.author_id, Kind.reaction, item.actor_id, post.id, thread.id,
                        detail=item.detail)
            ]  # fmt: skip
        return []

    async def _post_public(self, session: AsyncSession, post: Post) -> bool:
        thread = await session.get(Thread, post.thread_id)
        if post.is_deleted or post.moderation_state not in ("clear", "flagged", "pending"):
            return False
        return thread is not None and await self._thread_public(session, thread)

    async def _thread_public(self, session: AsyncSession, thread: Thread) -> bool:
        # Staff-only: marked so, or under a group marked so (forum.board.visibility's rule).
        staff_only = await session.scalar(
            select(staff_only_category()).where(Category.id == thread.category_id)
        )
        if thread.is_deleted or staff_only is None or staff_only:
            return False
        if thread.first_post_id is None:
            return True
        first = aliased(Post)
        shown = await session.scalar(
            select(first.id).where(
                first.id == thread.first_post_id,
                first.is_deleted.is_(False),
                shown_to_all(first.moderation_state),
            )
        )
        return shown is not None

    async def _plan_post(self, session: AsyncSession, item: NotificationWork) -> list[Planned]:
        post = await session.get(Post, item.post_id) if item.post_id else None
        if post is None or post.is_deleted or post.moderation_state not in ("clear", "flagged"):
            return []  # hidden or deleted: never
        thread = await session.get(Thread, post.thread_id)
        if thread is None:
            return []
        author = post.author_id
        edit = item.source == "edit"
        already = set(item.recipients.split(",")) if edit else set()
        kinds: dict[int, Kind] = {}

        def offer(user_id: int | None, kind: Kind) -> None:
            if user_id is None or user_id in (author, item.actor_id):
                return
            known = kinds.get(user_id)
            if known is None or SPECIFICITY[kind] < SPECIFICITY[known]:
                kinds[user_id] = kind

        # Watchers of the category (every new post in it) and of the thread.
        for user_id in (
            []
            if edit
            else await session.scalars(
                select(CategoryWatch.user_id).where(
                    CategoryWatch.category_id == thread.category_id,
                    CategoryWatch.level == Level.watching.value,
                )
            )
        ):
            offer(user_id, Kind.post)
        for user_id in (
            []
            if edit
            else await session.scalars(
                select(ThreadWatch.user_id).where(
                    ThreadWatch.thread_id == thread.id, ThreadWatch.level == Level.watching.value
                )
            )
        ):
            offer(user_id, Kind.post)
        if post.id != thread.first_post_id and not edit:
            offer(thread.author_id, Kind.reply)
        if post.reply_to_id is not None and not edit:
            offer(await session.scalar(select(Post.author_id).where(
                Post.id == post.reply_to_id)), Kind.reply)  # fmt: skip
        # Quotes and mentions share the post's limit, and a quote names a member who wrote in
        # this thread (the quote button quotes a post on the page): a probe's post of twenty
        # made-up "> **name** wrote:" headers told twenty members they were quoted.
        most = self.settings.notify_mentions_max
        names = [n for n in quoted_names(post.body_source) if n.lower() not in already][:most]
        mentions = mentioned_names(post.body_source)[: max(most - len(names), 0)]
        mentions = [n for n in mentions if n.lower() not in already]
        keys = {n.lower() for n in (*names, *mentions)}
        if keys:
            found = dict(
                (await session.execute(
                    select(User.username_key, User.id).where(User.username_key.in_(keys))
                )).all()
            )  # fmt: skip
            wrote_here = set(
                await session.scalars(
                    select(Post.author_id).where(
                        Post.thread_id == thread.id, Post.id != post.id,
                        Post.author_id.in_([found[k] for k in {n.lower() for n in names}
                                            if k in found]),
                    ).distinct()
                )
            ) if names else set()  # fmt: skip
            for name in names:
                quoted = found.get(name.lower())
                offer(quoted if quoted in wrote_here else None, Kind.quote)
            for name in mentions:
                offer(found.get(name.lower()), Kind.mention)
        if not kinds:
            return []
        ids = list(kinds)
        # Muted: the thread's own level wins over the category's.
        levels: dict[int, str] = {}
        for chunk in _chunks(ids):
            levels.update(
                (await session.execute(
                    select(CategoryWatch.user_id, CategoryWatch.level).where(
                        CategoryWatch.category_id == thread.category_id,
                        CategoryWatch.user_id.in_(chunk))
                )).all()
            )  # fmt: skip
            levels.update(
                (await session.execute(
                    select(ThreadWatch.user_id, ThreadWatch.level).where(
                        ThreadWatch.thread_id == thread.id, ThreadWatch.user_id.in_(chunk))
                )).all()
            )  # fmt: skip
        ids = [i for i in ids if levels.get(i) != Level.muted.value]
        if edit:
            # A name taken out and put back in, edit after edit, tells its member once: a
            # probe's five edits sent one member five "mentioned you". (A watcher told of the
            # post, or its thread's author of the reply, is still told of a mention.)
            # (A mention that joined another's group is told too: its id is in the group.)
            told: set[int] = set()
            for chunk in _chunks(ids):
                rows = await session.execute(
                    select(Notification.recipient_id, Notification.post_id, Notification.detail)
                    .where(
                        Notification.thread_id == thread.id,
                        Notification.kind.in_((Kind.mention.value, Kind.quote.value)),
                        Notification.recipient_id.in_(chunk),
                        or_(Notification.post_id == post.id,
                            Notification.detail.like(f"%,{post.id},%")),
                    )
                )  # fmt: skip
                told.update(
                    recipient
                    for recipient, post_id, detail in rows
                    if post.id in grouping.parse(detail, post_id).posts
                )
            ids = [i for i in ids if i not in told]
        blocked = await blocked_by(session, author, ids)
        ids = [i for i in ids if i not in blocked]
        # Who may see the thread: everyone when it is public; otherwise staff (and the
        # opening post's author, when only that post is held) — never a deleted thread's.
        if not await self._thread_public(session, thread):
            staff: set[int] = set()
            for chunk in _chunks(ids):
                staff.update(
                    await session.scalars(
                        select(User.id).where(
                            User.id.in_(chunk), User.role.in_(("moderator", "admin"))
                        )
                    )
                )
            staff_only = await session.scalar(
                select(staff_only_category()).where(Category.id == thread.category_id)
            )
            opener_may = staff_only is not None and not staff_only and not thread.is_deleted
            ids = [i for i in ids if i in staff or (opener_may and i == thread.author_id)]
        return [Planned(i, kinds[i], author, post.id, thread.id) for i in ids]

    # --- delivery ---

    async def deliver(self, session: AsyncSession, planned: list[Planned]) -> None:
        if not planned:
            return
        ids = [p.recipient_id for p in planned]
        chosen: dict[tuple[int, str], str] = {}
        for chunk in _chunks(ids):
            rows = await session.execute(
                select(
                    NotificationPreference.user_id,
                    NotificationPreference.kind,
                    NotificationPreference.delivery,
                ).where(NotificationPreference.user_id.in_(chunk))
            )
            chosen.update({(u, k): d for u, k, d in rows})
        now = utcnow()
        rows_out: list[dict[str, Any]] = []
        mail_to: list[Planned] = []
        row_of: dict[int, dict[str, Any]] = {}  # id(planned) -> its row
        open_groups = await self._open_groups(session, planned)
        for p in planned:
            delivery = chosen.get((p.recipient_id, p.kind.value), DEFAULT_DELIVERY[p.kind].value)
            if delivery == Delivery.off.value:
                continue
            group = open_groups.get((p.recipient_id, p.kind.value, p.thread_id))
            if (
                group is not None
                and p.post_id is not None
                and grouping.has_room(grouping.parse(group.detail, group.post_id), p.post_id)
            ):
                # Joins the unread one: no new row, no count on the bell, no mail.
                await self._join(session, group, p, now, delivery == Delivery.digest.value)
                continue
            row_of[id(p)] = {
                "recipient_id": p.recipient_id, "kind": p.kind.value, "actor_id": p.actor_id,
                "post_id": p.post_id, "thread_id": p.thread_id, "message_id": p.message_id,
                "conversation_id": p.conversation_id, "detail": p.detail[:200],
                "link": p.link[:300], "created_at": now, "read_at": None,
                "digest_pending": delivery == Delivery.digest.value,
            }  # fmt: skip
            rows_out.append(row_of[id(p)])
            if delivery == Delivery.email.value and not p.mailed:
                mail_to.append(p)
        if not rows_out:
            return
        last: set[int] = set()
        people: dict[int, tuple[str, str]] = {}
        if mail_to:
            mail_to = await self._not_yet_mailed(session, mail_to)
            people = await self._people(session, {p.recipient_id for p in mail_to}, mailable=True)
            mail_to, waiting, last = await self._within_allowance(session, mail_to, people)
            for p in waiting:
                row_of[id(p)]["digest_pending"] = True
        await session.execute(insert(Notification), rows_out)
        told = [row["recipient_id"] for row in rows_out]
        for chunk in _chunks(told):
            await session.execute(
                update(User)
                .where(User.id.in_(chunk))
                .values(notifications_unread=User.notifications_unread + 1)
                .execution_options(synchronize_session=False)
            )
        if mail_to:
            await self._mail_at_once(session, mail_to, people, last)

    async def _within_allowance(
        self, session: AsyncSession, planned: list[Planned], people: dict[int, tuple[str, str]]
    ) -> tuple[list[Planned], list[Planned], set[int]]:
        """At most `notify_mail_max_per_hour` notification e-mails reach one address in an
        hour: one mail per thread (`_not_yet_mailed`) did not stop a group of fresh accounts
        mentioning a member in thread after thread. The rest are not lost: they wait for the
        member's daily digest. (Only notifications count: strangers asking for password resets
        for the member's address had used up the allowance.) Returns what to mail now, what
        waits, and the `id`s of the mails that use up the hour (they say the rest will wait).
        `people`: the recipients' names and confirmed addresses (`_people`); one without is
        mailed nothing."""
        most = self.settings.notify_mail_max_per_hour
        sent: dict[str, int] = {}
        for chunk in _chunks(sorted({address for _, address in people.values()})):
            sent.update(
                (await session.execute(
                    select(OutboxMessage.to_address, func.count())
                    .where(OutboxMessage.to_address.in_(chunk),
                           OutboxMessage.created_at > utcnow() - timedelta(hours=1),
                           OutboxMessage.kind == NOTIFICATION_MAIL)
                    .group_by(OutboxMessage.to_address)
                )).all()
            )  # fmt: skip
        now_: list[Planned] = []
        waiting: list[Planned] = []
        last: set[int] = set()
        for p in planned:
            person = people.get(p.recipient_id)
            if person is None:
                continue  # no confirmed address: no mail
            count = sent.get(person[1], 0)
            if count >= most:
                waiting.append(p)
                continue
            sent[person[1]] = count + 1
            if count + 1 == most:
                last.add(id(p))
            now_.append(p)
        return now_, waiting, last

    async def _open_groups(
        self, session: AsyncSession, planned: list[Planned]
    ) -> dict[tuple[int, str, int | None], Notification]:
        """Each member's unread notification of the same kind about the same thread, which a
        post's notification joins (`grouping`); the latest if there are several. Locked, so
        two workers adding to one group do not lose a post."""
        about = [p for p in planned if p.kind in GROUPED_KINDS and p.thread_id and p.post_id]
        found: dict[tuple[int, str, int | None], Notification] = {}
        for thread_id in sorted({p.thread_id for p in about if p.thread_id}):
            here = [p for p in about if p.thread_id == thread_id]
            for chunk in _chunks(sorted({p.recipient_id for p in here})):
                query = (
                    select(Notification)
                    .where(
                        Notification.recipient_id.in_(chunk),
                        Notification.thread_id == thread_id,
                        Notification.kind.in_(sorted({p.kind.value for p in here})),
                        Notification.read_at.is_(None),
                        Notification.post_id.is_not(None),
                    )
                    .order_by(Notification.id)
                )
                if self.database.engine.dialect.name == "postgresql":
                    query = query.with_for_update(of=Notification)
                for row in await session.scalars(query):
                    found[(row.recipient_id, row.kind, row.thread_id)] = row
        return found

    async def _join(
        self, session: AsyncSession, row: Notification, p: Planned, now: datetime, digest: bool
    ) -> None:
        """Add the post to the group: it leads to the first post, its time is the latest."""
        assert p.post_id is not None
        group = grouping.joined(grouping.parse(row.detail, row.post_id), p.post_id)
        if group is None:
            return  # told of this post already
        if row.post_id is None or p.post_id < row.post_id:
            row.post_id, row.actor_id = p.post_id, p.actor_id  # a held post approved late
        row.detail = grouping.encode(group)
        row.created_at = now
        row.digest_pending = row.digest_pending or digest
        await session.flush()

    async def _not_yet_mailed(self, session: AsyncSession, planned: list[Planned]) -> list[Planned]:
        """One mail per thread (or conversation) until the member looks: a notification about
        a thread or conversation that already has an unread one from the last
        `MAIL_AGAIN_AFTER` in their list is not mailed again, nor is a second about it in this
        batch (a few fresh accounts replying in turn sent a thread's author 43 mails in a
        minute). Opening a notification marks those about the same thread read; a member who
        reads the thread itself gets mail about it again after `MAIL_AGAIN_AFTER`. The list in
        the app has them all. (A post that joins an unread group is never mailed: `deliver`.)"""
        about = [p for p in planned if p.thread_id or p.conversation_id]
        threads = sorted({p.thread_id for p in about if p.thread_id})[:1000]
        conversations = sorted({p.conversation_id for p in about if p.conversation_id})[:1000]
        unread: set[tuple[int, str, int]] = set()
        for chunk in _chunks(sorted({p.recipient_id for p in about})):
            rows = await session.execute(
                select(Notification.recipient_id, Notification.thread_id,
                       Notification.conversation_id)
                .where(Notification.recipient_id.in_(chunk), Notification.read_at.is_(None),
                       Notification.created_at > utcnow() - MAIL_AGAIN_AFTER,
                       or_(Notification.thread_id.in_(threads),
                           Notification.conversation_id.in_(conversations)))
            )  # fmt: skip
            for recipient, thread, conversation in rows:
                if thread:
                    unread.add((recipient, "thread", thread))
                if conversation:
                    unread.add((recipient, "conversation", conversation))
        kept = []
        for p in planned:
            key = (
                (p.recipient_id, "thread", p.thread_id) if p.thread_id
                else (p.recipient_id, "conversation", p.conversation_id) if p.conversation_id
                else None
            )  # fmt: skip
            if key is not None and key in unread:
                continue
            if key is not None:
                unread.add(key)
            kept.append(p)
        return kept

    async def _mail_at_once(
        self,
        session: AsyncSession,
        planned: list[Planned],
        people: dict[int, tuple[str, str]],
        last: set[int],
    ) -> None:
        """Mail each of `planned` to its recipient (`people`: names and confirmed addresses);
        the mails in `last` (by `id`) say the hour's allowance is used up."""
        actors = await self._people(session, {p.actor_id for p in planned if p.actor_id})
        titles = await self._titles(session, {p.thread_id for p in planned if p.thread_id})
        for p in planned:
            person = people.get(p.recipient_id)
            if person is None:
                continue
            line = describe(p.kind, actors.get(p.actor_id or 0, ("someone", ""))[0],
                            titles.get(p.thread_id or 0, ""), p.detail)  # fmt: skip
            link = self.base + target_path(
                self.url, p.kind, p.post_id, p.thread_id, p.detail, p.conversation_id, p.link
            )
            enough = (
                f"That is {self.settings.notify_mail_max_per_hour} notification e-mails within "
                "the hour: until the hour is over, new notifications wait for your daily digest "
                "(they are in your list on the site at once).\n\n"
                if id(p) in last
                else ""
            )
            queue_mail(
                session, person[1], line[:200],
                f"Hello {person[0]},\n\n{line}.\n\n{link}\n\n{enough}"
                f"Choose which notifications reach you by e-mail: "
                f"{self.base}{self.url('notification_preferences')}\n",
                kind=NOTIFICATION_MAIL,
            )  # fmt: skip

    async def _people(
        self, session: AsyncSession, ids: set[int], mailable: bool = False
    ) -> dict[int, tuple[str, str]]:
        """Names and addresses; with `mailable`, only of accounts whose address was confirmed
        (nobody else's mailbox gets the forum's mail: anyone can type an address)."""
        found: dict[int, tuple[str, str]] = {}
        for chunk in _chunks(sorted(ids)):
            query = select(User.id, User.username, User.email).where(User.id.in_(chunk))
            if mailable:
                query = query.where(User.email_confirmed_at.is_not(None))
            rows = await session.execute(query)
            found.update({i: (name, email) for i, name, email in rows})
        return found

    async def _titles(self, session: AsyncSession, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await session.execute(select(Thread.id, Thread.title).where(Thread.id.in_(ids)))
        return dict(rows.all())

    # --- digests ---

    def _due_since(self, now: datetime, weekly: bool = False) -> datetime:
        hour = self.settings.notify_digest_hour
        due = now.replace(hour=hour, minute=0, second=0, microsecond=0)
        if due > now:
            due -= timedelta(days=1)
        if weekly:
            due -= timedelta(days=due.weekday())  # Mondays
        return due

    async def send_digests(self, now: datetime) -> int:
        """Once a day (at CANDOR_NOTIFY_DIGEST_HOUR UTC), one e-mail per member with the
        notifications they chose to receive in a digest."""
        due = self._due_since(now)
        sent = 0
        async with self.database.writing() as session:
            members = list(
                await session.scalars(
                    select(Notification.recipient_id)
                    .where(Notification.digest_pending.is_(True))
                    .distinct()
                )
            )
            for member_id in members:
                record = await self._settings_row(session, member_id)
                if record.digest_sent_at is not None and record.digest_sent_at >= due:
                    continue
                member = await session.get(User, member_id)
                # Only what the member may still see (a post hidden since is not mailed), and a
                # group as its posts they may see now.
                items = (
                    []
                    if member is None
                    else list(
                        await session.scalars(
                            select(Notification)
                            .where(
                                Notification.recipient_id == member_id,
                                Notification.digest_pending.is_(True),
                                grouping.still_visible(member),
                            )
                            .order_by(Notification.id)
                        )
                    )
                )
                person = (await self._people(session, {member_id}, mailable=True)).get(member_id)
                if member is not None and person and items:
                    actors = await self._people(session, {n.actor_id for n in items if n.actor_id})
                    titles = await self._titles(
                        session, {n.thread_id for n in items if n.thread_id}
                    )
                    grouped = await grouping.summaries(session, member, items, titles)
                    items = [n for n in items if n.id not in grouped or grouped[n.id] is not None]
                    lines = []
                    for n in items[:100]:
                        actor = actors.get(n.actor_id or 0, ("someone", ""))[0]
                        text = describe(n.kind, actor, titles.get(n.thread_id or 0, ""), n.detail)
                        post_id = n.post_id
                        summary = grouped.get(n.id)
                        if summary is not None:
                            text, post_id = summary.text, summary.post_id
                        path = target_path(
                            self.url, n.kind, post_id, n.thread_id, n.detail,
                            n.conversation_id, n.link,
                        )  # fmt: skip
                        lines.append(f"- {text}\n  {self.base}{path}")
                    more = len(items) - 100
                    queue_mail(
                        session, person[1], f"Your daily digest: {len(items)} notifications",
                        f"Hello {person[0]},\n\nSince your last digest:\n\n" + "\n".join(lines)
                        + (f"\n\n… and {more} more." if more > 0 else "")
                        + f"\n\nAll your notifications: {self.base}{self.url('notifications')}\n"
                        f"Preferences: {self.base}{self.url('notification_preferences')}\n",
                    )  # fmt: skip
                    sent += 1
                await session.execute(
                    update(Notification)
                    .where(Notification.recipient_id == member_id)
                    .where(Notification.digest_pending.is_(True))
                    .values(digest_pending=False)
                )
                record.digest_sent_at = now
            await session.commit()
        return sent

    async def _settings_row(self, session: AsyncSession, member_id: int) -> NotificationSettings:
        record = await session.get(NotificationSettings, member_id)
        if record is None:
            record = NotificationSettings(
                user_id=member_id, auto_track=True, category_digest=DigestFrequency.weekly.value
            )
            session.add(record)
        return record

    async def send_category_digests(self, now: datetime) -> int:
        """New threads in the categories a member watches (Watching or Tracking), daily or
        weekly as they chose: public threads only (staff-only categories for staff), not
        their own, not muted."""
        sent = 0
        async with self.database.writing() as session:
            members = list(
                await session.scalars(
                    select(CategoryWatch.user_id)
                    .where(CategoryWatch.level.in_((Level.watching.value, Level.tracking.value)))
                    .distinct()
                )
            )
            for member_id in members:
                record = await self._settings_row(session, member_id)
                frequency = record.category_digest or DigestFrequency.weekly.value
                if frequency == DigestFrequency.off.value:
                    continue
                weekly = frequency == DigestFrequency.weekly.value
                due = self._due_since(now, weekly)
                last = record.category_digest_sent_at
                if last is not None and last >= due:
                    continue
                since = last or (now - timedelta(days=7 if weekly else 1))
                member = await session.get(User, member_id)
                if member is None or member.email_confirmed_at is None:
                    continue
                first = aliased(Post)
                rows = (
                    await session.execute(
                        select(Thread.id, Thread.title, Category.name)
                        .join(Category, Category.id == Thread.category_id)
                        .join(
                            CategoryWatch,
                            and_(
                                CategoryWatch.category_id == Thread.category_id,
                                CategoryWatch.user_id == member_id,
                                CategoryWatch.level.in_(
                                    (Level.watching.value, Level.tracking.value)
                                ),
                            ),
                        )
                        .join(first, first.id == Thread.first_post_id)
                        .where(
                            Thread.created_at > since,
                            Thread.created_at <= now,
                            Thread.is_deleted.is_(False),
                            Thread.author_id != member_id,
                            first.is_deleted.is_(False),
                            shown_to_all(first.moderation_state),
                            or_(Category.staff_only.is_(False), literal(member.is_moderator)),
                            ~select(ThreadWatch.user_id)
                            .where(
                                ThreadWatch.user_id == member_id,
                                ThreadWatch.thread_id == Thread.id,
                                ThreadWatch.level == Level.muted.value,
                            )
                            .exists(),
                        )
                        .order_by(Thread.id)
                        .limit(200)
                    )
                ).all()
                record.category_digest_sent_at = now
                if not rows:
                    continue
                period = "week" if weekly else "day"
                lines = [
                    f"- {title} (in {category})\n"
                    f"  {self.base}{self.url('thread', thread_id=thread_id)}"
                    for thread_id, title, category in rows
                ]
                queue_mail(
                    session, member.email, f"New threads this {period} in categories you watch",
                    f"Hello {member.username},\n\nNew threads in the categories you watch:\n\n"
                    + "\n".join(lines)
                    + f"\n\nPreferences: {self.base}{self.url('notification_preferences')}\n",
                )  # fmt: skip
                sent += 1
            await session.commit()
        return sent


# A reaction in words ("ada found your post helpful"), not its key.
REACTION_WORDS = {
    "thanks": "{actor} thanked you for your post{where}",
    "helpful": "{actor} found your post{where} helpful",
    "agree": "{actor} agreed with your post{where}",
}


def describe(kind: Kind | str, actor: str, title: str, detail: str = "") -> str:
    """One line saying what happened (the list, e-mails and digests)."""
    where = f" in “{title}”" if title else ""
    kind = Kind(kind)
    if kind in RECORDED_KINDS:
        return detail
    if kind is Kind.mention:
        return f"{actor} mentioned you{where}"
    if kind is Kind.quote:
        return f"{actor} quoted you{where}"
    if kind is Kind.reply:
        return f"{actor} replied to you{where}"
    if kind is Kind.post:
        return f"{actor} posted{where}"
    if kind is Kind.reaction:
        words = REACTION_WORDS.get(detail.lower(), "{actor} reacted to your post{where}")
        return words.format(actor=actor, where=where)
    if kind is Kind.message:
        return f"{actor} sent you a private message"
    if kind is Kind.moderation:
        if detail.startswith(THREAD_DELETED):
            return f"A moderator deleted your thread {detail[len(THREAD_DELETED) :]}"
        if detail.startswith(MESSAGE_REPORTED):
            outcome = detail[len(MESSAGE_REPORTED) :]
            return f"A moderator decided on a private message you reported: {outcome}"
        if detail.startswith(MESSAGE_DECIDED):
            outcome = detail[len(MESSAGE_DECIDED) :].replace("hidden", "removed", 1)
            return f"A moderator decided on your private message: {outcome}"
        if detail.startswith("report "):
            return f"A moderator decided on a post you reported{where}: {detail[7:]}"
        return f"A moderator decided on your post{where}: {detail}"
    return f"You reached the rank of {detail}"


def target_path(
    url: Callable[..., str],
    kind: Kind | str,
    post_id: int | None,
    thread_id: int | None,
    detail: str = "",
    conversation_id: int | None = None,
    link: str = "",
) -> str:
    """Where a notification leads: the post's own anchor (the post's link finds its page and
    jumps to it), or the thread (a reporter is not shown a post a moderator hid), a private
    message's conversation, a recorded kind's own link (a path on this board, never another
    site), or else the notifications page."""
    kind = Kind(kind)
    if kind in RECORDED_KINDS:
        local = link.startswith("/") and not link.startswith("//") and "\\" not in link
        return link if local else str(url("notifications"))
    if kind in (Kind.message, Kind.moderation) and conversation_id is not None:
        return str(url("conversation", conversation_id=conversation_id))
    reported = kind is Kind.moderation and detail.startswith("report ")
    if post_id is not None and not reported:
        return str(url("post", post_id=post_id))
    if thread_id is not None:
        return str(url("thread", thread_id=thread_id))
    return str(url("notifications"))
