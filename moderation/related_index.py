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
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.models import Article
from forum.board.models import HIDDEN_STATES, Category, Post, Thread
from forum.core.db import Database, utcnow
from forum.core.settings import Settings
from forum.related.models import Embedding, RelatedItem
from moderation.encoder import ENCODER_NAME, embed

log = logging.getLogger("candor.related")
STORED = 8  # stored per list; pages show the first 5 the reader may see
NEIGHBOURS = 20  # lists rebuilt around a changed item
EmbedFn = Callable[[list[str]], np.ndarray]


class Matrix:
    """Unit vectors by id in one growable array: put and remove are O(dim), top-k is one
    matrix-vector product."""

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.ids: list[int] = []
        self._pos: dict[int, int] = {}
        self._data = np.zeros((64, dim), dtype=np.float32)

    @property
    def vectors(self) -> np.ndarray:
        return self._data[: len(self.ids)]

    def put(self, item_id: int, vector: np.ndarray) -> None:
        self.put_many([item_id], np.asarray(vector, dtype=np.float32)[None, :])

    def put_many(self, ids: list[int], vectors: np.ndarray) -> None:
        if len(ids) and vectors.shape[1] != self.dim:
            if self.ids:
                raise ValueError(
                    f"vectors of {vectors.shape[1]} dimensions in a {self.dim}-d index"
                )
            self.dim = vectors.shape[1]
            self._data = np.zeros((64, self.dim), dtype=np.float32)
        new = [i for i in ids if i not in self._pos]
        needed = len(self.ids) + len(new)
        if needed > len(self._data):
            grown = np.zeros((max(needed, 2 * len(self._data)), self.dim), dtype=np.float32)
            grown[: len(self.ids)] = self.vectors
            self._data = grown
        for item_id, vector in zip(ids, vectors, strict=True):
            pos = self._pos.get(item_id)
            if pos is None:
                pos = len(self.ids)
                self.ids.append(item_id)
                self._pos[item_id] = pos
            self._data[pos] = vector

    def remove(self, item_id: int) -> None:
        pos = self._pos.pop(item_id, None)
        if pos is None:
            return
        last = len(self.ids) - 1
        if pos != last:  # move the last row into the hole
            moved = self.ids[last]
            self._data[pos] = self._data[last]
            self.ids[pos] = moved
            self._pos[moved] = pos
        self.ids.pop()

    def get(self, item_id: int) -> np.ndarray | None:
        pos = self._pos.get(item_id)
        return None if pos is None else self._data[pos].copy()

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
        rows = (
            await session.execute(
                stmt.with_only_columns(Embedding.item_type, Embedding.item_id, Embedding.vector)
            )
        ).all()
        for kind in ("thread", "article"):
            chosen = [(i, v) for t, i, v in rows if t == kind]
            if chosen:
                flat = np.frombuffer(b"".join(v for _, v in chosen), dtype=np.float32)
                self.matrices[kind].put_many([i for i, _ in chosen], flat.reshape(len(chosen), -1))
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
        async with self.database.writing() as session:
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
        async with self.database.writing() as session:
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
            await self._write_lists(session, sorted(touched))
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
            if deleted or post_deleted or state in HIDDEN_STATES:
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

    async def _write_lists(self, session: AsyncSession, items: list[tuple[str, int]]) -> None:
        """Replace the lists of `items` with one DELETE and one multi-row INSERT."""
        rows = []
        live = []
        for kind, item_id in items:
            vector = self.matrices[kind].get(item_id)
            if vector is None:
                continue
            live.append((kind, item_id))
            for target in {"thread": ("thread", "article"), "article": ("article",)}[kind]:
                k = STORED if target == "thread" else 3
                exclude = item_id if target == kind else None
                for position, (target_id, score) in enumerate(
                    self.matrices[target].top(vector, k, exclude)
                ):
                    rows.append({
                        "source_type": kind, "source_id": item_id, "target_type": target,
                        "target_id": target_id, "position": position, "score": score,
                    })  # fmt: skip
        for kind in ("thread", "article"):
            ids = [i for t, i in live if t == kind]
            if ids:
                await session.execute(
                    delete(RelatedItem).where(
                        RelatedItem.source_type == kind, RelatedItem.source_id.in_(ids)
                    )
                )
        if rows:
            await session.execute(insert(RelatedItem), rows)
