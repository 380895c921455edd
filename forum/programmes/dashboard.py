"""The lead's dashboard: pairs active and ended, check-in response rates, frankness over time
per side (a server-rendered SVG: no script, nothing from another site), flagged and reported
messages in pair spaces (counts only: the lead never reads a pair's messages), the closing
survey's results, and a CSV export; and the one-click "this felt dismissive" report.

No figure may let the lead work out a participant's answer, alone or set beside another:

- a figure from fewer than five answers is withheld;
- a figure over both sides is withheld while either side gave one to four answers (the lead
  reads each side's figure of the frankness question: the combined figure less the shown
  side's would be the withheld side's answers);
- a check-in round's figures and written answers show only once the round is over (answers
  can be sent, and replaced, while it is open: a figure that moved with each answer would
  give each away);
- a round's figures, once it is over, never move: not when a participant leaves, a pair
  ends or a member deletes their account (see `asked_in`);
- the closing survey never closes, so its figures count each side's answers in fives, in the
  order they came: a figure changes only when five more answers come in, never with one."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.audit import AuditEntry
from forum.core.db import utcnow
from forum.core.settings import Settings
from forum.messages.models import VISIBLE_STATES, Message, MessageState
from forum.notifications.models import Kind as NoteKind
from forum.programmes.models import (
    CLOSING_ROUND,
    CheckinAnswer,
    CheckinQuestion,
    DismissiveReport,
    Meeting,
    Pair,
    PairStatus,
    Programme,
    ProgrammeStatus,
    Side,
)
from forum.programmes.paths import path
from forum.programmes.services import (
    Forbidden,
    ProgrammeError,
    closed_rounds,
    current_round,
    pairs_of,
    round_at,
    round_closes_at,
    tell,
    title,
    usernames,
)
from forum.review import services as review
from forum.review.models import Report, ReportReason

MIN_ANSWERS = 5  # below this, an aggregate could identify who answered


@dataclass
class Cell:
    n: int  # answers received
    mean: float | None  # None: withheld
    # The answers `mean` is over, when not all `n` (the closing survey counts in fives).
    counted: int | None = None
    # Why a figure of MIN_ANSWERS answers or more is withheld, in words.
    why: str = ""

    @property
    def waiting(self) -> int:
        """Answers received but not yet counted in the figure."""
        return 0 if self.counted is None else self.n - self.counted


@dataclass
class Dashboard:
    pairs_active: int
    participants: int
    rounds: int
    response_rates: list[tuple[int, int, int]]  # (round, answered, asked)
    # Figures are of the rounds that are over (1 to `closed`); `open_round` (0: none) takes
    # answers until `open_until`, and its figures show then.
    closed: int = 0
    open_round: int = 0
    open_until: datetime | None = None
    frankness: dict[str, dict[int, Cell]] = field(default_factory=dict)  # side -> round -> cell
    questions: list[tuple[CheckinQuestion, dict[int, Cell]]] = field(default_factory=list)
    meetings: int = 0  # dated meetings, each pair's day once
    undated_meetings: int = 0  # counted one click each before meetings took a date
    flagged: int = 0
    reported: int = 0
    texts: list[tuple[int, str, str]] = field(default_factory=list)  # round, question, text
    # (round, question) whose written answers are withheld: fewer than MIN_ANSWERS
    # participants wrote one (a lone answer is its writer's, whoever reads it).
    texts_withheld: list[tuple[int, str]] = field(default_factory=list)
    # Questions with written answers in the open round: withheld until it is over.
    texts_open: list[str] = field(default_factory=list)
    # Pairs that ended: the two names, when, and why in words.
    ended: list[tuple[str, str, Pair]] = field(default_factory=list)
    closing: Closing | None = None  # once the programme is closed
    # Members who left with a reason (the lead's only): member id to their words.
    leave_reasons: dict[int, str] = field(default_factory=dict)


@dataclass
class Closing:
    answered: int  # participants who answered (on any side)
    asked: int  # participants in a running pair when the programme closed
    frankness: dict[str, Cell] = field(default_factory=dict)  # side -> cell
    questions: list[tuple[CheckinQuestion, Cell]] = field(default_factory=list)
    # Written answers, each question's in fives (as they came), in the texts' own order.
    texts: list[tuple[str, str]] = field(default_factory=list)
    texts_waiting: int = 0  # written answers not shown until five more come in


def _cell(values: list[int]) -> Cell:
    if len(values) < MIN_ANSWERS:
        return Cell(len(values), None)
    return Cell(len(values), sum(values) / len(values))


ONE_SIDE_FEW = "one side gave fewer than five answers"


def _combined(by_side: dict[str, list[int]]) -> Cell:
    """A figure over both sides: withheld while either side gave one to four answers (with
    that side's figure withheld and the other's shown, their difference would be its answers)."""
    values = [v for side in by_side.values() for v in side]
    if any(0 < len(side) < MIN_ANSWERS for side in by_side.values()):
        return Cell(len(values), None, why=ONE_SIDE_FEW if len(values) >= MIN_ANSWERS else "")
    return _cell(values)


def _in_fives(answers: list[CheckinAnswer]) -> list[CheckinAnswer]:
    """The first answers, in the order they came, in whole fives: what a figure of the
    closing survey (which stays open) counts, so that it never moves with a single answer."""
    ordered = sorted(answers, key=lambda a: a.id)
    return ordered[: len(ordered) // MIN_ANSWERS * MIN_ANSWERS]


def _counted_cell(answers: list[CheckinAnswer]) -> Cell:
    """A closing-survey figure: each side's answers counted in fives (so a figure over both
    sides never holds a side's one to four answers either)."""
    counted = [a.value for side in (Side.junior.value, Side.senior.value)
               for a in _in_fives([a for a in answers if a.side == side])
               if a.value is not None]  # fmt: skip
    n = len([a for a in answers if a.value is not None])
    mean = sum(counted) / len(counted) if counted else None
    return Cell(n, mean, counted=len(counted))


# Who was asked a round is read from each pair's history, never from the pairs running now:
# a round's response rate counted over today's pairs moved when a member left (their pair
# ended, and both partners dropped out of every past round's "answered" and "asked"), when the
# lead ended a pair or a member deleted their account (which leaves the same way), and when
# the lead paired someone by hand later. A pair's dates (made, ended) and the answers are
# never changed or deleted afterwards (leaving, ending a pair and deleting an account keep the
# answers: they are the lead's anonymous figures, and a deleted account is anonymised, never
# removed, so nothing cascades), so a round that is over keeps its figures without a stored
# snapshot. Every other figure of a round (frankness, the lead's scales, written answers) is
# over the answers given in it, whoever runs now.


def _by_hand(pair: Pair) -> bool:
    try:
        return bool(json.loads(pair.score or "{}").get("by_hand"))
    except (ValueError, AttributeError):
        return False


def _span(programme: Programme, pair: Pair) -> tuple[int, int | None]:
    """The check-in rounds a pair was asked: from round 1 (published pairs; a pair made by
    hand later, from the round it was made in) to the round it ended in (its members could
    answer until then), None while it runs."""
    first = max(round_at(programme, pair.created_at), 1) if _by_hand(pair) else 1
    if pair.status != PairStatus.ended.value:
        return first, None
    ended = pair.ended_at
    return first, None if ended is None else round_at(programme, ended)


def asked_in(programme: Programme, pairs: list[Pair], round_: int) -> set[int]:
    """The members asked check-in `round_`: those of the pairs that ran in it."""
    found: set[int] = set()
    for pair in pairs:
        first, last = _span(programme, pair)
        if first <= round_ and (last is None or round_ <= last):
            found |= {pair.junior_id, pair.senior_id}
    return found


def running_at_close(programme: Programme, pairs: list[Pair]) -> list[Pair]:
    """A closed programme's pairs still running when it closed (a pair the lead ended after
    closing, following up a report, was one of them); else the pairs running now."""
    closed_at = programme.closed_at
    if programme.status != ProgrammeStatus.closed.value or closed_at is None:
        return [p for p in pairs if p.status == PairStatus.active.value]
    return [p for p in pairs if p.status == PairStatus.active.value
            or (p.ended_at is not None and p.ended_at >= closed_at)]  # fmt: skip


async def build(
    session: AsyncSession, programme: Programme, now: datetime | None = None
) -> Dashboard:
    every = await pairs_of(session, programme)
    # Running now; a closed programme's, as it closed (its "Pairs when it closed").
    pairs = running_at_close(programme, every)
    people = {p.junior_id for p in pairs} | {p.senior_id for p in pairs}
    rounds = current_round(programme, now)
    # Response rates count who answered, open round included; figures are of rounds over.
    shown = closed_rounds(programme, now)
    answers = list(
        await session.scalars(
            select(CheckinAnswer).where(CheckinAnswer.programme_id == programme.id)
        )
    )
    asked = list(
        await session.scalars(
            select(CheckinQuestion)
            .where(CheckinQuestion.programme_id == programme.id)
            .order_by(CheckinQuestion.position, CheckinQuestion.id)
        )
    )
    by_id = {q.id: q for q in asked}
    rates = []
    for r in range(1, rounds + 1):
        answered = {a.user_id for a in answers if a.round == r}
        asked_r = asked_in(programme, every, r)
        rates.append((r, len(answered & asked_r), len(asked_r)))
    board = Dashboard(len(pairs), len(people), rounds, rates, closed=shown)
    if rounds > shown:
        board.open_round, board.open_until = rounds, round_closes_at(programme, rounds)
    if every:
        board.meetings = int(
            await session.scalar(
                select(func.count(Meeting.id)).where(Meeting.pair_id.in_([p.id for p in every]))
            )
            or 0
        )
    board.undated_meetings = sum(p.meetings for p in every)
    gone = [p for p in every if p.status == PairStatus.ended.value]
    names = await usernames(session, {i for p in gone for i in (p.junior_id, p.senior_id)})
    board.ended = [(names.get(p.junior_id, "a former member"),
                    names.get(p.senior_id, "a former member"), p) for p in gone]  # fmt: skip
    if gone:
        for actor, reason in await session.execute(
            select(AuditEntry.actor_id, AuditEntry.reason)
            .where(AuditEntry.action == "programme_leave", AuditEntry.target_type == "programme",
                   AuditEntry.target_id == programme.id, AuditEntry.reason != "")
            .order_by(AuditEntry.id)
        ):  # fmt: skip
            if actor is not None:
                board.leave_reasons[actor] = reason
    regular = [q for q in asked if not q.closing]
    for side in (Side.junior.value, Side.senior.value):
        board.frankness[side] = {
            r: _cell([a.value for a in answers if a.round == r and a.side == side
                      and a.value is not None and by_id[a.question_id].frankness])
            for r in range(1, shown + 1)
        }  # fmt: skip
    for q in regular:
        if q.kind == "scale":
            cells = {
                r: _combined({
                    side: [a.value for a in answers if a.question_id == q.id and a.round == r
                           and a.side == side and a.value is not None]
                    for side in (Side.junior.value, Side.senior.value)
                })
                for r in range(1, shown + 1)
            }  # fmt: skip
            board.questions.append((q, cells))
        else:
            # Written answers as aggregates are: a question's answers of a round only once
            # MIN_ANSWERS participants answered it (a question asked of one side, answered by
            # one senior among five juniors, is that senior's), in the text's own order, which
            # says nothing of who answered first.
            for r in range(1, shown + 1):
                texts = [a.text for a in answers if a.question_id == q.id and a.round == r
                         and a.text]  # fmt: skip
                if len(texts) >= MIN_ANSWERS:
                    board.texts += [(r, q.prompt, text) for text in sorted(texts)]
                elif texts:
                    board.texts_withheld.append((r, q.prompt))
            if board.open_round and any(a.question_id == q.id and a.round == board.open_round
                                        and a.text for a in answers):  # fmt: skip
                board.texts_open.append(q.prompt)
    if programme.status == "closed":
        board.closing = _closing(asked, [a for a in answers if a.round == CLOSING_ROUND], people)
    conversations = [p.conversation_id for p in every if p.conversation_id is not None]
    if conversations:
        board.flagged = (
            await session.scalar(
                select(func.count(Message.id)).where(
                    Message.conversation_id.in_(conversations),
                    Message.state.in_(
                        [
                            MessageState.flagged.value,
                            MessageState.held.value,
                            MessageState.hidden.value,
                        ]
                    ),
                )
            )  # fmt: skip
            or 0
        )
        board.reported = (
            await session.scalar(
                select(func.count(Report.id))
                .join(Message, Message.id == Report.message_id)
                .where(Message.conversation_id.in_(conversations))
            )
            or 0
        )
    return board


def _closing(
    asked: list[CheckinQuestion], answers: list[CheckinAnswer], people: set[int]
) -> Closing:
    """The closing survey's figures. It takes answers for as long as the programme stays
    closed, so each figure counts answers in fives (`_in_fives`), never moving with one."""
    closing = Closing(answered=len({a.user_id for a in answers}), asked=len(people))
    frank = {q.id for q in asked if q.frankness}
    for side in (Side.junior.value, Side.senior.value):
        closing.frankness[side] = _counted_cell(
            [a for a in answers if a.side == side and a.question_id in frank]
        )
    for q in asked:
        if not q.closing:
            continue
        mine = [a for a in answers if a.question_id == q.id]
        if q.kind == "scale":
            closing.questions.append((q, _counted_cell(mine)))
        else:
            written = [a for a in mine if a.text]
            shown = _in_fives(written)
            closing.texts += [(q.prompt, text) for text in sorted(a.text for a in shown)]
            closing.texts_waiting += len(written) - len(shown)
    return closing


def frankness_svg(board: Dashboard) -> str:
    """Mean frankness (1-5) per round, one line per side; withheld rounds are gaps. Axis
    titles, and a legend (junior side solid, senior side dashed) above the plot."""
    width, height = 480, 210
    left, right, top, bottom = 56, 16, 30, 44  # room for the y title, the legend, the x title
    # The rounds that are over (an open round is never drawn: no empty space for it).
    rounds = max(board.closed, 1)

    def x(r: int) -> float:
        return left + (width - left - right) * ((r - 1) / max(rounds - 1, 1))

    def y(v: float) -> float:
        return height - bottom - (height - top - bottom) * ((v - 1) / 4)

    base, middle = height - bottom, (top + height - bottom) / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" '
        f'aria-labelledby="frank-title" class="chart">',
        '<title id="frank-title">Mean answer to “Did you feel able to speak frankly?” per '
        "check-in round, junior side solid, senior side dashed (a round still open, and a "
        "side's round with fewer than five answers, are left out)</title>",
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#555"/>',
        # Axis titles.
        f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" font-size="12" '
        'text-anchor="middle">Check-in round</text>',
        f'<text x="14" y="{middle:.1f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {middle:.1f})">Frankness (1–5)</text>',
    ]
    for v in range(1, 6):
        parts.append(f'<text x="{left - 8}" y="{y(v) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{v}</text>')  # fmt: skip
    for r in range(1, rounds + 1):
        parts.append(f'<text x="{x(r):.1f}" y="{base + 16}" font-size="11" '
                     f'text-anchor="middle">{r}</text>')  # fmt: skip
    styles = {Side.junior.value: ("#1f5fa8", ""), Side.senior.value: ("#a8401f", "6 4")}
    # The legend: a line sample of each side, as drawn, and its name.
    for n, (side, (colour, dash)) in enumerate(styles.items()):
        lx = left + 10 + n * 130
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{lx}" y1="12" x2="{lx + 28}" y2="12" stroke="{colour}" '
                     f'stroke-width="2"{dashes}/><text x="{lx + 34}" y="16" font-size="12">'
                     f"{side.capitalize()} side</text>")  # fmt: skip
    for side, cells in board.frankness.items():
        colour, dash = styles[side]
        points = [(x(r), y(c.mean)) for r, c in sorted(cells.items()) if c.mean is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"{dashes}/>')  # fmt: skip
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def csv_export(programme: Programme, board: Dashboard) -> str:
    """The page's aggregates, withheld as there (rounds still open are left out); never an
    individual's answer."""
    out = io.StringIO()
    writer = csv.writer(out)
    # `value`: the mean answer for a question, the share who answered for a response rate.
    writer.writerow(["programme", "round", "measure", "side", "answers", "value"])
    # A count of meetings is a figure (`value`), not a number of check-in answers.
    writer.writerow([programme.name, board.rounds, "meetings logged", "all", "", board.meetings])
    for r, answered, asked in board.response_rates:
        rate = f"{answered / asked:.2f}" if asked else ""
        writer.writerow([programme.name, r, "response rate", "all", answered, rate])
    for side, cells in board.frankness.items():
        for r, c in sorted(cells.items()):
            mean = "" if c.mean is None else f"{c.mean:.2f}"
            writer.writerow([programme.name, r, "frankness", side, c.n, mean])
    for q, cells in board.questions:
        for r, c in sorted(cells.items()):
            mean = "" if c.mean is None else f"{c.mean:.2f}"
            writer.writerow([programme.name, r, q.prompt, q.side, c.n, mean])
    if board.closing is not None:
        closing = board.closing
        writer.writerow([programme.name, "closing", "closing survey answered", "all",
                         closing.answered, f"{closing.asked}"])  # fmt: skip
        # `answers`: those the figure counts (in fives; the others wait for five more), or
        # with no figure, those received.
        rows = [("frankness", side, c) for side, c in closing.frankness.items()]
        rows += [(q.prompt, q.side, c) for q, c in closing.questions]
        for measure, side, c in rows:
            if c.mean is None:
                writer.writerow([programme.name, "closing", measure, side, c.n, ""])
            else:
                writer.writerow([programme.name, "closing", measure, side, c.counted,
                                 f"{c.mean:.2f}"])  # fmt: skip
    # A cell a spreadsheet would run as a formula is written as text.
    return "".join(
        line if line[:1] not in ("=", "+", "-", "@") else "'" + line
        for line in out.getvalue().splitlines(keepends=True)
    )


def _reportable(pair: Pair, partner: int) -> ColumnElement[bool]:
    """The messages of `partner` in the pair's space that the other member sees (and so
    could report): shown, not held or hidden."""
    return (
        (Message.conversation_id == pair.conversation_id)
        & (Message.sender_id == partner)
        & Message.state.in_(VISIBLE_STATES)
    )


async def reportable_pairs(session: AsyncSession, user_id: int, pairs: list[Pair]) -> set[int]:
    """The member's running pairs whose partner has written something the member sees: only
    there is "this felt dismissive" offered (elsewhere there is nothing it could report)."""
    found: set[int] = set()
    for pair in pairs:
        if pair.status != PairStatus.active.value or pair.conversation_id is None:
            continue
        partner = pair.senior_id if user_id == pair.junior_id else pair.junior_id
        if await session.scalar(select(Message.id).where(_reportable(pair, partner)).limit(1)):
            found.add(pair.id)
    return found


async def dismissive_target(
    session: AsyncSession, user: User, programme: Programme, pair_id: int,
    message_id: int | None = None,
) -> tuple[Pair, Message]:  # fmt: skip
    """The pair and the message a "this felt dismissive" report is about: the partner's
    newest message the member can see, or `message_id` (the one the confirmation page
    showed) if it is one of the partner's visible messages in the pair's space."""
    pair = await session.get(Pair, pair_id)
    if pair is None or pair.programme_id != programme.id or user.id not in (
        pair.junior_id, pair.senior_id,
    ):  # fmt: skip
        raise Forbidden("pair", "Only the pair's two members can report in its space.")
    partner = pair.senior_id if user.id == pair.junior_id else pair.junior_id
    query = select(Message).where(_reportable(pair, partner))
    if message_id is not None:
        query = query.where(Message.id == message_id)
    message = await session.scalar(query.order_by(Message.id.desc()).limit(1))
    if message is None:
        raise ProgrammeError("pair", "Your partner has not written anything you could report.")
    return pair, message


async def latest_reported(
    session: AsyncSession, user_id: int, pairs: list[Pair], reportable: set[int]
) -> dict[int, datetime]:
    """For each reportable pair whose partner's latest message (the one the programme page's
    link reports) the member has reported already: when (the page says so in place of the
    link)."""
    found: dict[int, datetime] = {}
    for pair in pairs:
        if pair.id not in reportable:
            continue
        partner = pair.senior_id if user_id == pair.junior_id else pair.junior_id
        latest = await session.scalar(
            select(Message.id).where(_reportable(pair, partner)).order_by(Message.id.desc())
        )
        when = await session.scalar(
            select(func.min(Report.created_at)).where(
                Report.message_id == latest, Report.reporter_id == user_id
            )
        )
        if when is not None:
            found[pair.id] = when
    return found


async def reported_at(session: AsyncSession, user: User, message_id: int) -> datetime | None:
    """When the member reported this message (as dismissive or otherwise); None: never."""
    return await session.scalar(
        select(func.min(Report.created_at)).where(
            Report.message_id == message_id, Report.reporter_id == user.id
        )
    )


async def report_dismissive(
    session: AsyncSession, settings: Settings, user: User, programme: Programme, pair_id: int,
    message_id: int | None = None,
) -> Report:  # fmt: skip
    """The partner's message (the newest one the member sees, or the one they confirmed) is
    reported as dismissive (the moderators' review queue, as any message report), and the
    lead is told."""
    pair, message = await dismissive_target(session, user, programme, pair_id, message_id)
    try:
        report = await review.report_message(
            session, settings, user, message, ReportReason.dismissive.value,
            "One-click report from a programme's pair space.",
        )  # fmt: skip
    except review.ReviewError as exc:
        raise ProgrammeError("pair", exc.message) from None
    # The lead's copy names the pair, never which of the two reported; nobody else is told.
    session.add(DismissiveReport(programme_id=programme.id, pair_id=pair.id,
                                 created_at=utcnow(), follow_up="", note=""))  # fmt: skip
    if programme.lead_id is not None:
        names = await usernames(session, {pair.junior_id, pair.senior_id})
        tell(
            session, programme.lead_id, NoteKind.programme_lead,
            f"A message in the pair space of {names.get(pair.junior_id, '?')} and "
            f"{names.get(pair.senior_id, '?')} ({title(programme)}) felt dismissive: "
            "choose how you follow up",
            path("programme_dashboard", programme_id=programme.id) + "#reports",
        )  # fmt: skip
    return report
