"""Operators' pages over the core's records: the administrators' home (every staff page, and
members found by name), the mail outbox and the audit log; the categories' page is
forum.admin.categories. (The rank table is the accounts
domain's: forum.accounts.views.)"""

from __future__ import annotations

import re

from sqlalchemy import func, select, true
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.accounts.web import Ctx
from forum.admin import categories
from forum.board.models import Category, Post, Thread
from forum.core.audit import AuditEntry
from forum.core.outbox import OutboxMessage
from forum.core.pagination import paginate
from forum.core.web import view
from forum.messages.models import Message, Participant

PER_PAGE = 50
MEMBERS_PER_PAGE = 50


@view(admin=True)
async def admin_home(ctx: Ctx) -> Response:
    """The staff pages in one place, and members found by any part of their name, or by
    the start of their e-mail address (roles are changed on a member's profile)."""
    query = " ".join(ctx.request.query_params.get("q", "").split())[:254]
    found = select(User)
    if "@" in query:
        found = found.where(User.email_key.startswith(query.lower(), autoescape=True))
    elif query:
        found = found.where(User.username_key.contains(query.lower()[:30], autoescape=True))
    total = await ctx.db.scalar(select(func.count()).select_from(found.subquery()))
    pager = paginate(total or 0, MEMBERS_PER_PAGE, ctx.param_int("page"))
    members = (
        await ctx.db.scalars(
            found.order_by(User.username_key)
            .limit(MEMBERS_PER_PAGE)
            .offset((pager.number - 1) * MEMBERS_PER_PAGE)
        )
    ).all()
    return ctx.render(
        "admin/home.html", {"members": members, "query": query, "pager": pager, "total": total}
    )


@view(admin=True)
async def outbox(ctx: Ctx) -> Response:
    total = await ctx.db.scalar(select(func.count(OutboxMessage.id)))
    pager = paginate(total or 0, PER_PAGE, ctx.param_int("page"))
    messages = (
        await ctx.db.scalars(
            select(OutboxMessage)
            .order_by(OutboxMessage.id.desc())
            .limit(PER_PAGE)
            .offset((pager.number - 1) * PER_PAGE)
        )
    ).all()
    return ctx.render("admin/outbox.html", {"messages": messages, "pager": pager})


# What each logged action did, in words (the log keeps short codes).
ACTION_WORDS = {
    "approve": "Approved", "hide": "Hid", "edit_approve": "Edited and approved",
    "restore": "Restored the version before the last edit, and approved",
    "warn": "Hid and warned the author", "premoderate": "Hid and put the author on pre-moderation",
    "suspend": "Hid and suspended the author", "edit": "Edited", "lock": "Locked",
    "unlock": "Unlocked", "pin": "Pinned", "unpin": "Unpinned", "move": "Moved",
    "delete": "Deleted", "watch_phrase": "Started watching a phrase",
    "unwatch_phrase": "Stopped watching a phrase", "use_model": "Switched the moderation model",
    "set_role": "Changed the role of", "lift_suspension": "Lifted the suspension of",
    "lift_premoderation": "Lifted pre-moderation for", "rank_add": "Added a rank",
    "impose_suspension": "Suspended", "impose_premoderation": "Put on pre-moderation",
    "rank_edit": "Changed a rank", "rank_delete": "Removed a rank",
    "view_conversation": "Read a private conversation under review",
    # A programme lead's decisions (the programme's History page shows the same words).
    "programme_accept": "Accepted an application", "programme_decline": "Declined an application",
    "programme_swap": "Swapped partners", "programme_fix": "Fixed a pair",
    "programme_pair": "Paired members by hand",
    "programme_open": "Opened a programme for applications",
    "programme_copy": "Copied a programme",
    "programme_forbid": "Forbade a pair", "programme_clear": "Cleared the pairing edits",
    "programme_rerun": "Ran the pairing", "programme_criteria": "Changed the pairing criteria",
    "programme_publish": "Published pairs", "programme_follow_up": "Followed up a report",
    "programme_close": "Closed a programme", "account_delete": "Deleted their account",
    # The board's categories (forum.admin.categories; Q&A is switched on the category's page).
    "category_add": "Added a category", "category_edit": "Changed a category",
    "category_move": "Reordered a category", "category_delete": "Deleted a category",
    "qa_on": "Made a Q&A category", "qa_off": "Stopped Q&A in a category",
}  # fmt: skip


async def _targets(ctx: Ctx, entries: list[AuditEntry]) -> dict[tuple[str, int], dict[str, str]]:
    """What each entry acted on, by name: a post's thread and author, a thread's title, a
    member's name, a category's name and address (while it exists)."""
    ids: dict[str, set[int]] = {}
    for entry in entries:
        ids.setdefault(entry.target_type, set()).add(entry.target_id)
    found: dict[tuple[str, int], dict[str, str]] = {}
    if ids.get("post"):
        rows = await ctx.db.execute(
            select(Post.id, Thread.title, User.username)
            .join(Thread, Thread.id == Post.thread_id)
            .join(User, User.id == Post.author_id)
            .where(Post.id.in_(ids["post"]))
        )
        for pid, title, author in rows:
            found[("post", pid)] = {"title": title, "member": author}
    if ids.get("thread"):
        for tid, title in await ctx.db.execute(
            select(Thread.id, Thread.title).where(Thread.id.in_(ids["thread"]))
        ):
            found[("thread", tid)] = {"title": title}
    if ids.get("category"):
        for cid, name, slug in await ctx.db.execute(
            select(Category.id, Category.name, Category.slug).where(
                Category.id.in_(ids["category"])
            )
        ):
            found[("category", cid)] = {"name": name, "slug": slug}
    if ids.get("message"):
        for mid, sender in await ctx.db.execute(
            select(Message.id, User.username)
            .join(User, User.id == Message.sender_id)
            .where(Message.id.in_(ids["message"]))
        ):
            found[("message", mid)] = {"member": sender}
    if ids.get("conversation"):
        for cid, name in await ctx.db.execute(
            select(Participant.conversation_id, User.username)
            .join(User, User.id == Participant.user_id)
            .where(Participant.conversation_id.in_(ids["conversation"]))
            .order_by(User.username)
        ):
            names = found.setdefault(("conversation", cid), {"members": ""})
            names["members"] = f"{names['members']} and {name}" if names["members"] else name
    members = ids.get("user", set()) | ids.get("profile", set())
    if members:
        for uid, name in await ctx.db.execute(
            select(User.id, User.username).where(User.id.in_(members))
        ):
            found[("user", uid)] = found[("profile", uid)] = {"member": name}
    return found


# A decision on a private message, and a reading of its conversation, name their review item
# (forum.review): the log links to it.
REVIEW_ITEM = re.compile(r"\breview item (\d+)\b")


@view(moderator=True)
async def audit_log(ctx: Ctx) -> Response:
    # A programme's record (who applied, who is paired with whom, which pairs the lead forbade)
    # is its lead's and the administrators' (its History page says so): moderators read the
    # rest of the log. A probe's moderator read a lead's decisions here.
    assert ctx.user is not None
    shown = true() if ctx.user.is_admin else AuditEntry.target_type != "programme"
    total = await ctx.db.scalar(select(func.count(AuditEntry.id)).where(shown))
    pager = paginate(total or 0, PER_PAGE, ctx.param_int("page"))
    rows = (
        await ctx.db.execute(
            select(AuditEntry, User.username)
            .where(shown)
            .outerjoin(User, User.id == AuditEntry.actor_id)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(PER_PAGE)
            .offset((pager.number - 1) * PER_PAGE)
        )
    ).all()
    targets = await _targets(ctx, [entry for entry, _ in rows])
    entries = [
        {"entry": entry, "actor": actor, "what": ACTION_WORDS.get(entry.action, entry.action),
         "target": targets.get((entry.target_type, entry.target_id), {}),
         "item": int(m.group(1)) if (m := REVIEW_ITEM.search(entry.detail)) else None}
        for entry, actor in rows
    ]  # fmt: skip
    return ctx.render("admin/audit.html", {"entries": entries, "pager": pager})


routes = [
    Route("/admin", admin_home, methods=["GET"], name="admin_home"),
    Route("/admin/outbox", outbox, methods=["GET"], name="outbox"),
    Route("/mod/log", audit_log, methods=["GET"], name="audit_log"),
    *categories.routes,
]
