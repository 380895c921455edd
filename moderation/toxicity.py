"""Stage 3: Detoxify toxicity scores (toxicity, insult, identity_attack, …).

Weights come from one of two places:
- the official checkpoint for `detoxify_model` ("unbiased" by default), which Detoxify downloads
  where a deployment can reach it;
- a local checkpoint file (`detoxify_checkpoint`) with a folder holding the matching Hugging Face
  config and tokenizer (`detoxify_hf_dir`). Detoxify only loads offline when the checkpoint's
  `model_type` names a local folder, so the checkpoint is re-pointed at that folder first.
Texts longer than the model's 512 tokens are scored in overlapping chunks and each label takes
its highest chunk score: a long post cannot hide an insult past the cut-off.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from moderation.normalise import for_model
from moderation.signals import PostInput, Signal, StageResult

STAGE = "toxicity"
MAX_TOKENS = 512
log = logging.getLogger("candor.toxicity")


def localise_checkpoint(checkpoint: str | Path, hf_dir: str | Path) -> Path:
    """A copy of `checkpoint` whose arch `model_type` points at the local `hf_dir`."""
    import torch

    loaded = torch.load(str(checkpoint), map_location="cpu", weights_only=False)
    if "config" not in loaded or "state_dict" not in loaded:
        raise ValueError(f"{checkpoint} is not a Detoxify checkpoint (no config/state_dict)")
    args = loaded["config"]["arch"]["args"]
    if Path(str(args.get("model_type", ""))).is_dir():
        return Path(checkpoint)
    args["model_type"] = str(Path(hf_dir).resolve())
    fd, name = tempfile.mkstemp(prefix="candor-detoxify-", suffix=".ckpt")
    os.close(fd)
    torch.save(loaded, name)
    return Path(name)


class ToxicityStage:
    name = STAGE

    def __init__(
        self,
        model_type: str = "unbiased",
        checkpoint: str | None = None,
        hf_dir: str | None = None,
        batch_size: int = 8,
    ) -> None:
        self.model_type = model_type
        self.checkpoint = checkpoint
        self.hf_dir = hf_dir
        self.batch_size = batch_size
        self.detox: Any = None

    @property
    def model(self) -> str:
        source = Path(self.checkpoint).name if self.checkpoint else self.model_type
        return f"detoxify:{source}"

    def load(self) -> None:
        if self.model_type == "off" and not self.checkpoint:
            raise RuntimeError("switched off in settings (CANDOR_DETOXIFY_MODEL=off)")
        import torch
        from detoxify import Detoxify

        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        if self.checkpoint:
            if not self.hf_dir:
                raise RuntimeError(
                    "a local Detoxify checkpoint needs CANDOR_DETOXIFY_HF_DIR: a folder with the "
                    "model's Hugging Face config.json and tokenizer files"
                )
            local = localise_checkpoint(self.checkpoint, self.hf_dir)
            try:
                self.detox = Detoxify(checkpoint=str(local), huggingface_config_path=self.hf_dir)
            finally:
                if local != Path(self.checkpoint):
                    local.unlink(missing_ok=True)
        else:
            try:
                self.detox = Detoxify(self.model_type)
            except Exception as exc:  # no network, unknown model, corrupt download
                raise RuntimeError(
                    f"could not load the official '{self.model_type}' weights ({exc}); set "
                    "CANDOR_DETOXIFY_CHECKPOINT and CANDOR_DETOXIFY_HF_DIR to load them from disk"
                ) from exc

    def chunks(self, text: str) -> list[str]:
        """Split `text` so that every piece fits the model, with a little overlap."""
        tokenizer = self.detox.tokenizer
        ids = tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]
        limit = MAX_TOKENS - 2
        if len(ids) <= limit:
            return [text]
        stride = limit - 64
        pieces = []
        for start in range(0, len(ids), stride):
            window = ids[start : start + limit]
            pieces.append(tokenizer.decode(window, skip_special_tokens=True))
            if start + limit >= len(ids):
                break
        return pieces

    def score(self, posts: list[PostInput]) -> list[StageResult]:
        assert self.detox is not None, "load() first"
        owners: list[int] = []
        pieces: list[str] = []
        for i, post in enumerate(posts):
            for piece in self.chunks(for_model(post.text)):
                owners.append(i)
                pieces.append(piece)
        # Pieces of like length share a batch, so little of a batch is padding.
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
        best: list[dict[str, float]] = [{} for _ in posts]
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            batch = [pieces[i] for i in chosen]
            out = self.detox.predict(batch)
            for j in range(len(batch)):
                owner = owners[chosen[j]]
                for label, values in out.items():
                    value = float(values[j] if isinstance(values, list) else values)
                    best[owner][label] = max(best[owner].get(label, 0.0), value)
        return [
            StageResult(STAGE, self.model, [Signal(STAGE, k, v) for k, v in sorted(b.items())])
            for b in best
        ]
