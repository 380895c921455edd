"""Notifications, the work the worker turns into them, members' delivery preferences, and
watching levels per thread and per category."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base, utcnow


class Kind(StrEnum):
    """What a notification is about, most specific first where one post could be several."""

    mention = "mention"
    quote = "quote"
    reply = "reply"
    post = "post"  # a new post in a thread or category the member watches
    reaction = "reaction"
    message = "message"
    moderation = "moderation"
    rank = "rank"
    # Mentoring programmes (forum.programmes records the work, with the sentence and link):
    programme = "programme"  # your application, your pair, a closing survey
    checkin = "checkin"  # a check-in round is open and you have not answered
    programme_lead = "programme_lead"  # to a programme's lead: applications, reports, withdrawals


# Kinds whose work carries its own sentence (`detail`) and link, recorded by parts built on
# this one (forum.programmes), whose pages the worker's path builder does not know.
RECORDED_KINDS = (Kind.programme, Kind.checkin, Kind.programme_lead)


# A post gives one notification per member: the most specific of these kinds.
POST_KINDS = (Kind.mention, Kind.quote, Kind.reply, Kind.post)

KIND_LABELS = {
    Kind.reply: "Replies to your threads and posts",
    Kind.quote: "Quotes of your posts",
    Kind.mention: "@mentions of you",
    Kind.post: "New posts in threads and categories you watch",
    Kind.reaction: "Reactions to your posts",
    Kind.message: "Private messages",
    Kind.moderation: "Moderators' decisions on your posts and reports",
    Kind.rank: "Ranks you reach",
    Kind.programme: "Mentoring programmes: your applications, your pair, closing surveys",
    Kind.checkin: "Mentoring programmes: check-in reminders",
    Kind.programme_lead: "Programmes you lead: applications, dismissive reports and withdrawals",
}


class Delivery(StrEnum):
    app = "app"  # in-app only
    email = "email"  # in-app, and an e-mail at once
    digest = "digest"  # in-app, and in the daily e-mail digest
    off = "off"


DELIVERY_LABELS = {
    Delivery.app: "In the app only",
    Delivery.email: "E-mail at once",
    Delivery.digest: "Daily digest",
    Delivery.off: "Off",
}

DEFAULT_DELIVERY = {
    Kind.reply: Delivery.email,
    Kind.quote: Delivery.app,
    Kind.mention: Delivery.email,
    Kind.post: Delivery.digest,
    Kind.reaction: Delivery.app,
    Kind.message: Delivery.email,
    Kind.moderation: Delivery.email,
    Kind.rank: Delivery.app,
    Kind.programme: Delivery.email,
    Kind.checkin: Delivery.email,
    Kind.programme_lead: Delivery.email,
}


class Level(StrEnum):
    watching = "watching"  # every post
    tracking = "tracking"  # replies to you, mentions, an unread count
    normal = "normal"  # replies to you and mentions
    muted = "muted"  # nothing; left out of lists


# Each level says what it does (members met four bare words with nothing to explain them).
LEVEL_LABELS = {
    Level.watching: "Watching: every new post",
    Level.tracking: "Tracking: replies to you, mentions and an unread count",
    Level.normal: "Normal: replies to you and mentions",
    Level.muted: "Muted: nothing, and left out of lists",
}


class DigestFrequency(StrEnum):
    off = "off"
    daily = "daily"
    weekly = "weekly"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The member's list, newest first, and the unread ones.
        Index("ix_notifications_recipient_id_id", "recipient_id", "id"),
        Index("ix_notifications_digest", "recipient_id", "digest_pending"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    # Private messages live in forum.messages (another part): plain ids, no foreign keys here.
    message_id: Mapped[int | None] = mapped_column(Integer)
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    # A short text that completes the sentence: the reaction, the decision, the rank's name.
    detail: Mapped[str] = mapped_column(String(200), default="")
    # Where it leads, when a part above this one recorded it (a programme's page): a path.
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    # Waiting for the member's daily digest.
    digest_pending: Mapped[bool] = mapped_column(Boolean, default=False)


class NotificationWork(Base):
    """Cheap rows written in the request (by event handlers); the worker turns each into
    notifications after commit, when what it is about may be shown."""

    __tablename__ = "notification_work"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "post", "reaction", "message", "moderation", "rank", or a recorded kind ("programme",
    # "checkin", "programme_lead": `detail` is the sentence and `link` the path)
    source: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(Integer)
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    # Several recipients (a private message's), comma-separated ids.
    recipients: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreference(Base):
    """How a member wants one kind delivered; a missing row means DEFAULT_DELIVERY."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10))


class NotificationSettings(Base):
    """A member's other notification choices, and when their digests were last sent."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Threads the member starts or replies to become Tracking.
    auto_track: Mapped[bool] = mapped_column(Boolean, default=True)
    # New threads in watched categories by e-mail: off, daily or weekly.
    category_digest: Mapped[str] = mapped_column(String(10), default=DigestFrequency.weekly.value)
    digest_sent_at: Mapped[datetime | None]
    category_digest_sent_at: Mapped[datetime | None]


class ThreadWatch(Base):
    __tablename__ = "thread_watches"
    __table_args__ = (Index("ix_thread_watches_thread_id_level", "thread_id", "level"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CategoryWatch(Base):
    __tablename__ = "category_watches"
    __table_args__ = (Index("ix_category_watches_category_id_level", "category_id", "level"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
