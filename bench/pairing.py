"""The pairing engine at scale: `python -m bench.pairing` times 100x100, 300x300 and 1,000x1,000
groups, and 1,000 x 1,000 with everyone taking two partners (build the score matrix, solve the
assignment, explain the chosen pairs), and writes
bench/results/pairing-<time>.json. The issue asks for 1,000 x 1,000 in under 10 s on 2 cores."""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
SIZES = (100, 300, 1000)


def group(n: int, seed: int = 18, several: bool = False) -> tuple[list[Any], list[Any], Any, Any]:
    from forum.programmes.pairing import Criteria, Edits, Person

    rng = random.Random(seed)
    topics = [f"topic-{i}" for i in range(60)]
    slots = [f"{d}-{h}" for d in ("mon", "tue", "wed", "thu", "fri") for h in ("am", "pm", "eve")]
    departments = [f"dept-{i}" for i in range(15)]

    def person(pid: int, side: str) -> Any:
        junior = side == "junior"
        return Person(
            id=pid,
            side=side,
            department=rng.choice(departments),
            seniority=rng.randint(0, 8) if junior else rng.randint(5, 35),
            teaches=frozenset(rng.sample(topics, rng.randint(1, 5))),
            learns=frozenset(rng.sample(topics, rng.randint(1, 5))),
            availability=frozenset(rng.sample(slots, rng.randint(1, 6))),
            avoid=frozenset(rng.sample(range(2 * n), rng.randint(0, 2))),
            reporting_line=frozenset(rng.sample(range(2 * n), rng.randint(0, 3))),
            capacity=2 if several or (not junior and rng.random() >= 0.8) else 1,
        )

    juniors = [person(i, "junior") for i in range(n)]
    seniors = [person(n + i, "senior") for i in range(n)]
    forbidden = frozenset((rng.randrange(n), n + rng.randrange(n)) for _ in range(n // 10))
    fixed = frozenset((i, n + i) for i in range(0, n, max(1, n // 5)))
    return (
        juniors,
        seniors,
        Criteria(gap_min=5, gap_max=25),
        Edits(fixed=fixed, forbidden=forbidden),
    )


def measure(n: int, several: bool = False) -> dict[str, Any]:
    from forum.programmes import pairing

    juniors, seniors, criteria, edits = group(n, several=several)
    start = time.perf_counter()
    scores = pairing.score_matrix(juniors, seniors, criteria)
    pairing.refused_matrix(juniors, seniors, edits)
    matrix_s = time.perf_counter() - start
    start = time.perf_counter()
    proposal = pairing.propose(juniors, seniors, criteria, edits)
    propose_s = time.perf_counter() - start
    return {
        "juniors": n,
        "seniors": n,
        # everyone takes two partners (the exact LP path) or only a fifth of seniors do
        "capacity": "2 each" if several else "juniors 1, seniors 1-2",
        "pairs": len(proposal.pairs),
        "unmatched": len(proposal.unmatched),
        "total": round(proposal.total, 3),
        "matrix_cells": int(scores.size),
        "matrix_seconds": round(matrix_s, 3),
        # propose = build the matrices again + solve + explain every chosen pair
        "propose_seconds": round(propose_s, 3),
    }


def run(
    sizes: tuple[int, ...] = SIZES, out_dir: Path = RESULTS
) -> tuple[list[dict[str, Any]], Path]:
    rows = [measure(n) for n in sizes] + [measure(sizes[-1], several=True)]
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"pairing-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(rows, indent=1))
    return rows, out


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the pairing engine")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args()
    rows, out = run(tuple(int(s) for s in args.sizes.split(",")))
    for row in rows:
        print(
            f"{row['juniors']} x {row['seniors']} ({row['capacity']}): score matrix {row['matrix_seconds']} s, "
            f"propose (matrix + solve + explain) {row['propose_seconds']} s, "
            f"{row['pairs']} pairs, {row['unmatched']} unmatched"
        )
    print(f"results: {out}")


if __name__ == "__main__":
    main()
