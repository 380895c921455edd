"""Conversations, their participants and messages, and members' blocks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base, utcnow


class MessageState(StrEnum):
    pending = "pending"  # not scored yet: only its sender sees it
    clear = "clear"
    flagged = "flagged"  # visible, and in the review queue
    held = "held"  # seen by its sender only, until a moderator approves it
    hidden = "hidden"  # removed by a moderator


# The states in which recipients see a message (its sender always sees it).
VISIBLE_STATES = (MessageState.clear.value, MessageState.flagged.value)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Closed to new messages (kept readable to its members), and why, in words: a programme
    # pair's space once the pair has ended.
    closed_at: Mapped[datetime | None]
    closed_note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Where its members step out of it instead of leaving it here (a programme pair's space:
    # the programme's page, where a member leaves the pair); empty: members leave it here.
    leave_via: Mapped[str] = mapped_column(String(300), default="", server_default="")


class Participant(Base):
    """A member in a conversation: what they have read, and whether they left."""

    __tablename__ = "conversation_participants"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]
    # The newest message this member has read (0: none).
    last_read_id: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The message it quotes (what it answers), if any.
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(20), default=MessageState.pending.value)
    state_note: Mapped[str] = mapped_column(Text, default="")
    # When its recipients first saw it (MessageVisible is announced once, then).
    shown_at: Mapped[datetime | None]
    # The worker's queue, as for posts (moderation/worker.py).
    needs_scoring: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    mod_lease_until: Mapped[datetime | None]
    mod_claim: Mapped[str | None] = mapped_column(String(40))
    mod_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The sender saw the composer's nudge for these phrases and sent anyway.
    nudge_phrases: Mapped[str] = mapped_column(Text, default="")


class Block(Base):
    """`blocker_id` blocked `blocked_id`: the blocked member cannot write to the blocker."""

    __tablename__ = "member_blocks"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
