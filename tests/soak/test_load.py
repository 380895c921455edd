"""Soak (make soak): 200 concurrent clients read and post for a bounded time against a real
server on PostgreSQL; no errors, and post counts and points are exact afterwards."""

from __future__ import annotations

import asyncio
import os
import re
import time

import httpx
import pytest
from sqlalchemy import func, select

from bench.load import Server
from forum.accounts.models import PointsEntry, User
from forum.board.models import Post, Thread
from forum.core.db import connect
from tests.conftest import TemplateDB, make_settings, run_in_thread
from tests.helpers import PASSWORD, make_category, make_thread, make_user

pytestmark = pytest.mark.soak
CLIENTS = 200
MEMBERS = 20
SECONDS = 20


def test_two_hundred_clients(template_db: TemplateDB) -> None:
    if template_db.backend != "postgresql":
        pytest.skip("the load test runs on PostgreSQL")
    url = template_db.copy()
    settings = make_settings(url)

    async def setup() -> list[int]:
        database = connect(url)
        async with database.sessionmaker() as s:
            users = [await make_user(s, settings, username=f"load{i}") for i in range(MEMBERS)]
            category = await make_category(s)
            threads = [(await make_thread(s, settings, users[i], category, title=f"Load thread {i}"))[0].id
                       for i in range(5)]  # fmt: skip
            await s.commit()
        await database.dispose()
        return threads

    threads = run_in_thread(setup)
    env = {**os.environ, "DATABASE_URL": url, "CANDOR_SECRET_KEY": "load", "CANDOR_ARGON2_TIME_COST": "1",
           "CANDOR_ARGON2_MEMORY_COST": "1024", "CANDOR_POSTS_MAX_PER_MINUTE": "1000000", "CANDOR_POSTS_MAX_PER_MINUTE_IP": "1000000", "CANDOR_POSTS_NEW_ACCOUNT_MAX_PER_HOUR": "1000000",
           "CANDOR_LOGIN_MAX_FAILURES_IP": "100000"}  # fmt: skip
    server = Server("forum.asgi:app", env, workers=2)
    base = server.url
    served = {"requests": 0, "errors": 0, "posts": 0}

    async def client(n: int, deadline: float) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=120) as c:
            page = await c.get("/login")
            token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            r = await c.post("/login", data={"username": f"load{n % MEMBERS}", "password": PASSWORD,
                                             "csrftoken": token})  # fmt: skip
            if r.status_code != 303:
                served["errors"] += 1
                return
            i = 0
            while time.monotonic() < deadline:
                i += 1
                thread = threads[(n + i) % len(threads)]
                try:
                    if i % 3 == 0:
                        r = await c.post(f"/t/{thread}/reply", data={"body": f"client {n} post {i}",
                                                                     "csrftoken": token})  # fmt: skip
                        ok = r.status_code == 303
                        served["posts"] += ok
                    else:
                        r = await c.get(f"/t/{thread}")
                        ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                served["requests"] += 1
                served["errors"] += not ok

    async def run() -> None:
        deadline = time.monotonic() + SECONDS
        await asyncio.gather(*(client(n, deadline) for n in range(CLIENTS)))

    try:
        server.wait("/healthz")
        run_in_thread(run)
    finally:
        server.stop()

    async def check() -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int]], int]:
        database = connect(url)
        async with database.sessionmaker() as s:
            users = (await s.execute(select(User.id, User.post_count, User.points))).all()
            posts = dict(
                (
                    await s.execute(
                        select(Post.author_id, func.count(Post.id)).group_by(Post.author_id)
                    )
                ).all()
            )
            ledger = dict(
                (
                    await s.execute(
                        select(PointsEntry.user_id, func.sum(PointsEntry.delta)).group_by(
                            PointsEntry.user_id
                        )
                    )
                ).all()
            )
            thread_rows = (
                await s.execute(
                    select(Thread.post_count, func.count(Post.id))
                    .join(Post, Post.thread_id == Thread.id)
                    .group_by(Thread.id)
                )
            ).all()
            total = await s.scalar(select(func.count(Post.id)))
        await database.dispose()
        return ([(u, c, p, posts.get(u, 0)) for u, c, p in users] + [(0, 0, int(ledger.get(u, 0)), p) for u, _, p in users],
                [(a, b) for a, b in thread_rows], int(total or 0))  # fmt: skip

    users, thread_rows, total = run_in_thread(check)
    print(
        f"\nload: {served['requests']} requests, {served['posts']} posts, {served['errors']} errors"
    )
    assert served["errors"] == 0
    assert served["requests"] > CLIENTS
    for user_id, count, points, real in users[: len(users) // 2]:
        assert count == real and points == 5 * real, user_id
    for _, _, ledger, points in users[len(users) // 2 :]:
        assert ledger == points
    assert all(a == b for a, b in thread_rows)
    assert total == 5 + served["posts"]
