"""The dismissiveness training data: hand-written posts, split train/dev/test by a seeded hash.

`source_dismissive.txt` holds put-downs of junior colleagues (label 1); `source_negative.txt`
holds the hard negatives a forum for juniors must leave alone (label 0): juniors speaking of
themselves, people reporting a put-down they received, advice against condescension,
respectful disagreement, neutral mentions of age or seniority, seniors praising juniors, and
ordinary criticism of ideas. Each sentence also appears in two forum framings ("Re: …",
"@name …"), applied alike to both labels; a sentence and its framings always share a split, so
no test sentence is seen in training.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
DATASET = DATA_DIR / "dismissive.jsonl"
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
    source: str  # "hand-written", "framed" or "moderator"


def split_for(group: str) -> str:
    bucket = int(hashlib.sha256(f"{SEED}:{group}".encode()).hexdigest(), 16) % 1000 / 1000
    edge = 0.0
    for name, share in SPLITS:
        edge += share
        if bucket < edge:
            return name
    return SPLITS[-1][0]


def group_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def labelled(text: str, label: int, source: str) -> Example:
    """An example from elsewhere (a moderator's decision), split by the same seeded hash."""
    group = group_of(text.strip())
    return Example(text, label, split_for(group), group, source)


def build(framings_per_sentence: int = 2) -> list[Example]:
    rng = random.Random(SEED)
    examples: list[Example] = []
    for label, filename in ((1, "source_dismissive.txt"), (0, "source_negative.txt")):
        lines = [line.strip() for line in (DATA_DIR / filename).read_text().splitlines()]
        for line in filter(None, lines):
            group = group_of(line)
            split = split_for(group)
            examples.append(Example(line, label, split, group, "hand-written"))
            for framing in rng.sample(_FRAMINGS, framings_per_sentence):
                text = framing.format(s=line, name=rng.choice(_NAMES), topic=rng.choice(_TOPICS))
                examples.append(Example(text, label, split, group, "framed"))
    return examples


TEST_FILE = DATA_DIR / "test.jsonl"


def write(path: Path = DATASET, test_path: Path = TEST_FILE) -> list[Example]:
    """Write the dataset, and its test split alone in the `evaluate` format (text, label)."""
    examples = build()
    with path.open("w") as f:
        for e in examples:
            f.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
    with test_path.open("w") as f:
        for e in examples:
            if e.split == "test":
                f.write(json.dumps({"text": e.text, "label": e.label}, ensure_ascii=False) + "\n")
    return examples


def load(path: Path = DATASET) -> list[Example]:
    return [Example(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
