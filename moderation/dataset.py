"""The dismissiveness training data, written for Candor, split train/dev/test by a seeded hash.

`corpus/*.jsonl` holds (context, post) rows: the post, what it answers (or none), the label
(1 = dismissive or condescending toward the person answered), the form it takes (`category`:
sarcasm, faint praise, credential-waving, silencing, generational, …; for negatives frankness,
disagreement, reported speech, advice against condescension, praise, …) and its register. The
`frankness` category is juniors' frank talk to seniors, which must never be flagged.
`contrastive.jsonl` pairs the same reply with two contexts, dismissive in one only.

`source_dismissive.txt` and `source_negative.txt` are the first, sentence-level set (each also
in two forum framings). Rows with the same post text share a group, and a group one split, so
no test post (nor its contrastive twin) is seen in training.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 20261123
SPLITS = (("train", 0.70), ("dev", 0.15), ("test", 0.15))

_NAMES = ["sam", "priya", "noah", "elena", "jordan", "aisha", "tomasz", "grace"]
_TOPICS = [
    "reverse mentoring pilot", "pairing mentors", "feedback upward", "first meeting",
    "programme evaluation", "graduate scheme", "all-hands Q&A", "mentoring agreement",
]  # fmt: skip
_FRAMINGS = [
    "Re: {topic}\n\n{s}",
    "{s} Just my two cents.",
    "@{name} {s}",
    "Replying to {name}: {s}",
    "{s}\n\nAnyway, that's my view.",
    "Quick thought on the {topic} thread. {s}",
    "{s} Thanks.",
    "Late to this discussion, but: {s}",
]


@dataclass(frozen=True)
class Example:
    text: str
    label: int
    split: str
    group: str
    source: str  # "hand-written", "framed", "corpus/<file>" or "moderator"
    context: str = ""
    category: str = ""


def split_for(group: str) -> str:
    bucket = int(hashlib.sha256(f"{SEED}:{group}".encode()).hexdigest(), 16) % 1000 / 1000
    edge = 0.0
    for name, share in SPLITS:
        edge += share
        if bucket < edge:
            return name
    return SPLITS[-1][0]


def group_of(text: str) -> str:
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()[:12]


def labelled(text: str, label: int, source: str, context: str = "") -> Example:
    """An example from elsewhere (a moderator's decision), split by the same seeded hash."""
    group = group_of(text.strip())
    return Example(text, label, split_for(group), group, source, context)


CORPUS_DIR = DATA_DIR / "corpus"


def corpus() -> list[Example]:
    examples = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            # Two replies to one parent comment (a respectful and a condescending one) share
            # its split, as the two contexts of one contrastive reply do by sharing its text.
            # A row may name its group outright: the replies to one shared context do, and
            # a put-down and its fair twin (subtle_twins.jsonl).
            paired = str(row.get("category", "")).startswith("pair_")
            group = group_of(
                row.get("group")
                or (row["context"] if paired and row.get("context") else row["text"])
            )
            examples.append(
                Example(
                    row["text"], int(row["label"]), split_for(group), group,
                    f"corpus/{path.stem}", row.get("context") or "", row.get("category", ""),
                )
            )  # fmt: skip
    return examples


def build(framings_per_sentence: int = 2) -> list[Example]:
    rng = random.Random(SEED)
    examples: list[Example] = corpus()
    for label, filename in ((1, "source_dismissive.txt"), (0, "source_negative.txt")):
        lines = [line.strip() for line in (DATA_DIR / filename).read_text().splitlines()]
        for line in filter(None, lines):
            group = group_of(line)
            split = split_for(group)
            examples.append(Example(line, label, split, group, "hand-written", "", "legacy"))
            for framing in rng.sample(_FRAMINGS, framings_per_sentence):
                text = framing.format(s=line, name=rng.choice(_NAMES), topic=rng.choice(_TOPICS))
                examples.append(Example(text, label, split, group, "framed", "", "legacy"))
    return examples


# Negatives that read as help: the body a put-down gets mixed into (see `mixed`).
HELPFUL = frozenset({
    "everyday", "praise", "explaining_kindly", "senior_guidance", "warm_mentoring",
    "polite_correction", "agreement_and_addition", "pair_respectful", "blunt_correction",
    "reasoned_disagreement", "respectful_disagreement", "agreement", "questions",
    "ordinary_disagreement", "disagreement", "everyday_help", "long_neutral",
})  # fmt: skip
MIXED_MAX_CHARS = 400


def mixed(examples: list[Example], count: int, seed: int = SEED) -> list[Example]:
    """Training posts that join two training rows, as long posts mix a put-down with help:
    a put-down before, after or inside a helpful reply is a put-down (label 1, with the
    put-down's context), and two ordinary rows joined are not (label 0). Built from the train
    split alone and kept in it, so nothing of dev or test leaks in; `count` of each label."""
    rng = random.Random(seed)
    train = [e for e in examples if e.split == "train" and len(e.text) <= MIXED_MAX_CHARS]
    putdowns = [e for e in train if e.label == 1]
    helpful = [e for e in train if e.label == 0 and e.category in HELPFUL]
    ordinary = [e for e in train if e.label == 0]
    if not putdowns or not helpful:
        return []
    out: list[Example] = []

    def add(parts: list[str], label: int, context: str) -> None:
        joiner = rng.choice([" ", "\n\n", "\n"])
        text = joiner.join(p.strip() for p in parts)
        group = group_of(text)
        out.append(Example(text, label, "train", group, "mixed", context, "mixed"))

    for _ in range(count):
        bad, help_ = rng.choice(putdowns), rng.choice(helpful)
        shape = rng.random()
        if shape < 0.45:
            add([bad.text, help_.text], 1, bad.context)
        elif shape < 0.8:
            add([help_.text, bad.text], 1, bad.context)
        else:
            first, second = rng.sample(helpful, 2) if len(helpful) > 1 else (help_, help_)
            add([first.text, bad.text, second.text], 1, bad.context)
    for _ in range(count):
        first, second = rng.choice(ordinary), rng.choice(helpful)
        parts = [first.text, second.text] if rng.random() < 0.5 else [second.text, first.text]
        add(parts, 0, first.context)
    return out


TEST_FILE = DATA_DIR / "test.jsonl"


def write(test_path: Path = TEST_FILE) -> list[Example]:
    """Write the test split alone in the `evaluate` format (text, label, context, category):
    `candor moderation evaluate moderation/data/test.jsonl --report DIR`."""
    examples = build()
    with test_path.open("w") as f:
        for e in examples:
            if e.split == "test":
                row = {"text": e.text, "label": e.label, "context": e.context,
                       "category": e.category or e.source}  # fmt: skip
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return examples
