"""The review queue: one item per post (or member's profile text), opened by the worker's
verdicts, members' reports and pre-moderation (the board announces new posts and accounts
changed profiles; `subscribe` makes the queue react)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts import services as accounts_services
from forum.accounts.events import ProfileChanged
from forum.board.events import PostCreated, PostEdited
from forum.board.models import DECIDED_HIDDEN, Post
from forum.core import events
from forum.core.db import utcnow
from forum.core.errors import Conflict, DomainError
from forum.messages.events import MessageHeld, MessagesReported
from forum.review.models import Report, ReviewItem, ReviewStatus, Verdict
from moderation.signals import DISMISSIVE, OTHER_LANGUAGE

NOTIFY_CHANNEL = "candor_moderation"
PREMODERATION = "PREMODERATION"
USER_REPORTS = "USER_REPORTS"
# Its author rewrote a post moderation keeps out of view: a moderator looks again (the newcomer
# probe's member rewrote a hidden post politely, was told "saved", and nobody ever saw it).
EDITED_WHILE_HIDDEN = "EDITED_WHILE_HIDDEN"
# After a moderator decided on a rewrite, the next rewrite reopens the item only this much later.
REWRITE_AGAIN = timedelta(hours=24)
UNSCORED = "UNSCORED"
# It quotes a post a moderator hid: the hidden words are still on view in it.
QUOTES_HIDDEN = "QUOTES_HIDDEN"
REASON_TEXT = {
    DISMISSIVE: "may read as dismissive of junior colleagues",
    "TOXICITY": "may be toxic",
    "SEVERE_TOXICITY": "may be severely toxic",
    "OBSCENE": "may be obscene",
    "IDENTITY_ATTACK": "may attack someone's identity",
    "INSULT": "may be insulting",
    "THREAT": "may be threatening",
    "SEXUAL_EXPLICIT": "may be sexually explicit",
    "WATCHED_PHRASE": "contains a phrase moderators watch for",
    OTHER_LANGUAGE: "is written, wholly or in part, in a language the automatic checks do not "
    "read (they read English)",
    PREMODERATION: "is waiting for a moderator's approval",
    USER_REPORTS: "was reported by members",
    EDITED_WHILE_HIDDEN: "was rewritten by its author while hidden: see whether it can go back "
    "on view",
    UNSCORED: "could not be checked automatically",
    QUOTES_HIDDEN: "quotes a post a moderator hid: the hidden words are still on view in it",
}
PRIORITY = {Verdict.hold.value: 30.0, Verdict.flag.value: 20.0, Verdict.unscored.value: 15.0}


# A member's report (a person read it and was hurt or worried) comes before what the model
# alone flagged (20-30), which it outranked at 10: the newcomer probe found its report under
# the model's false alarms. A report with standing behind it, that is: a fresh account's
# (weight about 0.1) stays below the flags, or fresh accounts' junk reports would bury them
# (an attacker probe's did). The weight is added on top, as more reports come.
REPORT_STANDING = 0.3


def reported_priority(weight: float) -> float:
    return 30.0 if weight >= REPORT_STANDING else 15.0 + 10.0 * max(weight, 0.0)


SUSPENSIONS = accounts_services.SUSPENSIONS  # (re-exported: the review queue offers them)
ACTIONS = ("approve", "hide", "edit_approve", "restore", "warn", "premoderate", "suspend")
# Each decision in words, for the moderator's confirmation ("Decision recorded: warn." read as
# code to the newcomer probe's moderator).
DECISION_DONE = {
    "approve": "approved", "hide": "hidden", "edit_approve": "edited and approved",
    "restore": "the earlier version restored and approved",
    "warn": "hidden, and its author warned", "premoderate": "hidden, and its author put on "
    "pre-moderation", "suspend": "hidden, and its author suspended",
}  # fmt: skip
# What only a post can have done to it: a moderator's rewrite, or its text before the last edit
# brought back (profiles and messages are approved or hidden, never rewritten).
POST_ONLY_ACTIONS = ("edit_approve", "restore")


class ConflictError(Conflict):
    """Another moderator changed the item first."""

    def __init__(self) -> None:
        super().__init__(
            "Another moderator changed this item while you were looking at it. "
            "Here is its current state; nothing of yours was saved."
        )


class ReviewError(DomainError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(field, message)


def describe(reasons: list[str]) -> str:
    return "; ".join(REASON_TEXT.get(r, r.lower().replace("_", " ")) for r in reasons)


async def notify_worker(session: AsyncSession) -> None:
    """Wake idle workers (PostgreSQL delivers the notification when the transaction commits)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


async def open_item(
    session: AsyncSession,
    post_id: int | None,
    reasons: list[str],
    *,
    profile_user_id: int | None = None,
    message_id: int | None = None,
    verdict: str = "",
    priority: float = 0.0,
    report_weight: float = 0.0,
) -> ReviewItem:
    """Open the review item of a post (or, with `profile_user_id`, of a member's profile
    text; with `message_id`, of a private message), or add to the open one: one item per
    post, per profile and per message."""
    if sum(x is not None for x in (post_id, profile_user_id, message_id)) != 1:
        raise ValueError("A review item is about a post, a profile or a message.")
    subject = (
        ReviewItem.post_id == post_id
        if post_id is not None
        else ReviewItem.profile_user_id == profile_user_id
        if profile_user_id is not None
        else ReviewItem.message_id == message_id
    )
    # Locked and read afresh: a copy this session loaded earlier may be stale.
    item = await session.scalar(
        select(ReviewItem)
        .where(subject)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    now = utcnow()
    if item is None:
        item = ReviewItem(
            post_id=post_id,
            profile_user_id=profile_user_id,
            message_id=message_id,
            status=ReviewStatus.open.value,
            priority=priority,
            version=1,
            reasons=list(dict.fromkeys(reasons)),
            system_verdict=verdict,
            report_weight=report_weight,
            opened_at=now,
            updated_at=now,
            decision="",
            decision_reason="",
        )
        session.add(item)
        await session.flush()
        return item
    if item.status == ReviewStatus.closed.value:
        # New evidence reopens a decided item.
        item.status = ReviewStatus.open.value
        item.opened_at = now  # (the queue shows when it came back, not when it first came)
        item.closed_at = None
        item.closed_by = None
        item.decision = ""
        item.priority = 0.0
        item.report_weight = 0.0
        item.reasons = []
    item.reasons = list(dict.fromkeys([*item.reasons, *reasons]))
    if verdict:
        item.system_verdict = verdict
    item.priority = max(item.priority, priority) + report_weight
    item.report_weight += report_weight
    item.version += 1
    item.updated_at = now
    return item


async def open_count(session: AsyncSession) -> int:
    """How many review items are open (the moderators' header shows it)."""
    return (
        await session.scalar(
            select(func.count())
            .select_from(ReviewItem)
            .where(ReviewItem.status == ReviewStatus.open.value)
        )
        or 0
    )


async def _post_created(session: AsyncSession, event: PostCreated) -> None:
    if event.premoderated:
        await open_item(session, event.post_id, [PREMODERATION], priority=5.0)
    await notify_worker(session)


async def _post_edited(session: AsyncSession, event: PostEdited) -> None:
    if event.premoderated:  # reopens a decided item: the new text needs a decision
        await open_item(session, event.post_id, [PREMODERATION], priority=5.0)
    else:
        post = await session.get(Post, event.post_id)
        if (
            post is not None
            and post.author_id == event.editor_id
            and post.moderation_state in DECIDED_HIDDEN
        ):
            earlier = await session.scalar(select(ReviewItem).where(ReviewItem.post_id == post.id))
            if (
                earlier is not None
                and earlier.status == ReviewStatus.closed.value
                and EDITED_WHILE_HIDDEN in earlier.reasons
                and earlier.closed_at is not None
                and utcnow() - earlier.closed_at < REWRITE_AGAIN
            ):
                # A moderator looked at a rewrite a moment ago: one more edit does not put it
                # back in the queue (an attacker probe's one-character edits did, each time).
                return
            kept = list(earlier.reasons) if earlier is not None else []
            item = await open_item(session, post.id, [EDITED_WHILE_HIDDEN], priority=15.0)
            # (What the item was about stays with it: a reopened item had lost it.)
            item.reasons = list(dict.fromkeys([*kept, *item.reasons]))
    await notify_worker(session)


async def _profile_changed(session: AsyncSession, event: ProfileChanged) -> None:
    if event.held:
        await open_item(session, None, [PREMODERATION], profile_user_id=event.user_id, priority=5.0)
    await notify_worker(session)


async def _message_held(session: AsyncSession, event: MessageHeld) -> None:
    await open_item(session, None, [PREMODERATION], message_id=event.message_id, priority=5.0)
    await notify_worker(session)


async def _messages_reported(session: AsyncSession, question: MessagesReported) -> set[int]:
    ids = sorted(set(question.message_ids))
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        rows = await session.scalars(
            select(Report.message_id).where(
                Report.reporter_id == question.reader_id,
                Report.message_id.in_(ids[start : start + 500]),
            )
        )
        found.update(i for i in rows if i is not None)
    return found


def subscribe() -> None:
    """New and edited posts and profiles wake the workers; held ones (and messages held for
    pre-moderation) open a review item. Answers which messages a member has reported."""
    events.subscribe(PostCreated, _post_created)
    events.subscribe(PostEdited, _post_edited)
    events.subscribe(ProfileChanged, _profile_changed)
    events.subscribe(MessageHeld, _message_held)
    events.answer(MessagesReported, _messages_reported)
