"""What the review domain announces (forum.core.events) for the domains built on it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostDecided:
    """A moderator decided on a post: its author and the members who reported it are told."""

    post_id: int
    moderator_id: int
    author_id: int
    action: str  # one of forum.review.services.ACTIONS
    hidden: bool
    reporter_ids: tuple[int, ...]
    # Whether it was on view until the decision (flagged, or reported and not yet hidden):
    # approving such a post as it is changes nothing its author knew of.
    was_on_view: bool = False


@dataclass(frozen=True)
class MessageDecided:
    """A moderator decided on a private message: its sender is told when it was removed or
    delivered (the decision's mail, if any, went already); the members who reported it are
    told either way."""

    message_id: int
    conversation_id: int
    moderator_id: int
    sender_id: int
    action: str  # one of forum.review.services.ACTIONS
    hidden: bool
    # A held message approved: it reaches its recipients now.
    delivered: bool = False
    reporter_ids: tuple[int, ...] = ()
