"""The Detoxify stage through Detoxify's own class, on a small checkpoint built here."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("detoxify")

from moderation.signals import PostInput  # noqa: E402
from moderation.toxicity import ToxicityStage, localise_checkpoint  # noqa: E402
from tests.support.tiny_detoxify import build  # noqa: E402

LABELS = {"toxicity", "severe_toxicity", "obscene", "identity_attack", "insult", "threat",
          "sexual_explicit"}  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build(tmp_path_factory.mktemp("detoxify"))


def test_local_checkpoint_loads_offline_and_scores(tiny: tuple[Path, Path]) -> None:
    checkpoint, hf_dir = tiny
    stage = ToxicityStage(checkpoint=str(checkpoint), hf_dir=str(hf_dir))
    stage.load()
    from detoxify import Detoxify

    assert isinstance(stage.detox, Detoxify)
    results = stage.score([PostInput(1, "you are an idiot"), PostInput(2, "thanks good work")])
    for result in results:
        scores = result.scores()
        assert set(scores) == LABELS
        assert all(0.0 <= v <= 1.0 for v in scores.values())
    # Different texts, different scores: the model really ran.
    raw = [[sig.score for sig in r.signals] for r in results]
    assert raw[0] != raw[1]
    assert stage.model == "detoxify:tiny-detoxify.ckpt"


def test_localise_checkpoint_points_model_type_at_the_folder(tiny: tuple[Path, Path]) -> None:
    import torch

    checkpoint, hf_dir = tiny
    local = localise_checkpoint(checkpoint, hf_dir)
    try:
        loaded = torch.load(str(local), map_location="cpu", weights_only=False)
        assert loaded["config"]["arch"]["args"]["model_type"] == str(hf_dir.resolve())
    finally:
        local.unlink()


def test_long_texts_are_scored_in_chunks_not_truncated(tiny: tuple[Path, Path]) -> None:
    checkpoint, hf_dir = tiny
    stage = ToxicityStage(checkpoint=str(checkpoint), hf_dir=str(hf_dir))
    stage.load()
    long_text = " ".join(["the team is good"] * 300) + " you are an idiot intern"
    pieces = stage.chunks(long_text)
    assert len(pieces) >= 3
    assert "idiot" in pieces[-1]  # the end of the post is scored, not cut off
    whole = stage.score([PostInput(1, long_text)])[0].scores()
    per_piece = [stage.score([PostInput(1, p)])[0].scores() for p in pieces]
    for label in LABELS:
        assert whole[label] == pytest.approx(max(p[label] for p in per_piece), abs=1e-4)


def test_a_batch_scores_each_post_as_if_it_were_alone(tiny: tuple[Path, Path]) -> None:
    """Pieces are batched by length, not by post: every score still goes to its own post."""
    checkpoint, hf_dir = tiny
    stage = ToxicityStage(checkpoint=str(checkpoint), hf_dir=str(hf_dir), batch_size=3)
    stage.load()
    texts = [
        " ".join(["the pilot went well"] * 200) + " you are an idiot intern",
        "thanks",
        "you are an idiot",
        "a medium length post about how our reverse mentoring pairs met every fortnight",
        "ok",
    ]
    together = stage.score([PostInput(n, t) for n, t in enumerate(texts)])
    for n, text in enumerate(texts):
        alone = stage.score([PostInput(n, text)])[0].scores()
        for label, value in together[n].scores().items():
            assert value == pytest.approx(alone[label], abs=1e-4), (n, label)


def test_missing_config_folder_is_a_clear_error(tiny: tuple[Path, Path]) -> None:
    stage = ToxicityStage(checkpoint=str(tiny[0]), hf_dir=None)
    with pytest.raises(RuntimeError, match="CANDOR_DETOXIFY_HF_DIR"):
        stage.load()


def test_official_weights_unreachable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch.hub

    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("no network here")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    stage = ToxicityStage(model_type="unbiased")
    with pytest.raises(RuntimeError, match="could not load the official 'unbiased' weights"):
        stage.load()
    with pytest.raises(RuntimeError, match="switched off"):
        ToxicityStage(model_type="off").load()
