"""Every model, imported in one place so the metadata is complete (Alembic, tests)."""

from forum.accounts.models import (
    AuditEntry,
    LoginSession,
    OutboxMessage,
    PasswordResetToken,
    PointsEntry,
    Rank,
    RateLimitCounter,
    Role,
    User,
    UserStatus,
)
from forum.board.models import Category, ModerationState, Post, PostRevision, Thread
from forum.db import Base

__all__ = [
    "AuditEntry",
    "Base",
    "Category",
    "LoginSession",
    "ModerationState",
    "OutboxMessage",
    "PasswordResetToken",
    "PointsEntry",
    "Post",
    "PostRevision",
    "Rank",
    "RateLimitCounter",
    "Role",
    "Thread",
    "User",
    "UserStatus",
]
