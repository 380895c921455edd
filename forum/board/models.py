"""Categories, threads, posts and post revisions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.core.db import Base, utcnow


class ModerationState(StrEnum):
    pending = "pending"  # on view, waiting for the worker's reading
    # A fresh account's post waiting for the worker's reading, seen only by its author and
    # moderators until then (forum.board.posting): a put-down from a new account was public
    # for the second or so before it was read, and for a minute when the worker was busy.
    checking = "checking"
    clear = "clear"
    flagged = "flagged"
    held = "held"
    hidden = "hidden"


# The states in which a post is seen only by its author and moderators: those a decision put
# it in (the worker's verdict on them waits for a moderator), and waiting for the check.
DECIDED_HIDDEN = (ModerationState.held.value, ModerationState.hidden.value)
HIDDEN_STATES = (*DECIDED_HIDDEN, ModerationState.checking.value)


def shown_to_all(state: Any) -> ColumnElement[bool]:
    """`state NOT IN ('held', 'hidden')` with the values written into the SQL: an expanding
    bound list is re-rendered on every execution (a tenth of a millisecond per query)."""
    return state.not_in([literal_column(f"'{value}'") for value in HIDDEN_STATES])


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Only moderators and admins can see staff-only categories (and their threads).
    staff_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the home page lists, over the category's live threads: kept by the posting services
    # (recomputed on move and delete, and by `candor db recount`), so the home page reads fifty
    # rows instead of aggregating every thread on the board.
    thread_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    post_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_post_at: Mapped[datetime | None]
    # A Q&A category: a thread's author or a moderator marks the reply that answered it.
    is_qa: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_category_listing", "category_id", "is_pinned", "last_post_at"),
        # A category's latest activity (home and parent category pages): newest first.
        Index("ix_threads_category_latest", "category_id", "last_post_at"),
        # The board's latest activity (/latest and its feed): newest first.
        Index("ix_threads_last_post_at", "last_post_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_post_id: Mapped[int | None] = mapped_column(Integer)
    last_post_id: Mapped[int | None] = mapped_column(Integer)
    last_poster_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The worker recomputes related threads when set (new thread, opening post edited, moved,
    # hidden or deleted).
    needs_related: Mapped[bool] = mapped_column(Boolean, default=True)
    related_lease_until: Mapped[datetime | None]
    # The reply that answered the question (Q&A categories), shown under the opening post.
    # (No foreign key, like first_post_id: posts are soft-deleted, and threads and posts
    # would reference each other.)
    accepted_post_id: Mapped[int | None] = mapped_column(Integer)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="raise")
    category: Mapped[Category] = relationship(lazy="raise")

    @property
    def reply_count(self) -> int:
        return max(self.post_count - 1, 0)


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_thread_id_id", "thread_id", "id"),
        Index(
            "ix_posts_scoring_queue",
            "id",
            postgresql_where=text("needs_scoring"),
            sqlite_where=text("needs_scoring"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # The post this one quotes or answers, if any: the moderation worker reads who is answering
    # whom, and its author is told of the reply.
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    # The post the quick reply at a thread's foot was written under (the last one its writer
    # read): moderation reads it as the reply's context and whom it answers, as it reads
    # reply_to, but nobody is told "X replied to you" for a reply addressed to the thread.
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))

    @property
    def answered_id(self) -> int | None:
        """The post this one names as what it answers: replied to or quoted, else the one the
        quick reply was written under (moderation's context and whom it answers)."""
        return self.reply_to_id or self.follows_id

    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    edit_count: Mapped[int] = mapped_column(Integer, default=0)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who may see the post: pending/clear/flagged are public; held and hidden are shown only to
    # the author and moderators.
    moderation_state: Mapped[str] = mapped_column(String(20), default=ModerationState.pending.value)
    # Why a held or hidden post is not public, shown to its author.
    moderation_note: Mapped[str] = mapped_column(Text, default="")
    # The post row is the moderation job: workers claim rows that need scoring with a lease;
    # the claim token makes sure only the latest claim may write the decision.
    needs_scoring: Mapped[bool] = mapped_column(Boolean, default=True)
    mod_lease_until: Mapped[datetime | None]
    mod_claim: Mapped[str | None] = mapped_column(String(40))
    mod_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Cue phrases the composer warned about when the author chose to post anyway.
    nudge_phrases: Mapped[str] = mapped_column(Text, default="")

    author: Mapped[User] = relationship(lazy="raise")
    thread: Mapped[Thread] = relationship(lazy="raise")


class PostRevision(Base):
    """The text a post had before an edit."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body_source: Mapped[str] = mapped_column(Text)
    # The thread title an edit of an opening post replaced (None when it kept the title).
    title: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Draft(Base):
    """A member's unfinished reply to a thread, or new thread in a category: one per member
    per place, seen by nobody but its member, deleted when the post is made."""

    __tablename__ = "drafts"
    __table_args__ = (
        # The column named first names the constraint (uq_drafts_thread_id, …_category_id).
        UniqueConstraint("thread_id", "user_id"),
        UniqueConstraint("category_id", "user_id"),
        CheckConstraint("(thread_id IS NULL) <> (category_id IS NULL)", name="one_place"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReactionKind(StrEnum):
    thanks = "thanks"
    helpful = "helpful"
    agree = "agree"


# The fixed set, in the order posts show them, with their labels.
REACTION_LABELS = {
    ReactionKind.thanks.value: "Thanks",
    ReactionKind.helpful.value: "Helpful",
    ReactionKind.agree.value: "Agree",
}


class Reaction(Base):
    """One member's reaction of one kind to one post (one per member per kind)."""

    __tablename__ = "reactions"
    __table_args__ = (
        UniqueConstraint("post_id", "kind", "user_id"),
        CheckConstraint("kind IN ('thanks', 'helpful', 'agree')", name="known_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The points the post's author earned by it (reversed when it is taken back).
    points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
