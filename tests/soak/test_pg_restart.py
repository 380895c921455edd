"""Soak (make soak): restart PostgreSQL while members read and post. Pages answer 503 while it is
down, recover by themselves, and every post that was accepted (303) is in the database after."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bench.load import Server
from forum.board.models import Post
from forum.core.db import connect
from tests.conftest import TemplateDB, make_settings, run_in_thread
from tests.helpers import PASSWORD, make_category, make_thread, make_user

pytestmark = pytest.mark.soak


def test_postgres_restart_under_load(template_db: TemplateDB) -> None:
    if template_db.backend != "postgresql":
        pytest.skip("PostgreSQL restarts")
    if os.geteuid() != 0 or not Path("/etc/postgresql").exists():
        pytest.skip("needs root and a local PostgreSQL cluster to restart")
    url = template_db.copy()
    settings = make_settings(url)

    async def setup() -> int:
        database = connect(url)
        async with database.sessionmaker() as s:
            author = await make_user(s, settings, username="poster")
            thread, _ = await make_thread(s, settings, author, await make_category(s))
            await s.commit()
            tid = thread.id
        await database.dispose()
        return tid

    thread_id = run_in_thread(setup)
    env = {**os.environ, "DATABASE_URL": url, "CANDOR_SECRET_KEY": "soak", "CANDOR_ARGON2_TIME_COST": "1",
           "CANDOR_ARGON2_MEMORY_COST": "1024", "CANDOR_POSTS_MAX_PER_MINUTE": "100000", "CANDOR_POSTS_MAX_PER_MINUTE_IP": "100000"}  # fmt: skip
    server = Server("forum.asgi:app", env, workers=1)
    base = server.url
    statuses: list[int] = []
    accepted: list[int] = []
    stop = threading.Event()
    try:
        server.wait("/healthz")
        client = httpx.Client(base_url=base, timeout=30)
        token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        assert client.post(
            "/login", data={"username": "poster", "password": PASSWORD, "csrftoken": token}
        ).status_code in (200, 303)

        def load() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = client.post(f"/t/{thread_id}/reply", data={"body": f"post {n}", "csrftoken": token},
                                    follow_redirects=False)  # fmt: skip
                    statuses.append(r.status_code)
                    if r.status_code == 303:
                        accepted.append(int(r.headers["location"].rsplit("#p", 1)[1]))
                    statuses.append(client.get("/").status_code)
                except httpx.HTTPError:
                    statuses.append(-1)
                time.sleep(0.05)

        worker = threading.Thread(target=load)
        worker.start()
        time.sleep(3)
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop", "-m", "fast"],
            check=True,
        )
        time.sleep(3)  # down: pages must say 503
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True
        )
        time.sleep(6)
        stop.set()
        worker.join(timeout=60)
        client.close()
    finally:
        stop.set()
        server.stop()
    assert 503 in statuses, "while PostgreSQL was down, pages should say so"
    assert set(statuses) <= {200, 303, 503}, sorted(set(statuses))
    assert statuses[-10:].count(503) == 0, "the site recovered by itself"

    async def stored() -> set[int]:
        database = connect(url)
        async with database.sessionmaker() as s:
            ids = set((await s.scalars(select(Post.id).where(Post.id.in_(accepted)))).all())
        await database.dispose()
        return ids

    assert run_in_thread(stored) == set(accepted), "no accepted post was lost"
    assert len(accepted) > 20
