"""`make bench`: Candor against a bare ceiling, on PostgreSQL and SQLite, plus moderation.

    python -m bench.run [--seconds 5] [--engines postgresql,sqlite] [--small] [--skip-moderation]
                        [--only-search] [--only-moderation] [--search-sizes 200000,1000000]

Seeds a board (2,000 members, 50 categories, 10,000 threads, 200,000 posts), serves Candor
with its production settings (uvicorn, 2 worker processes, no access log), drives it with wrk
from a separate process on 127.0.0.1 for a bounded time, and reads CPU time from /proc for the
server processes plus the database server. The ceiling (bench/ceiling.py) is served the same
way in the same run. Search is measured at one client against the thread page on boards of
each of `--search-sizes` posts (bench/search.py); `--only-search` measures nothing else, and
`--only-moderation` only the moderation figures (bench/moderation.py) on a small board.
Results go to the terminal and to bench/results/<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select

from bench.load import Run, Server, postgres_pids, settle, wrk
from bench.search import search_runs, summarise_search
from bench.seed import BENCH_PASSWORD, Size, seed
from forum.board.models import Category, Thread
from forum.cli import upgrade_database
from forum.core.db import connect
from forum.core.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "bench-secret-key-not-for-production"
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/"


def reply_rotation(
    base: str, thread_ids: list[int], members: int = 16
) -> list[tuple[str, dict[str, str], str]]:
    """Several members replying in several threads, as on a real board (one member posting
    into one thread would only measure lock waits on that member's and thread's rows)."""
    rotation = []
    for n in range(members):
        auth = login(base, f"member{n + 2}")
        rotation.append((
            f"/t/{thread_ids[n % len(thread_ids)]}/reply",
            {"Cookie": auth["cookie"], "Content-Type": "application/x-www-form-urlencoded"},
            f"csrftoken={auth['token']}&body=Thanks+for+sharing+this%2C+it+helps+our+pilot.",
        ))  # fmt: skip
    return rotation


def login(base: str, username: str) -> dict[str, str]:
    with httpx.Client(base_url=base) as c:
        page = c.get("/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = c.post(
            "/login", data={"username": username, "password": BENCH_PASSWORD, "csrftoken": token}
        )
        assert r.status_code == 303, r.text[:500]
        # Follow the redirect as a browser would: the page shows the "signed in" flash and
        # clears its cookie, which must not ride along on every measured request.
        c.get(r.headers["location"])
        assert "candor_flash" not in c.cookies
        return {"cookie": "; ".join(f"{k}={v}" for k, v in c.cookies.items()), "token": token}


async def targets(url: str) -> dict[str, Any]:
    database = connect(url)
    async with database.sessionmaker() as s:
        thread = await s.scalar(
            select(Thread.id).where(Thread.post_count.between(21, 40)).order_by(Thread.id).limit(1)
        )
        others = list(
            (
                await s.scalars(
                    select(Thread.id)
                    .where(Thread.post_count.between(2, 10))
                    .order_by(Thread.id.desc())
                    .limit(16)
                )
            ).all()
        )
        category = await s.scalar(
            select(Category.slug)
            .where(Category.parent_id.is_not(None))
            .order_by(Category.id)
            .limit(1)
        )
        # One thread's number is in its title alone: search's rare query.
        rare = await s.scalar(
            select(Thread.id).where(Thread.id >= 1234).order_by(Thread.id).limit(1)
        )
    await database.dispose()
    return {"thread": thread, "reply_threads": others, "category": category, "rare": rare or 1}


def _show(engine: str, run: Run) -> None:
    print(f"  {engine:10} {run.name:20} c={run.concurrency:<3} {run.rps:8.1f} req/s  p50 {run.p50_ms:7.1f} ms  "
          f"p99 {run.p99_ms:7.1f} ms  {run.cpu_ms_per_request:6.2f} CPU-ms/req  errors {run.errors}", flush=True)  # fmt: skip


def server_env(url: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "CANDOR_SECRET_KEY": SECRET, "CANDOR_POSTS_MAX_PER_MINUTE": "100000000", "CANDOR_POSTS_MAX_PER_MINUTE_IP": "100000000",
            "CANDOR_BASE_URL": "http://127.0.0.1"}  # fmt: skip


def search_bench(url: str, engine: str, posts: int, seconds: int, rounds: int) -> dict[str, Any]:
    t = asyncio.run(targets(url))
    res = search_runs(url, engine, server_env(url), t["thread"], t["rare"], seconds, rounds)
    res["posts"] = posts
    res["summary"] = summarise_search(engine, posts, res)
    return res


def web_runs(
    url: str, engine: str, seconds: int, levels: list[int], rounds: int = 3
) -> dict[str, Any]:
    """Both servers run side by side. At each concurrency the ceiling and Candor's thread page
    take turns `rounds` times (the summary uses medians), so a noisy neighbour slowing the
    machine for a while bills both sides alike; the other pages follow once."""
    env = server_env(url)
    t = asyncio.run(targets(url))

    def db_pids() -> list[int]:  # read at the start and end of every run: backends come and go
        return postgres_pids() if engine == "postgresql" else []

    results: dict[str, Any] = {"targets": t, "candor": [], "ceiling": []}
    server = Server("forum.asgi:app", env)
    ceiling = Server("bench.ceiling:app", {"CEILING_DATABASE_URL": url})
    try:
        server.wait("/healthz")
        ceiling.wait(f"/t/{t['thread']}")
        auth = login(server.url, "member1")
        cookie = {"Cookie": auth["cookie"]}

        def pids() -> list[int]:
            return server.pids() + db_pids()

        def ceiling_pids() -> list[int]:
            return ceiling.pids() + db_pids()

        thread_url = f"{server.url}/t/{t['thread']}"
        threads = [
            ("thread (anonymous)", thread_url, {}),
            ("thread (logged in)", thread_url, cookie),
        ]
        pages = [
            ("category", f"{server.url}/c/{t['category']}", {}, "GET", ""),
            ("home", f"{server.url}/", {}, "GET", ""),
            ("search", f"{server.url}/search?q=reverse+mentoring+pilot", {}, "GET", ""),
            ("post a reply", f"{server.url}/t/{t['reply_threads'][0]}/reply", {}, "POST", ""),
        ]  # fmt: skip
        rotation = reply_rotation(server.url, t["reply_threads"])
        for c in levels:
            for _ in range(rounds):
                run = wrk(
                    "ceiling thread", f"{ceiling.url}/t/{t['thread']}", c, seconds, ceiling_pids
                )
                results["ceiling"].append(asdict(run))
                _show(engine, run)
                settle(ceiling.url, f"/t/{t['thread']}")
                for name, page_url, headers in threads:
                    run = wrk(name, page_url, c, seconds, pids, headers)
                    results["candor"].append(asdict(run))
                    _show(engine, run)
                    settle(server.url)
            for name, page_url, headers, method, body in pages:
                run = wrk(name, page_url, c, seconds, pids, headers, method, body,
                          rotate=rotation if method == "POST" else None)  # fmt: skip
                results["candor"].append(asdict(run))
                _show(engine, run)
                settle(server.url)
    finally:
        server.stop()
        ceiling.stop()
    return results


def _medians(runs: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, float]]:
    grouped: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in runs:
        grouped.setdefault((r["name"], r["concurrency"]), []).append(r)
    return {
        key: {
            field: statistics.median(r[field] for r in group)
            for field in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request")
        }
        for key, group in grouped.items()
    }


def summarise(engine: str, res: dict[str, Any]) -> list[str]:
    lines = []
    by = _medians(res["candor"])
    for (_name, c), ceiling in sorted(_medians(res["ceiling"]).items(), key=lambda kv: kv[0][1]):
        anon = by[("thread (anonymous)", c)]
        logged = by[("thread (logged in)", c)]
        ratio = anon["cpu_ms_per_request"] / max(ceiling["cpu_ms_per_request"], 1e-9)
        login_ratio = logged["cpu_ms_per_request"] / max(anon["cpu_ms_per_request"], 1e-9)
        # Each round's ceiling run and the anonymous run right after it shared the machine's
        # mood: the median of those paired ratios is the steadier figure on a noisy host.
        paired = statistics.median(
            a["cpu_ms_per_request"] / max(b["cpu_ms_per_request"], 1e-9)
            for a, b in zip(
                [
                    r
                    for r in res["candor"]
                    if r["name"] == "thread (anonymous)" and r["concurrency"] == c
                ],
                [r for r in res["ceiling"] if r["concurrency"] == c],
                strict=False,
            )
        )
        lines.append(
            f"{engine} c={c}: thread page {anon['cpu_ms_per_request']:.2f} CPU-ms vs ceiling "
            f"{ceiling['cpu_ms_per_request']:.2f} = {ratio:.1f}x, paired rounds {paired:.1f}x "
            f"(target <= 2x); logged in / anonymous = {login_ratio:.2f} (target <= 1.5); "
            f"p99 {anon['p99_ms']:.0f} ms (medians of the interleaved rounds)"
        )
    return lines


def prepare(engine: str, size: Size, workdir: Path) -> str:
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / f'bench-{size.posts}.db'}"
    else:
        name = f"candor_bench_{os.getpid()}"

        async def create() -> None:
            conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()

        asyncio.run(create())
        url = PG + name
    upgrade_database(url)
    database = connect(url)
    info = asyncio.run(seed_and_close(database, url, size))
    print(f"seeded {engine}: {info}", flush=True)
    return url


async def seed_and_close(database: Any, url: str, size: Size) -> dict[str, Any]:
    try:
        return await seed(database, Settings(database_url=url, secret_key=SECRET), size)
    finally:
        await database.dispose()


def drop(url: str) -> None:
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]

        async def go() -> None:
            conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description="Candor benchmarks")
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--levels", default="1,8,64")
    parser.add_argument("--rounds", type=int, default=3, help="ceiling/thread-page turns per level")
    parser.add_argument(
        "--small", action="store_true", help="a tenth of the board, for a quick look"
    )
    parser.add_argument("--skip-moderation", action="store_true")
    parser.add_argument("--only-search", action="store_true", help="measure search alone")
    parser.add_argument(
        "--only-moderation",
        action="store_true",
        help="measure moderation alone (PostgreSQL, a small board): posts/s and latency",
    )
    parser.add_argument(
        "--search-sizes", default="200000,1000000", help="posts on the boards search is measured on"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        # Found only after minutes of seeding otherwise: `make bench` installs it.
        parser.exit(
            2,
            "bench: wrk is not installed (`make bench` installs it from Debian's "
            "packages, or: apt-get install wrk)\n",
        )
    size = Size(members=200, categories=50, threads=1_000, posts=20_000) if args.small else Size()
    levels = [int(x) for x in args.levels.split(",")]
    search_sizes = [int(x) for x in args.search_sizes.split(",") if x]
    if args.small:
        search_sizes = [size.posts]
    report: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                              "size": asdict(size), "cores": os.cpu_count(), "web": {},
                              "search": {}}  # fmt: skip
    summary: list[str] = []
    if args.only_moderation:
        from bench.moderation import moderation_bench

        small = Size(members=200, categories=50, threads=1_000, posts=20_000)
        with tempfile.TemporaryDirectory() as tmp:
            url = prepare("postgresql", small, Path(tmp))
            try:
                report["moderation"] = moderation_bench(url, args.seconds)
                summary += report["moderation"]["summary"]
            finally:
                drop(url)
        _write(report, summary)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for engine in args.engines.split(","):
            searched: list[dict[str, Any]] = []
            report["search"][engine] = searched
            if not args.only_search:
                url = prepare(engine, size, Path(tmp))
                try:
                    report["web"][engine] = web_runs(url, engine, args.seconds, levels, args.rounds)
                    summary += summarise(engine, report["web"][engine])
                    if size.posts in search_sizes:
                        searched.append(
                            search_bench(url, engine, size.posts, args.seconds, args.rounds)
                        )
                        summary += searched[-1]["summary"]
                    if not args.skip_moderation and engine == "postgresql":
                        from bench.moderation import moderation_bench

                        report["moderation"] = moderation_bench(url, args.seconds)
                        summary += report["moderation"]["summary"]
                finally:
                    drop(url)
            for posts in search_sizes:
                if not args.only_search and posts == size.posts:
                    continue  # measured on the board above
                board = Size(members=size.members, categories=size.categories,
                             threads=max(1, posts // 20), posts=posts)  # fmt: skip
                url = prepare(engine, board, Path(tmp))
                try:
                    searched.append(search_bench(url, engine, posts, args.seconds, args.rounds))
                    summary += searched[-1]["summary"]
                finally:
                    drop(url)
            if not args.only_search:
                # Notifications: one post to 1,000 watchers (time in the worker; the reply
                # request's cost with and without them).
                from bench.fanout import run as fanout_run

                fanned = asyncio.run(fanout_run(engine, 1000, 30))
                report.setdefault("fanout", {})[engine] = fanned
                summary.append(
                    f"{engine} fan-out: one post to {fanned['watchers']} watchers "
                    f"{fanned['worker_fan_out_ms']} ms in the worker; reply request "
                    f"{fanned['reply_request_ratio']}x with them vs none"
                )
    from bench.pairing import run as pairing_run  # pairing 100x100 .. 1,000x1,000 (no server)

    report["pairing"], _ = pairing_run()
    summary += [
        f"pairing {r['juniors']}x{r['seniors']} ({r['capacity']}): {r['propose_seconds']} s"
        for r in report["pairing"]
    ]
    _write(report, summary)


def _write(report: dict[str, Any], summary: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=1))
    print("\nSummary")
    for line in summary:
        print("  " + line)
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
