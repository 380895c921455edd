"""Evidence spans marked in a post's text, for the review page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Segment:
    text: str
    label: str = ""


def highlight(text: str, evidence: list[dict[str, Any]]) -> list[Segment]:
    """Split `text` into plain and marked segments from the evidence spans."""
    spans = sorted(
        (int(e["start"]), int(e["end"]), str(e["label"]))
        for e in evidence
        if 0 <= int(e.get("start", -1)) < int(e.get("end", -1)) <= len(text)
    )
    segments: list[Segment] = []
    pos = 0
    for start, end, label in spans:
        if start < pos:
            continue  # overlapping span: the earlier one is already marked
        if start > pos:
            segments.append(Segment(text[pos:start]))
        segments.append(Segment(text[start:end], label))
        pos = end
    if pos < len(text):
        segments.append(Segment(text[pos:]))
    return segments
