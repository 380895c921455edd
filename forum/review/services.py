"""Review-queue rules shared by the web process and the worker: opening items, members'
reports and their weights, and moderators' decisions with a version check."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.accounts.models import PROFILE_DECIDED_HIDDEN, ProfileState, Role, User, UserStatus
from forum.accounts.services import (
    PEER_OR_SUPERIOR,
    RankTable,
    load_ranks,
    outranks,
    suspend,
)
from forum.articles.models import Article
from forum.board.models import HIDDEN_STATES, ModerationState, Post, Thread, shown_to_all
from forum.board.posting import BoardError, edit_post, set_post_state, shown_to_everyone
from forum.board.queries import last_revision
from forum.core import events, ratelimit
from forum.core.audit import AuditEntry, audit
from forum.core.db import rowcount, utcnow
from forum.core.outbox import queue_mail
from forum.core.settings import Settings
from forum.messages import services as messages
from forum.messages.models import VISIBLE_STATES, Conversation, Message, MessageState
from forum.review.events import MessageDecided, PostDecided
from forum.review.models import Report, ReportReason, ReviewItem, ReviewStatus, Verdict
from forum.review.queue import (
    ACTIONS,
    POST_ONLY_ACTIONS,
    PRIORITY,
    QUOTES_HIDDEN,
    REPORT_STANDING,
    SUSPENSIONS,
    USER_REPORTS,
    ConflictError,
    ReviewError,
    open_item,
    reported_priority,
)
from moderation.normalise import fold
from moderation.signals import DISMISSIVE, quoted_lines

DELETED_BY_AUTHOR = (
    "Its author has deleted this post, so there is no text to edit or restore: approve or hide "
    "to close the item, or warn, pre-moderate or suspend its author."
)

# --- reports ----------------------------------------------------------------------------------

RANK_WEIGHT = {"Newcomer": 0.6, "Associate": 0.8, "Executive": 1.0, "Senior Executive": 1.2,
               "Director": 1.4, "Moderator": 2.0, "Administrator": 2.0}  # fmt: skip


async def standing(session: AsyncSession, settings: Settings, reporter: User) -> float:
    """How established a member is, 0..1, from what cannot be had quickly: the account's age
    and its accepted posts (neither held nor hidden). Staff stand at 1."""
    if reporter.is_moderator:
        return 1.0
    age_days = (utcnow() - reporter.joined_at).total_seconds() / 86400
    accepted = await session.scalar(
        select(func.count(Post.id)).where(
            Post.author_id == reporter.id,
            Post.is_deleted.is_(False),
            shown_to_all(Post.moderation_state),
        )
    )
    by_age = min(1.0, max(age_days, 0.0) / settings.report_standing_days)
    by_posts = min(1.0, (accepted or 0) / settings.report_standing_posts)
    return max(settings.report_standing_floor, (by_age + by_posts) / 2)


async def report_weight(
    session: AsyncSession,
    settings: Settings,
    reporter: User,
    ranks: RankTable,
    post: Post | None = None,
) -> float:
    """Rank sets the base; past accuracy scales it (Laplace-smoothed share of upheld reports),
    and standing scales that (a fresh account counts for little), so a few trusted reporters
    outweigh many careless or new ones. An account made after the post counts for less still:
    that is what a brigade looks like."""
    rank = ranks.rank_for(reporter.points, reporter.special_rank_id)
    base = RANK_WEIGHT.get(rank, 1.0)
    if reporter.is_moderator:
        base = max(base, 2.0)
    row = (
        await session.execute(
            select(
                func.count().filter(Report.upheld.is_(True)),
                func.count().filter(Report.upheld.is_(False)),
            ).where(Report.reporter_id == reporter.id)
        )
    ).one()
    upheld, rejected = int(row[0]), int(row[1])
    accuracy = (upheld + 1) / (upheld + rejected + 2)
    weight = base * 2 * accuracy * await standing(session, settings, reporter)
    if post is not None and not reporter.is_moderator and reporter.joined_at > post.created_at:
        weight *= settings.report_joined_after_factor
    return round(weight, 3)


async def established_enough(
    session: AsyncSession, settings: Settings, reported: ColumnElement[bool]
) -> bool:
    """Whether the reports `reported` selects carry at least half the weight that hides
    (report_hide_weight) from established reporters (staff, or accounts at least
    report_standing_days old): eight fresh accounts, each with ten trivial posts for
    standing, hid a director's frank post; fresh accounts can no longer do that alone."""
    old_enough = utcnow() - timedelta(days=settings.report_standing_days)
    established = await session.scalar(
        select(func.coalesce(func.sum(Report.weight), 0.0))
        .join(User, User.id == Report.reporter_id)
        .where(
            reported,
            Report.upheld.is_(None),  # not yet decided on (a rejected report supports nothing)
            or_(User.joined_at <= old_enough, User.role.in_((Role.moderator, Role.admin))),
        )
    )
    return float(established or 0.0) >= settings.report_hide_weight / 2


async def check_report_rate(
    session: AsyncSession, settings: Settings, reporter: User, client: str
) -> None:
    limits = ratelimit.limits(settings)
    await ratelimit.hit(session, limits.report_account, reporter.id)
    await ratelimit.hit(session, limits.report_ip, client)


def _check_report(reason: str, note: str) -> None:
    if reason not in {r.value for r in ReportReason}:
        raise ReviewError("Choose a reason for the report.")
    if len(note) > 1000:
        raise ReviewError("Notes can have at most 1,000 characters.")


async def report_post(
    session: AsyncSession, settings: Settings, reporter: User, post: Post, reason: str, note: str
) -> Report:
    _check_report(reason, note)
    if post.author_id == reporter.id:
        raise ReviewError("You cannot report your own post.")
    existing = await session.scalar(
        select(Report.id).where(Report.post_id == post.id, Report.reporter_id == reporter.id)
    )
    if existing is not None:
        raise ReviewError("You have already reported this post; moderators will look at it.")
    weight = await report_weight(session, settings, reporter, await load_ranks(session), post)
    report = Report(post_id=post.id, reporter_id=reporter.id, reason=reason, note=note,
                    weight=weight)  # fmt: skip
    session.add(report)
    item = await open_item(
        session, post.id, [USER_REPORTS], priority=reported_priority(weight), report_weight=weight
    )
    author = await session.get(User, post.author_id)
    # Never hidden by members alone: a staff member's post, or an article's summary opening
    # its discussion (hiding it would hide every comment).
    protected = (author is not None and author.is_moderator) or await _opens_discussion(
        session, post
    )
    if (
        item.report_weight >= settings.report_hide_weight
        and not protected
        and post.moderation_state not in HIDDEN_STATES
        and await established_enough(session, settings, Report.post_id == post.id)
    ):
        await set_post_state(
            session,
            post,
            ModerationState.held,
            "Hidden while moderators review reports from members.",
            points=settings.points_per_post,
        )
    return report


async def _opens_discussion(session: AsyncSession, post: Post) -> bool:
    found = await session.scalar(
        select(Article.id)
        .join(Thread, Thread.id == Article.thread_id)
        .where(Thread.id == post.thread_id, Thread.first_post_id == post.id)
    )
    return found is not None


async def report_profile(
    session: AsyncSession, settings: Settings, reporter: User, member: User, reason: str, note: str
) -> Report:
    """A report of a member's location and bio: weighed and acted on as a post's report is."""
    _check_report(reason, note)
    if member.id == reporter.id:
        raise ReviewError("You cannot report your own profile.")
    existing = await session.scalar(
        select(Report.id).where(
            Report.profile_user_id == member.id, Report.reporter_id == reporter.id
        )
    )
    if existing is not None:
        raise ReviewError("You have already reported this profile; moderators will look at it.")
    weight = await report_weight(session, settings, reporter, await load_ranks(session))
    if not reporter.is_moderator and reporter.joined_at > member.joined_at:
        weight = round(weight * settings.report_joined_after_factor, 3)
    report = Report(profile_user_id=member.id, reporter_id=reporter.id, reason=reason,
                    note=note, weight=weight)  # fmt: skip
    session.add(report)
    item = await open_item(session, None, [USER_REPORTS], profile_user_id=member.id,
                           priority=reported_priority(weight), report_weight=weight)  # fmt: skip
    if (
        item.report_weight >= settings.report_hide_weight
        and not member.is_moderator
        and member.profile_state not in PROFILE_DECIDED_HIDDEN
        and await established_enough(session, settings, Report.profile_user_id == member.id)
    ):
        member.profile_state = ProfileState.held.value
        member.profile_note = "Hidden while moderators review reports from members."
    return report


async def report_message(
    session: AsyncSession,
    settings: Settings,
    reporter: User,
    message: Message,
    reason: str,
    note: str,
) -> Report:
    """A participant's report of a private message: it opens the message's review item, from
    which (and only from which) moderators read the conversation."""
    _check_report(reason, note)
    if message.sender_id == reporter.id:
        raise ReviewError("You cannot report your own message.")
    existing = await session.scalar(
        select(Report.id).where(Report.message_id == message.id, Report.reporter_id == reporter.id)
    )
    if existing is not None:
        raise ReviewError("You have already reported this message; moderators will look at it.")
    weight = await report_weight(session, settings, reporter, await load_ranks(session))
    report = Report(message_id=message.id, reporter_id=reporter.id, reason=reason, note=note,
                    weight=weight)  # fmt: skip
    session.add(report)
    # In a mentoring pair's space (a programme's lead made the pair: nobody picks their
    # partner), a fresh account's report ranks as one with standing: a junior who joined for
    # a programme and reported a senior's message there had it rank below the model's false
    # alarms (the newcomer probe). Elsewhere a report weighs as its reporter's standing: two
    # fresh accounts writing to each other, one reporting every message, put a hundred items
    # an hour above every flag (an attacker probe).
    paired = bool(await session.scalar(
        select(Conversation.leave_via).where(Conversation.id == message.conversation_id)
    ))  # fmt: skip
    ranked = max(weight, REPORT_STANDING) if paired else weight
    item = await open_item(session, None, [USER_REPORTS], message_id=message.id,
                           priority=reported_priority(ranked), report_weight=weight)  # fmt: skip
    sender = await session.get(User, message.sender_id)
    if (
        item.report_weight >= settings.report_hide_weight
        and not (sender is not None and sender.is_moderator)
        and message.state in VISIBLE_STATES
        and await established_enough(session, settings, Report.message_id == message.id)
    ):
        await messages.set_state(session, message, MessageState.held.value,
                                 "Hidden while moderators review reports.")  # fmt: skip
    return report


# --- decisions --------------------------------------------------------------------------------

OWN_ITEM = "Another moderator decides on your own posts and profile."
# On a board with one moderator, who else could? They approve or hide their own (the log
# keeps it); they do not sanction themselves. (A newcomer probe's item on the moderator's own
# post, flagged by the model, stayed open for "another moderator" who did not exist.)
OWN_ACTIONS = ("approve", "hide")
OWN_ONLY_ACTIONS = "On your own post, profile or message: approve it or hide it."


async def sole_moderator(session: AsyncSession, moderator: User) -> bool:
    """Whether `moderator` is the board's only moderator or administrator. One suspended
    counts still: an administrator who suspended the other moderator, then approved her own
    held put-down, met the rule (an attacker probe); only a deleted account does not."""
    others = await session.scalar(
        select(func.count(User.id)).where(
            User.id != moderator.id,
            User.role.in_((Role.moderator.value, Role.admin.value)),
            User.status != UserStatus.deleted.value,
        )
    )
    return not others


async def _check_own(session: AsyncSession, moderator: User, member: User, action: str) -> None:
    """A moderator deciding on their own post, profile or message: only when nobody else could,
    and only to approve or hide it."""
    if member.id != moderator.id:
        return
    if not await sole_moderator(session, moderator):
        raise ReviewError(OWN_ITEM)
    if action not in OWN_ACTIONS:
        raise ReviewError(OWN_ONLY_ACTIONS)


async def decide(
    session: AsyncSession,
    settings: Settings,
    moderator: User,
    item_id: int,
    version: int,
    action: str,
    reason: str = "",
    body: str | None = None,
    duration: str | None = None,
    *,
    url: Callable[..., str],
    title: str | None = None,
) -> ReviewItem:
    """`url` builds a path from a route name (the request's `ctx.url`), for links in mail.
    `body` (and for an opening post `title`) is the moderator's text for "edit_approve";
    "restore" brings back the text (and title) the post had before its last edit."""
    if action not in ACTIONS:
        raise ReviewError("Choose a decision.")
    if action != "approve" and not reason.strip():
        raise ReviewError("Give a reason: the author is told why.")
    if len(reason) > 2000:
        raise ReviewError("Reasons can have at most 2,000 characters.")
    # The version check: only the moderator who saw the latest version may decide.
    claimed = await session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.version == version,
               ReviewItem.status == ReviewStatus.open.value)
        .values(version=ReviewItem.version + 1)
    )  # fmt: skip
    if rowcount(claimed) != 1:
        raise ConflictError()
    item = await session.get(ReviewItem, item_id, populate_existing=True)
    assert item is not None
    if item.profile_user_id is not None:
        return await _decide_profile(
            session, settings, moderator, item, action, reason, duration, url
        )
    if item.message_id is not None:
        return await _decide_message(
            session, settings, moderator, item, action, reason, duration, url
        )
    post = await session.get(Post, item.post_id, with_for_update=True) if item.post_id else None
    thread = await session.get(Thread, post.thread_id) if post else None
    author = await session.get(User, post.author_id) if post else None
    if post is None or thread is None or author is None:
        raise ReviewError("That post no longer exists.")
    await _check_own(session, moderator, author, action)
    if action in ("warn", "premoderate", "suspend") and not outranks(moderator, author):
        raise ReviewError(PEER_OR_SUPERIOR)
    rewritten = action in POST_ONLY_ACTIONS
    if rewritten and post.is_deleted:
        raise ReviewError(DELETED_BY_AUTHOR)
    hide = action != "approve" and not rewritten
    opening = post.id == thread.first_post_id
    was_on_view = shown_to_everyone(post)  # a flag leaves a post on view, unknown to its author
    if action == "restore":
        earlier = await last_revision(session, post.id)
        if earlier is None:
            raise ReviewError("This post has not been edited: there is no earlier version.")
        body, title = earlier.body_source, earlier.title
    if rewritten:
        if body is None:
            raise ReviewError("Write the edited text.")
        try:
            await edit_post(
                session, settings, moderator, post, thread, body, title if opening else None
            )
        except BoardError as exc:
            raise ReviewError(exc.message) from None
        post.needs_scoring = False  # a moderator's edit is the decision; no re-score loop
    if opening:
        thread.needs_related = True  # hiding or restoring an opening post changes related lists
    if hide:
        await set_post_state(
            session, post, ModerationState.hidden, reason.strip(), points=settings.points_per_post
        )
    else:
        await set_post_state(session, post, ModerationState.clear, points=settings.points_per_post)
    if hide and was_on_view:
        await _recheck_quoting_replies(session, post)
    _sanction(author, action, duration)
    # Reports are labels: upheld when the post was acted on, rejected when approved as is.
    reporters = await session.scalars(
        update(Report).where(Report.post_id == post.id, Report.upheld.is_(None))
        .values(upheld=hide or rewritten).returning(Report.reporter_id)
    )  # fmt: skip
    decided = PostDecided(
        post.id, moderator.id, author.id, action, hide, tuple(reporters.all()), was_on_view
    )
    if not post.is_deleted:  # (nobody sees a deleted post: no notice leads to it)
        await events.announce(session, decided)
    _close(item, moderator, action, reason)
    detail = f"suspended for {duration}" if action == "suspend" else ""
    audit(session, moderator, action, "post", post.id, reason.strip(), detail)
    base = settings.base_url.rstrip("/")
    if hide and post.is_deleted:
        if action != "hide":  # (hiding what its author deleted changes nothing they can see)
            queue_mail(
                session,
                author.email,
                f"A moderator acted on your post in “{thread.title}”",
                f"Hello {author.username},\n\nA moderator has reviewed the post you deleted in "
                f"“{thread.title}”.\nReason: {reason.strip()}\n"
                + _sanction_lines(action, duration),
            )
    elif hide:
        queue_mail(
            session,
            author.email,
            f"A moderator acted on your post in “{thread.title}”",
            f"Hello {author.username},\n\nA moderator has hidden your post in “{thread.title}”.\n"
            f"Reason: {reason.strip()}\n"
            + _sanction_lines(action, duration)
            + f"\nYou can see the post and the reason at {base}{url('post', post_id=post.id)}\n",
        )
    elif rewritten:
        done = (
            "restored your post to the version before its last edit"
            if action == "restore"
            else "edited your post"
        )
        queue_mail(
            session,
            author.email,
            f"A moderator edited your post in “{thread.title}”",
            f"Hello {author.username},\n\nA moderator {done} in “{thread.title}” "
            "before approving it.\n"
            + (f"Reason: {reason.strip()}\n" if reason.strip() else "")
            + f"\nYou can see the post as it now reads at {base}{url('post', post_id=post.id)}\n",
        )
    return item


# Replies looked at for quotes of a post a moderator hides, and the shortest quoted line that
# counts as quoting it.
QUOTING_REPLIES_MAX = 200
QUOTED_LINE_MIN = 12


def _comparable(text: str) -> str:
    """Text as a quote of it may be retyped: look-alike letters and curly apostrophes folded,
    emphasis marks dropped, in lower case, spaces collapsed."""
    return " ".join(fold(_EMPHASIS.sub("", text)).lower().split())


_EMPHASIS = re.compile(r"[*_~`]")


def _quotes(reply: str, hidden: str) -> bool:
    """Whether `reply` quotes `hidden` (already `_comparable`): a quoted line, or up to four
    quoted lines in a row read as one (a second probe split the put-down into short lines),
    of QUOTED_LINE_MIN characters or more, found in it."""
    lines = [_comparable(line) for line in quoted_lines(reply)]
    for start in range(len(lines)):
        for end in range(start + 1, min(start + 4, len(lines)) + 1):
            piece = " ".join(lines[start:end])
            if len(piece) >= QUOTED_LINE_MIN and piece in hidden:
                return True
    return False


async def _recheck_quoting_replies(session: AsyncSession, post: Post) -> None:
    """Replies on view that quote a post a moderator just hid go to the queue with it: an
    attacker probe's "> [the put-down]\n\nSeconded." stayed up, showing the put-down in
    full, after the original was hidden. (A moderator decides: a quote may be pushback.)"""
    hidden = _comparable(post.body_source)
    replies = await session.scalars(
        select(Post)
        .where(
            Post.thread_id == post.thread_id, Post.id > post.id, Post.is_deleted.is_(False),
            shown_to_all(Post.moderation_state),
            or_(Post.reply_to_id == post.id, Post.body_source.contains(">")),
        )
        .order_by(Post.id)
        .limit(QUOTING_REPLIES_MAX)
    )  # fmt: skip
    again = [reply.id for reply in replies if _quotes(reply.body_source, hidden)]
    for reply_id in again:
        await open_item(session, reply_id, [QUOTES_HIDDEN], priority=PRIORITY[Verdict.flag.value])


async def suspension_reason(session: AsyncSession, member_id: int) -> str:
    """The reason given for a member's latest suspension, from the audit log: imposed from
    their profile, or a decision on one of their posts, their profile or their messages (the
    newcomer probe's suspended member was told only that a mail said why)."""
    about_them = or_(
        (AuditEntry.action == "impose_suspension") & (AuditEntry.target_type == "user")
        & (AuditEntry.target_id == member_id),
        (AuditEntry.action == "suspend") & (
            ((AuditEntry.target_type == "profile") & (AuditEntry.target_id == member_id))
            | ((AuditEntry.target_type == "post") & AuditEntry.target_id.in_(
                select(Post.id).where(Post.author_id == member_id)))
            | ((AuditEntry.target_type == "message") & AuditEntry.target_id.in_(
                select(Message.id).where(Message.sender_id == member_id)))
        ),
    )  # fmt: skip
    reason = await session.scalar(
        select(AuditEntry.reason).where(about_them).order_by(AuditEntry.id.desc()).limit(1)
    )
    return reason or ""


def _sanction(author: User, action: str, duration: str | None) -> None:
    """What a decision does to the member besides the text (callers checked `outranks`)."""
    if action == "warn":
        author.warning_count += 1
    elif action == "premoderate":
        author.premoderated = True
    elif action == "suspend":
        if duration not in SUSPENSIONS:
            raise ReviewError("Choose how long to suspend for.")
        suspend(author, duration)  # (never shortens one running; a deleted account stays so)


def _sanction_lines(action: str, duration: str | None) -> str:
    return (
        (f"Your account is suspended for {duration}.\n" if action == "suspend" else "")
        + ("Your next posts will wait for approval.\n" if action == "premoderate" else "")
        + ("This is a formal warning.\n" if action == "warn" else "")
    )


def _close(item: ReviewItem, moderator: User, action: str, reason: str) -> None:
    item.status = ReviewStatus.closed.value
    item.closed_at = utcnow()
    item.closed_by = moderator.id
    item.decision = action
    item.decision_reason = reason.strip()
    item.updated_at = utcnow()


async def _refuse(
    session: AsyncSession, moderator: User, member: User, action: str, no_edit: str
) -> None:
    """What no moderator may decide on a profile or a message: their own (unless nobody else
    could), a rewrite, or a sanction on a peer or a superior."""
    await _check_own(session, moderator, member, action)
    if action in POST_ONLY_ACTIONS:
        raise ReviewError(no_edit)
    if action in ("warn", "premoderate", "suspend") and not outranks(moderator, member):
        raise ReviewError(PEER_OR_SUPERIOR)


async def _conclude(
    session: AsyncSession,
    moderator: User,
    item: ReviewItem,
    member: User,
    action: str,
    reason: str,
    duration: str | None,
    reported: Any,
    target: tuple[str, int],
    hide: bool,
) -> None:
    """The end of a decision on a profile or a message: the member's sanction, the reports
    upheld or rejected, the item closed and the audit entry."""
    _sanction(member, action, duration)
    await session.execute(
        update(Report).where(reported, Report.upheld.is_(None)).values(upheld=hide)
    )
    _close(item, moderator, action, reason)
    # (The item named: the moderation log links a decision on a message to it, the only page
    # from which moderators read a private conversation.)
    suspended = f"suspended for {duration}; " if action == "suspend" else ""
    audit(session, moderator, action, target[0], target[1], reason.strip(),
          f"{suspended}review item {item.id}")  # fmt: skip


async def _decide_profile(
    session: AsyncSession,
    settings: Settings,
    moderator: User,
    item: ReviewItem,
    action: str,
    reason: str,
    duration: str | None,
    url: Callable[..., str],
) -> ReviewItem:
    """A decision on a member's location and bio: approve shows them, every other action
    hides them (the member still sees them, with the reason) and may sanction the member."""
    member = await session.get(User, item.profile_user_id, with_for_update=True)
    if member is None:
        raise ReviewError("That member no longer exists.")
    await _refuse(session, moderator, member, action,
            "Moderators do not rewrite a profile: hide it, or approve it as it is.")  # fmt: skip
    hide = action != "approve"
    member.profile_state = ProfileState.hidden.value if hide else ProfileState.clear.value
    member.profile_note = reason.strip() if hide else ""
    await _conclude(session, moderator, item, member, action, reason, duration,
                    Report.profile_user_id == member.id, ("profile", member.id), hide)  # fmt: skip
    if hide:
        base = settings.base_url.rstrip("/")
        queue_mail(
            session,
            member.email,
            "A moderator hid your profile's location and bio",
            f"Hello {member.username},\n\nA moderator has hidden the location and bio on your "
            f"profile; other members no longer see them.\nReason: {reason.strip()}\n"
            + _sanction_lines(action, duration)
            + f"\nYou can change them at {base}{url('edit_profile')}\n",
        )
    return item


async def _decide_message(
    session: AsyncSession,
    settings: Settings,
    moderator: User,
    item: ReviewItem,
    action: str,
    reason: str,
    duration: str | None,
    url: Callable[..., str],
) -> ReviewItem:
    """A decision on a private message: approve shows it to its recipients (a held one is
    announced then), every other action removes it and may sanction the sender."""
    message = await session.get(Message, item.message_id, with_for_update=True)
    sender = await session.get(User, message.sender_id) if message else None
    if message is None or sender is None:
        raise ReviewError("That message no longer exists.")
    await _refuse(session, moderator, sender, action,
            "Moderators do not rewrite a private message: hide it, or approve it.")  # fmt: skip
    hide = action != "approve"
    # Approving a message already on view changes nothing its sender sees: they are not told
    # (that a moderator looked would tell them a one-to-one conversation's other member
    # reported it). Approving a held one delivers it, and they are told.
    delivered = not hide and message.state == MessageState.held.value
    if hide:
        await messages.set_state(session, message, MessageState.hidden.value, reason.strip())
    else:
        await messages.set_state(session, message, MessageState.clear.value)
    message.needs_scoring = False
    await _conclude(session, moderator, item, sender, action, reason, duration,
                    Report.message_id == message.id, ("message", message.id), hide)  # fmt: skip
    reporters = tuple(
        await session.scalars(select(Report.reporter_id).where(Report.message_id == message.id))
    )
    if hide or delivered or reporters:
        await events.announce(
            session,
            MessageDecided(
                message.id, message.conversation_id, moderator.id, sender.id, action, hide,
                delivered, reporters,
            ),
        )  # fmt: skip
    if hide:
        base = settings.base_url.rstrip("/")
        link = url("conversation", conversation_id=message.conversation_id)
        queue_mail(
            session,
            sender.email,
            "A moderator removed one of your private messages",
            f"Hello {sender.username},\n\nA moderator has removed a private message you sent; "
            f"its recipients no longer see it.\nReason: {reason.strip()}\n"
            + _sanction_lines(action, duration)
            + f"\nYou can see the conversation at {base}{link}\n",
        )
    return item


# --- decisions as labels ----------------------------------------------------------------------

# What a closed decision says about the post's text: approved as written, or acted on. An
# edit-and-approve is left out: the stored text is the moderator's edit, not what was posted.
LABEL_FROM_DECISION = {"approve": 0, "hide": 1, "warn": 1, "premoderate": 1, "suspend": 1}


async def moderator_labels(
    session: AsyncSession, since: datetime | None = None
) -> list[dict[str, object]]:
    """Moderators' decisions on posts flagged or reported as dismissive of juniors, as
    labelled examples (1 = acted on, 0 = approved as written; the quoted or replied-to post as
    the context) in the format `candor moderation evaluate` and `train --extra` read. Oldest
    decision first."""
    reported = (
        exists()
        .where(
            Report.post_id == ReviewItem.post_id,
            Report.reason == ReportReason.dismissive.value,
        )
        .label("reported")
    )
    answered = aliased(Post)
    stmt = (
        select(
            ReviewItem.post_id, ReviewItem.decision, ReviewItem.reasons, reported,
            Post.body_source, answered.body_source,
        )
        .join(Post, Post.id == ReviewItem.post_id)
        .outerjoin(answered, answered.id == func.coalesce(Post.reply_to_id, Post.follows_id))
        .where(
            ReviewItem.status == ReviewStatus.closed.value,
            ReviewItem.decision.in_(list(LABEL_FROM_DECISION)),
        )
        .order_by(ReviewItem.closed_at, ReviewItem.id)
    )  # fmt: skip
    if since is not None:
        stmt = stmt.where(ReviewItem.closed_at >= since)
    return [
        {
            "text": text,
            "label": LABEL_FROM_DECISION[decision],
            "context": context or "",
            "post_id": post_id,
            "decision": decision,
        }
        for post_id, decision, reasons, was_reported, text, context in await session.execute(stmt)
        if was_reported or DISMISSIVE in (reasons or [])  # reasons are JSON: checked here
    ]
