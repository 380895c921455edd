"""What the accounts domain announces (forum.core.events) for the domains built on it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProfileChanged:
    """A member's location or bio changed and waits for the moderation worker."""

    user_id: int
    # The new text is out of sight until a moderator approves it (the member is on
    # pre-moderation, or changed text a moderator had hidden).
    held: bool


@dataclass(frozen=True)
class RankEarned:
    """Points carried a member into a higher earned rank (forum.notifications tells them)."""

    user_id: int
    rank: str
