"""Moderation figures for /metrics, read from the database when scraped: the worker is another
process (often on another machine), and the database is what every process shares.

The review queue's depth and oldest open item, the verdicts the worker has given, the posts
waiting to be scored, and each stage's scoring time over the latest results (the worker keeps
every post's per-stage time in its result: ModerationResult.context[STAGE_SECONDS]). Four
small queries, each on an index or a bounded number of rows (the verdicts: on the rows added
since the last scrape)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.models import Post
from forum.review.models import STAGE_SECONDS, ModerationResult, ReviewItem, ReviewStatus, Verdict

# Results are counted once this old (see VerdictCounts).
SETTLE = timedelta(seconds=30)
# Stage timings are summarised over this many of the latest results.
TIMING_WINDOW = 500
QUANTILES = (0.5, 0.95, 1.0)


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile of a sorted, non-empty list."""
    return ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1]


@dataclass
class VerdictCounts:
    """Running totals of the worker's verdicts, kept by each web process. The first scrape
    counts every stored result; later ones count only the results added since (`id >` the
    last counted, on the primary key), so a scrape stays cheap however many there are.
    A result is counted once it is SETTLE old, so that one committed a moment after a
    result with a higher id (two workers at once) is not skipped."""

    last_id: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    async def update(self, session: AsyncSession, now: datetime) -> None:
        rows = await session.execute(
            select(
                ModerationResult.verdict,
                func.count(ModerationResult.id),
                func.max(ModerationResult.id),
            )
            .where(ModerationResult.id > self.last_id, ModerationResult.created_at <= now - SETTLE)
            .group_by(ModerationResult.verdict)
        )
        for verdict, n, highest in rows:
            self.counts[verdict] = self.counts.get(verdict, 0) + n
            self.last_id = max(self.last_id, highest)


async def review_metrics(
    session: AsyncSession, now: datetime, verdict_counts: VerdictCounts
) -> list[Metric]:
    depth, oldest = (
        await session.execute(
            select(func.count(ReviewItem.id), func.min(ReviewItem.opened_at)).where(
                ReviewItem.status == ReviewStatus.open.value
            )
        )
    ).one()
    queue = GaugeMetricFamily(
        "candor_review_queue_depth", "Open items in the moderators' review queue."
    )
    queue.add_metric([], depth)
    age = GaugeMetricFamily(
        "candor_review_queue_oldest_age_seconds",
        "Age of the oldest open review item (0 when the queue is empty).",
    )
    age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)

    verdicts = CounterMetricFamily(
        "candor_moderation_verdicts",
        "The worker's verdicts (clear, flag, hold, unscored), counted from stored results "
        f"once they are {SETTLE.seconds} s old.",
        labels=["verdict"],
    )
    await verdict_counts.update(session, now)
    for verdict in Verdict:
        verdicts.add_metric([verdict.value], verdict_counts.counts.get(verdict.value, 0))

    backlog = GaugeMetricFamily(
        "candor_moderation_backlog", "Posts waiting for the worker to score them."
    )
    backlog.add_metric(
        [],
        await session.scalar(
            select(func.count(Post.id)).where(
                Post.needs_scoring.is_(True), Post.is_deleted.is_(False)
            )
        )
        or 0,
    )

    contexts = (
        await session.scalars(
            select(ModerationResult.context)
            .order_by(ModerationResult.id.desc())
            .limit(TIMING_WINDOW)
        )
    ).all()
    timings: dict[str, list[float]] = {}
    for context in contexts:
        stages = context.get(STAGE_SECONDS) if isinstance(context, dict) else None
        if isinstance(stages, dict):
            for stage, seconds in stages.items():
                if isinstance(seconds, int | float):
                    timings.setdefault(str(stage), []).append(float(seconds))
    stage_seconds = GaugeMetricFamily(
        "candor_moderation_stage_seconds",
        f"Scoring time per post of each moderation stage over the latest {TIMING_WINDOW} "
        "results: median, 95th percentile and maximum (quantile 1).",
        labels=["stage", "quantile"],
    )
    samples = GaugeMetricFamily(
        "candor_moderation_stage_samples",
        "Results the stage timings summarise, per stage.",
        labels=["stage"],
    )
    for stage, values in sorted(timings.items()):
        values.sort()
        for q in QUANTILES:
            stage_seconds.add_metric([stage, str(q)], _quantile(values, q))
        samples.add_metric([stage], len(values))
    return [queue, age, verdicts, backlog, stage_seconds, samples]
