"""Private-message rules: who may write to whom, conversations, reading, leaving, blocks,
moderation states and the rate limits. Only participants ever see a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.services import find_by_username, is_deleted, is_suspended, on_premoderation
from forum.core import events, ratelimit
from forum.core.db import utcnow
from forum.core.errors import DomainError
from forum.core.settings import Settings
from forum.core.text import (
    clean_block,
    clean_line,
    counted,
    quote_markdown,
    render_markdown,
    too_many_cells,
)
from forum.messages.events import MessageHeld, MessageVisible
from forum.messages.models import (
    VISIBLE_STATES,
    Block,
    Conversation,
    Message,
    MessageState,
    Participant,
)

SUBJECT_MAX = 200
# What a blocked member is told: that they cannot write, not who blocked them beyond the
# member they named themselves.
CANNOT_WRITE = "You cannot write in this conversation any more."


class MessageError(DomainError):
    pass


# --- rate limits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageLimits:
    per_minute: ratelimit.Limit
    per_hour: ratelimit.Limit
    new_account_per_hour: ratelimit.Limit
    conversations_per_day: ratelimit.Limit


def limits(settings: Settings) -> MessageLimits:
    s = settings
    quickly = "You are sending messages very quickly. Wait a minute and try again."
    many = "You have sent many messages this hour. Try again later."
    return MessageLimits(
        per_minute=ratelimit.Limit("message:minute", s.messages_max_per_minute, 60, quickly),
        per_hour=ratelimit.Limit("message:hour", s.messages_max_per_hour, 3600, many),
        new_account_per_hour=ratelimit.Limit(
            "message:new_account", s.messages_new_account_max_per_hour, 3600,
            "New accounts can send only a few messages an hour. Try again later.",
        ),
        conversations_per_day=ratelimit.Limit(
            "conversation:day", s.conversations_max_per_day, 86400,
            "You have started many conversations today. Try again tomorrow.",
        ),
    )  # fmt: skip


def is_new_account(settings: Settings, user: User) -> bool:
    return user.younger_than(timedelta(days=settings.messages_new_account_days))


async def check_rate(
    session: AsyncSession,
    settings: Settings,
    user: User,
    length: int,
    *,
    new_conversation: bool = False,
) -> None:
    """Count one message (and a conversation) against the member, and its `length` in
    characters against their hourly budget for text (the board's, shared with posts: the
    worker scores messages too); refuse past a limit."""
    limit = limits(settings)
    await ratelimit.hit(session, limit.per_minute, user.id)
    await ratelimit.hit(session, limit.per_hour, user.id)
    if is_new_account(settings, user):
        await ratelimit.hit(session, limit.new_account_per_hour, user.id)
    if new_conversation:
        await ratelimit.hit(session, limit.conversations_per_day, user.id)
    await ratelimit.written(session, settings, user.id, None, length)


# --- blocks -----------------------------------------------------------------------------------


async def blocked(session: AsyncSession, by_id: int, whom_id: int) -> bool:
    """Whether member `by_id` has blocked member `whom_id`."""
    found = await session.scalar(
        select(Block.id).where(Block.blocker_id == by_id, Block.blocked_id == whom_id)
    )
    return found is not None


async def block(session: AsyncSession, blocker: User, whom: User) -> None:
    if whom.id == blocker.id:
        raise MessageError("username", "You cannot block yourself.")
    if whom.is_moderator:
        raise MessageError("username", "Moderators cannot be blocked.")
    if not await blocked(session, blocker.id, whom.id):
        session.add(Block(blocker_id=blocker.id, blocked_id=whom.id))
        await session.flush()


async def unblock(session: AsyncSession, blocker: User, whom_id: int) -> None:
    await session.execute(
        delete(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == whom_id)
    )


async def blocks_of(session: AsyncSession, blocker: User) -> list[tuple[Block, str]]:
    rows = await session.execute(
        select(Block, User.username)
        .join(User, User.id == Block.blocked_id)
        .where(Block.blocker_id == blocker.id)
        .order_by(User.username_key)
    )
    return [(b, name) for b, name in rows]


async def _blocked_by_any(session: AsyncSession, sender_id: int, user_ids: list[int]) -> bool:
    found = await session.scalar(
        select(Block.id)
        .where(Block.blocked_id == sender_id, Block.blocker_id.in_(user_ids))
        .limit(1)
    )
    return found is not None


# --- reading ----------------------------------------------------------------------------------


def _visible_to(viewer_id: int) -> object:
    """A message a participant sees: a visible one, or any of their own."""
    return (Message.state.in_(VISIBLE_STATES)) | (Message.sender_id == viewer_id)


async def membership(
    session: AsyncSession, conversation_id: int, user_id: int
) -> tuple[Conversation, Participant] | None:
    """The conversation and the member's place in it, if they take part (and did not leave)."""
    row = (
        await session.execute(
            select(Conversation, Participant)
            .join(Participant, Participant.conversation_id == Conversation.id)
            .where(
                Conversation.id == conversation_id,
                Participant.user_id == user_id,
                Participant.left_at.is_(None),
                _shown_to(user_id),  # type: ignore[arg-type]
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def participants(session: AsyncSession, conversation_id: int) -> list[tuple[User, bool]]:
    """Every member of a conversation, with whether they are still in it."""
    rows = await session.execute(
        select(User, Participant.left_at)
        .join(Participant, Participant.user_id == User.id)
        .where(Participant.conversation_id == conversation_id)
        .order_by(Participant.id)
    )
    return [(u, left is None) for u, left in rows]


async def messages_for(
    session: AsyncSession, conversation_id: int, viewer_id: int | None
) -> list[tuple[Message, str]]:
    """The conversation's messages with their senders' names: as a participant sees them
    (viewer_id), or all of them (None: a moderator's audited view)."""
    stmt = (
        select(Message, User.username)
        .join(User, User.id == Message.sender_id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id)
    )
    if viewer_id is not None:
        stmt = stmt.where(Message.state.in_(VISIBLE_STATES) | (Message.sender_id == viewer_id))
    return [(m, name) for m, name in await session.execute(stmt)]


def _shown_to(user_id: int) -> object:
    """A conversation `user_id` may know of: their own, a programme pair's space (no member
    starts it: it opens empty, and the pairing is no secret), or one holding a message they may
    read. One another member started with a held or pending message is not there for its
    recipients at all (its subject, its sender and that it exists) until a message in it is on
    view."""
    return or_(
        Conversation.created_by.is_(None),
        Conversation.created_by == user_id,
        exists().where(Message.conversation_id == Conversation.id, _visible_to(user_id)),  # type: ignore[arg-type]
    )


def _unread_condition(user_id: int) -> object:
    return exists().where(
        Message.conversation_id == Participant.conversation_id,
        Message.id > Participant.last_read_id,
        Message.sender_id != user_id,
        Message.state.in_(VISIBLE_STATES),
    )


async def unread_count(session: AsyncSession, user_id: int) -> int:
    """Conversations with messages the member has not read (the header's count)."""
    found = await session.scalar(
        select(func.count(Participant.id)).where(
            Participant.user_id == user_id,
            Participant.left_at.is_(None),
            _unread_condition(user_id),  # type: ignore[arg-type]
        )
    )
    return int(found or 0)


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    unread: int
    others: list[str]
    subject: str  # as this member may see it (see shown_subjects)


SUBJECT_WAITING = "A message waiting for a moderator"


async def shown_subjects(
    session: AsyncSession, conversations: list[Conversation], viewer_id: int
) -> dict[int, str]:
    """Each conversation's subject as `viewer_id` may see it. The subject is written with the
    first message and moderated with it: while that message is held or hidden, only its
    writer sees the subject (a put-down for a subject was shown to its recipient even while
    the message was held)."""
    # (A programme pair's space is named by the programme, not written by a member.)
    others = [c.id for c in conversations if c.created_by not in (None, viewer_id)]
    hidden: set[int] = set()
    if others:
        first = (
            select(func.min(Message.id).label("id"))
            .where(Message.conversation_id.in_(others))
            .group_by(Message.conversation_id)
            .subquery()
        )
        hidden = set(
            (
                await session.scalars(
                    select(Message.conversation_id).join(first, Message.id == first.c.id)
                    .where(Message.state.not_in(VISIBLE_STATES))
                )
            ).all()
        )  # fmt: skip
    return {c.id: SUBJECT_WAITING if c.id in hidden else c.subject for c in conversations}


async def inbox(session: AsyncSession, user: User, limit: int = 50) -> list[InboxRow]:
    unread = (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Participant.conversation_id,
            Message.id > Participant.last_read_id,
            Message.sender_id != user.id,
            Message.state.in_(VISIBLE_STATES),
        )
        .correlate(Participant)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Conversation, unread)
            .join(Participant, Participant.conversation_id == Conversation.id)
            .where(
                Participant.user_id == user.id,
                Participant.left_at.is_(None),
                _shown_to(user.id),  # type: ignore[arg-type]
            )
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
            .limit(limit)
        )
    ).all()
    ids = [c.id for c, _ in rows]
    names: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for cid, name in await session.execute(
            select(Participant.conversation_id, User.username)
            .join(User, User.id == Participant.user_id)
            .where(Participant.conversation_id.in_(ids), Participant.user_id != user.id)
            .order_by(Participant.id)
        ):
            names[cid].append(name)
    subjects = await shown_subjects(session, [c for c, _ in rows], user.id)
    return [InboxRow(c, int(n or 0), names[c.id], subjects[c.id]) for c, n in rows]


def mark_read(participant: Participant, messages: list[tuple[Message, str]]) -> None:
    newest = max((m.id for m, _ in messages), default=0)
    if newest > participant.last_read_id:
        participant.last_read_id = newest


def first_unread(participant: Participant, messages: list[tuple[Message, str]]) -> int | None:
    return next(
        (m.id for m, _ in messages
         if m.id > participant.last_read_id and m.sender_id != participant.user_id),
        None,
    )  # fmt: skip


def cannot_leave(conversation: Conversation) -> str:
    """Why a member cannot leave this conversation here (empty: they can). A programme pair's
    space is left with the pair, on the programme's page: left on its own, the programme
    still named it the member's space, and its link answered 404."""
    if not conversation.leave_via or conversation.closed_at is not None:
        return ""  # (a closed space, the pair ended or the programme closed, may be left)
    return (
        "This is a mentoring programme pair's private space: you cannot leave this "
        "conversation by itself. To end the pair, leave the programme on its page (while the "
        "programme runs); its lead can help if something is wrong."
    )


async def leave(
    session: AsyncSession, conversation: Conversation, participant: Participant
) -> None:
    why = cannot_leave(conversation)
    if why:
        raise MessageError("leave", why, status=403)
    participant.left_at = utcnow()


# --- writing ----------------------------------------------------------------------------------


def validate_body(settings: Settings, body: str) -> str:
    body = clean_block(body)
    if not body:
        raise MessageError("body", "The message is empty.")
    if len(body) > settings.body_max:
        raise MessageError(
            "body",
            f"Messages can have at most {settings.body_max:,} characters (this has {len(body):,}).",
        )
    tables = too_many_cells(body)
    if tables:
        raise MessageError("body", tables)
    return body


def _check_sender(user: User, readers: list[User]) -> None:
    """A suspended member writes only to staff (to ask about the suspension: the newcomer
    probe's suspended member had no way to reach a moderator)."""
    if is_suspended(user) and not (readers and all(r.is_moderator for r in readers)):
        raise MessageError(
            "body",
            "Your account is suspended: you can write only to moderators, to ask about it.",
            status=403,
        )


async def resolve_recipients(
    session: AsyncSession, settings: Settings, sender: User, raw: str
) -> list[User]:
    """Members named in `raw` (usernames separated by commas or spaces, '@' allowed)."""
    names = [n.lstrip("@") for n in raw.replace(",", " ").split() if n.lstrip("@")]
    names = list(dict.fromkeys(n.lower() for n in names))
    if not names:
        raise MessageError("to", "Name at least one member to write to.")
    most = settings.conversation_recipients_max
    if is_new_account(settings, sender):
        most = min(most, settings.conversation_recipients_new_account_max)
        if len(names) > most:
            raise MessageError(
                "to",
                f"New accounts can write to at most {counted(most, 'member')} at once "
                f"for their first {settings.messages_new_account_days:g} days.",
            )  # fmt: skip
    if len(names) > most:
        raise MessageError(
            "to", f"A conversation can have at most {counted(most, 'other member')}.",
        )  # fmt: skip
    found: list[User] = []
    for name in names:
        member = await find_by_username(session, name[:30])
        if member is None or member.email_confirmed_at is None or is_deleted(member):
            # An account nobody confirmed is not a member yet (its address may not be theirs),
            # and a deleted one is no longer one.
            raise MessageError("to", f"There is no member called “{name[:30]}”.")
        if member.id == sender.id:
            raise MessageError("to", "You cannot write to yourself.")
        found.append(member)
    return found


PREMODERATION_NOTE = "Waiting for a moderator's approval before it is delivered."


async def _add_message(
    session: AsyncSession,
    settings: Settings,
    conversation: Conversation,
    sender: User,
    body: str,
    reply_to_id: int | None,
    nudged: list[str] | None,
) -> Message:
    now = utcnow()
    # Pre-moderation covers messages as it covers posts: a member a moderator placed on it
    # (or a new account within its first posts) waits for approval before delivery. The
    # worker still scores the message, so its reasons reach the moderator's item.
    premoderated = on_premoderation(sender, settings)
    message = Message(
        conversation_id=conversation.id, sender_id=sender.id, reply_to_id=reply_to_id,
        body_source=body, body_html=render_markdown(body), created_at=now,
        state=(MessageState.held if premoderated else MessageState.pending).value,
        state_note=PREMODERATION_NOTE if premoderated else "", needs_scoring=True,
        mod_attempts=0, nudge_phrases="\n".join(nudged or []),
    )  # fmt: skip
    session.add(message)
    # The conversation moves up the inbox when the message is shown (set_state), not now: a
    # held message moved it up for its recipients, telling them something had arrived.
    await session.flush()
    if premoderated:
        await events.announce(session, MessageHeld(message.id))
    return message


async def start_conversation(
    session: AsyncSession,
    settings: Settings,
    sender: User,
    recipients: list[User],
    subject: str,
    body: str,
    nudged: list[str] | None = None,
) -> tuple[Conversation, Message]:
    _check_sender(sender, recipients)
    subject = clean_line(subject)
    if not subject:
        raise MessageError("subject", "Give the conversation a subject.")
    if len(subject) > SUBJECT_MAX:
        raise MessageError("subject", f"Subjects can have at most {SUBJECT_MAX} characters.")
    body = validate_body(settings, body)
    for member in recipients:
        # Naming the member the sender chose is necessary; nothing about anyone else is said.
        if await blocked(session, member.id, sender.id):
            raise MessageError("to", f"You cannot write to {member.username}.", status=403)
        # Nor to a member the sender blocked: their answer could never be sent (a probe's
        # member was notified, wrote a reply, and only then was told they could not).
        if await blocked(session, sender.id, member.id):
            raise MessageError(
                "to",
                f"You have blocked {member.username}: unblock them first (Messages, "
                "Blocked members) to write to them.",
                status=403,
            )
    await check_rate(session, settings, sender, len(subject) + len(body), new_conversation=True)
    conversation = Conversation(subject=subject, created_by=sender.id, created_at=utcnow())
    session.add(conversation)
    await session.flush()
    for member in [sender, *recipients]:
        session.add(Participant(conversation_id=conversation.id, user_id=member.id,
                                last_read_id=0))  # fmt: skip
    await session.flush()
    message = await _add_message(session, settings, conversation, sender, body, None, nudged)
    return conversation, message


def closed_message(conversation: Conversation) -> str:
    note = conversation.closed_note or "It was closed."
    return f"This conversation is read-only: no new messages can be sent. {note}"


async def cannot_write(session: AsyncSession, sender: User, people: list[tuple[User, bool]]) -> str:
    """Why `sender` cannot write in a conversation with `people` (its participants, as
    `participants` gives them) now, "" when they can: the page says so in place of the
    composer (a blocked member typed a reply and only then learnt it)."""
    readers = [u for u, active in people if active and u.id != sender.id]
    try:
        _check_sender(sender, readers)
    except MessageError as exc:
        return exc.message
    if not readers:
        return "Everyone else has left this conversation."
    if await _blocked_by_any(session, sender.id, [u.id for u in readers]):
        return CANNOT_WRITE
    return ""


async def reply(
    session: AsyncSession,
    settings: Settings,
    sender: User,
    conversation: Conversation,
    body: str,
    reply_to_id: int | None = None,
    nudged: list[str] | None = None,
) -> Message:
    readers = [u for u, active in await participants(session, conversation.id)
               if active and u.id != sender.id]  # fmt: skip
    _check_sender(sender, readers)
    if conversation.closed_at is not None:
        raise MessageError("body", closed_message(conversation), status=403)
    body = validate_body(settings, body)
    others = [u.id for u in readers]
    if not others:
        raise MessageError("body", "Everyone else has left this conversation.")
    if await _blocked_by_any(session, sender.id, others):
        raise MessageError("body", CANNOT_WRITE, status=403)
    if reply_to_id is not None:
        quoted = await session.scalar(
            select(Message.id).where(
                Message.id == reply_to_id, Message.conversation_id == conversation.id,
                _visible_to(sender.id),  # type: ignore[arg-type]
            )
        )  # fmt: skip
        if quoted is None:
            reply_to_id = None
    await check_rate(session, settings, sender, len(body))
    return await _add_message(session, settings, conversation, sender, body, reply_to_id, nudged)


async def recipient_ids(session: AsyncSession, message: Message) -> tuple[int, ...]:
    rows = await session.scalars(
        select(Participant.user_id)
        .where(
            Participant.conversation_id == message.conversation_id,
            Participant.user_id != message.sender_id,
            Participant.left_at.is_(None),
        )
        .order_by(Participant.user_id)
    )
    return tuple(rows.all())


async def set_state(session: AsyncSession, message: Message, state: str, note: str = "") -> None:
    """Change a message's moderation state; announce MessageVisible when recipients first
    see it (cleared or flagged by the worker, or a held one approved), once: a message hidden
    while reports are reviewed and then approved is not announced again."""
    message.state = state
    message.state_note = note
    if state in VISIBLE_STATES and message.shown_at is None:
        message.shown_at = utcnow()
        await session.execute(
            update(Conversation)
            .where(Conversation.id == message.conversation_id)
            .values(last_message_at=case(
                (Conversation.last_message_at < message.created_at, message.created_at),
                else_=Conversation.last_message_at,
            ))
        )  # fmt: skip
        await events.announce(
            session,
            MessageVisible(
                message_id=message.id, conversation_id=message.conversation_id,
                sender_id=message.sender_id, recipient_ids=await recipient_ids(session, message),
            ),
        )  # fmt: skip


async def is_participant(session: AsyncSession, conversation_id: int, user_id: int) -> bool:
    found = await session.scalar(
        select(Participant.id).where(
            and_(Participant.conversation_id == conversation_id, Participant.user_id == user_id,
                 Participant.left_at.is_(None))
        )
    )  # fmt: skip
    return found is not None


async def message_for_participant(
    session: AsyncSession, message_id: int, user_id: int
) -> Message | None:
    """A message as a participant sees it (None for everyone else)."""
    message = await session.get(Message, message_id)
    if message is None or not await is_participant(session, message.conversation_id, user_id):
        return None
    if message.sender_id != user_id and message.state not in VISIBLE_STATES:
        return None
    return message


def quote_of(name: str, message: Message) -> str:
    return quote_markdown(name, message.body_source)
