"""Stage 2: a trained head over sentence embeddings that scores condescension toward juniors.

Features: the post's all-MiniLM-L6-v2 embedding and the cue stage's score. The head is a
logistic regression trained by `candor moderation train` on moderation/data/dismissive.jsonl;
its weights, threshold and test figures live in moderation/models/dismissive_head.json.
Thread context (who answers whom) is applied by the policy, not here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moderation import cues
from moderation.encoder import ENCODER_NAME, embed
from moderation.signals import PostInput, Signal, StageResult

STAGE = "dismissive"
DEFAULT_HEAD = Path(__file__).resolve().parent / "models" / "dismissive_head.json"


@dataclass
class Head:
    weights: np.ndarray
    bias: float
    threshold: float
    version: str
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: Path | str | None = None) -> Head:
        data = json.loads(Path(path or DEFAULT_HEAD).read_text())
        return cls(
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            version=str(data["version"]),
            meta=data,
        )

    def predict(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(features @ self.weights + self.bias)))


def features(texts: list[str], encoder_path: str | None = None) -> np.ndarray:
    vectors = embed(texts, encoder_path)
    cue_scores = np.asarray(
        [[cues.combine(c.score for c in cues.find_cues(t))] for t in texts], dtype=np.float32
    )
    return np.hstack([vectors, cue_scores])


def train_head(
    x: np.ndarray,
    y: np.ndarray,
    l2: float = 1e-3,
    steps: int = 3000,
    lr: float = 0.05,
    seed: int = 7,
) -> tuple[np.ndarray, float]:
    """Logistic regression by full-batch Adam; classes weighted to balance."""
    rng = np.random.default_rng(seed)
    w = np.asarray(rng.normal(0, 0.01, x.shape[1]), dtype=np.float64)
    b = 0.0
    pos = max(y.mean(), 1e-6)
    sample_w = np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos))
    m_w = np.zeros_like(w)
    v_w = np.zeros_like(w)
    m_b = v_b = 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        err = (p - y) * sample_w
        g_w = x.T @ err / len(y) + l2 * w
        g_b = float(err.mean())
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w**2
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b**2
        w -= lr * (m_w / (1 - beta1**t)) / (np.sqrt(v_w / (1 - beta2**t)) + eps)
        b -= lr * (m_b / (1 - beta1**t)) / (np.sqrt(v_b / (1 - beta2**t)) + eps)
    return w.astype(np.float32), float(b)


def head_version(weights: np.ndarray, bias: float) -> str:
    digest = hashlib.sha256(weights.tobytes() + str(bias).encode()).hexdigest()[:10]
    return f"head-{digest}"


class DismissiveStage:
    name = STAGE

    def __init__(self, head_path: str | None = None, encoder_path: str | None = None) -> None:
        self.head_path = head_path
        self.encoder_path = encoder_path
        self.head: Head | None = None

    @property
    def model(self) -> str:
        version = self.head.version if self.head else "?"
        return f"{ENCODER_NAME}+logreg@{version}"

    def load(self) -> None:
        self.head = Head.load(self.head_path)
        embed(["warm up"], self.encoder_path)  # fails here, not mid-batch, if it cannot load

    def score(self, posts: list[PostInput]) -> list[StageResult]:
        assert self.head is not None, "load() first"
        raw = self.head.predict(features([p.text for p in posts], self.encoder_path))
        # Calibrated so that the head's dev-tuned threshold sits at 0.5, where the policy's
        # `dismissive_flag` starts.
        t = min(max(self.head.threshold, 1e-6), 1 - 1e-6)
        shift = np.log(t / (1 - t))
        clipped = np.clip(raw, 1e-6, 1 - 1e-6)
        probs = 1 / (1 + np.exp(-(np.log(clipped / (1 - clipped)) - shift)))
        # The cue stage already records the matched phrases as evidence; this stage adds a score.
        return [
            StageResult(STAGE, self.model, [Signal(STAGE, "dismissive", float(prob))])
            for prob in probs
        ]
