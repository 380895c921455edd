"""Operators' pages over the core's records: the mail outbox and the audit log. (The rank
table is the accounts domain's: forum.accounts.views.)"""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.models import User
from forum.accounts.web import Ctx
from forum.core.audit import AuditEntry
from forum.core.outbox import OutboxMessage
from forum.core.pagination import paginate
from forum.core.web import view

PER_PAGE = 50


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


@view(moderator=True)
async def audit_log(ctx: Ctx) -> Response:
    total = await ctx.db.scalar(select(func.count(AuditEntry.id)))
    pager = paginate(total or 0, PER_PAGE, ctx.param_int("page"))
    rows = await ctx.db.execute(
        select(AuditEntry, User.username)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .order_by(AuditEntry.id.desc())
        .limit(PER_PAGE)
        .offset((pager.number - 1) * PER_PAGE)
    )
    return ctx.render("admin/audit.html", {"entries": rows.all(), "pager": pager})


routes = [
    Route("/admin/outbox", outbox, methods=["GET"], name="outbox"),
    Route("/mod/log", audit_log, methods=["GET"], name="audit_log"),
]
