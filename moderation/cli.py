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
from dataclasses import dataclass
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
                profiles = 0
                while n := await worker.score_profiles():
                    profiles += n
                refreshed = 0
                while worker.related is not None and (n := await worker.related.run_once()):
                    refreshed += n
                mailed = 0
                while n := await deliver_due(database, settings):
                    mailed += n
                typer.echo(
                    f"decided {total} posts and {profiles} profiles; refreshed related lists of "
                    f"{refreshed} items; "
                    f"handled {mailed} queued messages"
                )
            else:
                await worker.run(stop)
        finally:
            for task in tasks:
                task.cancel()
            await database.dispose()

    asyncio.run(main())


@dataclass(frozen=True)
class Row:
    text: str
    label: int
    context: str = ""
    category: str = ""


def _read_labelled(path: Path) -> list[Row]:
    """Rows with `text` and `label` (1 = dismissive), and optionally `context` (what the post
    answers) and `category`, from JSON Lines or CSV."""
    rows: list[dict[str, Any]]
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    else:
        try:
            rows = [
                json.loads(line)
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()
            ]
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"{path} is not JSON Lines: {exc}") from None
    examples = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict) or "text" not in row or "label" not in row:
            raise typer.BadParameter(f"row {i} has no 'text' and 'label'")
        try:
            label = int(float(row["label"]))
        except (TypeError, ValueError):
            raise typer.BadParameter(f"row {i}: label {row['label']!r} is not 0 or 1") from None
        examples.append(
            Row(str(row["text"]), 1 if label >= 1 else 0, str(row.get("context") or ""),
                str(row.get("category") or ""))
        )  # fmt: skip
    return examples


@moderation_app.command()
def evaluate(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="JSON Lines or CSV with text and label (1 = dismissive), and optionally "
            "context (what the post answers) and category.",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object only.")] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="Also write a precision-recall curve and a calibration plot (PNG) here, and "
            "a table per category when rows have one.",
        ),
    ] = None,
    batch: Annotated[int, typer.Option(help="Posts per pipeline batch.", min=1)] = 32,
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
    probabilities: list[float] = []
    with typer.progressbar(length=len(examples), label="scoring", file=sys.stderr) as bar:
        for start in range(0, len(examples), batch):
            chunk = examples[start : start + batch]
            posts = [PostInput(post_id=start + i, text=r.text, context=r.context)
                     for i, r in enumerate(chunk)]  # fmt: skip
            for outcome in pipeline.run(posts):
                assert outcome.decision is not None
                scores.append(outcome.decision.dismissive)
                probability = outcome.scores.get("dismissive", {}).get("probability")
                if probability is not None:
                    probabilities.append(probability)
            bar.update(len(chunk))
    labels = [r.label for r in examples]
    result: dict[str, Any] = dict(summary(labels, scores, settings.dismissive_flag))
    failed = [s.stage.name for s in pipeline.states if not s.loaded]
    result["stages_not_loaded"] = failed
    if report is not None:
        from moderation.dismissive import DismissiveStage
        from moderation.report import write

        stage = next((s.stage for s in pipeline.states if isinstance(s.stage, DismissiveStage)
                      and s.loaded), None)  # fmt: skip
        prevalence = stage.record["calibration"]["prevalence"] if stage else None
        files = write(
            report, labels, scores, settings.dismissive_flag,
            probabilities if len(probabilities) == len(labels) else None, prevalence,
            [r.category for r in examples] if any(r.category for r in examples) else None,
        )  # fmt: skip
        result["report"] = [str(f) for f in files]
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key in ("n", "roc_auc", "precision", "recall", "f1", "threshold"):
        typer.echo(f"{key:>10}  {result[key]}")
    for path in result.get("report", []):
        typer.echo(f"wrote {path}")
    if failed:
        typer.echo(f"(stages not loaded: {', '.join(failed)})", err=True)


@moderation_app.command()
def train(
    extra: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="More labelled posts (JSON Lines or CSV with text, label and optionally "
            "context), such as the file `candor moderation export-decisions` writes; split "
            "like the shipped data.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(file_okay=False, help="Where to write the model (default: the shipped one)."),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(min=1, max=20, help="Passes over the data (default: the recipe's, 3)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seeds the head's first weights, dropout and the order of batches (default: "
            "the shipped recipe's); runs differ by about 0.01 ROC-AUC from seed to seed."
        ),
    ] = None,
    easy_keep: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="After the first epoch, the share of already-learnt examples trained on again "
            "(default 0.25; 1 trains on every example every epoch, a third slower).",
        ),
    ] = None,
) -> None:
    """Fine-tune the dismissiveness model on moderation/data (about 19 minutes on 2 cores)."""
    from moderation.dismissive import SHIPPED_MODEL
    from moderation.training import EASY_KEEP, EPOCHS, SEED
    from moderation.training import train as run_training

    settings = Settings()
    more = [(r.text, r.label, r.context) for r in _read_labelled(extra)] if extra else []
    record = run_training(
        out or SHIPPED_MODEL, settings.encoder_path, progress=typer.echo, extra=more,
        epochs=EPOCHS if epochs is None else epochs, seed=SEED if seed is None else seed,
        easy_keep=EASY_KEEP if easy_keep is None else easy_keep,
    )  # fmt: skip
    typer.echo(f"saved model {record['version']} ({record['seconds']} s; {len(more)} extra)")
    for name, figures in record["metrics"].items():
        typer.echo(f"{name:>30}: {figures}")
    for name, figures in record["thresholds"].items():
        typer.echo(f"{name:>30}: {figures}")


def _parse_since(since: str | None) -> datetime | None:
    if not since:
        return None
    try:
        return datetime.combine(date.fromisoformat(since), datetime.min.time(), UTC)
    except ValueError:
        raise typer.BadParameter("--since takes a date such as 2026-01-31") from None


async def _decisions(settings: Settings, since: datetime | None) -> list[dict[str, Any]]:
    from forum.core.db import connect
    from forum.review.services import moderator_labels

    database = connect(settings.database_url)
    try:
        async with database.sessionmaker() as session:
            return await moderator_labels(session, since)
    finally:
        await database.dispose()


@moderation_app.command()
def retrain(
    epochs: Annotated[
        int | None,
        typer.Option(min=1, max=20, help="Passes over the data (default: the recipe's, 3)."),
    ] = None,
) -> None:
    """Retrain on the shipped data plus moderators' decisions; use the new version only if it
    does at least as well on the fixed test split (the worker runs this on a schedule)."""
    from moderation.training import EPOCHS
    from moderation.training import retrain as run_retrain

    settings = Settings()
    rows = asyncio.run(_decisions(settings, None))
    extra = [(str(r["text"]), int(str(r["label"])), str(r.get("context") or "")) for r in rows]
    typer.echo(f"{len(extra)} moderators' decisions join the shipped data")
    result = run_retrain(
        settings, extra, progress=typer.echo, epochs=EPOCHS if epochs is None else epochs
    )
    verdict = "now in use" if result["promoted"] else "kept aside (the current model is better)"
    typer.echo(f"model {result['version']}: test ROC-AUC {result['candidate_auc']} against "
               f"{result['current_auc']}; {verdict}")  # fmt: skip


@moderation_app.command("models")
def list_models() -> None:
    """List the dismissiveness model's versions and their figures; * marks the one in use."""
    from moderation import registry

    for v in registry.versions(Settings()):
        test = v.figure("metrics", "test_balanced") or {}
        typer.echo(f"{'*' if v.active else ' '} {v.name:<20} {v.version:<18} "
                   f"trained {str(v.record.get('trained_at', '?'))[:10]}  test F1 "
                   f"{test.get('f1')} ROC-AUC {test.get('roc_auc')}")  # fmt: skip


@moderation_app.command("use")
def use_model(
    version: Annotated[str, typer.Argument(help="A name from `candor moderation models`.")],
) -> None:
    """Put a model version in use (roll back or forward); workers load it between batches."""
    from moderation import registry

    settings = Settings()
    if settings.dismissive_model_path:
        raise typer.BadParameter("CANDOR_DISMISSIVE_MODEL_PATH pins the model; unset it first.")
    try:
        chosen = registry.use(settings, version)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"model {chosen.version} is in use from the workers' next batch")


@moderation_app.command("export-decisions")
def export_decisions(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="The JSON Lines file to write.")],
    since: Annotated[
        str | None, typer.Option(help="Only decisions made on or after this date (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Write moderators' decisions on posts flagged or reported as dismissive as labelled
    examples (1 = acted on, 0 = approved as written), for `evaluate` and `train --extra`."""
    settings = Settings()
    rows = asyncio.run(_decisions(settings, _parse_since(since)))
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
