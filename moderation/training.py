"""`candor moderation train`: fine-tune the pair model on the shipped data, calibrate it on the
dev split, choose its flag and hold thresholds at a realistic prevalence, and measure it on
the test split (which training never sees)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from moderation import dataset
from moderation.dismissive import SHIPPED_MODEL, Calibration, model_inputs
from moderation.encoder import ENCODER_NAME, encoder_path
from moderation.finetune import ANCHOR_DECAY, EASY_KEEP, EPOCHS, SEED, TOP_LAYERS
from moderation.metrics import best_threshold, roc_auc, summary
from moderation.signals import PostInput

# A few percent of a board's posts are put-downs: thresholds are chosen, and their precision
# stated, at this prevalence rather than at the training data's (about a third).
PREVALENCE = 0.03
# A flag puts a post in front of moderators (it stays public); a hold hides it until one
# decides. Each is the lowest threshold whose expected precision reaches its target and that
# flags at most FRANKNESS_MAX of the dev split's frank talk from juniors. A flag costs a
# moderator a look, a missed put-down costs a junior their voice: the flag's target is low
# (the dev split's negatives are hard ones by design, so a board's real queue is likely more
# precise than stated), and frankness, not precision, is what holds the flag up. The guard is
# the frankness target itself (2%): at 1.5% the same weights' flag sat higher and scored
# 0.02-0.05 less F1 on every blind workplace set, with the same blind frank talk flagged
# (docs/moderation.md, Figures).
FLAG_PRECISION = 0.3
HOLD_PRECISION = 0.9
FRANKNESS_MAX = 0.02
FRANK = "frankness"  # the category of juniors' frank talk upward in the shipped data
# Training posts of each label built by joining two training rows (see dataset.mixed), and
# copies of training rows typed with typos (dataset.misspelt).
MIXED = 600
MISSPELT = 300


def platt(logits: np.ndarray, labels: np.ndarray, steps: int = 100) -> tuple[float, float]:
    """p = sigmoid(a * logit + b), fitted by Newton's method on the log-loss, each step halved
    until the loss falls (a plain Newton step can overshoot when the classes separate well)."""
    x = logits.astype(np.float64)
    y = labels.astype(np.float64)

    def loss(a: float, b: float) -> float:
        z = a * x + b
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(a * x + b, -60, 60)))
        w = np.maximum(p * (1 - p), 1e-9)
        g = np.array([np.sum((p - y) * x), np.sum(p - y)])
        h = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
        step = np.linalg.solve(h + np.eye(2) * 1e-6, g)
        scale = 1.0
        while scale > 1e-6:
            na, nb = a - scale * float(step[0]), b - scale * float(step[1])
            trial = loss(na, nb)
            if trial <= current:
                break
            scale /= 2
        else:
            break
        done = current - trial < 1e-12
        a, b, current = na, nb, trial
        if done:
            break
    return a, b


def expected_figures(
    labels: Sequence[int], probs: Sequence[float], threshold: float, prevalence: float
) -> dict[str, float]:
    """Precision and recall a threshold would have at `prevalence`, from its true and false
    positive rates on labelled data."""
    pos = [p for p, y in zip(probs, labels, strict=True) if y == 1]
    neg = [p for p, y in zip(probs, labels, strict=True) if y == 0]
    tpr = sum(1 for p in pos if p >= threshold) / max(len(pos), 1)
    fpr = sum(1 for p in neg if p >= threshold) / max(len(neg), 1)
    flagged = tpr * prevalence + fpr * (1 - prevalence)
    precision = tpr * prevalence / flagged if flagged else 0.0
    return {"probability": round(threshold, 6), "expected_precision": round(precision, 4),
            "expected_recall": round(tpr, 4), "false_positive_rate": round(fpr, 5)}  # fmt: skip


def choose_threshold(
    labels: Sequence[int],
    probs: Sequence[float],
    target: float,
    prevalence: float,
    guarded: Sequence[float] = (),
    guard_max: float = 1.0,
) -> dict[str, float]:
    """The lowest threshold whose expected precision reaches `target` (the most recall that
    precision allows) and which passes at most `guard_max` of `guarded` (the scores of posts
    that must not be flagged: frank talk); the most precise one if none does."""

    def guard_ok(t: float) -> bool:
        return sum(1 for p in guarded if p >= t) <= guard_max * len(guarded)

    candidates = [t for t in sorted(set(probs)) if guard_ok(t)] or [max(probs)]
    figures = [expected_figures(labels, probs, t, prevalence) for t in candidates]
    reaching = [f for f in figures if f["expected_precision"] >= target and f["expected_recall"]]
    if reaching:
        return min(reaching, key=lambda f: f["probability"])
    return max(figures, key=lambda f: (f["expected_precision"], f["expected_recall"]))


Part = tuple[list[Any], list[int], list[dataset.Example]]


def _part(rows: Sequence[dataset.Example], name: str) -> Part:
    from moderation.finetune import Pair

    chosen = [e for e in rows if e.split == name]
    return [_pair(Pair, e) for e in chosen], [e.label for e in chosen], chosen


def _pair(pair: Any, e: dataset.Example) -> Any:
    """An example as the stage reads a post: its own words, with what it quotes (else what it
    answers) as the context, so training and scoring see the same inputs."""
    return pair(*model_inputs(PostInput(0, e.text, context=e.context)))


def measure(
    model: Any, dev_part: Part, test_part: Part, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Calibrate on the dev split, choose the flag and hold thresholds there, and measure on
    the test split: the record's `calibration`, `thresholds` and `metrics`."""
    progress("calibrating on the dev split")
    dev_logits = model.score(dev_part[0])
    dev_labels = np.asarray(dev_part[1])
    a, b = platt(dev_logits, dev_labels)
    dev_prevalence = float(dev_labels.mean()) if len(dev_labels) else 0.5
    record: dict[str, Any] = {
        "calibration": {
            "a": a,
            "b": b,
            "dev_prevalence": dev_prevalence,
            "prevalence": PREVALENCE,
        },  # fmt: skip
        "thresholds": {"flag": {"probability": 0.5}, "hold": {"probability": 0.9}},
    }
    calibration = Calibration(record, 0.5, 0.9)
    dev_probs = [calibration.probability(float(v)) for v in dev_logits]
    dev_frank = [p for p, e in zip(dev_probs, dev_part[2], strict=True) if e.category == FRANK]
    record["thresholds"] = {
        name: choose_threshold(
            dev_part[1], dev_probs, target, PREVALENCE, dev_frank, FRANKNESS_MAX
        )  # fmt: skip
        for name, target in (("flag", FLAG_PRECISION), ("hold", HOLD_PRECISION))
    }
    progress("measuring on the test split")
    test_probs = [calibration.probability(float(v)) for v in model.score(test_part[0])]
    # The balanced threshold: best F1 on dev, at the data's own prevalence.
    balanced = best_threshold(dev_part[1], dev_probs)
    flag_t = record["thresholds"]["flag"]["probability"]
    frank = [p for p, e in zip(test_probs + dev_probs, test_part[2] + dev_part[2], strict=True)
             if e.category == FRANK]  # fmt: skip

    def share(threshold: float) -> float:
        return round(sum(1 for p in frank if p >= threshold) / max(len(frank), 1), 4)

    record["metrics"] = {
        "test_balanced": summary(test_part[1], test_probs, balanced),
        "test_at_flag": summary(test_part[1], test_probs, flag_t),
        "test_at_flag_expected": expected_figures(test_part[1], test_probs, flag_t, PREVALENCE),
        "dev_balanced": summary(dev_part[1], dev_probs, balanced),
        "frankness_false_positive_rate": {
            "n": len(frank), "at_flag": share(flag_t), "at_balanced": share(balanced),
        },
    }  # fmt: skip
    return record


def recalibrate(
    folder: Path,
    out: Path,
    base_path: str | None = None,
    examples: Sequence[dataset.Example] | None = None,
) -> dict[str, Any]:
    """Calibrate and measure a saved model again on the shipped data with today's scoring
    rules, into `out` (its weights copied unchanged). A new folder, because the rules are part
    of the version: the old folder still scores as it was measured, and can be rolled back to."""
    import json
    import shutil

    from moderation import finetune

    model, record = finetune.load(folder, str(encoder_path(base_path)))
    model.plain_margin = finetune.PLAIN_MARGIN
    model.context_weight = finetune.CONTEXT_WEIGHT
    rows = list(examples if examples is not None else dataset.build())
    record.update(measure(model, _part(rows, "dev"), _part(rows, "test")))
    record.pop("context_rule", None)  # (an older record's rule: the weight replaces it)
    record["plain_margin"], record["context_weight"] = model.plain_margin, model.context_weight
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "weights.safetensors", out / "weights.safetensors")
    record["version"] = finetune.version_of(
        model, out / "weights.safetensors",
        {k: record[k] for k in ("calibration", "thresholds", "plain_margin", "context_weight")},
    )  # fmt: skip
    (out / "model.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def train(
    out: Path = SHIPPED_MODEL,
    base_path: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
    extra: Sequence[tuple[str, int, str]] = (),
    examples: Sequence[dataset.Example] | None = None,
    epochs: int = EPOCHS,
    top_layers: int = TOP_LAYERS,
    lr: float = 3e-4,
    mixed: int = MIXED,
    pooling: str | None = None,
    misspelt: int = MISSPELT,
    seed: int = SEED,
    easy_keep: float = EASY_KEEP,
    anchor_decay: float = ANCHOR_DECAY,
) -> dict[str, Any]:
    """Train on the shipped data (or `examples`) plus `extra` (text, label, context) rows,
    such as moderators' decisions; those are split by the same seeded text hash, so a post
    lands in the same split every time and the test split stays held out from training.
    `mixed` training posts of each label join two training rows (`dataset.mixed`), and
    `misspelt` more copy training rows with typos (`dataset.misspelt`)."""
    from moderation import finetune

    started = time.perf_counter()
    rows = list(examples if examples is not None else dataset.build())
    rows += [dataset.labelled(t, y, "moderator", c) for t, y, c in extra]
    joined, typed = dataset.mixed(rows, mixed), dataset.misspelt(rows, misspelt)
    rows += joined + typed

    train_part, dev_part, test_part = (_part(rows, name) for name in ("train", "dev", "test"))
    sizes = f"{len(train_part[0])} training, {len(dev_part[0])} dev, {len(test_part[0])} test"
    progress(f"{sizes} examples; fine-tuning {ENCODER_NAME}'s top {top_layers} layers")
    model = finetune.PairModel(
        str(encoder_path(base_path)),
        seed=seed,
        top_layers=top_layers,
        pooling=pooling or finetune.POOLING,
    )
    history = finetune.fit(
        model, train_part[:2], dev_part[:2], epochs=epochs, lr=lr, progress=progress, seed=seed,
        easy_keep=easy_keep, anchor_decay=anchor_decay, score=lambda y, s: roc_auc(y, s) or 0.0,
    )  # fmt: skip
    record = measure(model, dev_part, test_part, progress)
    record.update({
        "encoder": ENCODER_NAME,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training": {**history, "seed": seed, "easy_keep": easy_keep,
                     "anchor_decay": anchor_decay},
        "examples": {"train": len(train_part[0]), "dev": len(dev_part[0]),
                     "test": len(test_part[0]), "extra": len(extra), "mixed": len(joined),
                     "misspelt": len(typed)},
        "seconds": round(time.perf_counter() - started, 1),
    })  # fmt: skip
    return finetune.save(model, out, record)


def fixed_test_auc(
    folder: Path, base_path: str | None = None, rows: Sequence[dataset.Example] | None = None
) -> float:
    """A model's ROC-AUC on the shipped data's test split: the fixed yardstick every version
    is compared on (moderators' examples never enter it)."""
    from moderation import finetune

    model, _record = finetune.load(folder, str(encoder_path(base_path)))
    if rows is None:
        rows = [e for e in dataset.build() if e.split == "test"]
    logits = model.score([_pair(finetune.Pair, e) for e in rows])
    return float(roc_auc([e.label for e in rows], logits.tolist()) or 0.0)


def retrain(
    settings: Any,
    extra: Sequence[tuple[str, int, str]],
    progress: Callable[[str], None] = lambda _: None,
    epochs: int = EPOCHS,
    examples: Sequence[dataset.Example] | None = None,
) -> dict[str, Any]:
    """Train a candidate on the shipped data (or `examples`) plus `extra` into the models
    folder and put it in use only if it does at least as well as the current model on the
    fixed test split (the test rows of that data)."""
    import shutil

    from moderation import registry

    folder = registry.models_dir(settings)
    staging = folder / f"candidate-{int(time.time())}"
    record = train(staging, settings.encoder_path, progress, extra, examples, epochs=epochs)
    target = folder / record["version"]
    if target.exists():
        shutil.rmtree(staging)
    else:
        staging.rename(target)
    current = registry.active_path(settings)
    progress(f"comparing {record['version']} with the model in use on the fixed test split")
    fixed = [e for e in examples if e.split == "test"] if examples is not None else None
    candidate_auc = fixed_test_auc(target, settings.encoder_path, fixed)
    current_auc = fixed_test_auc(current, settings.encoder_path, fixed)
    promoted = candidate_auc >= current_auc
    if promoted:
        registry.use(settings, target.name)
    return {"version": record["version"], "candidate_auc": round(candidate_auc, 4),
            "current_auc": round(current_auc, 4), "promoted": promoted}  # fmt: skip
