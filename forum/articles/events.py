"""What the articles domain asks the domains built on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ArticlePageExtras:
    """Asked by an article's page: what else to show beside it (template values)."""

    article_id: int
    viewer: Any  # forum.accounts.models.User | None
