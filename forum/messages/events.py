"""What the messages domain announces (forum.core.events)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageVisible:
    """A message became visible to its recipients: the worker cleared or flagged it, or a
    moderator approved a held one. Announced in that transaction."""

    message_id: int
    conversation_id: int
    sender_id: int
    recipient_ids: tuple[int, ...]


@dataclass(frozen=True)
class MessageHeld:
    """A message was written by a member on pre-moderation: it waits, seen by its sender
    only, for a moderator's approval (forum.review opens the item). Announced in that
    transaction."""

    message_id: int


@dataclass(frozen=True)
class ConversationRead:
    """A member opened a conversation they have unread notifications about: what those
    notifications point to is in front of them (forum.notifications marks them read).
    Announced in the page's transaction."""

    user_id: int
    conversation_id: int


@dataclass(frozen=True)
class MessagesReported:
    """A question (forum.core.events.ask): which of `message_ids` has `reader_id` reported?
    Answered by forum.review, which keeps the reports (a pair space's "This felt dismissive"
    is a report too): the conversation page says "You reported this" in place of the links."""

    reader_id: int
    message_ids: tuple[int, ...]
