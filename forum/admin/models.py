"""The board's guidelines (code of conduct): one text, edited by administrators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base, utcnow


class Guidelines(Base):
    """The guidelines an administrator saved (one row; until then the default text is shown).
    `body_html` is the sanitised rendering of `body_source`, made when it is saved."""

    __tablename__ = "guidelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
