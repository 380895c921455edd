"""Moderators' pages: the review queue, one item with its evidence, watched phrases, the
pipeline's status; members' reports; the composer's live cue check."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from forum.accounts.models import User, profile_text, profile_text_shown
from forum.accounts.services import find_by_username, is_suspended, load_ranks
from forum.accounts.web import Ctx
from forum.board.models import Post, Thread
from forum.board.posting import moderated_text
from forum.board.queries import get_post, last_revision
from forum.core.audit import AuditEntry, audit
from forum.core.db import utcnow
from forum.core.pagination import paginate
from forum.core.text import clean_block, clean_line, excerpt, own_excerpt
from forum.core.web import field_int, field_str, view
from forum.messages import services as messages
from forum.messages.models import VISIBLE_STATES, Conversation, Message
from forum.review import services as review
from forum.review.highlight import flagged_sentence, highlight, highlight_html
from forum.review.models import (
    ModerationResult,
    Report,
    ReportReason,
    ReviewItem,
    ReviewStatus,
    StageStatus,
    WatchedPhrase,
)
from forum.review.queue import (
    ACTIONS,
    DECISION_DONE,
    POST_ONLY_ACTIONS,
    REPORT_STANDING,
    SUSPENSIONS,
    ConflictError,
    ReviewError,
    describe,
)
from moderation import cues, registry
from moderation.policy import likelihood
from moderation.signals import own_words

PER_PAGE = 30


@view(moderator=True)
async def queue(ctx: Ctx) -> Response:
    status = ctx.request.query_params.get("status", "open")
    if status not in ("open", "closed"):
        raise HTTPException(400, "Status is 'open' or 'closed'.")
    where = ReviewItem.status == status
    total = await ctx.db.scalar(select(func.count(ReviewItem.id)).where(where))
    pager = paginate(total or 0, PER_PAGE, ctx.param_int("page"))
    order = (
        (ReviewItem.priority.desc(), ReviewItem.opened_at)
        if status == "open"
        else (ReviewItem.closed_at.desc(),)
    )
    author = aliased(User)
    member = aliased(User)
    found = await ctx.db.execute(
        select(ReviewItem, Post, Thread.title, author.username, member, Thread.first_post_id)
        .outerjoin(Post, Post.id == ReviewItem.post_id)
        .outerjoin(Thread, Thread.id == Post.thread_id)
        .outerjoin(author, author.id == Post.author_id)
        .outerjoin(member, member.id == ReviewItem.profile_user_id)
        .where(where)
        .order_by(*order)
        .limit(PER_PAGE)
        .offset((pager.number - 1) * PER_PAGE)
    )
    rows = found.all()
    evidence = await _latest_evidence(ctx, [post.id for _i, post, *_ in rows if post is not None])
    # Private messages: only the sender and a line of text; the conversation is read (and
    # the reading audited) on the item's page.
    message_ids = [item.message_id for item, *_ in rows if item.message_id is not None]
    sent = {
        m.id: (m, name, paired)
        for m, name, paired in (
            await ctx.db.execute(
                select(Message, User.username, Conversation.leave_via)
                .join(User, User.id == Message.sender_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.id.in_(message_ids))
            )
            if message_ids
            else []
        )
    }
    items = []
    for item, post, title, author_name, profiled, first_post_id in rows:
        if item.message_id is not None and item.message_id in sent:
            message, sender, paired = sent[item.message_id]
            # (A programme pair's space is left through its programme: Conversation.leave_via.)
            where_sent = "a mentoring pair's space" if paired else "private message"
            row = {"subject": where_sent, "title": "A private message",
                   "author": sender, "state": message.state,
                   "excerpt": excerpt(own_words(message.body_source)[1] or message.body_source,
                                      200)}  # fmt: skip
        elif profiled is not None:
            text = profile_text(profiled.location, profiled.bio)
            row = {"subject": "profile", "title": f"Profile of {profiled.username}",
                   "author": profiled.username, "state": profiled.profile_state,
                   "excerpt": excerpt(text, 200)}  # fmt: skip
        elif post is not None:
            # The sentence that was flagged, else the post's own words (not what it quotes).
            text = moderated_text(post.body_source, title if post.id == first_post_id else None)
            preview = flagged_sentence(text, evidence.get(post.id, []))
            row = {"subject": f"post {post.id}", "title": title, "author": author_name,
                   "state": post.moderation_state,
                   "excerpt": preview or excerpt(own_words(text)[1] or text, 200)}  # fmt: skip
        else:
            continue
        items.append({"item": item, "why": describe(item.reasons), **row})
    assert ctx.user is not None
    # (Whether the viewer's own items are theirs to decide: only on a board without another.)
    own = any(row["author"] == ctx.user.username for row in items)
    context = {"items": items, "pager": pager, "status": status, "total": total,
               "standing": REPORT_STANDING, "decided": DECISION_DONE,
               "sole": own and await review.sole_moderator(ctx.db, ctx.user)}  # fmt: skip
    return ctx.render("review/queue.html", context)


async def _latest_result(ctx: Ctx, subject: Any) -> ModerationResult | None:
    """The newest moderation result of a post or a profile (`subject`: a condition on it)."""
    found: ModerationResult | None = await ctx.db.scalar(
        select(ModerationResult).where(subject).order_by(ModerationResult.id.desc()).limit(1)
    )
    return found


async def _latest_evidence(ctx: Ctx, post_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The evidence of each post's latest moderation result."""
    if not post_ids:
        return {}
    latest = (
        select(func.max(ModerationResult.id))
        .where(ModerationResult.post_id.in_(post_ids))
        .group_by(ModerationResult.post_id)
    )
    rows = await ctx.db.execute(
        select(ModerationResult.post_id, ModerationResult.evidence).where(
            ModerationResult.id.in_(latest)
        )
    )
    return {post_id: list(found or []) for post_id, found in rows if post_id is not None}


async def _history(ctx: Ctx, member_id: int) -> dict[str, int]:
    """Moderators' past decisions on a member's posts and profile."""
    rows = await ctx.db.execute(
        select(ReviewItem.decision, func.count(ReviewItem.id))
        .outerjoin(Post, Post.id == ReviewItem.post_id)
        .where(
            or_(Post.author_id == member_id, ReviewItem.profile_user_id == member_id),
            ReviewItem.status == ReviewStatus.closed.value,
        )
        .group_by(ReviewItem.decision)
    )
    return {decision: int(n) for decision, n in rows}


async def _reports(ctx: Ctx, subject: Any) -> list[tuple[Report, str, list[str]]]:
    """The reports with their reporters, and the cue phrases in each note: a note is member
    text too, shown to moderators only, with what may read as dismissive marked."""
    rows = (
        await ctx.db.execute(
            select(Report, User.username)
            .join(User, User.id == Report.reporter_id)
            .where(subject)
            .order_by(Report.id)
        )
    ).all()
    return [(report, name, cues.nudge_phrases(report.note)) for report, name in rows]


# The stages' readings in words. The model's calibrated probability is on another scale
# than the flag (a probability of 0.48 can be far above the model's own flag): shown as a
# figure without a Likely/Maybe word, so it is not read against the wrong threshold.
SCORE_NAMES = {
    ("dismissive", "dismissive"): "Model: put-down score (with its context)",
    ("dismissive", "title"): "Model: the title alone",
    ("dismissive", "sentence"): "Model: the stock phrase's sentence alone",
    ("dismissive", "probability"): "Model: raw probability (on its own scale, not the board scale)",
    ("cues", "dismissive"): "Stock phrases",
    ("cues", "title"): "Stock phrases in the title",
    ("cues", "watched_phrase"): "Watched phrases",
    ("language", "other"): "Share of the words in a language the checks do not read",
}
UNRATED = {("dismissive", "probability"), ("language", "other")}


def _scores(ctx: Ctx, result: ModerationResult | None) -> list[tuple[str, float, str]]:
    s = ctx.settings
    scores = []
    if result is not None:
        dismissive = float(result.context.get("dismissive", 0.0))
        scores.append(("Dismissive of juniors (combined)", dismissive,
                       likelihood(dismissive, s.dismissive_flag)))  # fmt: skip
        for stage, labels in sorted(result.scores.items()):
            for label, value in sorted(labels.items()):
                name = SCORE_NAMES.get((stage, label), f"{stage.capitalize()}: {label}")
                threshold = s.toxicity_flag.get(label, s.dismissive_flag)
                word = "" if (stage, label) in UNRATED else likelihood(value, threshold)
                scores.append((name, value, word))
    return scores


async def _profile_item_context(ctx: Ctx, item: ReviewItem) -> dict[str, Any]:
    member = await ctx.db.get(User, item.profile_user_id)
    if member is None:
        raise HTTPException(404, "That member no longer exists.")
    ranks = await load_ranks(ctx.db)
    result = await _latest_result(ctx, ModerationResult.profile_user_id == member.id)
    return {
        "kind": "profile", "item": item, "post": None, "thread": None, "author": member,
        "state": member.profile_state,
        "author_rank": ranks.rank_for(member.points, member.special_rank_id),
        "author_suspended": is_suspended(member), "result": result,
        "scores": _scores(ctx, result),
        "segments": highlight(
            profile_text(member.location, member.bio), result.evidence if result else []
        ),
        "before": [], "replied": None, "replied_rank": None,
        "reports": await _reports(ctx, Report.profile_user_id == member.id),
        "history": await _history(ctx, member.id), "why": describe(item.reasons),
        "actions": [a for a in ACTIONS if a not in POST_ONLY_ACTIONS],
        "suspensions": list(SUSPENSIONS),
    }  # fmt: skip


async def _message_item_context(ctx: Ctx, item: ReviewItem) -> dict[str, Any]:
    """A reported or flagged private message with its whole conversation: the one place a
    moderator reads a conversation (item_page audits every view)."""
    message = await ctx.db.get(Message, item.message_id)
    if message is None:
        raise HTTPException(404, "That message no longer exists.")
    conversation = await ctx.db.get(Conversation, message.conversation_id)
    sender = await ctx.db.get(User, message.sender_id)
    assert conversation is not None and sender is not None
    ranks = await load_ranks(ctx.db)
    result = await _latest_result(ctx, ModerationResult.message_id == message.id)
    people = await messages.participants(ctx.db, conversation.id)
    reports = await _reports(ctx, Report.message_id == message.id)
    shown = await messages.messages_for(ctx.db, conversation.id, None)
    if not reports:
        # Flagged by the worker but reported by nobody: the message and what it answers (what
        # the model read), not the rest of the conversation.
        answered = message.reply_to_id or max(
            (m.id for m, _ in shown if m.id < message.id and m.state in VISIBLE_STATES),
            default=None,
        )
        shown = [(m, name) for m, name in shown if m.id in (message.id, answered)]
    return {
        "kind": "message", "item": item, "post": None, "thread": None, "author": sender,
        "message": message, "conversation": conversation,
        "conversation_messages": shown, "reported": bool(reports),
        "people": [(p, ranks.rank_for(p.points, p.special_rank_id), active)
                   for p, active in people],
        "state": message.state,
        "author_rank": ranks.rank_for(sender.points, sender.special_rank_id),
        "author_suspended": is_suspended(sender), "result": result,
        "scores": _scores(ctx, result),
        "segments": highlight(message.body_source, result.evidence if result else []),
        "before": [], "replied": None, "replied_rank": None,
        "reports": reports,
        "history": await _history(ctx, sender.id), "why": describe(item.reasons),
        "actions": [a for a in ACTIONS if a not in POST_ONLY_ACTIONS],
        "suspensions": list(SUSPENSIONS),
    }  # fmt: skip


READ_AGAIN_MINUTES = 10


async def _read_lately(ctx: Ctx, item: ReviewItem) -> bool:
    """Whether this moderator's reading of the item's conversation is logged already, within
    READ_AGAIN_MINUTES."""
    assert ctx.user is not None
    found = await ctx.db.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.created_at > utcnow() - timedelta(minutes=READ_AGAIN_MINUTES),
            AuditEntry.actor_id == ctx.user.id,
            AuditEntry.action == "view_conversation",
            AuditEntry.detail == f"review item {item.id}",
        )
        .limit(1)
    )
    return found is not None


async def _item_context(ctx: Ctx, item: ReviewItem) -> dict[str, Any]:
    if item.profile_user_id is not None:
        context = await _profile_item_context(ctx, item)
    elif item.message_id is not None:
        context = await _message_item_context(ctx, item)
    else:
        context = await _post_item_context(ctx, item)
    # (The scores' summary names the board's thresholds.)
    context["flag_at"] = ctx.settings.dismissive_flag
    context["hold_at"] = ctx.settings.dismissive_hold
    context["decided"] = DECISION_DONE  # a decision in words ("hidden, and its author warned")
    # The viewer's own post, profile or message: decided by another moderator, or by them
    # (approve or hide) when there is nobody else.
    author, user = context.get("author"), ctx.user
    own = author is not None and user is not None and author.id == user.id
    context["own"] = own
    context["decides_own"] = own and user is not None and await review.sole_moderator(ctx.db, user)
    context["own_actions"] = review.OWN_ACTIONS
    return context


async def _post_item_context(ctx: Ctx, item: ReviewItem) -> dict[str, Any]:
    post = await ctx.db.get(Post, item.post_id) if item.post_id else None
    if post is None:
        raise HTTPException(404, "That post no longer exists.")
    thread = await ctx.db.get(Thread, post.thread_id)
    author = await ctx.db.get(User, post.author_id)
    assert thread is not None and author is not None
    ranks = await load_ranks(ctx.db)
    result = await _latest_result(ctx, ModerationResult.post_id == post.id)
    # The text before the post's last edit, which "restore" brings back.
    earlier = await last_revision(ctx.db, post.id)
    opening = post.id == thread.first_post_id
    # Hiding an opening post hides its thread, and with it every other member's replies.
    others_replies = (
        await ctx.db.scalar(
            select(func.count(Post.id)).where(
                Post.thread_id == thread.id,
                Post.id != post.id,
                Post.author_id != post.author_id,
                Post.is_deleted.is_(False),
            )
        )  # fmt: skip
        if opening
        else 0
    )
    # Thread context: the post it answers, and the two posts before it.
    before = (
        await ctx.db.execute(
            select(Post, User.username)
            .join(User, User.id == Post.author_id)
            .where(Post.thread_id == thread.id, Post.id < post.id, Post.is_deleted.is_(False))
            .order_by(Post.id.desc())
            .limit(2)
        )
    ).all()
    replied = None
    if post.answered_id:
        replied = (
            await ctx.db.execute(
                select(Post, User.username, User.points, User.special_rank_id)
                .join(User, User.id == Post.author_id)
                .where(Post.id == post.answered_id)
            )
        ).first()
    return {
        "kind": "post",
        "state": post.moderation_state,
        "item": item,
        "post": post,
        "thread": thread,
        "author": author,
        "author_rank": ranks.rank_for(author.points, author.special_rank_id),
        "author_suspended": is_suspended(author),
        "result": result,
        "scores": _scores(ctx, result),
        "segments": highlight(
            moderated_text(
                post.body_source, thread.title if post.id == thread.first_post_id else None
            ),
            result.evidence if result else [],
        ),
        "as_seen": highlight_html(post.body_html, result.evidence if result else []),
        # As plain text in the writers' own words (raw Markdown, quote marks and all, was hard
        # to read), the answered post once (it was shown again among the posts before).
        "before": [
            (own_excerpt(p.body_source, 300), name)
            for p, name in reversed(before)
            if not (replied and p.id == replied[0].id)
        ],
        "replied": replied,
        "replied_text": own_excerpt(replied[0].body_source, 400) if replied else "",
        "replied_rank": ranks.rank_for(replied[2], replied[3]) if replied else None,
        "reports": await _reports(ctx, Report.post_id == post.id),
        "history": await _history(ctx, author.id),
        "why": describe(item.reasons),
        "actions": [
            a
            for a in ACTIONS
            if not (post.is_deleted and a in POST_ONLY_ACTIONS)
            and (a != "restore" or earlier is not None)
        ],
        "earlier": earlier,
        "opening": opening,
        "others_replies": others_replies,
        "suspensions": list(SUSPENSIONS),
    }


@view(moderator=True, writes=True)
async def item_page(ctx: Ctx) -> Response:
    item_id = ctx.request.path_params["item_id"]
    item = await ctx.db.get(ReviewItem, item_id)
    if item is None:
        raise HTTPException(404, "There is no such review item.")
    context = await _item_context(ctx, item)
    if ctx.request.method == "GET":
        if item.message_id is not None and not await _read_lately(ctx, item):
            # A private conversation was read: who, which, when (forum.core.audit); once in
            # READ_AGAIN_MINUTES per moderator and item (the newcomer probe's log listed
            # the same reading three times in one minute, once per page view).
            audit(ctx.db, ctx.user, "view_conversation", "conversation",
                  context["conversation"].id, "", f"review item {item.id}")  # fmt: skip
        return ctx.render("review/item.html", context)
    form = await ctx.form()
    action = field_str(form, "action", 30)
    version = field_int(form, "version")
    if version is None:
        raise HTTPException(400, "The form is missing the item's version.")
    assert ctx.user is not None
    try:
        await review.decide(
            ctx.db, ctx.settings, ctx.user, item.id, version, action,
            reason=clean_block(field_str(form, "reason", 2000)),
            body=field_str(form, "body", ctx.settings.body_max) if "body" in form else None,
            title=field_str(form, "title", ctx.settings.title_max) if "title" in form else None,
            duration=field_str(form, "duration", 10) or None, url=ctx.url,
        )  # fmt: skip
    except (ConflictError, ReviewError) as exc:
        # Nothing of the decision is kept; the page shows the item as it is now.
        await ctx.rollback()
        fresh = await ctx.db.get(ReviewItem, item_id, populate_existing=True)
        assert fresh is not None
        context = await _item_context(ctx, fresh)
        context["error"] = exc.message
        # What the moderator chose and wrote is kept, and the error is said at the form too
        # (the page answered at its top, far from the reason box, with the form emptied).
        context["chosen"] = {
            "action": action, "reason": field_str(form, "reason", 2000),
            "duration": field_str(form, "duration", 10),
            "body": field_str(form, "body", ctx.settings.body_max) if "body" in form else None,
            "title": field_str(form, "title", ctx.settings.title_max) if "title" in form else None,
        }  # fmt: skip
        return ctx.render("review/item.html", context, exc.status)
    ctx.flash(f"Decision recorded: {DECISION_DONE.get(action, action.replace('_', ' '))}.")
    return ctx.redirect(ctx.url("review_queue"))


@view(moderator=True)
async def phrases(ctx: Ctx) -> Response:
    error = ""
    if ctx.request.method == "POST":
        form = await ctx.form()
        phrase = clean_line(field_str(form, "phrase", 200)).lower()
        if len(phrase) < 3 or len(phrase) > 200:
            error = "Watched phrases have 3 to 200 characters."
        elif await ctx.db.scalar(select(WatchedPhrase.id).where(WatchedPhrase.phrase == phrase)):
            error = "That phrase is already watched."
        else:
            assert ctx.user is not None
            ctx.db.add(WatchedPhrase(phrase=phrase, created_by=ctx.user.id))
            await ctx.db.flush()
            audit(ctx.db, ctx.user, "watch_phrase", "phrase", 0, "", phrase)
            ctx.flash(f"Now watching “{phrase}”. New and edited posts are checked for it.")
            return ctx.redirect(ctx.url("watched_phrases"))
    rows = (await ctx.db.scalars(select(WatchedPhrase).order_by(WatchedPhrase.phrase))).all()
    return ctx.render("review/phrases.html", {"phrases": rows, "error": error},
                      400 if error else 200)  # fmt: skip


@view(moderator=True)
async def delete_phrase(ctx: Ctx) -> Response:
    phrase = await ctx.db.get(WatchedPhrase, ctx.request.path_params["phrase_id"])
    if phrase is None:
        raise HTTPException(404, "There is no such phrase.")
    assert ctx.user is not None
    audit(ctx.db, ctx.user, "unwatch_phrase", "phrase", phrase.id, "", phrase.phrase)
    await ctx.db.delete(phrase)
    ctx.flash(f"No longer watching “{phrase.phrase}”.")
    return ctx.redirect(ctx.url("watched_phrases"))


@view(moderator=True)
async def status_page(ctx: Ctx) -> Response:
    stages = (await ctx.db.scalars(select(StageStatus).order_by(StageStatus.stage))).all()
    open_items = await ctx.db.scalar(
        select(func.count(ReviewItem.id)).where(ReviewItem.status == ReviewStatus.open.value)
    )
    waiting = await ctx.db.scalar(select(func.count(Post.id)).where(Post.needs_scoring.is_(True)))
    # Agreement: of items the system raised, how often moderators acted on the post.
    decided = (
        await ctx.db.execute(
            select(ReviewItem.system_verdict, ReviewItem.decision, func.count(ReviewItem.id))
            .where(ReviewItem.status == ReviewStatus.closed.value, ReviewItem.system_verdict != "")
            .group_by(ReviewItem.system_verdict, ReviewItem.decision)
        )
    ).all()
    agreement: dict[str, dict[str, int]] = {}
    for verdict, decision, count in decided:
        row = agreement.setdefault(verdict, {"upheld": 0, "overturned": 0})
        row["overturned" if decision == "approve" else "upheld"] += count
    s = ctx.settings
    return ctx.render(
        "review/status.html",
        {
            "stages": stages,
            "open_items": open_items or 0,
            "waiting": waiting or 0,
            "agreement": agreement,
            "thresholds": {
                "dismissive (flag)": s.dismissive_flag,
                "dismissive (hold)": s.dismissive_hold,
                "dismissive (hold, account not yet established)": s.dismissive_hold_new,
                **{f"{k} (flag)": v for k, v in s.toxicity_flag.items()},
                **{f"{k} (hold)": v for k, v in s.toxicity_hold.items()},
                "report weight that hides a post": s.report_hide_weight,
                "context boost per rank step (log-odds)": s.context_boost_per_level,
            },
            "premoderate_first_posts": s.premoderate_first_posts,
            "models": registry.versions(s),
            "pinned": bool(s.dismissive_model_path),
        },
    )


@view(admin=True)
async def use_model(ctx: Ctx) -> Response:
    """Switch the dismissiveness model (roll back, or forward): workers load it between batches."""
    form = await ctx.form()
    name = field_str(form, "version", 100)
    if ctx.settings.dismissive_model_path:
        raise HTTPException(409, "CANDOR_DISMISSIVE_MODEL_PATH pins the model; unset it first.")
    try:
        chosen = registry.use(ctx.settings, name)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    audit(ctx.db, ctx.user, "use_model", "model", 0, "", f"dismissiveness model {chosen.version}")
    ctx.flash(f"Workers will use model {chosen.version} from their next batch.")
    return ctx.redirect(ctx.url("moderation_status"))


async def _report_form(
    ctx: Ctx,
    context: dict[str, Any],
    send: Callable[[str, str], Awaitable[object]],
    thanks: str,
    back: str,
    own: str = "",
) -> Response:
    """The report form (a post's, a profile's or a message's): GET shows it, POST sends it with
    `send`. On the member's own (`own` says why they cannot report it) there is no form."""
    if own:
        return ctx.render("review/report.html", {**context, "own": True, "error": own}, 400)
    if ctx.request.method == "GET":
        return ctx.render("review/report.html", context)
    assert ctx.user is not None
    if is_suspended(ctx.user):
        raise HTTPException(403, "Your account is suspended: you cannot send reports.")
    form = await ctx.form()
    reason = field_str(form, "reason", 40)
    note = clean_block(field_str(form, "note", 1000))
    context["form"] = {"reason": reason, "note": note}
    await review.check_report_rate(ctx.db, ctx.settings, ctx.user, ctx.client)
    try:
        await send(reason, note)
    except ReviewError as exc:
        context["error"] = str(exc)
        return ctx.render("review/report.html", context, 400)
    ctx.flash(thanks)
    return ctx.redirect(back)


@view(login=True)
async def report(ctx: Ctx) -> Response:
    post_id = ctx.request.path_params["post_id"]
    post = await get_post(ctx.db, post_id, ctx.user)
    if post is None:
        raise HTTPException(404, "There is no such post, or it has been removed.")
    thread = await ctx.db.get(Thread, post.thread_id)
    context: dict[str, Any] = {"post": post, "thread": thread, "reasons": list(ReportReason),
                               "form": {}, "error": ""}  # fmt: skip
    assert ctx.user is not None
    user = ctx.user

    async def send(reason: str, note: str) -> object:
        return await review.report_post(ctx.db, ctx.settings, user, post, reason, note)

    own = "You cannot report your own post." if post.author_id == user.id else ""
    return await _report_form(ctx, context, send, "Thank you. Moderators will review the post.",
                              ctx.url("post", post_id=post.id), own)  # fmt: skip


@view(login=True)
async def report_profile(ctx: Ctx) -> Response:
    member = await find_by_username(ctx.db, ctx.request.path_params["username"])
    if (
        member is None
        or not profile_text_shown(member, ctx.user)
        or not (member.location or member.bio)
    ):
        raise HTTPException(404, "There is no member by that name, or nothing to report.")
    context: dict[str, Any] = {"post": None, "member": member, "reasons": list(ReportReason),
                               "profile_text": profile_text(member.location, member.bio),
                               "form": {}, "error": ""}  # fmt: skip
    assert ctx.user is not None
    user = ctx.user

    async def send(reason: str, note: str) -> object:
        return await review.report_profile(ctx.db, ctx.settings, user, member, reason, note)

    own = "You cannot report your own profile." if member.id == user.id else ""
    return await _report_form(ctx, context, send,
                              "Thank you. Moderators will review the profile.",
                              ctx.url("profile", username=member.username), own)  # fmt: skip


@view(login=True)
async def report_message(ctx: Ctx) -> Response:
    """A participant reports a private message they can see; everyone else gets 404."""
    assert ctx.user is not None
    user = ctx.user
    message = await messages.message_for_participant(
        ctx.db, ctx.request.path_params["message_id"], user.id
    )
    if message is None:
        raise HTTPException(404, "There is no such message.")
    sender = await ctx.db.get(User, message.sender_id)
    context: dict[str, Any] = {"post": None, "member": None, "message": message,
                               "sender": sender.username if sender else "",
                               "reasons": list(ReportReason), "form": {}, "error": ""}  # fmt: skip
    found = message

    async def send(reason: str, note: str) -> object:
        return await review.report_message(ctx.db, ctx.settings, user, found, reason, note)

    back = ctx.url("conversation", conversation_id=message.conversation_id) + f"#m{message.id}"
    own = "You cannot report your own message." if message.sender_id == user.id else ""
    thanks = "Thank you. Moderators will review the message."
    return await _report_form(ctx, context, send, thanks, back, own)


@view(login=True)
async def cue_check(ctx: Ctx) -> Response:
    """The composer's live nudge: which phrases may read as dismissive of juniors."""
    try:
        data = await ctx.request.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        raise HTTPException(400, 'Send JSON: {"text": "…"}') from None
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or len(text) > ctx.settings.body_max + ctx.settings.title_max + 2:
        raise HTTPException(400, "Send JSON with a 'text' of at most the post length.")
    # Pure Python work on up to a post's length: in a thread, so other requests go on.
    return JSONResponse({"phrases": await asyncio.to_thread(cues.nudge_phrases, text)})


routes = [
    Route("/mod", queue, methods=["GET"], name="review_queue"),
    Route("/mod/items/{item_id:id}", item_page, methods=["GET", "POST"], name="review_item"),
    Route("/mod/phrases", phrases, methods=["GET", "POST"], name="watched_phrases"),
    Route(
        "/mod/phrases/{phrase_id:id}/delete", delete_phrase, methods=["POST"], name="delete_phrase"
    ),  # fmt: skip
    Route("/mod/status", status_page, methods=["GET"], name="moderation_status"),
    Route("/mod/models", use_model, methods=["POST"], name="use_model"),
    Route("/p/{post_id:id}/report", report, methods=["GET", "POST"], name="report_post"),
    Route("/u/{username}/report", report_profile, methods=["GET", "POST"], name="report_profile"),
    Route(
        "/messages/m/{message_id:id}/report",
        report_message,
        methods=["GET", "POST"],
        name="report_message",
    ),
    Route("/api/cues", cue_check, methods=["POST"], name="cue_check"),
]
