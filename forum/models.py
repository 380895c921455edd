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
from forum.articles.models import Article, ArticleComment
from forum.board.models import Category, ModerationState, Post, PostRevision, Thread
from forum.db import Base
from forum.related_models import Embedding, RelatedItem
from forum.review.models import (
    ModerationResult,
    Report,
    ReviewItem,
    StageStatus,
    Verdict,
    WatchedPhrase,
)

__all__ = [
    "Article",
    "ArticleComment",
    "Embedding",
    "RelatedItem",
    "AuditEntry",
    "Base",
    "Category",
    "LoginSession",
    "ModerationResult",
    "ModerationState",
    "OutboxMessage",
    "PasswordResetToken",
    "PointsEntry",
    "Post",
    "PostRevision",
    "Rank",
    "RateLimitCounter",
    "Report",
    "ReviewItem",
    "StageStatus",
    "Role",
    "Thread",
    "User",
    "UserStatus",
    "Verdict",
    "WatchedPhrase",
]
