"""Private-message pages: the inbox, a conversation (read, reply, quote, leave), starting a
conversation, and a member's blocks. Every page answers 404 to anyone not taking part."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.services import find_by_username
from forum.accounts.web import Ctx
from forum.board.nudge import nudge_for
from forum.core import events
from forum.core.ratelimit import RateLimited
from forum.core.web import field_int, field_str, view
from forum.messages import services as pm
from forum.messages.events import ConversationRead, MessagesReported
from forum.messages.models import Conversation, Participant

NOT_FOUND = "There is no such conversation."


@view(login=True)
async def inbox(ctx: Ctx) -> Response:
    assert ctx.user is not None
    rows = await pm.inbox(ctx.db, ctx.user)
    return ctx.render("messages/inbox.html", {"rows": rows})


@view(login=True)
async def new_conversation(ctx: Ctx) -> Response:
    assert ctx.user is not None
    context: dict[str, Any] = {"errors": {}, "nudge": None}
    if ctx.request.method == "GET":
        to = ctx.request.query_params.get("to", "")[:300]
        context["form"] = {"to": to, "subject": "", "body": ""}
        return ctx.render("messages/new.html", context)
    form = await ctx.form()
    to = field_str(form, "to", 400)
    subject = field_str(form, "subject", 400)
    body = field_str(form, "body", ctx.settings.body_max)
    context["form"] = {"to": to, "subject": subject, "body": body}
    try:
        recipients = await pm.resolve_recipients(ctx.db, ctx.settings, ctx.user, to)
        nudge, anyway = await nudge_for(form, body, subject)
        if nudge and not anyway:
            context["nudge"] = nudge
            return ctx.render("messages/new.html", context)
        conversation, _message = await pm.start_conversation(
            ctx.db, ctx.settings, ctx.user, recipients, subject, body, nudged=nudge
        )
    except (pm.MessageError, RateLimited) as exc:
        await ctx.rollback()
        context["errors"] = {exc.field or "body": exc.message}
        return ctx.render("messages/new.html", context, exc.status)
    ctx.flash("Message sent. Recipients see it once it has been checked, usually at once.")
    return ctx.redirect(ctx.url("conversation", conversation_id=conversation.id))


async def _member_or_404(ctx: Ctx) -> tuple[Conversation, Participant]:
    assert ctx.user is not None
    found = await pm.membership(ctx.db, ctx.request.path_params["conversation_id"], ctx.user.id)
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return found


async def _conversation_context(
    ctx: Ctx, conversation: Conversation, participant: Participant
) -> dict[str, Any]:
    assert ctx.user is not None
    messages = await pm.messages_for(ctx.db, conversation.id, ctx.user.id)
    people = await pm.participants(ctx.db, conversation.id)
    answers = await events.ask(
        ctx.db, MessagesReported(ctx.user.id, tuple(m.id for m, _ in messages))
    )
    return {
        "conversation": conversation,
        "reported": set().union(*answers),
        "subject": (await pm.shown_subjects(ctx.db, [conversation], ctx.user.id))[conversation.id],
        "messages": messages,
        "first_unread": pm.first_unread(participant, messages),
        "people": people,
        "closed_message": pm.closed_message(conversation) if conversation.closed_at else "",
        "cannot_leave": pm.cannot_leave(conversation),
        "cannot_write": ""
        if conversation.closed_at
        else await pm.cannot_write(ctx.db, ctx.user, people),
        "errors": {},
        "nudge": None,
        "form": {"body": "", "reply_to": ""},
    }


@view(login=True, writes=True)
async def conversation_page(ctx: Ctx) -> Response:
    conversation, participant = await _member_or_404(ctx)
    assert ctx.user is not None
    context = await _conversation_context(ctx, conversation, participant)
    quote_id = ctx.param_int("quote")
    if quote_id is not None:
        quoted = next(((m, n) for m, n in context["messages"] if m.id == quote_id), None)
        if quoted is not None:
            context["form"] = {"body": pm.quote_of(quoted[1], quoted[0]), "reply_to": quote_id}
    pm.mark_read(participant, context["messages"])
    if ctx.user.notifications_unread:
        await events.announce(ctx.db, ConversationRead(ctx.user.id, conversation.id))
    return ctx.render("messages/conversation.html", context)


@view(login=True)
async def reply(ctx: Ctx) -> Response:
    conversation, participant = await _member_or_404(ctx)
    assert ctx.user is not None
    form = await ctx.form()
    body = field_str(form, "body", ctx.settings.body_max)
    reply_to = field_int(form, "reply_to")
    context = await _conversation_context(ctx, conversation, participant)
    context["form"] = {"body": body, "reply_to": reply_to or ""}
    nudge, anyway = await nudge_for(form, body)
    if nudge and not anyway:
        context["nudge"] = nudge
        return ctx.render("messages/conversation.html", context)
    try:
        message = await pm.reply(
            ctx.db, ctx.settings, ctx.user, conversation, body, reply_to, nudged=nudge
        )
    except (pm.MessageError, RateLimited) as exc:
        conversation_id = conversation.id
        await ctx.rollback()
        found = await pm.membership(ctx.db, conversation_id, ctx.user.id)
        assert found is not None
        context = await _conversation_context(ctx, *found)
        context["form"] = {"body": body, "reply_to": reply_to or ""}
        context["errors"] = {"body": exc.message}
        return ctx.render("messages/conversation.html", context, exc.status)
    participant.last_read_id = max(participant.last_read_id, message.id)
    return ctx.redirect(
        ctx.url("conversation", conversation_id=conversation.id) + f"#m{message.id}"
    )


@view(login=True)
async def leave(ctx: Ctx) -> Response:
    """GET: what leaving means, and a button (leaving was one click that could not be undone);
    POST: leave."""
    conversation, participant = await _member_or_404(ctx)
    subject = (await pm.shown_subjects(ctx.db, [conversation], participant.user_id))[
        conversation.id
    ]
    if ctx.request.method == "GET":
        if conversation.leave_via:  # a programme pair's space: its page says how to leave
            return ctx.redirect(ctx.url("conversation", conversation_id=conversation.id) + "#leave")
        return ctx.render(
            "messages/confirm_leave.html", {"conversation": conversation, "subject": subject}
        )
    try:
        await pm.leave(ctx.db, conversation, participant)
    except pm.MessageError as exc:
        context = await _conversation_context(ctx, conversation, participant)
        context["errors"] = {"leave": exc.message}
        return ctx.render("messages/conversation.html", context, exc.status)
    ctx.flash(f"You left “{subject}”.")
    return ctx.redirect(ctx.url("messages"))


@view(login=True)
async def blocks(ctx: Ctx) -> Response:
    assert ctx.user is not None
    error = ""
    username = ""
    status = 200
    if ctx.request.method == "POST":
        form = await ctx.form()
        username = field_str(form, "username", 100).strip().lstrip("@")
        member = await find_by_username(ctx.db, username) if username else None
        if member is None:
            error, status = "There is no member by that name.", 400
        else:
            try:
                await pm.block(ctx.db, ctx.user, member)
            except pm.MessageError as exc:
                error, status = exc.message, exc.status
            else:
                ctx.flash(f"You blocked {member.username}: they cannot write to you.")
                return ctx.redirect(ctx.url("blocks"))
    rows = await pm.blocks_of(ctx.db, ctx.user)
    return ctx.render(
        "messages/blocks.html", {"rows": rows, "error": error, "username": username}, status
    )


@view(login=True)
async def unblock(ctx: Ctx) -> Response:
    assert ctx.user is not None
    await pm.unblock(ctx.db, ctx.user, ctx.request.path_params["user_id"])
    ctx.flash("Unblocked.")
    return ctx.redirect(ctx.url("blocks"))


routes = [
    Route("/messages", inbox, methods=["GET"], name="messages"),
    Route("/messages/new", new_conversation, methods=["GET", "POST"], name="new_conversation"),
    Route("/messages/blocks", blocks, methods=["GET", "POST"], name="blocks"),
    Route("/messages/blocks/{user_id:id}/remove", unblock, methods=["POST"], name="unblock"),
    Route("/messages/{conversation_id:id}", conversation_page, methods=["GET"],
          name="conversation"),
    Route("/messages/{conversation_id:id}/reply", reply, methods=["POST"],
          name="conversation_reply"),
    Route("/messages/{conversation_id:id}/leave", leave, methods=["GET", "POST"],
          name="leave_conversation"),
]  # fmt: skip
