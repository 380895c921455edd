"""`candor moderation evaluate FILE --report DIR`: a precision-recall curve, a calibration plot
(PNG) and, when rows name a `category`, a table per category (Markdown)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moderation.metrics import prf, roc_auc


def _shift(p: float, from_prevalence: float, to_prevalence: float) -> float:
    """A probability stated at one prevalence, restated at another (Bayes on the odds)."""
    p = min(max(p, 1e-6), 1 - 1e-6)

    def logit(x: float) -> float:
        x = min(max(x, 1e-6), 1 - 1e-6)
        return math.log(x / (1 - x))

    return 1 / (1 + math.exp(-(logit(p) + logit(to_prevalence) - logit(from_prevalence))))


def pr_points(labels: Sequence[int], scores: Sequence[float]) -> list[tuple[float, float, float]]:
    """(threshold, precision, recall) at every distinct score, highest threshold first."""
    ranked = sorted(zip(scores, labels, strict=True), reverse=True)
    positives = sum(labels)
    points = []
    tp = fp = 0
    for i, (score, label) in enumerate(ranked):
        tp += label
        fp += 1 - label
        if i + 1 == len(ranked) or ranked[i + 1][0] != score:
            precision = tp / (tp + fp)
            recall = tp / positives if positives else 0.0
            points.append((score, precision, recall))
    return points


def calibration_bins(
    labels: Sequence[int], probs: Sequence[float], bins: int = 10
) -> list[tuple[float, float, int]]:
    """(mean predicted, observed share, count) per equal-width bin of predicted probability."""
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        chosen = [(p, y) for p, y in zip(probs, labels, strict=True)
                  if low <= p < high or (b == bins - 1 and p == 1.0)]  # fmt: skip
        if chosen:
            out.append((sum(p for p, _ in chosen) / len(chosen),
                        sum(y for _, y in chosen) / len(chosen), len(chosen)))  # fmt: skip
    return out


def category_table(
    labels: Sequence[int], scores: Sequence[float], categories: Sequence[str], threshold: float
) -> list[dict[str, Any]]:
    rows = []
    for name in sorted(set(categories)):
        idx = [i for i, c in enumerate(categories) if c == name]
        y = [labels[i] for i in idx]
        s = [scores[i] for i in idx]
        positives = sum(y)
        flagged = sum(1 for v in s if v >= threshold)
        row: dict[str, Any] = {"category": name, "n": len(idx), "positives": positives,
                               "flagged": flagged}  # fmt: skip
        if positives:
            row["recall"] = round(prf(y, s, threshold)["recall"], 3)
        if positives < len(idx):
            negatives = [v for v, lab in zip(s, y, strict=True) if lab == 0]
            row["false_positive_rate"] = round(
                sum(1 for v in negatives if v >= threshold) / len(negatives), 3
            )
        auc = roc_auc(y, s)
        if auc is not None:
            row["roc_auc"] = round(auc, 3)
        rows.append(row)
    return rows


def write(
    folder: Path,
    labels: Sequence[int],
    scores: Sequence[float],
    threshold: float,
    probabilities: Sequence[float] | None = None,
    prevalence: float | None = None,
    categories: Sequence[str] | None = None,
) -> list[Path]:
    """The report's files. `scores` are the policy's (flag at `threshold`); `probabilities`,
    when the model ran, are its calibrated probabilities at the deployment's `prevalence`,
    restated at this file's prevalence for the calibration plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    points = pr_points(labels, scores)
    at = prf(labels, scores, threshold)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    ax.plot([r for _, _, r in points], [p for _, p, _ in points], color="#1f5f8b")
    ax.scatter([at["recall"]], [at["precision"]], color="#c0392b", zorder=3,
               label=f"flag threshold {threshold:.2f}")  # fmt: skip
    auc = roc_auc(labels, scores)
    ax.set(xlabel="Recall", ylabel="Precision", xlim=(0, 1.02), ylim=(0, 1.02),
           title=f"Precision-recall (n={len(labels)}, ROC-AUC {auc or 0:.3f})")  # fmt: skip
    ax.legend(loc="lower left")
    fig.tight_layout()
    written.append(folder / "precision_recall.png")
    fig.savefig(written[-1])
    plt.close(fig)

    base = sum(labels) / len(labels) if labels else 0.0
    if probabilities is not None and prevalence and 0 < base < 1:
        probs = [_shift(p, prevalence, base) for p in probabilities]
        title = f"Calibration (restated at this file's prevalence, {base:.0%})"
    else:
        probs = list(scores)
        title = "Calibration of the policy score"
    bins = calibration_bins(labels, probs)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    ax.plot([0, 1], [0, 1], linestyle="--", color="#999999", label="perfect")
    ax.plot([m for m, _, _ in bins], [o for _, o, _ in bins], marker="o", color="#1f5f8b",
            label="observed")  # fmt: skip
    ax.set(xlabel="Predicted probability", ylabel="Observed share dismissive",
           xlim=(0, 1), ylim=(0, 1), title=title)  # fmt: skip
    ax.title.set_fontsize(9)
    ax.legend(loc="upper left")
    fig.tight_layout()
    written.append(folder / "calibration.png")
    fig.savefig(written[-1])
    plt.close(fig)

    if categories is not None and any(categories):
        table = category_table(labels, scores, categories, threshold)
        columns = ["category", "n", "positives", "flagged", "recall", "false_positive_rate",
                   "roc_auc"]  # fmt: skip
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in table]
        written.append(folder / "categories.md")
        written[-1].write_text("\n".join(lines) + "\n")
    return written
