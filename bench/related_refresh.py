"""How long a related-list refresh takes on a board of N threads (default 10,000).

Seeds N threads with stored embeddings (random unit vectors stand in for N real ones: the cost
of a refresh does not depend on their values), then times what the worker does when one new
thread arrives: embed it with the real encoder, find its neighbours among N, rebuild its list
and its 20 nearest neighbours' lists, and write them. A bare matrix-vector product over the
same N vectors is timed in the same run as the floor. Usage:

    python -m bench.related_refresh [--threads 10000] [--database-url URL] [--repeat 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, update

from forum.accounts.models import User
from forum.board.models import Category, Post, Thread
from forum.cli import upgrade_database
from forum.core.db import begin_write, connect, utcnow
from forum.core.settings import Settings
from forum.related.models import Embedding
from moderation.encoder import embed
from moderation.related_index import RelatedIndex


async def seed(settings: Settings, n: int) -> None:
    database = connect(settings.database_url)
    rng = np.random.default_rng(1)
    now = utcnow()
    async with database.sessionmaker() as s:
        await begin_write(s)
        await s.execute(insert(User).values(
            id=1, username="bench", username_key="bench", email="b@example.org", email_key="b@example.org",
            password_hash="x", role="member", status="active", location="", bio="", joined_at=now,
            post_count=0, points=0, premoderated=False, warning_count=0))  # fmt: skip
        await s.execute(insert(Category).values(id=1, name="Bench", slug="bench", description="",
                                                position=0, staff_only=False))  # fmt: skip
        for start in range(0, n, 2000):
            ids = range(start + 1, min(n, start + 2000) + 1)
            await s.execute(insert(Thread), [dict(
                id=i, category_id=1, author_id=1, title=f"Thread {i}", created_at=now, last_post_at=now,
                post_count=1, view_count=0, is_locked=False, is_pinned=False, is_deleted=False,
                needs_related=False, first_post_id=i) for i in ids])  # fmt: skip
            await s.execute(insert(Post), [dict(
                id=i, thread_id=i, author_id=1, body_source=f"Post {i}", body_html=f"<p>Post {i}</p>",
                created_at=now, edit_count=0, is_deleted=False, moderation_state="clear",
                moderation_note="", needs_scoring=False, mod_attempts=0, nudge_phrases="") for i in ids])  # fmt: skip
            vectors = rng.normal(size=(len(ids), 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            await s.execute(insert(Embedding), [dict(
                item_type="thread", item_id=i, model="random", vector=v.tobytes(), updated_at=now)
                for i, v in zip(ids, vectors, strict=True)])  # fmt: skip
        await s.commit()
    await database.dispose()


async def measure(settings: Settings, n: int, repeat: int) -> dict[str, float]:
    database = connect(settings.database_url)
    index = RelatedIndex(settings, database)
    embed(["warm up"])
    started = time.perf_counter()
    async with database.sessionmaker() as s:
        await index.sync(s)
    load = time.perf_counter() - started
    totals, embeds, floors = [], [], []
    matrix = index.matrices["thread"].vectors
    for k in range(repeat):
        new_id = n + 1 + k
        now = utcnow()
        async with database.sessionmaker() as s:
            await begin_write(s)
            await s.execute(insert(Thread).values(
                id=new_id, category_id=1, author_id=1, title="Starting a reverse mentoring pilot",
                created_at=now, last_post_at=now, post_count=1, view_count=0, is_locked=False,
                is_pinned=False, is_deleted=False, needs_related=True, first_post_id=None))  # fmt: skip
            await s.commit()
        t0 = time.perf_counter()
        embed(["Starting a reverse mentoring pilot\nBench\n"])
        embeds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert await index.run_once() == 1
        totals.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _ = matrix @ matrix[0]
        floors.append(time.perf_counter() - t0)
    async with database.sessionmaker() as s:
        await begin_write(s)
        await s.execute(update(Thread).values(needs_related=False))
        await s.commit()
    await database.dispose()
    return {
        "threads": n,
        "load_vectors_s": load,
        "refresh_ms_median": statistics.median(totals) * 1000,
        "refresh_ms_max": max(totals) * 1000,
        "embed_one_ms_median": statistics.median(embeds) * 1000,
        "matvec_floor_ms_median": statistics.median(floors) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'related.db'}"
        settings = Settings(database_url=url, secret_key="bench")
        upgrade_database(url)
        asyncio.run(seed(settings, args.threads))
        result = asyncio.run(measure(settings, args.threads, args.repeat))
    engine = url.split(":", 1)[0]
    print(f"related-list refresh, {result['threads']:,} threads, {engine}")
    print(
        f"  load {result['threads']:,} vectors into the worker: {result['load_vectors_s']:.2f} s (once per worker start)"
    )
    print(f"  refresh after one new thread (embed + own list + 20 neighbours' lists + writes): "
          f"median {result['refresh_ms_median']:.1f} ms, max {result['refresh_ms_max']:.1f} ms")  # fmt: skip
    print(f"  of which embedding the text: median {result['embed_one_ms_median']:.1f} ms")
    print(f"  floor, one matrix-vector product over all vectors: {result['matvec_floor_ms_median']:.2f} ms "
          f"(refresh = {result['refresh_ms_median'] / max(result['matvec_floor_ms_median'], 1e-6):.0f}x the floor)")  # fmt: skip


if __name__ == "__main__":
    main()
