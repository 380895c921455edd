"""What every stage returns: scored signals with the evidence behind them."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# The reason code the pipeline gives a post that may read as dismissive of junior colleagues
# (the review queue describes it; moderators' decisions on it become training labels).
DISMISSIVE = "DISMISSIVE_OF_JUNIORS"
# ... and one written, wholly or in part, in a language the cues and the model do not read
# (moderation.language): flagged for a person to read, never held.
OTHER_LANGUAGE = "OTHER_LANGUAGE"


def significant(score: float) -> float:
    """A score kept to 6 significant digits: short to store, and small scores stay ordered
    (rounding to decimal places made every low score 0.0, ties that hide how posts rank)."""
    return float(f"{score:.6g}")


@dataclass(frozen=True)
class Evidence:
    stage: str
    label: str
    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Signal:
    stage: str
    label: str
    score: float
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class PostInput:
    """One post as the pipeline sees it, with who is answering whom."""

    post_id: int
    text: str
    writer_level: int = 0  # index of the writer's earned rank (0 = Newcomer)
    writer_role: str = "member"
    target_level: int | None = None  # the quoted or replied-to author's, if any
    target_role: str | None = None
    watched_phrases: tuple[str, ...] = ()
    # What the post answers: the quoted or replied-to post, else the post it follows, else
    # the opening post ("" for an opening post or text that answers nothing).
    context: str = ""
    # Where the levels came from when not from board ranks: a programme pair's space
    # (programme, pair, sides, seniority years); recorded with the moderation result.
    ladder: dict[str, Any] | None = None
    # A title the text carries (a thread's, with its opening post; a conversation's subject,
    # with its first message). It is shown on its own, in lists and feeds, so the model scores
    # it on its own as well: a put-down for a title is not diluted by a harmless body.
    title: str = ""
    # Whether the writer has a history on the board (an account past its first day with a few
    # accepted posts, or two weeks old). Only such a writer's reply up the ladder is spared the
    # hold: which post a reply names is the writer's choice, and a fresh account could name a
    # senior's post to keep any put-down on view.
    established: bool = True
    # The end of the writer's own post just before this one (whatever its state: a fresh
    # account's is still being checked), or of another's that broke off mid-sentence moments
    # before (policy.broken_off), else "": a put-down split across two posts in a row reads
    # as one.
    writer_before: str = ""
    # Whether moderation flagged what the post answers (a flagged post stays on view while a
    # moderator looks): a reply that only agrees with it ("Exactly this.") is flagged too.
    context_flagged: bool = False
    # The board levels (as writer_level) of the members the post @mentions in its own words,
    # other than the writer: a reply "up the ladder" that names a junior ("@kofi you're too
    # junior…" under a Director's post) is aimed at the junior.
    mentioned_levels: tuple[int, ...] = ()

    def _levels(self) -> tuple[int, int] | None:
        if self.target_level is None:
            return None
        return (
            ladder_level(self.writer_level, self.writer_role),
            ladder_level(self.target_level, self.target_role),
        )

    @property
    def seniority_gap(self) -> int:
        """How far the writer stands above the person answered (0 when not above or unknown)."""
        levels = self._levels()
        return max(levels[0] - levels[1], 0) if levels else 0

    @property
    def aimed_up(self) -> bool:
        """The writer, an established member, answers someone above them on the ladder."""
        levels = self._levels()
        if not self.established or levels is None or levels[0] >= levels[1]:
            return False
        return all(level > levels[0] for level in self.mentioned_levels)


def ladder_level(rank_index: int, role: str | None) -> int:
    """A member's place on the ladder who-answers-whom compares: the earned rank's index, staff
    three steps above it."""
    return rank_index + (3 if role in ("moderator", "admin") else 0)


QUOTE_HEADER = re.compile(r"^\*\*[^*\n]{1,40}\*\* wrote:$")


def own_words(text: str) -> tuple[str, str]:
    """A post split into the words it quotes (Markdown "> " lines) and its own. A reply that
    quotes a put-down to push back on it is judged on what it says, with the quote as context."""
    quoted: list[str] = []
    own: list[str] = []
    # Lines as Markdown ends them: str.splitlines() also breaks at U+2028 and U+2029, which
    # render inside a paragraph, so a ">" after one looked quoted to the model alone.
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        (quoted if line.lstrip().startswith(">") else own).append(line)
    lines = [line.lstrip()[1:].strip() for line in quoted]
    # The quote button's header ("**name** wrote:") says who, not what: it is not context.
    lines = [line for line in lines if not QUOTE_HEADER.match(line)]
    return "\n".join(lines).strip(), "\n".join(own).strip()


@dataclass
class StageResult:
    stage: str
    model: str
    signals: list[Signal]

    def scores(self) -> dict[str, float]:
        return {s.label: significant(float(s.score)) for s in self.signals}


_QUOTE_MARKS = re.compile(r"^(\s*)((?:>\s*)+)")
# Quoted lines checked against what they claim to quote; any further ones count as the
# writer's own (a post of thousands of quoted lines costs no more to check than this).
MAX_QUOTED_LINES = 200


def _quoted(line: str) -> tuple[re.Match[str] | None, str]:
    """A line's quote marks and what it quotes ("" for none, a blank line or the quote
    button's header)."""
    m = _QUOTE_MARKS.match(line)
    content = " ".join(line[m.end() :].split()) if m else ""
    return m, ("" if QUOTE_HEADER.match(content) else content)


def quoted_lines(text: str) -> list[str]:
    """The content of each quoted line of `text` (markers, headers and blank lines left out)."""
    return [content for line in text.split("\n") if (content := _quoted(line)[1])]


def unquote_fabricated(text: str, sources: list[str]) -> str:
    """`text` with every quoted line that none of `sources` (what it could be quoting: posts
    members can see) holds made the writer's own. A "quote" nobody wrote is the writer's own
    put-down shown as a quote, and must not pass as context for a harmless line after it.
    Only the ">" marks change (to spaces), so offsets into the text still hold."""
    held = [" ".join(source.split()) for source in sources]
    lines = text.split("\n")
    parsed = [_quoted(line) for line in lines]
    # Consecutive quoted lines show as one paragraph: a paragraph must be found whole (a probe
    # quoted "You're" / "too" / "junior" / "to get this" line by line, each word somewhere in
    # the post it answered, and members read the sentence).
    fabricated: set[int] = set()
    checked = 0
    run: list[int] = []
    for i in [*range(len(lines)), len(lines)]:
        m, content = parsed[i] if i < len(lines) else (None, "")
        if m and content:
            checked += 1
            if checked > MAX_QUOTED_LINES or not any(content in h for h in held):
                fabricated.add(i)
            run.append(i)
            continue
        joined = " ".join(" ".join(parsed[j][1].split()) for j in run)
        found = [j for j in run if j not in fabricated]
        if len(run) > 1 and len(found) == len(run) and not any(joined in h for h in held):
            # Each line is somewhere, the paragraph they make nowhere: all the writer's own.
            fabricated.update(run)
        run = []
    out = []
    for i, line in enumerate(lines):
        m = parsed[i][0]
        if i in fabricated and m:
            line = m.group(1) + m.group(2).replace(">", " ") + line[m.end() :]
        out.append(line)
    return "\n".join(out)
