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
import re
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
# Short friendly or neutral sentences a post may open or close with. A put-down padded with
# one is still a put-down (members found that "... Thanks so much for sharing!" after one
# carried it past the model), and an ordinary post padded with one is still ordinary, so the
# model learns the padding means nothing either way. Written for Candor.
PLEASANTRIES = (
    "Thanks so much for sharing!", "Thanks for posting this.", "Hope that helps.",
    "Good luck with it!", "Just my two cents.", "Twenty years in HR.", "Cheers, Mark",
    "Best, D.", "Have a great weekend, everyone :)", "Anyway, interesting thread.",
    "Sent from my phone, excuse typos.", "Happy to chat more offline.", "Take care.",
    "No offence meant.", "Hope you're all well.", "Great question, by the way.",
    "Love this community.", "Appreciate everyone's input here.", "Keep us posted!",
    "Thanks in advance.", "Kind regards, Janet (HR Director)", "Just saying.",
    "Interesting times.", "Food for thought.", "Really enjoyed reading the replies.",
    "Hi all,", "Morning everyone.", "Good question.", "Quick one from me.",
    "Thanks for the tag, @sam.", "Welcome to the board, by the way!", "Hope this is useful.",
    "Well done for starting the thread.", "All the best with the programme.", "x",
    "Ha, classic Monday.", "Rant over.", "Just my experience, yours may differ.",
    "Speaking as a mentor of many years.", "Have a good one!",
)  # fmt: skip


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
        if shape < 0.2:
            add([bad.text, rng.choice(PLEASANTRIES)], 1, bad.context)
        elif shape < 0.3:
            add([rng.choice(PLEASANTRIES), bad.text], 1, bad.context)
        elif shape < 0.6:
            add([bad.text, help_.text], 1, bad.context)
        elif shape < 0.85:
            add([help_.text, bad.text], 1, bad.context)
        else:
            first, second = rng.sample(helpful, 2) if len(helpful) > 1 else (help_, help_)
            add([first.text, bad.text, second.text], 1, bad.context)
    for _ in range(count):
        first, second = rng.choice(ordinary), rng.choice(helpful)
        if rng.random() < 0.3:
            padding = rng.choice(PLEASANTRIES)
            parts = [first.text, padding] if rng.random() < 0.65 else [padding, first.text]
        else:
            parts = [first.text, second.text] if rng.random() < 0.5 else [second.text, first.text]
        add(parts, 0, first.context)
    return out


def misspell(text: str, rng: random.Random, rate: float) -> str:
    """`text` as it might be typed in a hurry: about `rate` of its longer words with two
    letters swapped, one dropped, doubled or replaced; sometimes all lower case, without
    apostrophes or the closing full stop."""

    def typo(word: str) -> str:
        if len(word) < 3 or not word.isalpha() or rng.random() >= rate:
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.random()
        if kind < 0.35:
            return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
        if kind < 0.6:
            return word[:i] + word[i + 1 :]
        if kind < 0.8:
            return word[:i] + word[i] + word[i:]
        return word[:i] + rng.choice("aeiouy") + word[i + 1 :]

    out = re.sub(r"[A-Za-z]+", lambda m: typo(m.group(0)), text)
    if rng.random() < 0.4:
        out = out.lower()
    if rng.random() < 0.3:
        out = out.replace("'", "").replace("\u2019", "").rstrip(".")
    return out


def misspelt(examples: list[Example], count: int, seed: int = SEED) -> list[Example]:
    """Training posts typed carelessly: `count` copies of training rows of each label, each
    with typos (`misspell`), labelled as the row they copy. A put-down is one however it is
    spelt, and frank talk is not one for being badly typed. From the train split alone."""
    rng = random.Random(seed + 1)
    out: list[Example] = []
    for label in (1, 0):
        rows = [e for e in examples if e.split == "train" and e.label == label
                and len(e.text) <= MIXED_MAX_CHARS and e.source != "mixed"]  # fmt: skip
        for e in rng.sample(rows, min(count, len(rows))):
            text = misspell(e.text, rng, rng.choice((0.1, 0.2, 0.35, 0.6)))
            if text != e.text and re.search(r"\w", text):  # ("..." may lose its dots)
                out.append(
                    Example(text, label, "train", group_of(text), "misspelt", e.context, e.category)
                )
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
