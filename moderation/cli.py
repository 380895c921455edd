"""`candor worker` and `candor moderation …`: the commands that load models (worker side).

Model code is imported inside the commands, so `candor serve` never imports torch.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from forum.core.settings import Settings

moderation_app = typer.Typer(help="Train, evaluate and re-run the moderation pipeline.",
                             no_args_is_help=True)  # fmt: skip


def run_worker(once: bool = False) -> None:
    from forum.app import wire
    from forum.core.db import connect
    from forum.core.outbox import deliver_due
    from moderation.pipeline import Pipeline
    from moderation.worker import Worker

    wire()
    settings = Settings()
    if settings.worker_nice:
        # Inference takes every core it is given; at a lower priority it uses what the web
        # processes leave, so pages stay fast while a backlog is scored.
        os.nice(settings.worker_nice)

    async def main() -> None:
        database = connect(settings.database_url)
        worker = Worker(settings, database, Pipeline.from_settings(settings))
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        parent = os.environ.get("CANDOR_WORKER_PARENT")
        if parent:
            # Started by `candor serve --with-worker`: stop when that process is gone.
            async def watch_parent() -> None:
                while not stop.is_set():
                    if os.getppid() != int(parent):
                        stop.set()
                    await asyncio.sleep(2)

            tasks.append(asyncio.create_task(watch_parent()))
        try:
            if once:
                worker.pipeline.load()
                worker.enable_related()
                await worker.publish_status()
                total = 0
                while n := await worker.run_once():
                    total += n
                refreshed = 0
                while worker.related is not None and (n := await worker.related.run_once()):
                    refreshed += n
                mailed = 0
                while n := await deliver_due(database, settings):
                    mailed += n
                typer.echo(
                    f"decided {total} posts; refreshed related lists of {refreshed} items; "
                    f"handled {mailed} queued messages"
                )
            else:
                await worker.run(stop)
        finally:
            for task in tasks:
                task.cancel()
            await database.dispose()

    asyncio.run(main())


def _read_labelled(path: Path) -> list[tuple[str, int]]:
    rows: list[dict[str, Any]]
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    else:
        rows = [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    examples = []
    for i, row in enumerate(rows, 1):
        if "text" not in row or "label" not in row:
            raise typer.BadParameter(f"row {i} has no 'text' and 'label'")
        try:
            label = int(float(row["label"]))
        except (TypeError, ValueError):
            raise typer.BadParameter(f"row {i}: label {row['label']!r} is not 0 or 1") from None
        examples.append((str(row["text"]), 1 if label >= 1 else 0))
    return examples


@moderation_app.command()
def evaluate(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="JSON Lines or CSV with text and label (1 = dismissive).",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object only.")] = False,
    batch: Annotated[int, typer.Option(help="Posts per pipeline batch.")] = 32,
) -> None:
    """Run the pipeline over labelled posts; print n, ROC-AUC, precision, recall, F1."""
    import logging

    from moderation.metrics import summary
    from moderation.pipeline import Pipeline
    from moderation.signals import PostInput

    settings = Settings()
    examples = _read_labelled(file)
    if not examples:
        raise typer.BadParameter("the file has no examples")
    logging.getLogger("candor").setLevel(logging.ERROR if as_json else logging.INFO)
    pipeline = Pipeline.from_settings(settings)
    pipeline.load()
    scores: list[float] = []
    with typer.progressbar(length=len(examples), label="scoring", file=sys.stderr) as bar:
        for start in range(0, len(examples), batch):
            chunk = examples[start : start + batch]
            posts = [PostInput(post_id=start + i, text=t) for i, (t, _) in enumerate(chunk)]
            for outcome in pipeline.run(posts):
                assert outcome.decision is not None
                scores.append(outcome.decision.dismissive)
            bar.update(len(chunk))
    labels = [y for _, y in examples]
    result = summary(labels, scores, settings.dismissive_flag)
    if as_json:
        typer.echo(json.dumps(result))
        return
    failed = [s.stage.name for s in pipeline.states if not s.loaded]
    for key in ("n", "roc_auc", "precision", "recall", "f1", "threshold"):
        typer.echo(f"{key:>10}  {result[key]}")
    if failed:
        typer.echo(f"(stages not loaded: {', '.join(failed)})", err=True)


@moderation_app.command()
def train(
    extra: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="More labelled posts (JSON Lines or CSV with text and label), such as the "
            "file `candor moderation export-decisions` writes; split like the shipped data.",
        ),
    ] = None,
) -> None:
    """Rebuild the dismissiveness head from moderation/data (minutes on 2 CPU cores)."""
    from moderation.training import train as run_training

    settings = Settings()
    more = _read_labelled(extra) if extra is not None else []
    record = run_training(encoder_path=settings.encoder_path, progress=typer.echo, extra=more)
    typer.echo(f"saved head {record['version']} (threshold {record['threshold']:.3f}, "
               f"{record['seconds']['total']} s; {len(more)} extra examples)")  # fmt: skip
    for split, m in record["metrics"].items():
        typer.echo(f"{split:>6}: n={m['n']} roc_auc={m['roc_auc']} precision={m['precision']} "
                   f"recall={m['recall']} f1={m['f1']}")  # fmt: skip


def _parse_since(since: str | None) -> datetime | None:
    if not since:
        return None
    try:
        return datetime.combine(date.fromisoformat(since), datetime.min.time(), UTC)
    except ValueError:
        raise typer.BadParameter("--since takes a date such as 2026-01-31") from None


@moderation_app.command("export-decisions")
def export_decisions(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="The JSON Lines file to write.")],
    since: Annotated[
        str | None, typer.Option(help="Only decisions made on or after this date (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Write moderators' decisions on posts flagged or reported as dismissive as labelled
    examples (1 = acted on, 0 = approved as written), for `evaluate` and `train --extra`."""
    from forum.core.db import connect
    from forum.review.services import moderator_labels

    settings = Settings()
    cutoff = _parse_since(since)

    async def main() -> list[dict[str, object]]:
        database = connect(settings.database_url)
        try:
            async with database.sessionmaker() as session:
                return await moderator_labels(session, cutoff)
        finally:
            await database.dispose()

    rows = asyncio.run(main())
    with file.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    acted = sum(1 for r in rows if r["label"] == 1)
    approved = len(rows) - acted
    typer.echo(f"wrote {len(rows)} decisions to {file}: {acted} acted on, {approved} approved")


@moderation_app.command()
def recheck(
    since: Annotated[
        str | None, typer.Option(help="Only posts created on or after this date (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Score old posts again (after a model change), with a progress bar."""
    from sqlalchemy import func, select, update

    from forum.board.models import Post
    from forum.core.db import connect
    from moderation.pipeline import Pipeline
    from moderation.worker import Worker

    settings = Settings()
    cutoff = _parse_since(since)

    async def main() -> int:
        database = connect(settings.database_url)
        try:
            async with database.writing() as session:
                stmt = update(Post).where(Post.is_deleted.is_(False))
                if cutoff is not None:
                    stmt = stmt.where(Post.created_at >= cutoff)
                await session.execute(
                    stmt.values(
                        needs_scoring=True, mod_attempts=0, mod_lease_until=None, mod_claim=None
                    )
                )
                await session.commit()
                total = await session.scalar(
                    select(func.count(Post.id)).where(Post.needs_scoring.is_(True))
                )
            worker = Worker(settings, database, Pipeline.from_settings(settings))
            worker.pipeline.load()
            await worker.publish_status()
            done = 0
            with typer.progressbar(length=total or 0, label="re-scoring", file=sys.stderr) as bar:
                while n := await worker.run_once():
                    done += n
                    bar.update(n)
            return done
        finally:
            await database.dispose()

    typer.echo(f"re-scored {asyncio.run(main())} posts")
