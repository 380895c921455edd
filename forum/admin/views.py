"""Administration pages: the mail outbox, the rank table and the audit log."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.models import AuditEntry, OutboxMessage, Rank, User
from forum.accounts.services import AccountError, add_rank, delete_rank, edit_rank
from forum.board.services import audit, paginate
from forum.web import Ctx, field_int, field_str, view

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


async def _rank_page(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    ranks = (
        await ctx.db.scalars(select(Rank).order_by(Rank.is_special, Rank.min_points, Rank.name))
    ).all()
    holders = dict(
        (
            await ctx.db.execute(
                select(User.special_rank_id, func.count(User.id))
                .where(User.special_rank_id.is_not(None))
                .group_by(User.special_rank_id)
            )
        ).all()
    )
    context = {"ranks": ranks, "holders": holders, "errors": {}, "form": {}, "failed_id": None,
               "failed": {}, "points_per_post": ctx.settings.points_per_post}  # fmt: skip
    return ctx.render("admin/ranks.html", {**context, **extra}, status)


@view(admin=True)
async def ranks(ctx: Ctx) -> Response:
    """Earned ranks (by points) and special ones (assigned on a member's profile)."""
    if ctx.request.method == "GET":
        return await _rank_page(ctx)
    assert ctx.user is not None
    form = await ctx.form()
    action = field_str(form, "action", 10)
    name = field_str(form, "name", 200)
    min_points = field_int(form, "min_points")
    rank_id = field_int(form, "rank_id")
    special = field_str(form, "kind", 10) == "special"
    values = {"name": name, "min_points": "" if min_points is None else str(min_points),
              "kind": "special" if special else "earned"}  # fmt: skip
    try:
        if action == "add":
            rank = await add_rank(ctx.db, name, min_points, special)
            detail = f"{rank.name} ({'special' if special else rank.min_points})"
            audit(ctx.db, ctx.user, "rank_add", "rank", rank.id, "", detail)
            ctx.flash(f"Rank {rank.name} added.")
        elif action in ("save", "delete"):
            rank = await ctx.db.get(Rank, rank_id) if rank_id is not None else None
            if rank is None:
                raise HTTPException(404, "There is no such rank.")
            if action == "save":
                before, after = await edit_rank(ctx.db, rank, name, min_points)
                audit(ctx.db, ctx.user, "rank_edit", "rank", rank.id, "", f"{before} -> {after}")
                ctx.flash(f"Rank {rank.name} saved.")
            else:
                gone = rank.name
                held = await delete_rank(ctx.db, rank)
                audit(ctx.db, ctx.user, "rank_delete", "rank", rank_id or 0, "", gone)
                holders = f"; {held} member{'s' if held != 1 else ''} held it" if held else ""
                ctx.flash(f"Rank {gone} removed{holders}.")
        else:
            raise HTTPException(400, "Unknown action.")
    except AccountError as exc:
        await ctx.rollback()
        return await _rank_page(
            ctx,
            400,
            errors={exc.field: exc.message},
            form=values if action == "add" else {},
            failed_id=rank_id if action != "add" else None,
            failed=values,
        )
    return ctx.redirect("/admin/ranks")


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
    Route("/admin/ranks", ranks, methods=["GET", "POST"], name="admin_ranks"),
    Route("/mod/log", audit_log, methods=["GET"], name="audit_log"),
]
