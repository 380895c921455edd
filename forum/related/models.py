"""Embeddings and precomputed related lists, written by the worker and read by the web."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.core.db import Base, utcnow


class Embedding(Base):
    """One vector per thread or article (float32 bytes), from the offline sentence encoder."""

    __tablename__ = "embeddings"
    __table_args__ = (Index("ix_embeddings_updated_at", "updated_at"),)

    item_type: Mapped[str] = mapped_column(String(10), primary_key=True)  # thread | article
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(100))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RelatedItem(Base):
    """`source`'s related `target`s in order, so a page only reads this table."""

    __tablename__ = "related_items"
    __table_args__ = (Index("ix_related_items_target", "target_type", "target_id"),)

    source_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
