"""Related threads and articles, computed by the worker from sentence embeddings.

Each thread is embedded from its title, category and opening post; each article from its
title, summary and body. The worker keeps every vector in memory (a 10,000-thread board is
10,000 × 384 float32 = 15 MB), so refreshing one list is one matrix-vector product. When a
thread is created or its opening post edited, its own list is rebuilt and so are the lists of
the threads most similar to it (the new thread may belong in theirs). When a thread is deleted
or its opening post hidden, it leaves the index and every list that named it is rebuilt.
Readers only read `related_items`; visibility is checked again at read time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.models import Article
from forum.board.models import Category, ModerationState, Post, Thread
from forum.db import Database, begin_write, utcnow
from forum.related_models import Embedding, RelatedItem
from forum.settings import Settings
from moderation.encoder import ENCODER_NAME, embed

log = logging.getLogger("candor.related")
STORED = 8  # stored per list; pages show the first 5 the reader may see
NEIGHBOURS = 20  # lists rebuilt around a changed item
HIDDEN = (ModerationState.held.value, ModerationState.hidden.value)
EmbedFn = Callable[[list[str]], np.ndarray]


@dataclass
class Matrix:
    ids: list[int] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), dtype=np.float32))

    def put(self, item_id: int, vector: np.ndarray) -> None:
        if item_id in self._pos:
            self.vectors[self._pos[item_id]] = vector
            return
        self.ids.append(item_id)
        self.vectors = (
            np.vstack([self.vectors, vector[None, :]])
            if len(self.ids) > 1
            else vector[None, :].copy()
        )
        self._pos[item_id] = len(self.ids) - 1

    def remove(self, item_id: int) -> None:
        pos = self._pos.pop(item_id, None)
        if pos is None:
            return
        self.ids.pop(pos)
        self.vectors = np.delete(self.vectors, pos, axis=0)
        self._pos = {i: n for n, i in enumerate(self.ids)}

    def get(self, item_id: int) -> np.ndarray | None:
        pos = self._pos.get(item_id)
        return None if pos is None else self.vectors[pos]

    def top(
        self, vector: np.ndarray, k: int, exclude: int | None = None
    ) -> list[tuple[int, float]]:
        if not self.ids:
            return []
        scores = self.vectors @ vector
        if exclude is not None and exclude in self._pos:
            scores[self._pos[exclude]] = -np.inf
        k = min(k, len(self.ids))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best])]
        return [(self.ids[i], float(scores[i])) for i in best if np.isfinite(scores[i])]

    def __post_init__(self) -> None:
        self._pos: dict[int, int] = {i: n for n, i in enumerate(self.ids)}


class RelatedIndex:
    def __init__(
        self, settings: Settings, database: Database, embed_fn: EmbedFn | None = None
    ) -> None:
        self.settings = settings
        self.database = database
        self.embed_fn = embed_fn or (lambda texts: embed(texts, settings.encoder_path))
        self.model = ENCODER_NAME
        self.matrices = {"thread": Matrix(), "article": Matrix()}
        self.synced_at: datetime | None = None

    async def sync(self, session: AsyncSession) -> None:
        """Pick up vectors other workers wrote since the last look."""
        stmt = select(Embedding)
        if self.synced_at is not None:
            stmt = stmt.where(Embedding.updated_at >= self.synced_at - timedelta(seconds=5))
        started = utcnow()
        for row in (await session.scalars(stmt)).all():
            self.matrices[row.item_type].put(
                row.item_id, np.frombuffer(row.vector, dtype=np.float32).copy()
            )
        self.synced_at = started

    # --- the queue --------------------------------------------------------------------------

    async def _claim(
        self, session: AsyncSession, model: type[Thread] | type[Article], limit: int
    ) -> list[int]:
        now = utcnow()
        due = (
            select(model.id)
            .where(model.needs_related.is_(True),
                   or_(model.related_lease_until.is_(None), model.related_lease_until < now))
            .order_by(model.id)
            .limit(limit)
        )  # fmt: skip
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = await session.execute(
            update(model)
            .where(model.id.in_(due.scalar_subquery()))
            .values(related_lease_until=now + timedelta(seconds=self.settings.worker_lease_seconds))
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(r[0] for r in rows)

    async def run_once(self, limit: int = 32) -> int:
        """Refresh the lists of claimed threads and articles; how many items were handled."""
        async with self.database.sessionmaker() as session:
            await begin_write(session)
            thread_ids = await self._claim(session, Thread, limit)
            article_ids = await self._claim(session, Article, limit)
            await session.commit()
        if not thread_ids and not article_ids:
            return 0
        async with self.database.sessionmaker() as session:
            await self.sync(session)
            live_threads, gone_threads = await self._thread_texts(session, thread_ids)
            live_articles, gone_articles = await self._article_texts(session, article_ids)
        texts = list(live_threads.values()) + list(live_articles.values())
        vectors = self.embed_fn(texts) if texts else np.zeros((0, 384), dtype=np.float32)
        async with self.database.sessionmaker() as session:
            await begin_write(session)
            keys = [("thread", i) for i in live_threads] + [("article", i) for i in live_articles]
            for (kind, item_id), vector in zip(keys, vectors, strict=True):
                await self._store_vector(session, kind, item_id, vector)
            touched: set[tuple[str, int]] = set(keys)
            for kind, ids in (("thread", gone_threads), ("article", gone_articles)):
                for item_id in ids:
                    touched |= await self._forget(session, kind, item_id)
            # Rebuild the changed items' lists and their neighbours'.
            for kind, item_id in list(keys):
                vector = self.matrices[kind].get(item_id)
                if vector is not None:
                    touched |= {
                        ("thread", i)
                        for i, _ in self.matrices["thread"].top(
                            vector, NEIGHBOURS, item_id if kind == "thread" else None
                        )
                    }
                    if kind == "article":
                        touched |= {
                            ("article", i)
                            for i, _ in self.matrices["article"].top(vector, NEIGHBOURS, item_id)
                        }
            for kind, item_id in sorted(touched):
                await self._write_lists(session, kind, item_id)
            await session.execute(
                update(Thread).where(Thread.id.in_(thread_ids))
                .values(needs_related=False, related_lease_until=None)
            )  # fmt: skip
            await session.execute(
                update(Article).where(Article.id.in_(article_ids))
                .values(needs_related=False, related_lease_until=None)
            )  # fmt: skip
            await session.commit()
        return len(thread_ids) + len(article_ids)

    # --- pieces -------------------------------------------------------------------------------

    async def _thread_texts(
        self, session: AsyncSession, ids: list[int]
    ) -> tuple[dict[int, str], list[int]]:
        if not ids:
            return {}, []
        rows = await session.execute(
            select(Thread.id, Thread.title, Thread.is_deleted, Category.name, Post.body_source,
                   Post.moderation_state, Post.is_deleted)
            .join(Category, Category.id == Thread.category_id)
            .outerjoin(Post, Post.id == Thread.first_post_id)
            .where(Thread.id.in_(ids))
        )  # fmt: skip
        live: dict[int, str] = {}
        gone: list[int] = []
        for tid, title, deleted, category, body, state, post_deleted in rows:
            if deleted or post_deleted or state in HIDDEN:
                gone.append(tid)
            else:
                live[tid] = f"{title}\n{category}\n{(body or '')[:2000]}"
        gone.extend(i for i in ids if i not in live and i not in gone)
        return live, gone

    async def _article_texts(
        self, session: AsyncSession, ids: list[int]
    ) -> tuple[dict[int, str], list[int]]:
        if not ids:
            return {}, []
        rows = await session.execute(
            select(
                Article.id, Article.title, Article.summary, Article.body_source, Article.is_deleted
            ).where(Article.id.in_(ids))
        )  # fmt: skip
        live = {i: f"{t}\n{s}\n{b[:2000]}" for i, t, s, b, d in rows if not d}
        return live, [i for i in ids if i not in live]

    async def _store_vector(
        self, session: AsyncSession, kind: str, item_id: int, vector: np.ndarray
    ) -> None:
        vector = np.asarray(vector, dtype=np.float32)
        row = await session.get(Embedding, (kind, item_id))
        if row is None:
            session.add(Embedding(item_type=kind, item_id=item_id, model=self.model,
                                  vector=vector.tobytes(), updated_at=utcnow()))  # fmt: skip
        else:
            row.vector = vector.tobytes()
            row.model = self.model
            row.updated_at = utcnow()
        self.matrices[kind].put(item_id, vector)

    async def _forget(self, session: AsyncSession, kind: str, item_id: int) -> set[tuple[str, int]]:
        """Take an item out of the index; the sources whose lists named it need rebuilding."""
        self.matrices[kind].remove(item_id)
        await session.execute(
            delete(Embedding).where(Embedding.item_type == kind, Embedding.item_id == item_id)
        )
        await session.execute(
            delete(RelatedItem).where(
                RelatedItem.source_type == kind, RelatedItem.source_id == item_id
            )
        )
        sources = (
            await session.execute(
                select(RelatedItem.source_type, RelatedItem.source_id).where(
                    RelatedItem.target_type == kind, RelatedItem.target_id == item_id
                )
            )
        ).all()
        return {(t, i) for t, i in sources}

    async def _write_lists(self, session: AsyncSession, kind: str, item_id: int) -> None:
        vector = self.matrices[kind].get(item_id)
        if vector is None:
            return
        await session.execute(
            delete(RelatedItem).where(
                RelatedItem.source_type == kind, RelatedItem.source_id == item_id
            )
        )
        targets = {"thread": ("thread", "article"), "article": ("article",)}[kind]
        for target in targets:
            k = STORED if target == "thread" else 3
            exclude = item_id if target == kind else None
            for position, (target_id, score) in enumerate(
                self.matrices[target].top(vector, k, exclude)
            ):
                session.add(
                    RelatedItem(
                        source_type=kind, source_id=item_id, target_type=target,
                        target_id=target_id, position=position, score=score,
                    )
                )  # fmt: skip
