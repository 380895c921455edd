"""Members, ranks, the points ledger, login sessions and password reset tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.core.db import Base, utcnow


class Role(StrEnum):
    member = "member"
    editor = "editor"  # publishes articles
    moderator = "moderator"
    admin = "admin"
    programme_lead = "programme_lead"  # runs mentoring programmes (forum.programmes)


# Roles as pages name them.
ROLE_LABELS = {Role.member: "Member", Role.editor: "Editor", Role.moderator: "Moderator",
               Role.admin: "Administrator", Role.programme_lead: "Programme lead"}  # fmt: skip


class UserStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    # The member deleted their account (services.delete_account): it is kept, anonymised,
    # so that their posts still have an author; nobody can sign in to it.
    deleted = "deleted"


class Rank(Base):
    __tablename__ = "ranks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    # Null for special ranks, which an admin assigns and which are never earned by points.
    min_points: Mapped[int | None] = mapped_column(Integer)
    is_special: Mapped[bool] = mapped_column(Boolean, default=False)


class ProfileState(StrEnum):
    """As a post's moderation states: pending, clear and flagged are public; held and hidden
    are shown only to the member and moderators, and so is checking: a new account's changed
    text, until the worker has read it."""

    pending = "pending"
    clear = "clear"
    flagged = "flagged"
    held = "held"
    hidden = "hidden"
    checking = "checking"


# Hidden by a decision (a moderator's, the worker's or members' reports): the worker's reading
# does not put such text on view.
PROFILE_DECIDED_HIDDEN = (ProfileState.held.value, ProfileState.hidden.value)
PROFILE_HIDDEN_STATES = (*PROFILE_DECIDED_HIDDEN, ProfileState.checking.value)


def profile_text(location: str, bio: str) -> str:
    """What the moderation worker scores of a profile (evidence offsets point into it)."""
    return "\n\n".join(part for part in (location, bio) if part)


def profile_text_shown(member: User, viewer: User | None) -> bool:
    """Whether `viewer` may read `member`'s location and bio."""
    if member.profile_state not in PROFILE_HIDDEN_STATES:
        return True
    return viewer is not None and (viewer.id == member.id or viewer.is_moderator)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Lower-cased copies carry the uniqueness, so "Alice" and "alice" cannot both register.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.member.value)
    status: Mapped[str] = mapped_column(String(20), default=UserStatus.active.value)
    suspended_until: Mapped[datetime | None]
    special_rank_id: Mapped[int | None] = mapped_column(ForeignKey("ranks.id", ondelete="SET NULL"))
    location: Mapped[str] = mapped_column(String(100), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    # Placed on pre-moderation by a moderator: posts wait for approval before others see them.
    premoderated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when the member proved the address is theirs (the registration link, or a reset);
    # accounts made by an operator (CLI, demo) are confirmed from the start.
    email_confirmed_at: Mapped[datetime | None]
    warning_count: Mapped[int] = mapped_column(Integer, default=0)
    # The location and bio are member text like posts: scored by the moderation worker, held
    # for pre-moderated members, reportable and hideable (forum.review). Who sees them in each
    # state is `profile_text_shown`; `profile_version` lets a late verdict on older text lose.
    profile_state: Mapped[str] = mapped_column(
        String(20), default=ProfileState.clear.value, server_default=ProfileState.clear.value
    )
    profile_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    profile_needs_scoring: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    profile_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The earned rank the member reached and has not yet been told of (a notice on every page
    # until they dismiss it); set by `award_points` when points cross a rank's threshold.
    rank_notice: Mapped[str | None] = mapped_column(String(60))
    # The bell's count (forum.notifications keeps it): read with the member, no extra query.
    notifications_unread: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The IANA zone pages show the member's times in ("" for UTC; forum.core.timezones).
    time_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")

    special_rank: Mapped[Rank | None] = relationship(lazy="raise")

    def younger_than(self, age: timedelta) -> bool:
        """Whether the account was made less than `age` ago (new accounts' stricter limits)."""
        return utcnow() - self.joined_at < age

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.moderator.value, Role.admin.value)

    @property
    def is_editor(self) -> bool:
        return self.role in (Role.editor.value, Role.admin.value)

    @property
    def is_programme_lead(self) -> bool:
        return self.role in (Role.programme_lead.value, Role.admin.value)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin.value


class RetiredUsername(Base):
    """A deleted account's former name, kept so that nobody can register it (or a name that
    reads alike) and pass as that member in old quotes and mentions. Only the name: nothing
    links it to the anonymised account."""

    __tablename__ = "retired_usernames"

    # Lower-cased, as `User.username_key`.
    username_key: Mapped[str] = mapped_column(String(30), primary_key=True)
    retired_at: Mapped[datetime] = mapped_column(default=utcnow)


class HeldUsername(Base):
    """A username named in a registration attempt whose address already has an account. No
    account is made (the address's owner is told by mail), but the name is held as a pending
    registration holds its name, until `held_until`: otherwise trying the name again told
    whether the first attempt had made an account, that is whether the address was known."""

    __tablename__ = "held_usernames"

    # Lower-cased, as `User.username_key`.
    username_key: Mapped[str] = mapped_column(String(30), primary_key=True)
    username: Mapped[str] = mapped_column(String(30))  # as typed, as a pending account shows it
    held_until: Mapped[datetime] = mapped_column(index=True)
    # What the attempt was made with: signing in with the name (or the address) and this
    # password answers "confirm your e-mail address first", as a pending registration does
    # (otherwise the answer told whether the address had an account).
    email_key: Mapped[str] = mapped_column(String(254), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="", server_default="")


class PointsEntry(Base):
    """Why a member's points are what they are; `users.points` is the running sum of this."""

    __tablename__ = "points_ledger"
    __table_args__ = (Index("ix_points_ledger_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginSession(Base):
    """Server-side sessions: logout and password changes end them for real."""

    __tablename__ = "login_sessions"

    # sha256 of the cookie value; the cookie itself is never stored.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class LinkToken:
    """What a single-use mailed link keeps: whose it is, a hash of its token (never the
    token), and when it expires and was used."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class EmailConfirmation(LinkToken, Base):
    """A registration's link."""

    __tablename__ = "email_confirmations"


class PasswordResetToken(LinkToken, Base):
    __tablename__ = "password_reset_tokens"


class EmailChange(LinkToken, Base):
    """A change of address waiting for its link, mailed to the new address, to be opened."""

    __tablename__ = "email_changes"

    new_email: Mapped[str] = mapped_column(String(254))
