"""Every model of every domain, imported in one place so the metadata is complete (Alembic,
tests). It sits above the domains, like forum.app."""

from forum.accounts.models import (
    EmailChange,
    EmailConfirmation,
    HeldUsername,
    LoginSession,
    PasswordResetToken,
    PointsEntry,
    Rank,
    RetiredUsername,
    Role,
    User,
    UserStatus,
)
from forum.admin.models import Guidelines
from forum.articles.models import Article
from forum.board.models import (
    Category,
    Draft,
    ModerationState,
    Post,
    PostRevision,
    Reaction,
    Thread,
)
from forum.board.reading import ThreadRead
from forum.core.audit import AuditEntry
from forum.core.db import Base
from forum.core.outbox import OutboxMessage
from forum.core.ratelimit import RateLimitCounter
from forum.messages.models import Block, Conversation, Message, Participant
from forum.notifications.models import (
    CategoryWatch,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationWork,
    ThreadWatch,
)
from forum.programmes.models import (
    Application,
    CheckinAnswer,
    CheckinQuestion,
    DismissiveReport,
    Meeting,
    Pair,
    PairingJob,
    Programme,
    TrainingAck,
)
from forum.related.models import Embedding, RelatedItem
from forum.review.models import (
    ModerationResult,
    Report,
    ReviewItem,
    StageStatus,
    Verdict,
    WatchedPhrase,
)

__all__ = [
    "DismissiveReport",
    "Meeting",
    "Application",
    "CheckinAnswer",
    "CheckinQuestion",
    "Pair",
    "PairingJob",
    "Programme",
    "TrainingAck",
    "EmailChange",
    "EmailConfirmation",
    "Guidelines",
    "Article",
    "Block",
    "Conversation",
    "Message",
    "Participant",
    "Embedding",
    "RelatedItem",
    "AuditEntry",
    "Base",
    "ThreadRead",
    "Category",
    "CategoryWatch",
    "Notification",
    "NotificationPreference",
    "NotificationSettings",
    "NotificationWork",
    "ThreadWatch",
    "Draft",
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
    "HeldUsername",
    "RetiredUsername",
    "Report",
    "ReviewItem",
    "StageStatus",
    "Role",
    "Reaction",
    "Thread",
    "User",
    "UserStatus",
    "Verdict",
    "WatchedPhrase",
]
