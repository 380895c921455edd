"""What the accounts domain announces (forum.core.events) for the domains built on it."""

from __future__ import annotations

from dataclasses import dataclass

from forum.core.settings import Settings


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


@dataclass(frozen=True)
class AccountDeleting:
    """A member is deleting their own account (services.delete_account). The domains above
    remove what is the member's alone (drafts, notifications, watches, blocks) and end their
    part in what is shared (a programme's pair, as leaving it does), in the same transaction.
    They run before the account is anonymised: it still has its name, for the notices that
    name the member to those who knew them (a partner, a programme's lead). `settings` is the
    request's, for the services that take it."""

    user_id: int
    settings: Settings
