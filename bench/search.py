"""Search on the seeded board, at one client, against the thread page in the same run.

`python -m bench.run --only-search` seeds a board of each size in `--search-sizes` (200,000
and 1,000,000 posts by default) on each engine and measures here only; a full `make bench`
measures here too, on its 200,000-post board and on a board of each other size. The search
page and the anonymous thread page take turns `rounds` times (medians), so a noisy neighbour
bills both alike: the figure to quote is search / thread page, from the same run.

The seeded board repeats about 50 texts, so a common phrase matches about 2% of posts and a
common word over half of them: the worst case for full-text search. The rare query is one
thread's number, in its title only (the thread is old: the newest-first windows widen to the
whole board before they find it).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict
from typing import Any
from urllib.parse import quote_plus

from bench.load import Server, postgres_pids, settle, wrk


def queries(rare_thread: int) -> list[tuple[str, str]]:
    return [
        ("common phrase", "reverse mentoring pilot"),
        ("common word", "mentoring"),
        ("rare", str(rare_thread)),
        ("no match", "zebra"),
    ]


def search_runs(
    url: str, engine: str, env: dict[str, str], thread: int, rare_thread: int, seconds: int,
    rounds: int,
) -> dict[str, Any]:  # fmt: skip
    results: dict[str, Any] = {"runs": [], "queries": dict(queries(rare_thread))}
    server = Server("forum.asgi:app", env)
    try:
        server.wait("/healthz")

        def pids() -> list[int]:
            return server.pids() + (postgres_pids() if engine == "postgresql" else [])

        pages = [("thread (anonymous)", f"{server.url}/t/{thread}")] + [
            (f"search: {name}", f"{server.url}/search?q={quote_plus(q)}")
            for name, q in queries(rare_thread)
        ]
        for _ in range(rounds):
            for name, page_url in pages:
                run = wrk(name, page_url, 1, seconds, pids)
                results["runs"].append(asdict(run))
                print(f"  {engine:10} {name:28} p50 {run.p50_ms:7.1f} ms  p99 {run.p99_ms:7.1f} ms  "
                      f"{run.cpu_ms_per_request:6.2f} CPU-ms/req  errors {run.errors}", flush=True)  # fmt: skip
                settle(server.url)
    finally:
        server.stop()
    return results


def summarise_search(engine: str, posts: int, res: dict[str, Any]) -> list[str]:
    by: dict[str, list[dict[str, Any]]] = {}
    for r in res["runs"]:
        by.setdefault(r["name"], []).append(r)

    def median(name: str, field: str) -> float:
        return statistics.median(r[field] for r in by[name])

    base_cpu = median("thread (anonymous)", "cpu_ms_per_request")
    base_p50 = median("thread (anonymous)", "p50_ms")
    lines = [
        f"{engine} {posts:,} posts, 1 client: thread page p50 {base_p50:.1f} ms, "
        f"{base_cpu:.2f} CPU-ms (the baseline)"
    ]
    for name in by:
        if name.startswith("search"):
            p50, cpu = median(name, "p50_ms"), median(name, "cpu_ms_per_request")
            lines.append(
                f"{engine} {posts:,} posts, 1 client: {name} p50 {p50:.1f} ms "
                f"({p50 / max(base_p50, 1e-9):.1f}x the thread page), {cpu:.2f} CPU-ms "
                f"({cpu / max(base_cpu, 1e-9):.1f}x)"
            )
    return lines
