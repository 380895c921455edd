"""What a search result shows: plain text taken from a post's rendered HTML (never its Markdown
source), cut to the stretch with the most matched words, the matches marked by stem as the
search engine matched them (Snowball English like PostgreSQL's english configuration, Porter
like SQLite's FTS5 porter tokenizer). Returned as (text, marked) pieces: the template escapes
every piece, so nothing a member wrote can become markup."""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

import snowballstemmer

# Elements after which a reader sees a break: their text must not run into the next word.
_BREAKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_WORD = re.compile(r"\w+")
SNIPPET_WORDS = 30
# A post's text is bounded by the composer's limit; this bounds what one snippet may scan.
MAX_TEXT = 20_000


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """The text a reader sees in rendered (sanitised) HTML, on one line."""
    parser = _Text()
    parser.feed(html[: MAX_TEXT * 4])
    parser.close()
    return " ".join("".join(parser.parts).split())[:MAX_TEXT]


@lru_cache(maxsize=2)
def _stemmer(algorithm: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(algorithm)


@lru_cache(maxsize=50_000)
def _stem(word: str, algorithm: str) -> str:
    # Snowball in pure Python costs ~10 µs a word; a board's words repeat, so most are cached.
    return str(_stemmer(algorithm).stemWord(word))


def stems(words: list[str], algorithm: str) -> list[str]:
    return [_stem(w.lower(), algorithm) for w in words]


def query_words(raw: str) -> list[str]:
    """The words a query looks for: every word not in an -exclusion (nor the OR keyword)."""
    words: list[str] = []
    for token in re.findall(r'-?"[^"]*"|\S+', raw):
        if token == "OR" or (token.startswith("-") and len(token) > 1):
            continue
        words += _WORD.findall(token)
    return words


def highlight(text: str, raw_query: str, algorithm: str) -> list[tuple[str, bool]]:
    """The stretch of `text` (about SNIPPET_WORDS words) with the most words matching the
    query, as (piece, marked) pairs, with an ellipsis where text was cut."""
    wanted = set(stems(query_words(raw_query), algorithm))
    words = list(_WORD.finditer(text))
    if not words:
        return [(text, False)] if text else []
    marked = [s in wanted for s in stems([m.group() for m in words], algorithm)]
    # The window with the most matches (the earliest of equals), opened two words before its
    # first match so the match is read in context.
    start, n = 0, len(words)
    if n > SNIPPET_WORDS and any(marked):
        count = sum(marked[:SNIPPET_WORDS])
        best, best_at = count, 0
        for s in range(1, n - SNIPPET_WORDS + 1):
            count += marked[s + SNIPPET_WORDS - 1] - marked[s - 1]
            if count > best:
                best, best_at = count, s
        first = marked.index(True, best_at)
        start = max(0, min(first - 2, n - SNIPPET_WORDS))
    end = min(len(words), start + SNIPPET_WORDS)
    begin_at = words[start].start() if start else 0
    end_at = words[end - 1].end() if end < len(words) else len(text)
    pieces: list[tuple[str, bool]] = []
    if start:
        pieces.append(("…", False))
    position = begin_at
    for i in range(start, end):
        if marked[i]:
            m = words[i]
            if m.start() > position:
                pieces.append((text[position : m.start()], False))
            pieces.append((m.group(), True))
            position = m.end()
    if end_at > position:
        pieces.append((text[position:end_at], False))
    if end < len(words):
        pieces.append((" …", False))
    return pieces
