""" "Did you mean …": a query that found nothing gets each unknown word replaced by the nearest
word of the board's vocabulary (migration 0014), by trigram similarity as pg_trgm measures it.
PostgreSQL asks pg_trgm's index; SQLite reads the vocabulary's words sharing the first letter
(an fts5vocab range read, capped) and measures them here.

The vocabulary keeps every word ever written, hidden ones too, so a word is offered only after
it is found, as written, in text an anonymous reader can see; a query word counts as known on
the same terms (else whether a correction is offered would tell that a hidden post has it).
Both checks are conservative: they read at most CHECK_ROWS matching rows of each kind."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Text, and_, bindparam, func, literal_column, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.models import Article
from forum.board.models import Category, Post, Thread
from forum.board.visibility import post_visibility, thread_visibility

THRESHOLD = 0.3  # pg_trgm's default similarity_threshold
NEAREST = 12  # words read by trigram similarity per unknown word, then ordered by edits
CANDIDATES = 3  # nearest words checked per unknown word
CHECK_ROWS = 50  # matching rows read to find a word as written
# Query words looked at. The worst query (every word unknown, no candidate public) costs
# MAX_WORDS * (3 + CANDIDATES) small bounded statements, and only when a search found nothing.
MAX_WORDS = 4
SQLITE_SCAN = 20_000  # vocabulary words read per unknown word on SQLite
_TOKEN = re.compile(r'-?"[^"]*"|\S+')


def trigrams(word: str) -> set[str]:
    padded = f"  {word.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    """pg_trgm's similarity() of two words: shared trigrams over all trigrams."""
    x, y = trigrams(a), trigrams(b)
    return len(x & y) / len(x | y) if x or y else 0.0


def edits(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn a into b."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _by_closeness(word: str, candidates: list[str]) -> list[str]:
    """Fewest edits first ("mentorng" is one from "mentoring", two from "mentor", which shares
    more trigrams), then most trigrams shared, then alphabetical."""
    ranked = sorted(candidates, key=lambda c: (edits(word, c), -similarity(word, c), c))
    return ranked[:CANDIDATES]


def _correctable(word: str) -> bool:
    return word.isalpha() and 3 <= len(word) <= 40


async def _nearest(session: AsyncSession, word: str, dialect: str) -> list[str]:
    if dialect == "postgresql":
        rows = await session.scalars(
            text(
                "SELECT word FROM search_words WHERE word % :w AND word <> :w "
                "ORDER BY similarity(word, :w) DESC, word LIMIT :n"
            ),
            {"w": word, "n": NEAREST},
        )
        return _by_closeness(word, list(rows))
    first = word[0]
    terms = await session.scalars(
        text("SELECT term FROM search_words WHERE term >= :lo AND term < :hi LIMIT :n"),
        {"lo": first, "hi": chr(ord(first) + 1), "n": SQLITE_SCAN},
    )
    scored = [
        (similarity(term, word), term)
        for term in terms
        if term != word and abs(len(term) - len(word)) <= 3 and _correctable(term)
    ]
    scored = [(s, t) for s, t in scored if s >= THRESHOLD]
    scored.sort(key=lambda st: (-st[0], st[1]))
    return _by_closeness(word, [t for _s, t in scored[:NEAREST]])


async def _public_texts(session: AsyncSession, word: str, dialect: str) -> list[str]:
    """Up to CHECK_ROWS texts of each kind that match `word` (by stem) and that anyone may see."""
    visible = and_(post_visibility(None), thread_visibility(None))
    if dialect == "postgresql":
        query = func.plainto_tsquery(literal_column("'english'::regconfig"), word)
        body: Any = literal_column("posts.search_vector").op("@@")(query)
        title: Any = literal_column("threads.title_vector").op("@@")(query)
        article: Any = literal_column("articles.search_vector").op("@@")(query)
        by_body: Any = Post.id.in_(select(Post.id).where(body).limit(CHECK_ROWS * 4))
        by_title: Any = Post.id.in_(select(Thread.first_post_id).where(title).limit(CHECK_ROWS * 4))
    else:
        match = '"' + word + '"'
        by_body = Post.id.in_(
            select(literal_column("rowid"))
            .select_from(text("posts_fts"))
            .where(text("posts_fts MATCH :m").bindparams(bindparam("m", match)))
            .limit(CHECK_ROWS * 4)
        )
        by_title = None
        article = Article.id.in_(
            select(literal_column("rowid"))
            .select_from(text("articles_fts"))
            .where(text("articles_fts MATCH :m2").bindparams(bindparam("m2", match)))
        )
    parts: list[Any] = [
        select((Thread.title + " " + Post.body_source).label("t"))
        .select_from(Post)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .where(condition, visible)
        .limit(CHECK_ROWS)
        for condition in (by_body, by_title)
        if condition is not None
    ]
    parts.append(
        select((Article.title + " " + Article.summary + " " + Article.body_source).label("t"))
        .where(article, Article.is_deleted.is_(False))
        .limit(CHECK_ROWS)
    )
    # One round trip: each part keeps its own limit inside a subquery.
    subqueries = [part.subquery() for part in parts]
    both = union_all(*(select(sub.c.t.cast(Text)) for sub in subqueries))
    return list((await session.scalars(both)).all())


async def publicly_written(session: AsyncSession, word: str, dialect: str) -> bool:
    """Whether `word`, as written, is in a post, title or article that anyone may see."""
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    return any(pattern.search(t) for t in await _public_texts(session, word, dialect))


async def _stop_word(session: AsyncSession, word: str, dialect: str) -> bool:
    """PostgreSQL drops English stop words from queries: they are neither known nor wrong."""
    if dialect != "postgresql":
        return False
    found = await session.scalar(
        text("SELECT numnode(plainto_tsquery('english', :w))"), {"w": word}
    )
    return not found


# A run of word characters, and of words joined by hyphens, apostrophes or dots ("grown-ups",
# "co-worker", "e.g."): a joined word is a unit, corrected whole or not at all.
_UNIT = re.compile(r"\w+(?:[-'’.]\w+)*")
_WORD_ONLY = re.compile(r"\w+")


def _single_words(raw: str) -> list[str]:
    """The query's words that stand alone: the parts of a joined word are not corrected one by
    one (its "grown" became "group", offering "group-ups"; "co-worker" became "co-worked")."""
    return [
        unit.group()
        for token in _TOKEN.findall(raw)
        if not (token == "OR" or (token.startswith("-") and len(token) > 1))
        for unit in _UNIT.finditer(token)
        if _WORD_ONLY.fullmatch(unit.group())
    ]


async def suggest(session: AsyncSession, raw: str, dialect: str) -> str | None:
    """The query with each unknown word replaced by its nearest publicly written word, or None
    when no word could be corrected. Words joined to others are left as typed."""
    corrections: dict[str, str] = {}
    seen: set[str] = set()
    for word in _single_words(raw):
        word = word.lower()
        if word in seen or not _correctable(word):
            continue
        seen.add(word)
        if len(seen) > MAX_WORDS:
            break
        if await _stop_word(session, word, dialect) or await publicly_written(
            session, word, dialect
        ):
            continue
        for candidate in await _nearest(session, word, dialect):
            if await publicly_written(session, candidate, dialect):
                corrections[word] = candidate
                break
    if not corrections:
        return None
    tokens = []
    for token in _TOKEN.findall(raw):
        if not token.startswith("-"):
            token = _UNIT.sub(lambda m: corrections.get(m.group().lower(), m.group()), token)
        tokens.append(token)
    return " ".join(tokens)


async def did_you_mean(session: AsyncSession, raw: str) -> str | None:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return await suggest(session, " ".join(raw.split()), dialect)
