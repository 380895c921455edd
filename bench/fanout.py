"""Fan-out of one post to 1,000 watchers: the time the worker takes to turn it into
notifications, and what the reply request costs with 1,000 watchers against none (same run).

    python -m bench.fanout [--engine sqlite|postgresql] [--watchers 1000] [--requests 30]

The request only records one work row whatever the number of watchers; the worker does the
rest after commit. Prints one JSON object (and writes it to bench/results/fanout-<time>.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, select, update

from forum.accounts.models import User
from forum.accounts.passwords import Passwords
from forum.accounts.services import create_user
from forum.app import create_app
from forum.board.categories import create_category
from forum.board.models import Post
from forum.board.posting import create_thread
from forum.cli import upgrade_database
from forum.core.db import Database, connect, utcnow
from forum.core.settings import Settings
from forum.notifications.fanout import Notifier
from forum.notifications.models import CategoryWatch, Notification, NotificationWork
from forum.notifications.paths import worker_paths

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "bench-fanout-password"
CSRF = 'name="csrftoken" value="'


async def _prepare(database: Database, settings: Settings, watchers: int) -> dict[str, Any]:
    passwords = Passwords(settings)
    async with database.sessionmaker() as s:
        await create_user(
            s, passwords, username="replier", email="replier@example.org", password=PASSWORD
        )
        opener = await create_user(
            s, passwords, username="opener", email="opener@example.org", password=PASSWORD
        )
        quiet = await create_category(s, "Quiet")
        busy = await create_category(s, "Busy")
        await s.flush()
        now = utcnow()
        await s.execute(
            insert(User),
            [
                {"username": f"w{n}", "username_key": f"w{n}", "email": f"w{n}@example.org",
                 "email_key": f"w{n}@example.org", "password_hash": "x", "joined_at": now,
                 "email_confirmed_at": now}
                for n in range(watchers)
            ],
        )  # fmt: skip
        ids = list(await s.scalars(select(User.id).where(User.username_key.like("w%"))))
        await s.execute(
            insert(CategoryWatch),
            [{"user_id": i, "category_id": busy.id, "level": "watching", "created_at": now}
             for i in ids],
        )  # fmt: skip
        quiet_thread, _ = await create_thread(s, settings, opener, quiet, "Quiet thread", "Hi.")
        busy_thread, _ = await create_thread(s, settings, opener, busy, "Busy thread", "Hi.")
        await s.execute(update(Post).values(needs_scoring=False, moderation_state="clear"))
        await s.execute(NotificationWork.__table__.delete())
        await s.commit()
        return {"quiet": quiet_thread.id, "busy": busy_thread.id, "watchers": len(ids)}


async def _replies(client: httpx.AsyncClient, thread_id: int, count: int) -> list[float]:
    page = await client.get(f"/t/{thread_id}")
    token = page.text.split(CSRF, 1)[1].split('"', 1)[0]
    times = []
    for n in range(count):
        started = time.perf_counter()
        r = await client.post(
            f"/t/{thread_id}/reply", data={"body": f"Reply {n}, thanks.", "csrftoken": token}
        )
        times.append(time.perf_counter() - started)
        assert r.status_code == 303, r.status_code
    return times


async def run(engine: str, watchers: int, requests: int) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="candor-fanout-")
    pg_name = None
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/fanout.db"
    else:
        pg_name = f"candor_fanout_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        await conn.execute(f'CREATE DATABASE "{pg_name}"')
        await conn.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_name}"
    try:
        await asyncio.to_thread(upgrade_database, url)
        settings = Settings(
            database_url=url, secret_key="bench-fanout", base_url="http://bench",
            argon2_time_cost=1, argon2_memory_cost=1024,
            posts_max_per_minute=10**6, posts_max_per_minute_ip=10**6,
        )  # type: ignore[call-arg]  # fmt: skip
        database = connect(url)
        ids = await _prepare(database, settings, watchers)
        app = create_app(settings, database)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            page = await client.get("/login")
            token = page.text.split(CSRF, 1)[1].split('"', 1)[0]
            r = await client.post("/login", data={"username": "replier", "password": PASSWORD,
                                                  "csrftoken": token})  # fmt: skip
            assert r.status_code == 303
            await _replies(client, ids["quiet"], 3)  # warm up both paths
            await _replies(client, ids["busy"], 3)
            quiet, busy = [], []
            for _ in range(requests):  # interleaved, so drift hits both alike
                quiet += await _replies(client, ids["quiet"], 1)
                busy += await _replies(client, ids["busy"], 1)
        # The moderation worker's decision, then the fan-out of one post to every watcher.
        async with database.sessionmaker() as s:
            await s.execute(update(Post).values(needs_scoring=False, moderation_state="clear"))
            await s.execute(NotificationWork.__table__.delete())
            await s.commit()
        async with database.sessionmaker() as s:
            opener = await s.scalar(select(User).where(User.username_key == "opener"))
            assert opener is not None
            from forum.board.models import Thread
            from forum.board.posting import create_reply

            thread = await s.get(Thread, ids["busy"])
            assert thread is not None
            await create_reply(s, settings, opener, thread, "One post for a thousand watchers.")
            await s.execute(update(Post).values(needs_scoring=False, moderation_state="clear"))
            await s.commit()
        notifier = Notifier(settings, database, worker_paths())
        started = time.perf_counter()
        handled = await notifier.fan_out(limit=1)
        fan_out_seconds = time.perf_counter() - started
        async with database.sessionmaker() as s:
            made = len(list(await s.scalars(select(Notification.id))))
        await database.dispose()
    finally:
        if pg_name:
            conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await conn.close()
    quiet_ms = statistics.median(quiet) * 1000
    busy_ms = statistics.median(busy) * 1000
    return {
        "engine": engine,
        "watchers": ids["watchers"],
        "work_rows_handled": handled,
        "notifications_made": made,
        "worker_fan_out_ms": round(fan_out_seconds * 1000, 1),
        "reply_request_ms_no_watchers": round(quiet_ms, 2),
        "reply_request_ms_with_watchers": round(busy_ms, 2),
        "reply_request_ratio": round(busy_ms / quiet_ms, 3),
        "requests_each": requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    result = asyncio.run(run(args.engine, args.watchers, args.requests))
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"fanout-{args.engine}-{stamp}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
