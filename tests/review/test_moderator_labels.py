"""Moderators' decisions become labelled examples for evaluating and retraining the
dismissiveness model (`candor moderation export-decisions`, `train --extra`)."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.models import Post
from forum.core.db import connect, utcnow
from forum.core.settings import Settings
from forum.review.models import ReviewItem
from forum.review.queue import open_item
from forum.review.services import decide, moderator_labels, report_post
from moderation import dataset, finetune, training
from moderation.dismissive import DismissiveStage
from moderation.encoder import encoder_path
from moderation.signals import DISMISSIVE, PostInput
from moderation.training import train
from tests.conftest import make_settings
from tests.helpers import make_category, make_thread, make_user, url


async def _decided_board(db: AsyncSession, settings: Settings) -> dict[str, int]:
    """Six posts: acted on, approved, reported as dismissive, reported as spam, still open,
    and edited by the moderator."""
    author = await make_user(db, settings, username="writer")
    reader = await make_user(db, settings, username="reader")
    mod = await make_user(db, settings, username="mod", role="moderator")
    category = await make_category(db)
    _thread, posts = await make_thread(db, settings, author, category, replies=5)
    names = ["hidden", "approved", "reported", "spam", "open", "edited"]
    ids = {name: post.id for name, post in zip(names, posts, strict=True)}
    for name in ("hidden", "approved", "open", "edited"):
        await open_item(db, ids[name], [DISMISSIVE], verdict="flag", priority=25)
    for name, reason in (("reported", "dismissive of juniors"), ("spam", "spam")):
        post = await db.get(Post, ids[name])
        assert post is not None
        await report_post(db, settings, reader, post, reason, "")
    await db.flush()
    items = {item.post_id: item for item in (await db.scalars(select(ReviewItem))).all()}
    for name, action, body in (("hidden", "hide", None), ("approved", "approve", None),
                               ("reported", "warn", None), ("spam", "hide", None),
                               ("edited", "edit_approve", "A kinder version of the reply.")):  # fmt: skip
        item = items[ids[name]]
        await decide(
            db, settings, mod, item.id, item.version, action, "Reason given.", body=body, url=url
        )
    await db.commit()
    return ids


async def test_decisions_on_dismissiveness_become_labels(
    db: AsyncSession, settings: Settings
) -> None:
    ids = await _decided_board(db, settings)
    rows = await moderator_labels(db)
    assert [(r["post_id"], r["label"], r["decision"]) for r in rows] == [
        (ids["hidden"], 1, "hide"),
        (ids["approved"], 0, "approve"),
        (ids["reported"], 1, "warn"),
    ]  # spam is another matter; the open item has no decision; an edit replaced the text
    post = await db.get(Post, ids["hidden"])
    assert post is not None and rows[0]["text"] == post.body_source
    assert await moderator_labels(db, since=utcnow() + timedelta(days=1)) == []


async def test_export_command_writes_what_evaluate_and_train_read(
    fresh_url: str, tmp_path: Path
) -> None:
    settings = make_settings(fresh_url)
    database = connect(fresh_url)
    async with database.sessionmaker() as s:
        await _decided_board(s, settings)
    await database.dispose()
    out = tmp_path / "decisions.jsonl"
    done = await _export(fresh_url, str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote 3 decisions" in done.stdout and "2 acted on, 1 approved" in done.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["label"] for r in rows] == [1, 0, 1] and all(r["text"] for r in rows)
    bad = await _export(fresh_url, str(out), "--since", "last week")
    assert bad.returncode == 2 and "--since takes a date" in bad.stderr


async def _export(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "forum.cli", "moderation", "export-decisions", *args]
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin", "CANDOR_SECRET_KEY": "k" * 32}
    return await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
    )


PUT_DOWNS = [
    "You're too junior to have a view on the rota.", "Come back when you've run a team.",
    "Cute idea. Leave the numbers to the grown-ups.", "Kids these days want a medal for turning up.",
    "Not your place to comment, is it?", "Let someone with actual experience answer.",
]  # fmt: skip
FINE = [
    "Thanks, the rota change worked well for us.", "I disagree: the survey results say otherwise.",
    "My manager told me I was too junior to present; how do I answer?",
    "Never tell a graduate they are too green to have a view.",
    "Our junior mentor's feedback changed how the board runs meetings.",
    "Could we share the agenda before each session?",
]  # fmt: skip


def _fixture() -> list[dataset.Example]:
    rows = []
    for split in ("train", "dev", "test"):
        for n, (bad, good) in enumerate(zip(PUT_DOWNS, FINE, strict=True)):
            context = "I'd like to propose a new rota." if n % 2 else ""
            rows.append(dataset.Example(f"{bad} ({split})", 1, split, f"b{split}{n}", "fixture",
                                        context, "put-down"))  # fmt: skip
            rows.append(dataset.Example(f"{good} ({split})", 0, split, f"g{split}{n}", "fixture",
                                        context, "fine"))  # fmt: skip
    return rows


def safe_open_keys(path: Path) -> list[str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return list(f.keys())


def test_training_on_a_small_fixture_end_to_end(tmp_path: Path) -> None:
    """Fine-tuning, calibration, thresholds and the stored model, on 36 examples in one
    epoch (the shipped model is trained on thousands: `candor moderation train`)."""
    extra = [
        ("Honestly you're too junior to have a view on the rota, leave it to us.", 1, "A idea"),
        ("Our mentee's feedback changed how the board runs meetings.", 0, ""),
    ]
    out = tmp_path / "model"
    record = train(out=out, examples=_fixture(), extra=extra, epochs=1)
    assert record["examples"]["extra"] == 2
    assert record["training"]["seed"] == finetune.SEED  # recorded, so a run can be repeated
    assert record["training"]["easy_keep"] == finetune.EASY_KEEP
    assert record["training"]["anchor_decay"] == finetune.ANCHOR_DECAY
    assert record["top_layers"] == finetune.TOP_LAYERS
    # The fixture, the two extra rows, and copies of training rows typed with typos.
    added = record["examples"]["mixed"] + record["examples"]["misspelt"]
    assert record["examples"]["misspelt"] > 0
    assert sum(record["examples"][s] for s in ("train", "dev", "test")) == 36 + 2 + added
    weights = out / "weights.safetensors"
    assert weights.stat().st_size < 15_000_000  # the repository's budget per model
    saved = json.loads((out / "model.json").read_text())
    assert saved["version"] == record["version"] and saved["version"].startswith("pair-")
    # Attention pooling's scorer is stored with the layers and head; a record that names no
    # pooling (written before it existed) loads as the mean.
    assert saved["pooling"] == "attention"
    assert {"attend.weight", "head.weight"} <= set(safe_open_keys(weights))
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "weights.safetensors").write_bytes(weights.read_bytes())
    (legacy / "model.json").write_text(
        json.dumps(
            {
                k: v
                for k, v in saved.items()
                if k not in ("pooling", "plain_margin", "context_weight")
            }
        )  # fmt: skip
    )
    old = finetune.load(legacy, str(encoder_path(None)))[0]
    assert old.pooling == "mean"
    # The scoring rule (how context is read, and its margin) travels with the model whose
    # thresholds were chosen with it; the same weights read by another rule are another version.
    assert saved["plain_margin"] == finetune.PLAIN_MARGIN
    assert old.plain_margin == finetune.OLD_PLAIN_MARGIN != finetune.PLAIN_MARGIN
    # Records written before the weight existed name a rule: "mean" (0.5), the default.
    assert saved["context_weight"] == finetune.CONTEXT_WEIGHT != finetune.OLD_CONTEXT_WEIGHT
    assert old.context_weight == finetune.OLD_CONTEXT_WEIGHT == 0.5
    assert finetune.version_of(old, weights) != saved["version"]  # (another weight)
    old.context_weight, old.plain_margin = finetune.CONTEXT_WEIGHT, finetune.PLAIN_MARGIN
    assert finetune.version_of(old, weights) == saved["version"]  # (the same rule)
    for rule, weight in (("mean", 0.5), ("highest", 1.0)):
        assert finetune.context_weight({"context_rule": rule}) == weight
    (legacy / "model.json").write_text(
        json.dumps({k: v for k, v in saved.items() if k != "context_weight"}
                   | {"context_rule": "newest"})
    )  # fmt: skip
    with pytest.raises(ValueError, match="unknown context rule"):
        finetune.load(legacy, str(encoder_path(None)))
    (legacy / "model.json").write_text(json.dumps({**saved, "context_weight": 1.5}))
    with pytest.raises(ValueError, match="not between 0 and 1"):
        finetune.load(legacy, str(encoder_path(None)))
    # Calibrating again writes a new folder and version; the old one still scores as measured.
    again = training.recalibrate(out, tmp_path / "again", examples=_fixture())
    assert again["version"] != saved["version"]
    assert (tmp_path / "again" / "weights.safetensors").read_bytes() == weights.read_bytes()
    assert json.loads((out / "model.json").read_text()) == saved
    # Another seed starts the head elsewhere and shuffles otherwise: other weights, other version.
    other = train(out=tmp_path / "other", examples=_fixture(), extra=extra, epochs=1, seed=8)
    assert other["training"]["seed"] == 8 and other["version"] != saved["version"]
    flag, hold = saved["thresholds"]["flag"], saved["thresholds"]["hold"]
    assert 0 <= flag["probability"] <= 1 and 0 <= hold["expected_precision"] <= 1
    assert saved["metrics"]["test_balanced"]["n"] >= 12
    # The stage loads what was written and scores (context, post) pairs on the policy's scale.
    stage = DismissiveStage(str(out))
    stage.load()
    (result,) = stage.score([PostInput(1, "Leave it to the grown-ups.", context="My idea.")])
    assert result.model.endswith(record["version"])
    scores = result.scores()
    assert 0 <= scores["dismissive"] <= 1 and 0 <= scores["probability"] <= 1


def test_training_keeps_the_best_on_dev_of_its_epochs_and_their_means() -> None:
    """After the epochs, the mean of the last ones' weights is tried as well; whichever of
    them all scores best on dev is what the model holds when training ends."""
    from moderation.metrics import roc_auc
    from moderation.training import _part

    rows = _fixture()
    train_part, dev_part = _part(rows, "train"), _part(rows, "dev")
    model = finetune.PairModel(str(encoder_path(None)), top_layers=1)
    seen: list[str] = []

    def auc(y: list[int], s: list[float]) -> float:
        return roc_auc(y, s) or 0.0

    history = finetune.fit(
        model, train_part[:2], dev_part[:2], epochs=3, score=auc, progress=seen.append
    )
    assert len(history["epochs"]) == 3
    assert history["epochs"][0]["examples"] == len(train_part[0])
    assert all(e["examples"] <= len(train_part[0]) for e in history["epochs"])
    assert any(line.startswith("mean of epochs 2-3: dev") for line in seen)
    assert any(line.startswith("mean of epochs 1-3: dev") for line in seen)
    kept = auc(dev_part[1], model.logits(dev_part[0]).tolist())
    assert kept >= max(e["dev"] for e in history["epochs"]) - 1e-3  # history is rounded
    averaged = history["averaged_epochs"]
    assert averaged in ([], [2, 3], [1, 2, 3])
    assert history["best_epoch"] == (3 if averaged else max(
        history["epochs"], key=lambda e: e["dev"])["epoch"])  # fmt: skip


def test_the_trained_layers_are_pulled_toward_where_they_started() -> None:
    """`anchor_decay` (L2-SP): after each step the top layers move back toward their starting
    (pretrained) weights in proportion to the learning rate, so the same training with a
    pull ends nearer them than without one; the head, which is not pulled, still trains."""
    from moderation.training import _part

    rows = _fixture()
    (pairs, labels, _), dev_part = _part(rows, "train"), _part(rows, "dev")
    train_part = (list(pairs) * 8, list(labels) * 8)  # a few batches per epoch
    moved = {}
    for decay in (0.0, 500.0):
        model = finetune.PairModel(str(encoder_path(None)), top_layers=1)
        start = {k: v.clone() for k, v in model.trainable().items()}
        calls = itertools.count()  # each later reading "scores better": the end state is kept
        finetune.fit(model, train_part, dev_part[:2], epochs=3, anchor_decay=decay, lr=1e-3,
                     easy_keep=1.0, score=lambda y, s, n=calls: float(next(n)))  # fmt: skip
        now = model.trainable()
        moved[decay] = {
            part: sum(float((now[k] - start[k]).float().norm() ** 2)
                      for k in now if k.startswith(part)) ** 0.5
            for part in ("layer.", "head.")
        }  # fmt: skip
    assert 0 < moved[500.0]["layer."] < moved[0.0]["layer."] / 2
    assert moved[500.0]["head."] > 0


def test_later_epochs_train_on_what_is_not_yet_learnt_and_a_share_of_the_rest() -> None:
    """`finetune.chosen`: an example never trained on or still wrong or unsure (loss at least
    EASY_LOSS) is always taken; of the learnt ones, about EASY_KEEP, drawn by the seed."""
    import random

    losses = [math.inf, finetune.EASY_LOSS, 2.5] + [0.01] * 4000
    taken = finetune.chosen(losses, random.Random(1))
    assert taken[:3] == [0, 1, 2]
    share = (len(taken) - 3) / 4000
    assert abs(share - finetune.EASY_KEEP) < 0.03
    assert taken == finetune.chosen(losses, random.Random(1))
    assert taken != finetune.chosen(losses, random.Random(2))
    assert finetune.chosen([math.inf] * 5, random.Random(1)) == [0, 1, 2, 3, 4]


def test_how_a_model_reads_context_follows_its_weight_and_margin() -> None:
    """`PairModel.score` on fixed logits: the reading with the context weighted by the record's
    weight (1 takes it alone, 0.5 is the mean) and the plain reading the rest, floored at the
    plain logit less the margin."""

    class Fixed(finetune.PairModel):
        def __init__(self, rule: str | float, margin: float) -> None:  # no encoder needed
            weight = finetune.RULE_WEIGHTS[rule] if isinstance(rule, str) else rule
            self.context_weight, self.plain_margin = weight, margin

        def logits(self, pairs: Sequence[finetune.Pair]) -> np.ndarray:
            table = {("idea", "ok"): 3.0, ("", "ok"): -1.0,  # context raises "ok"
                     ("put-down", "me too"): -6.0, ("", "me too"): 1.0,  # context lowers
                     ("", "alone"): 0.5}  # fmt: skip
            return np.array([table[(p.context, p.text)] for p in pairs])

    pairs = [finetune.Pair("idea", "ok"), finetune.Pair("put-down", "me too"),
             finetune.Pair("", "alone")]  # fmt: skip
    assert Fixed("highest", 2.0).score(pairs).tolist() == [3.0, -1.0, 0.5]
    assert Fixed("mean", 2.0).score(pairs).tolist() == [1.0, -1.0, 0.5]
    assert Fixed("mean", 1.0).score(pairs).tolist() == [1.0, 0.0, 0.5]
    assert Fixed(0.75, 2.0).score(pairs).tolist() == [2.0, -1.0, 0.5]
    assert Fixed(0.75, 8.0).score(pairs).tolist() == [2.0, -4.25, 0.5]
