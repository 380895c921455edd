"""Moderation data: classifier results, the review queue, member reports, watched phrases,
and the worker's report of which classifier stages loaded."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base, utcnow
from forum.messages import models as _messages  # noqa: F401  (message_id's table in the metadata)


class Verdict(StrEnum):
    clear = "clear"
    flag = "flag"
    hold = "hold"
    unscored = "unscored"


# The key of ModerationResult.context under which the worker keeps each stage's scoring time
# ({stage: seconds}); /metrics reads it (forum.review.metrics).
STAGE_SECONDS = "stage_seconds"


class ModerationResult(Base):
    """One run of the pipeline over one version of a post (or of a member's profile text:
    location and bio): every score, model and phrase."""

    __tablename__ = "moderation_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    profile_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # A private message's text instead (forum.messages).
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verdict: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {stage: {label: score}}
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{stage, label, start, end, text}]
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {stage: "model name@version"}
    models: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # {stage: why it did not run}; a result with failures is re-scored once the stage loads.
    failed_stages: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    # The author saw the composer's nudge for these phrases and posted anyway.
    nudge_phrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReviewStatus(StrEnum):
    open = "open"
    closed = "closed"


class ReviewItem(Base):
    """One per post (or per member's profile text): gathers the system's flags and members'
    reports until a moderator decides. Exactly one of `post_id`, `profile_user_id` and
    `message_id` is set."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_queue", "status", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), unique=True
    )
    profile_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    # A private message (reported, or flagged by the worker): moderators see its conversation
    # from this item only, and every such view is audited.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.open.value)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    # Bumped by every change; a decision names the version it saw (no lost updates).
    version: Mapped[int] = mapped_column(Integer, default=1)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    system_verdict: Mapped[str] = mapped_column(String(20), default="")
    report_weight: Mapped[float] = mapped_column(Float, default=0.0)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(30), default="")
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class ReportReason(StrEnum):
    dismissive = "dismissive of juniors"
    harassment = "harassment"
    spam = "spam"
    off_topic = "off-topic"
    other = "other"


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("post_id", "reporter_id"),
        UniqueConstraint("profile_user_id", "reporter_id"),
        UniqueConstraint("message_id", "reporter_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    # A report of a member's profile text (location and bio) instead of a post.
    profile_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # A report of a private message, by one of its recipients.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a moderator decides: True if the post was acted on, False if approved as fine.
    upheld: Mapped[bool | None] = mapped_column(Boolean)


class WatchedPhrase(Base):
    __tablename__ = "watched_phrases"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StageStatus(Base):
    """Written by workers, read by the admin page (the web process never loads a model)."""

    __tablename__ = "stage_status"

    stage: Mapped[str] = mapped_column(String(40), primary_key=True)
    loaded: Mapped[bool] = mapped_column(Boolean, default=False)
    model: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
