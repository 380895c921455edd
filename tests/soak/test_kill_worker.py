"""Soak (make soak): kill -9 the worker at random points under a steady stream of posts, 20
times; every post must end with exactly one decision. Runs on PostgreSQL, the production engine."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import func, select

from forum.board.models import Post
from forum.board.posting import create_reply
from forum.core.db import connect
from forum.review.models import ModerationResult
from tests.conftest import TemplateDB, make_settings, run_in_thread
from tests.helpers import make_category, make_thread, make_user

pytestmark = pytest.mark.soak

WORKER = textwrap.dedent("""
    import asyncio, sys
    from forum.core.db import connect
    from moderation.pipeline import CueStage, Pipeline
    from moderation.worker import Worker
    from tests.conftest import make_settings
    async def main():
        settings = make_settings(sys.argv[1], worker_lease_seconds=2, worker_batch_size=4,
                                 worker_poll_seconds=0.1)
        pipeline = Pipeline(settings, [CueStage()])
        pipeline.load()
        worker = Worker(settings, connect(settings.database_url), pipeline)
        await worker.run(asyncio.Event())
    asyncio.run(main())
""")


def test_kill_minus_nine_twenty_times(template_db: TemplateDB) -> None:
    if template_db.backend != "postgresql":
        pytest.skip("the soak runs on PostgreSQL")
    url = template_db.copy()
    settings = make_settings(url, posts_max_per_minute=10**9)
    rng = random.Random(20)

    async def setup() -> int:
        database = connect(url)
        async with database.sessionmaker() as s:
            author = await make_user(s, settings, username="streamer")
            thread, _ = await make_thread(s, settings, author, await make_category(s))
            await s.commit()
            thread_id = thread.id
        await database.dispose()
        return thread_id

    thread_id = run_in_thread(setup)

    async def post_some(n: int, start: int) -> None:
        database = connect(url)
        async with database.sessionmaker() as s:
            from forum.accounts.models import User
            from forum.board.models import Thread

            author = await s.scalar(select(User).where(User.username_key == "streamer"))
            thread = await s.get(Thread, thread_id)
            for i in range(n):
                body = (
                    "Come back when you have 20 years in."
                    if (start + i) % 3 == 0
                    else f"Post {start + i}"
                )
                await create_reply(s, settings, author, thread, body)  # type: ignore[arg-type]
                await s.commit()
        await database.dispose()

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    kills = 0
    posted = 0
    while kills < 20:
        worker = subprocess.Popen([sys.executable, "-c", WORKER, url], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        run_in_thread(post_some, 5, posted)
        posted += 5
        time.sleep(rng.uniform(0.2, 2.0))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
    # A last worker, left alone, finishes whatever the killed ones held when their leases end.
    worker = subprocess.Popen([sys.executable, "-c", WORKER, url], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    async def state() -> tuple[int, int, int]:
        database = connect(url)
        async with database.sessionmaker() as s:
            waiting = await s.scalar(
                select(func.count(Post.id)).where(Post.needs_scoring.is_(True))
            )
            per_post = (await s.execute(
                select(ModerationResult.post_id, func.count(ModerationResult.id)).group_by(ModerationResult.post_id)
            )).all()  # fmt: skip
            total = await s.scalar(select(func.count(Post.id)))
        await database.dispose()
        return (
            int(waiting or 0),
            max((n for _, n in per_post), default=0),
            int(total or 0) - len(per_post),
        )

    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            waiting, most, undecided = run_in_thread(state)
            if waiting == 0 and undecided == 0:
                break
            time.sleep(1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    waiting, most, undecided = run_in_thread(state)
    assert (waiting, undecided) == (0, 0), "every post gets a decision"
    assert most == 1, "no post gets two"
    assert kills == 20 and posted == 100
