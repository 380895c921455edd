"""The classifier pipeline: stages in order of cost, each scoring a batch of posts.

A stage that cannot load says why (log and stage_status table) and the others still run; the
post's result then lists the failed stage and is re-scored once the stage loads. No stage
makes up scores.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from forum.core.settings import Settings
from moderation import cues
from moderation.normalise import for_model
from moderation.policy import Decision, decide
from moderation.signals import PostInput, Signal, StageResult

log = logging.getLogger("candor.pipeline")


class Stage(Protocol):
    name: str

    @property
    def model(self) -> str: ...

    def load(self) -> None: ...

    def score(self, posts: list[PostInput]) -> list[StageResult]: ...


class CueStage:
    name = cues.STAGE
    model = cues.VERSION

    def load(self) -> None:
        return None

    def score(self, posts: list[PostInput]) -> list[StageResult]:
        results = []
        for p in posts:
            signals = cues.score(p.text, p.watched_phrases)
            # The cues read what was written (their evidence marks it) and, as the models do,
            # the text with the disguises that change its length undone: a lone hashtag
            # ("#TooJuniorToGetThis"), a word stretched or misspelt, text-speak. The higher
            # reading counts (a probe's hashtag passed both the cues and the model).
            read = cues.reading(for_model(p.text))
            if read > signals[0].score:
                signals[0].score = read
            if p.title.strip():  # the title alone, for the policy to weigh with the model's
                title = next(s for s in cues.score(p.title, ()) if s.label == "dismissive")
                signals.append(Signal(self.name, "title", title.score))
            results.append(StageResult(self.name, self.model, signals))
        return results


@dataclass
class StageState:
    stage: Stage
    loaded: bool = False
    detail: str = ""


@dataclass
class Outcome:
    post: PostInput
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    # Each stage's scoring time for this post: the batch's time over its size (seconds).
    seconds: dict[str, float] = field(default_factory=dict)
    decision: Decision | None = None

    @property
    def complete(self) -> bool:
        return not self.failed


class Pipeline:
    def __init__(self, settings: Settings, stages: list[Stage]) -> None:
        self.settings = settings
        self.states = [StageState(s) for s in stages]

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        from moderation.dismissive import DismissiveStage
        from moderation.language import LanguageStage
        from moderation.toxicity import ToxicityStage

        return cls(
            settings,
            [
                CueStage(),
                LanguageStage(),
                DismissiveStage(
                    settings.dismissive_model_path,
                    settings.encoder_path,
                    settings.dismissive_flag,
                    settings.dismissive_hold,
                ),
                ToxicityStage(
                    settings.detoxify_model, settings.detoxify_checkpoint, settings.detoxify_hf_dir
                ),
            ],
        )

    def load(self) -> None:
        for state in self.states:
            self.load_stage(state)

    def load_stage(self, state: StageState) -> None:
        try:
            state.stage.load()
        except Exception as exc:
            state.loaded = False
            state.detail = f"{type(exc).__name__}: {exc}"[:1000]
            log.error("moderation stage %r did not load: %s", state.stage.name, state.detail)
        else:
            state.loaded = True
            state.detail = "loaded"
            log.info("moderation stage %r loaded: %s", state.stage.name, state.stage.model)

    @property
    def all_loaded(self) -> bool:
        return all(s.loaded for s in self.states)

    def run(self, posts: list[PostInput]) -> list[Outcome]:
        outcomes = [Outcome(p) for p in posts]
        for state in self.states:
            name = state.stage.name
            if not state.loaded:
                for o in outcomes:
                    o.failed[name] = state.detail or "not loaded"
                continue
            started = time.perf_counter()
            try:
                results = state.stage.score(posts)
            except Exception as exc:  # a stage that breaks mid-run fails for this batch only
                log.exception("moderation stage %r failed on a batch", name)
                for o in outcomes:
                    o.failed[name] = f"failed while scoring: {type(exc).__name__}: {exc}"[:1000]
                continue
            share = (time.perf_counter() - started) / max(len(posts), 1)
            for outcome, result in zip(outcomes, results, strict=True):
                outcome.seconds[name] = share
                outcome.scores[name] = result.scores()
                outcome.models[name] = result.model
                for signal in result.signals:
                    outcome.evidence.extend(e.as_dict() for e in signal.evidence)
        for o in outcomes:
            o.evidence = _dedupe(o.evidence)
            o.decision = decide(o.scores, o.post, self.settings)
        return outcomes


def _dedupe(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = set()
    unique = []
    for e in evidence:
        key = (e["label"], e["start"], e["end"])
        if key not in seen:
            seen.add(key)
            unique.append(e)
    return unique
