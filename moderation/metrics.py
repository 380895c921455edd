"""Evaluation figures: ROC-AUC (Mann-Whitney, ties counted half) and precision/recall/F1."""

from __future__ import annotations

from collections.abc import Sequence


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    pairs = sorted(zip(scores, labels, strict=True))
    pos = sum(1 for y in labels if y == 1)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return None
    # Average ranks for ties, then the rank-sum statistic.
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        avg_rank = (i + j) / 2 + 1
        rank_sum += avg_rank * sum(1 for k in range(i, j + 1) if pairs[k][1] == 1)
        i = j + 1
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def prf(labels: Sequence[int], scores: Sequence[float], threshold: float) -> dict[str, float]:
    tp = sum(1 for y, s in zip(labels, scores, strict=True) if y == 1 and s >= threshold)
    fp = sum(1 for y, s in zip(labels, scores, strict=True) if y == 0 and s >= threshold)
    fn = sum(1 for y, s in zip(labels, scores, strict=True) if y == 1 and s < threshold)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def best_threshold(labels: Sequence[int], scores: Sequence[float]) -> float:
    """The threshold with the best F1 (ties: the higher threshold, fewer false flags)."""
    best = (0.5, -1.0)
    for t in sorted(set(round(s, 4) for s in scores)):
        f1 = prf(labels, scores, t)["f1"]
        if f1 >= best[1]:
            best = (t, f1)
    return best[0]


def summary(
    labels: Sequence[int], scores: Sequence[float], threshold: float
) -> dict[str, float | int | None]:
    auc = roc_auc(labels, scores)
    return {
        "n": len(labels),
        "roc_auc": None if auc is None else round(auc, 4),
        **{k: round(v, 4) for k, v in prf(labels, scores, threshold).items()},
        "threshold": round(threshold, 4),
    }
