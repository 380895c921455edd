"""Stage 2: how dismissive a post is of the person it answers, read with what it answers.

The model is all-MiniLM-L6-v2 fine-tuned as a classifier over (context, post) pairs
(moderation.finetune; trained by `candor moderation train`). A post's own words are scored;
what it quotes, else what it replies to or follows (PostInput.context), is the context. Its
record (model.json) carries the calibration fitted on the dev split and the flag and hold
thresholds chosen at a realistic prevalence, with their expected precision and recall; the
stage maps the calibrated probability so that those thresholds land on the policy's
`dismissive_flag` and `dismissive_hold`. Who answers whom (ranks and roles) is applied by the
policy on top.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from moderation.cues import stock_sentences
from moderation.encoder import ENCODER_NAME, encoder_path
from moderation.normalise import for_model
from moderation.signals import PostInput, Signal, StageResult, own_words

STAGE = "dismissive"
SHIPPED_MODEL = Path(__file__).resolve().parent / "models" / "dismissive"


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-min(max(x, -60.0), 60.0)))


class Calibration:
    """Raw logit -> probability at the deployment's prevalence -> the policy's scale."""

    def __init__(self, record: dict[str, Any], flag: float, hold: float) -> None:
        cal = record["calibration"]
        self.a, self.b = float(cal["a"]), float(cal["b"])
        # Platt's fit is at the dev split's prevalence; move it to the deployment's.
        self.shift = _logit(float(cal["prevalence"])) - _logit(float(cal["dev_prevalence"]))
        x_flag = _logit(float(record["thresholds"]["flag"]["probability"]))
        x_hold = _logit(float(record["thresholds"]["hold"]["probability"]))
        y_flag, y_hold = _logit(flag), _logit(hold)
        self.scale = (y_hold - y_flag) / (x_hold - x_flag) if x_hold > x_flag else 1.0
        self.offset = y_flag - self.scale * x_flag

    def probability(self, logit: float) -> float:
        """The model's probability that the post is a put-down, among a board's posts."""
        return _sigmoid(self.a * logit + self.b + self.shift)

    def policy_score(self, logit: float) -> float:
        return _sigmoid(self.scale * _logit(self.probability(logit)) + self.offset)


def model_inputs(post: PostInput) -> tuple[str, str]:
    """(context, text) as the model reads a post: its own words, with what it quotes (else
    what it answers) as the context; both with their disguises undone (look-alike letters,
    digits for letters, spaced-out words: moderation.normalise)."""
    quote, own = own_words(post.text)
    return for_model(quote or post.context), for_model(own or post.text)


class DismissiveStage:
    name = STAGE

    def __init__(
        self,
        model_path: str | None = None,
        base_path: str | None = None,
        flag: float = 0.5,
        hold: float = 0.9,
    ) -> None:
        self.model_path = Path(model_path) if model_path else SHIPPED_MODEL
        self.base_path = base_path
        self.flag, self.hold = flag, hold
        self.pairs: Any = None
        self.record: dict[str, Any] = {}
        self.calibration: Calibration | None = None

    @property
    def version(self) -> str:
        return str(self.record.get("version", "?"))

    @property
    def model(self) -> str:
        return f"{ENCODER_NAME}+pair@{self.version}"

    def load(self) -> None:
        from moderation import finetune

        self.pairs, self.record = finetune.load(self.model_path, str(encoder_path(self.base_path)))
        self.calibration = Calibration(self.record, self.flag, self.hold)
        self.pairs.logits([finetune.Pair("", "warm up")])  # fails here, not mid-batch

    def logits(
        self, posts: list[PostInput]
    ) -> tuple[list[float], dict[int, float], dict[int, float]]:
        """Each post's logit (read with its context); for the posts with a title, the title's
        read alone; for the posts in which the cues read a stock put-down stated directly, the
        highest of those sentences' read alone, without the post's context (index -> logit
        each): one pass of the model over all of them. Without it, because a context that
        already says the put-down (a link's address spelling it out, an earlier post) reads the
        reply as an echo of it, and the cues have already told a quote, a report, a question or
        advice against one from a put-down stated directly."""
        from moderation.finetune import Pair

        assert self.pairs is not None, "load() first"
        titled = [i for i, p in enumerate(posts) if p.title.strip()]
        inputs = [model_inputs(p) for p in posts]
        pairs = [Pair(*pair) for pair in inputs]
        pairs += [Pair("", for_model(posts[i].title)) for i in titled]
        # Padding (filler lines, a long table) can drown a put-down in the post's windows;
        # read alone, its sentence is what it is.
        stock = [(i, s) for i, p in enumerate(posts)
                 for s in stock_sentences(own_words(p.text)[1] or p.text)]  # fmt: skip
        pairs += [Pair("", for_model(s)) for _, s in stock]
        values = [float(v) for v in self.pairs.score(pairs)]
        n, t = len(posts), len(posts) + len(titled)
        sentences: dict[int, float] = {}
        for (i, _), value in zip(stock, values[t:], strict=True):
            sentences[i] = max(value, sentences.get(i, value))
        return values[:n], dict(zip(titled, values[n:t], strict=True)), sentences

    def score(self, posts: list[PostInput]) -> list[StageResult]:
        assert self.calibration is not None, "load() first"
        calibration = self.calibration
        logits, titles, sentences = self.logits(posts)
        results = []
        for i, logit in enumerate(logits):
            signals = [
                # On the policy's scale (its flag and hold thresholds) ...
                Signal(STAGE, "dismissive", calibration.policy_score(logit)),
                # ... and as the chance that a board post scored so is a put-down.
                Signal(STAGE, "probability", calibration.probability(logit)),
            ]
            if i in titles:  # the policy weighs it with the cues' reading of the title
                signals.append(Signal(STAGE, "title", calibration.policy_score(titles[i])))
            if i in sentences:  # a stock put-down's sentence, read alone (see logits)
                signals.append(Signal(STAGE, "sentence", calibration.policy_score(sentences[i])))
            results.append(StageResult(STAGE, self.model, signals))
        return results
