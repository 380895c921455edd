"""`candor moderation train`: rebuild the dismissiveness head from the shipped data."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from moderation import dataset
from moderation.dismissive import DEFAULT_HEAD, features, head_version, train_head
from moderation.encoder import ENCODER_NAME
from moderation.metrics import best_threshold, roc_auc, summary


def train(
    out: Path = DEFAULT_HEAD,
    encoder_path: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
    extra: Sequence[tuple[str, int]] = (),
) -> dict[str, Any]:
    """Train the head on the shipped data plus `extra` (text, label) pairs, such as
    moderators' decisions; those are split by the same seeded text hash, so a post lands in
    the same split every time and the test split stays held out from training."""
    started = time.perf_counter()
    examples = dataset.load() + [dataset.labelled(t, y, "moderator") for t, y in extra]
    progress(f"embedding {len(examples)} examples with {ENCODER_NAME}")
    x = features([e.text for e in examples], encoder_path)
    y = np.asarray([e.label for e in examples], dtype=np.float64)
    split = np.asarray([e.split for e in examples])
    embed_seconds = time.perf_counter() - started
    progress("training the head")
    train_mask = split == "train"
    dev_mask = split == "dev"
    dev_labels = [int(v) for v in y[dev_mask]]
    # The L2 strength is chosen on the dev split (ROC-AUC); the test split stays untouched.
    candidates = []
    for l2 in (1e-3, 3e-3, 1e-2, 3e-2, 1e-1):
        w, b = train_head(x[train_mask].astype(np.float64), y[train_mask], l2=l2)
        dev_scores = [float(v) for v in 1 / (1 + np.exp(-(x[dev_mask] @ w + b)))]
        candidates.append((roc_auc(dev_labels, dev_scores) or 0.0, l2, w, b))
    _auc, l2, weights, bias = max(candidates, key=lambda c: c[0])

    def scores(mask: np.ndarray) -> list[float]:
        return [float(v) for v in 1 / (1 + np.exp(-(x[mask] @ weights + bias)))]

    threshold = float(best_threshold([int(v) for v in y[dev_mask]], scores(dev_mask)))
    metrics = {
        name: summary([int(v) for v in y[split == name]], scores(split == name), threshold)
        for name in ("train", "dev", "test")
    }
    record = {
        "version": head_version(weights, bias),
        "encoder": ENCODER_NAME,
        "features": ["embedding[384]", "cue_score"],
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "threshold": threshold,
        "l2": l2,
        "metrics": metrics,
        "seconds": {
            "embedding": round(embed_seconds, 1),
            "total": round(time.perf_counter() - started, 1),
        },
        "examples": {"shipped": len(examples) - len(extra), "extra": len(extra)},
        "bias": bias,
        "weights": [round(float(w), 6) for w in weights],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    return record
