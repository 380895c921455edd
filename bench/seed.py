"""Seed a realistic board for benchmarks: members, categories, threads and posts in bulk.

Counters (post counts, points, thread stats) are computed here and written directly, without
the ledger rows that posting through the services would add; pages read only the counters.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, text

from forum.accounts.models import User
from forum.accounts.passwords import Passwords
from forum.board.categories import refresh_category_stats
from forum.board.models import Category, Post, Thread
from forum.core.db import Database, begin_write, utcnow
from forum.core.settings import Settings
from forum.core.text import render_markdown
from forum.demo.content import THREADS
from forum.related.models import RelatedItem

BENCH_PASSWORD = "bench-password-1"


@dataclass
class Size:
    members: int = 2_000
    categories: int = 50
    threads: int = 10_000
    posts: int = 200_000


def _bodies() -> list[tuple[str, str]]:
    texts = [body for _c, _t, _d, posts in THREADS for _a, _h, body in posts]
    return [(t, render_markdown(t)) for t in texts]


async def seed(database: Database, settings: Settings, size: Size, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    started = time.perf_counter()
    now = utcnow()
    password_hash = await Passwords(settings).hash(BENCH_PASSWORD)
    bodies = _bodies()
    titles = [t for _c, t, _d, _p in THREADS]
    async with database.sessionmaker() as s:
        await begin_write(s)
        roots = max(1, size.categories // 10)
        cats = []
        for i in range(size.categories):
            parent = None if i < roots else (i % roots) + 1
            cats.append(dict(id=i + 1, parent_id=parent, name=f"Forum {i + 1}", slug=f"forum-{i + 1}",
                             description="Benchmark forum", position=i, staff_only=False))  # fmt: skip
        await s.execute(insert(Category), cats)
        leaves = [c["id"] for c in cats if c["parent_id"] is not None] or [1]
        # Posts per thread vary (a few long threads, many short ones) but add up exactly.
        weights = [rng.paretovariate(1.6) for _ in range(size.threads)]
        total_w = sum(weights)
        per_thread = [max(1, int(size.posts * w / total_w)) for w in weights]
        per_thread[0] += size.posts - sum(per_thread)
        if per_thread[0] < 1:
            per_thread[0] = 1
        post_count = [0] * (size.members + 1)
        thread_rows, post_rows = [], []
        post_id = 0
        start_time = now - timedelta(days=365)
        step = timedelta(days=365) / max(size.posts, 1)
        for t in range(size.threads):
            thread_id = t + 1
            first_id = post_id + 1
            last_author = 0
            for _ in range(per_thread[t]):
                post_id += 1
                author = rng.randint(1, size.members)
                post_count[author] += 1
                last_author = author
                body, html = bodies[rng.randrange(len(bodies))]
                post_rows.append(dict(
                    id=post_id, thread_id=thread_id, author_id=author, body_source=body,
                    body_html=html, created_at=start_time + step * post_id, edit_count=0,
                    is_deleted=False, moderation_state="clear", moderation_note="",
                    needs_scoring=False, mod_attempts=0, nudge_phrases=""))  # fmt: skip
            thread_rows.append(dict(
                id=thread_id, category_id=leaves[t % len(leaves)], author_id=post_rows[first_id - 1]["author_id"],
                title=f"{titles[t % len(titles)]} ({thread_id})", created_at=start_time + step * first_id,
                last_post_at=start_time + step * post_id, first_post_id=first_id, last_post_id=post_id,
                last_poster_id=last_author, post_count=per_thread[t], view_count=rng.randint(0, 5000),
                is_locked=False, is_pinned=t % 97 == 0, is_deleted=False, needs_related=False))  # fmt: skip
        users = [dict(
            id=i, username=f"member{i}", username_key=f"member{i}", email=f"member{i}@example.org",
            email_key=f"member{i}@example.org", password_hash=password_hash, role="member",
            status="active", location=rng.choice(["Leeds", "Lagos", "Austin", "Kraków", ""]), bio="",
            joined_at=(joined := now - timedelta(days=rng.randint(30, 3000))),
            email_confirmed_at=joined, post_count=post_count[i],
            points=5 * post_count[i], premoderated=False, warning_count=0)
            for i in range(1, size.members + 1)]  # fmt: skip
        for i in range(0, len(users), 1000):
            await s.execute(insert(User), users[i : i + 1000])
        for i in range(0, len(thread_rows), 2000):
            await s.execute(insert(Thread), thread_rows[i : i + 2000])
        for i in range(0, len(post_rows), 5000):
            await s.execute(insert(Post), post_rows[i : i + 5000])
        related = []
        for t in range(1, size.threads + 1):
            for position, target in enumerate(rng.sample(range(1, size.threads + 1), 6)):
                if target != t and position < 5:
                    related.append(dict(source_type="thread", source_id=t, target_type="thread",
                                        target_id=target, position=position, score=0.5))  # fmt: skip
        for i in range(0, len(related), 5000):
            await s.execute(insert(RelatedItem), related[i : i + 5000])
        await refresh_category_stats(s)
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            for table in ("users", "categories", "threads", "posts"):
                await s.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))  # fmt: skip
        await s.commit()
    if database.engine.dialect.name == "postgresql":
        async with database.engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("ANALYZE"))
    return {"seconds": round(time.perf_counter() - started, 1), "posts": post_id,
            "threads": size.threads, "members": size.members}  # fmt: skip
