"""The training data's split: rows that share a group share a split, so nothing the test split
holds (a post, its contrastive twin, a sibling reply to the same context) is seen in training."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from moderation import dataset


def test_rows_naming_a_group_share_its_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"text": f"reply number {n} to the same question", "label": n % 2,
             "context": "Shall we rotate who chairs the meeting?", "category": "sarcasm",
             "group": "Shall we rotate who chairs the meeting?"} for n in range(40)]  # fmt: skip
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    monkeypatch.setattr(dataset, "CORPUS_DIR", tmp_path)
    splits = {e.split for e in dataset.corpus()}
    assert len(splits) == 1
    # Without the group, forty texts spread over the splits.
    for r in rows:
        del r["group"]
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    assert len({e.split for e in dataset.corpus()}) == 3


def test_the_shipped_splits_keep_groups_and_texts_apart() -> None:
    examples = dataset.build()
    by_group: dict[str, set[str]] = defaultdict(set)
    by_text: dict[str, set[str]] = defaultdict(set)
    for e in examples:
        by_group[e.group].add(e.split)
        by_text[" ".join(e.text.lower().split())].add(e.split)
    assert all(len(s) == 1 for s in by_group.values())
    leaked = [t for t, s in by_text.items() if len(s) > 1]
    assert leaked == []
    # A named group ties rows that must share a split: the replies to one context, or a
    # put-down and its fair twin (with or without a context). A group of one ties nothing.
    groups: Counter[tuple[str, str]] = Counter()
    for path in sorted(dataset.CORPUS_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("group"):
                groups[(path.name, row["group"])] += 1
    assert groups, "some rows name their group"
    assert [key for key, n in groups.items() if n < 2] == []


def test_no_blind_row_is_in_the_training_data() -> None:
    # moderation/data/blind/ holds evaluation sets written without sight of the corpus; the
    # loader reads corpus/ alone, and no corpus row may repeat a blind row (read loosely:
    # case, spacing and punctuation aside), or the blind figures measure memory.
    def loose(text: str) -> str:
        return " ".join(re.findall(r"[a-z0-9]+", text.lower()))

    blind = {
        loose(json.loads(line)["text"]): path.name
        for path in sorted((dataset.DATA_DIR / "blind").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert len(blind) > 1000
    examples = dataset.build()
    assert {e.source.split("/")[0] for e in examples} <= {"corpus", "hand-written", "framed"}
    assert [e.text for e in examples if loose(e.text) in blind] == []


def test_training_reads_an_example_as_the_stage_reads_a_post() -> None:
    from moderation import training
    from moderation.finetune import Pair

    example = dataset.labelled(
        "> we could rotate who chairs\n\nCute. Maybe once you've chaired anything.", 1, "fixture",
        "Shall we rotate who chairs the weekly meeting?",
    )  # fmt: skip
    assert training._pair(Pair, example) == Pair(
        "we could rotate who chairs", "Cute. Maybe once you've chaired anything."
    )
    plain = dataset.labelled("Give it a couple of years.", 1, "fixture", "Shall we rotate?")
    assert training._pair(Pair, plain) == Pair("Shall we rotate?", "Give it a couple of years.")


def test_mixed_posts_join_training_rows_only_and_keep_the_put_down_label() -> None:
    examples = dataset.build()
    joined = dataset.mixed(examples, 200)
    assert len(joined) == 400 and {e.label for e in joined} == {0, 1}
    assert {e.split for e in joined} == {"train"}
    held_out = {" ".join(e.text.split()) for e in examples if e.split != "train"}
    train_putdowns = [e for e in examples if e.split == "train" and e.label == 1]
    for e in joined:
        # No dev or test text is inside a joined post.
        flat = " ".join(e.text.split())
        assert not any(t in flat for t in held_out if len(t) > 40)
        if e.label == 1:
            assert any(p.text.strip() in e.text and p.context == e.context for p in train_putdowns)
    # The same seed builds the same posts (a trained model can be rebuilt).
    assert [e.text for e in dataset.mixed(examples, 200)] == [e.text for e in joined]


def test_mixed_posts_pad_put_downs_and_ordinary_posts_alike_with_pleasantries() -> None:
    examples = dataset.build()
    train = {e.text.strip(): e.label for e in examples if e.split == "train"}
    padded = {0: 0, 1: 0}
    for e in dataset.mixed(examples, 300):
        for p in dataset.PLEASANTRIES:
            # One training row and one pleasantry, in either order, joined by white space.
            rest = (e.text[: -len(p)] if e.text.endswith(p) else
                    e.text[len(p) :] if e.text.startswith(p) else None)  # fmt: skip
            if rest is not None and rest[-1:].isspace() | rest[:1].isspace():
                if train.get(rest.strip()) == e.label:
                    padded[e.label] += 1
                    break
    # Both labels carry the padding, so it tells the model nothing either way.
    assert padded[1] >= 40 and padded[0] >= 40


def test_misspelt_copies_are_training_rows_typed_with_typos_under_their_own_labels() -> None:
    import difflib

    examples = dataset.build()
    typed = dataset.misspelt(examples, 60)
    assert {e.split for e in typed} == {"train"} and {e.source for e in typed} == {"misspelt"}
    assert {e.label for e in typed} == {0, 1} and len(typed) > 100
    assert all(any(c.isalnum() for c in e.text) for e in typed)
    texts = {e.text for e in examples}
    for e in typed[:40]:
        assert e.text not in texts
        # It is closer to a training row with its label and context than to any dev or test
        # row: no held-out post is copied into training.
        words = len(e.text.split())

        def closest(rows: list[dataset.Example], text: str = e.text, words: int = words) -> float:
            return max((difflib.SequenceMatcher(None, x.text.lower(), text.lower()).ratio()
                        for x in rows if len(x.text.split()) == words), default=0.0)  # fmt: skip

        own = [x for x in examples if x.split == "train" and (x.label, x.context) ==
               (e.label, e.context)]  # fmt: skip
        assert closest(own) > closest([x for x in examples if x.split != "train"])
    assert [e.text for e in dataset.misspelt(examples, 60)] == [e.text for e in typed]


def test_misspell_keeps_the_words_count_and_changes_about_the_rate_asked() -> None:
    import random

    text = "Perhaps leave the strategy discussion to people who have actually managed budgets"
    rng = random.Random(3)
    for rate, low, high in ((0.0, 0, 0), (0.5, 2, 10), (1.0, 9, 11)):
        out = dataset.misspell(text, rng, rate)
        assert len(out.split()) == len(text.split())
        changed = sum(
            a.lower() != b.lower() for a, b in zip(text.split(), out.split(), strict=True)
        )
        assert low <= changed <= high, (rate, out)
