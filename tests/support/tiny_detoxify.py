"""Build a small Detoxify checkpoint (random BERT weights) and its Hugging Face folder, the
way a deployment would keep real weights on disk, so tests run Detoxify's own loading code."""

from __future__ import annotations

from pathlib import Path

CLASSES = ["toxic", "severe_toxic", "obscene", "identity_hate", "insult", "threat",
           "sexual_explicit"]  # fmt: skip
WORDS = ["you", "are", "an", "idiot", "intern", "kid", "the", "team", "good", "work", "thanks",
         "junior", "too", "to", "understand", "this", "a", "of", "and", "is"]  # fmt: skip


def build(folder: Path, hidden: int = 32, layers: int = 2) -> tuple[Path, Path]:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    hf_dir = folder / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *[f"w{i}" for i in range(50)]]
    (hf_dir / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(str(hf_dir / "vocab.txt"), model_max_length=512)
    tokenizer.save_pretrained(str(hf_dir))
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=hidden * 2, max_position_embeddings=512, num_labels=len(CLASSES),
    )  # fmt: skip
    config.save_pretrained(str(hf_dir))
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    checkpoint = folder / "tiny-detoxify.ckpt"
    torch.save(
        {
            "config": {
                # As in Detoxify's released checkpoints: a hub name, not a local folder.
                "arch": {
                    "args": {
                        "model_type": "bert-base-uncased",
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(CLASSES),
                    }
                },  # fmt: skip
                "dataset": {"args": {"classes": CLASSES}},
            },
            "state_dict": model.state_dict(),
        },
        checkpoint,
    )
    return checkpoint, hf_dir
