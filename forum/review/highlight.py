"""Evidence spans marked in a post's text and in its rendered HTML, and the flagged sentence,
for the review queue and its items."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any

from markupsafe import Markup, escape

from forum.core.text import excerpt


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


_TAG = re.compile(r"(<[^>]*>)")


def highlight_html(html: str, evidence: list[dict[str, Any]]) -> Markup:
    """The post's rendered HTML (already sanitised) with each evidence phrase marked where it
    appears in the text, never inside a tag: the post as members see it, evidence shown."""
    texts = {str(e.get("text", "")).strip() for e in evidence} - {""}
    # Text nodes may carry quotes as they are or as entities: look for both spellings.
    phrases = sorted(
        {html_escape(t, quote=False) for t in texts} | {str(escape(t)) for t in texts},
        key=len,
        reverse=True,
    )
    if not phrases:
        return Markup(html)
    # Entities are matched first and kept whole, so no mark lands inside one.
    pattern = re.compile(
        r"(&#?\w+;)|(" + "|".join(re.escape(p) for p in phrases) + ")", re.IGNORECASE
    )

    def mark(m: re.Match[str]) -> str:
        return m.group(0) if m.group(1) else f'<mark class="evidence">{m.group(0)}</mark>'

    parts = _TAG.split(html)
    for i in range(0, len(parts), 2):  # even parts are text between tags
        parts[i] = pattern.sub(mark, parts[i])
    return Markup("".join(parts))


_SENTENCE_END = re.compile(r"[.!?\n]")


def flagged_sentence(text: str, evidence: list[dict[str, Any]], length: int = 200) -> str:
    """The sentence holding the first piece of evidence, for the queue's preview (not a quote
    the post answers, nor its opening words); "" when there is no evidence."""
    spans = sorted(int(e["start"]) for e in evidence if 0 <= int(e.get("start", -1)) < len(text))
    if not spans:
        return ""
    at = spans[0]
    start = max(0, at - length)
    before = [m.end() for m in _SENTENCE_END.finditer(text, start, at)]
    begin = before[-1] if before else start
    after = _SENTENCE_END.search(text, at, min(len(text), at + length))
    end = after.end() if after else min(len(text), at + length)
    # As members read it (Markdown rendered to its words: "**know** your place" reads
    # "know your place"); a probe found the queue showing the marks.
    return excerpt(text[begin:end], length)
