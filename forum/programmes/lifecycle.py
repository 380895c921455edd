"""A programme over time: members withdrawing (before they are paired) and leaving (after:
their pair ends), the lead following up a "this felt dismissive" report, closing the
programme and its closing survey, and the History of the lead's decisions (the audit log).

A pair space whose pair ended stays readable to the two: the conversation is theirs
(forum.messages); the pair is marked ended, and the programme's pages say so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.audit import AuditEntry, audit
from forum.core.db import utcnow
from forum.core.pagination import Page, paginate
from forum.core.settings import Settings
from forum.core.text import counted
from forum.messages.models import Conversation
from forum.notifications.models import Kind as NoteKind
from forum.programmes.models import (
    CLOSING_ROUND,
    Application,
    ApplicationStatus,
    CheckinAnswer,
    DismissiveReport,
    Pair,
    PairStatus,
    Programme,
    ProgrammeStatus,
)
from forum.programmes.paths import path
from forum.programmes.services import (
    Forbidden,
    ProgrammeError,
    check_rate,
    log,
    my_pair,
    pairs_of,
    parse_answers,
    participant_sides,
    questions,
    require_lead,
    tell,
    tell_lead,
    title,
    usernames,
)

NOTE_MAX = 2000
FOLLOW_UPS = {
    # Either partner may report, and the lead never learns which: "word" (the stored value,
    # kept) names the partner who wrote the message, not a side.
    "word": "spoke with the partner who wrote it",
    "change": "ended the pair (a change of pair)",
    "moderators": "left it to the moderators' decision",
    "none": "no action was needed",
}
LIVE = (ApplicationStatus.pending.value, ApplicationStatus.accepted.value)


# --- withdrawing and leaving -----------------------------------------------------------------


async def own_applications(
    session: AsyncSession, programme: Programme, user_id: int
) -> list[Application]:
    return list(
        await session.scalars(
            select(Application)
            .where(Application.programme_id == programme.id, Application.user_id == user_id)
            .order_by(Application.side)
        )
    )


async def may_withdraw(session: AsyncSession, programme: Programme, user_id: int) -> bool:
    """A pending or accepted application, and never paired: withdrawing is possible. (A
    member whose pair ended, their partner having left, has nothing to withdraw.)"""
    if programme.status == ProgrammeStatus.closed.value:
        return False
    if await my_pair(session, programme, user_id):
        return False
    return any(a.status in LIVE for a in await own_applications(session, programme, user_id))


async def withdrawable(
    session: AsyncSession, programme: Programme, user: User
) -> list[Application]:
    """The applications the member would withdraw (refused, saying why, if there are none):
    pending or accepted, and never paired."""
    if programme.status == ProgrammeStatus.closed.value:
        raise ProgrammeError("programme", "The programme is closed.")
    pairs = await my_pair(session, programme, user.id)
    if any(p.status == PairStatus.active.value for p in pairs):
        raise ProgrammeError(
            "programme", "You are in a pair: leave the programme instead (your pair ends)."
        )
    if pairs:
        raise ProgrammeError(
            "programme", "Your pair has ended: there is no application left to withdraw. Ask "
            "the programme's lead if you would like a new partner.",
        )  # fmt: skip
    live = [a for a in await own_applications(session, programme, user.id) if a.status in LIVE]
    if not live:
        raise ProgrammeError("programme", "You have no application to withdraw.")
    return live


async def withdraw(
    session: AsyncSession, settings: Settings, user: User, programme: Programme
) -> list[Application]:
    """The member withdraws their own application(s), pending or accepted but not yet in a
    pair; the lead is told. They may apply again while the programme is open."""
    live = await withdrawable(session, programme, user)
    await check_rate(session, settings, user)
    for application in live:
        application.status = ApplicationStatus.withdrawn.value
    sides = " and ".join(a.side for a in live)
    await tell_lead(
        session, programme, user,
        f"{user.username} withdrew their application ({sides} side) from {title(programme)}",
    )  # fmt: skip
    return live


async def _end(
    session: AsyncSession, pair: Pair, by: User, reason: str, now: datetime | None = None
) -> None:
    pair.status = PairStatus.ended.value
    pair.ended_at = now or utcnow()
    pair.ended_by = by.id
    pair.ended_reason = reason[:200]
    # The pair space stays readable to both, but takes no new messages.
    if pair.conversation_id is not None:
        conversation = await session.get(Conversation, pair.conversation_id)
        if conversation is not None and conversation.closed_at is None:
            conversation.closed_at = pair.ended_at
            conversation.closed_note = (
                f"The pair ended on {pair.ended_at:%d %B %Y}; "
                "this space is kept for the two of you to read."
            )


async def leaving_pairs(session: AsyncSession, programme: Programme, user: User) -> list[Pair]:
    """The pairs the member would end by leaving (refused if there is nothing to leave)."""
    if programme.status != ProgrammeStatus.published.value:
        raise ProgrammeError("programme", "Only a running programme can be left.")
    pairs = await my_pair(session, programme, user.id, active=True)
    if not pairs:
        raise ProgrammeError("programme", "You are not in a running pair of this programme.")
    return pairs


LEAVE_REASON_MAX = 500
LEAVE_REASON_TOO_LONG = (
    f"The reason can have at most {LEAVE_REASON_MAX} characters: shorten it (nothing has "
    "changed yet)."
)


def leave_reason(value: str) -> str:
    """A leaving member's optional reason, for the lead only: one paragraph, at most
    LEAVE_REASON_MAX characters."""
    reason = " ".join(value.split())
    if len(reason) > LEAVE_REASON_MAX:
        raise ProgrammeError("reason", LEAVE_REASON_TOO_LONG)
    return reason


async def leave(
    session: AsyncSession, settings: Settings, user: User, programme: Programme,
    reason: str = "",
) -> list[Pair]:  # fmt: skip
    """After publishing, a participant leaves: their pair ends (the pair space stays readable
    to both), their application is withdrawn, and their partner and the lead are told. Their
    optional `reason` is the lead's only (the History, the dashboard's ended pairs): never the
    partner's."""
    pairs = await leaving_pairs(session, programme, user)
    reason = leave_reason(reason)
    await check_rate(session, settings, user)
    now = utcnow()
    partners = {p.senior_id if p.junior_id == user.id else p.junior_id for p in pairs}
    names = await usernames(session, partners)
    for pair in pairs:
        await _end(session, pair, user, f"{user.username} left the programme", now)
        partner = pair.senior_id if pair.junior_id == user.id else pair.junior_id
        tell(
            session, partner, NoteKind.programme,
            f"{user.username} left {title(programme)}: your pair has ended; your private "
            "space stays readable",
            path("programme", programme_id=programme.id), actor_id=user.id,
        )  # fmt: skip
    for application in await own_applications(session, programme, user.id):
        if application.status in LIVE:
            application.status = ApplicationStatus.withdrawn.value
    with_whom = ", ".join(sorted(names.values())) or "their partner"
    audit(
        session, user, "programme_leave", "programme", programme.id, reason=reason,
        detail=f"{user.username} left the programme; their pair with {with_whom} ended."
        + (f" Their reason: {stop(reason)}" if reason else " They gave no reason."),
    )  # fmt: skip
    if programme.lead_id is not None:
        tell(
            session, programme.lead_id, NoteKind.programme_lead,
            f"{user.username} left {title(programme)}; their pair with {with_whom} has ended",
            path("programme_dashboard", programme_id=programme.id), actor_id=user.id,
        )  # fmt: skip
    return pairs


def stop(text: str) -> str:
    """A sentence typed with or without its final full stop, ending with one (never two)."""
    text = text.rstrip()
    return text if not text or text[-1] in ".!?…" else text + "."


# --- dismissive reports: the lead's follow-up ---------------------------------------------------


@dataclass
class ReportRow:
    report: DismissiveReport
    junior: str
    senior: str
    pair_active: bool
    by: str  # who followed it up


async def reports(session: AsyncSession, programme: Programme) -> list[ReportRow]:
    """The programme's dismissive reports, newest first, by pair (never by reporter)."""
    found = list(
        await session.execute(
            select(DismissiveReport, Pair)
            .join(Pair, Pair.id == DismissiveReport.pair_id)
            .where(DismissiveReport.programme_id == programme.id)
            .order_by(DismissiveReport.id.desc())
            .limit(200)
        )
    )
    names = await usernames(
        session,
        {i for _, p in found for i in (p.junior_id, p.senior_id)}
        | {r.followed_up_by for r, _ in found if r.followed_up_by is not None},
    )
    return [
        ReportRow(r, names.get(p.junior_id, "a former member"),
                  names.get(p.senior_id, "a former member"), p.status == PairStatus.active.value,
                  names.get(r.followed_up_by or 0, ""))
        for r, p in found
    ]  # fmt: skip


async def follow_up(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme,
    report_id: int, action: str, note: str,
) -> DismissiveReport:  # fmt: skip
    """The lead records how they followed up a report, once: a word with the partner who
    wrote it, a change of pair (the pair ends; both partners are told), the moderators'
    decision, or nothing needed. The partner is never told who reported."""
    require_lead(lead, programme)
    report = await session.get(DismissiveReport, report_id)
    if report is None or report.programme_id != programme.id:
        raise ProgrammeError("report", "There is no such report.", status=404)
    if report.follow_up:
        raise ProgrammeError("report", "This report has already been followed up.")
    if action not in FOLLOW_UPS:
        raise ProgrammeError("action", "Choose how you followed it up.")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ProgrammeError("note", f"The note can have at most {NOTE_MAX} characters.")
    pair = await session.get(Pair, report.pair_id)
    assert pair is not None
    await check_rate(session, settings, lead)
    now = utcnow()
    if action == "change":
        if pair.status != PairStatus.active.value:
            raise ProgrammeError("action", "This pair has already ended.")
        await _end(session, pair, lead, "Ended by the programme's lead", now)
        for member in (pair.junior_id, pair.senior_id):
            tell(
                session, member, NoteKind.programme,
                f"The lead of {title(programme)} ended your pair; your private space stays "
                "readable",
                path("programme", programme_id=programme.id),
            )  # fmt: skip
    report.follow_up = action
    report.note = note
    report.followed_up_at = now
    report.followed_up_by = lead.id
    names = await usernames(session, {pair.junior_id, pair.senior_id})
    words = (
        f"Followed up a dismissive report in the pair {names.get(pair.junior_id, '?')} and "
        f"{names.get(pair.senior_id, '?')}: {FOLLOW_UPS[action]}."
    )
    log(session, lead, programme, "follow_up", words + (f" Note: {stop(note)}" if note else ""))
    return report


# --- closing ---------------------------------------------------------------------------------


async def undecided(session: AsyncSession, programme: Programme) -> list[Application]:
    """The programme's applications its lead has not yet decided."""
    return list(
        await session.scalars(
            select(Application).where(
                Application.programme_id == programme.id,
                Application.status == ApplicationStatus.pending.value,
            )
        )
    )


async def close(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme,
    now: datetime | None = None,
) -> int:  # fmt: skip
    """The lead closes the programme: applications and check-ins stop, and every participant
    still in a pair is asked the closing survey. Returns how many were asked. (`now`: when,
    for the demo's trial closed weeks ago.)"""
    require_lead(lead, programme)
    if programme.status == ProgrammeStatus.closed.value:
        raise ProgrammeError("programme", "The programme is already closed.")
    await check_rate(session, settings, lead)
    programme.status = ProgrammeStatus.closed.value
    programme.closed_at = now or utcnow()
    # Applications nobody decided are declined, and their members told (they waited on a
    # "pending" that could never change).
    for application in await undecided(session, programme):
        application.status = ApplicationStatus.declined.value
        tell(
            session, application.user_id, NoteKind.programme,
            f"{title(programme)} has closed before your application ({application.side} "
            "side) was decided: it is declined. Ask its lead about the next programme",
            path("programme", programme_id=programme.id),
        )  # fmt: skip
    pairs = await pairs_of(session, programme)
    asked = sorted({i for p in pairs if p.status == PairStatus.active.value
                    for i in (p.junior_id, p.senior_id)})  # fmt: skip
    # The pairs' spaces close with the programme (a probe still wrote in one after it
    # closed), kept for the two to read, as an ended pair's is.
    for pair in pairs:
        conversation = (
            await session.get(Conversation, pair.conversation_id) if pair.conversation_id else None
        )
        if conversation is not None and conversation.closed_at is None:
            conversation.closed_at = programme.closed_at
            conversation.closed_note = (
                f"The programme closed on {programme.closed_at:%d %B %Y}; this space "
                "is kept for the two of you to read. To keep in touch, start a private "
                "conversation."
            )
    link = path("programme_closing", programme_id=programme.id)
    for member in asked:
        tell(
            session, member, NoteKind.programme,
            f"{title(programme)} has closed: please answer its short closing survey (only "
            "the lead reads it)",
            link,
        )  # fmt: skip
    words = (f"Closed the programme; {counted(len(asked), 'participant was', 'participants were')} "
             "asked the closing survey.")  # fmt: skip
    log(session, lead, programme, "close", words)
    return len(asked)


async def closing_answered(session: AsyncSession, programme: Programme, user_id: int) -> set[str]:
    """The sides on which the member answered the closing survey."""
    return set(
        await session.scalars(
            select(CheckinAnswer.side).where(
                CheckinAnswer.programme_id == programme.id,
                CheckinAnswer.user_id == user_id,
                CheckinAnswer.round == CLOSING_ROUND,
            )
        )
    )


async def answer_closing(
    session: AsyncSession, settings: Settings, user: User, programme: Programme, side: str,
    values: dict[int, str],
) -> None:  # fmt: skip
    """A participant's closing survey, once per side; only the lead reads it."""
    if side not in await participant_sides(session, programme, user.id):
        raise Forbidden("side", "Only the programme's participants answer its closing survey.")
    if programme.status != ProgrammeStatus.closed.value:
        raise ProgrammeError("side", "The closing survey opens when the lead closes the programme.")
    if side in await closing_answered(session, programme, user.id):
        raise ProgrammeError("side", "You have already answered the closing survey. Thank you.")
    parsed = parse_answers(await questions(session, programme, side, closing=True), values)
    await check_rate(session, settings, user)
    now = utcnow()
    for qid, (value, text) in parsed.items():
        session.add(CheckinAnswer(programme_id=programme.id, question_id=qid, user_id=user.id,
                                  side=side, round=CLOSING_ROUND, value=value, text=text,
                                  created_at=now))  # fmt: skip
    await session.flush()


# --- the History page ----------------------------------------------------------------------------


@dataclass
class HistoryRow:
    when: datetime
    who: str
    what: str


HISTORY_PER_PAGE = 50


async def history(
    session: AsyncSession, programme: Programme, page: int | None
) -> tuple[list[HistoryRow], Page]:
    """The lead's decisions on this programme, newest first, in words."""
    mine = (AuditEntry.target_type == "programme") & (AuditEntry.target_id == programme.id)
    total = await session.scalar(select(func.count(AuditEntry.id)).where(mine))
    pager = paginate(total or 0, HISTORY_PER_PAGE, page)
    rows = await session.execute(
        select(AuditEntry, User.username)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(mine)
        .order_by(AuditEntry.id.desc())
        .offset((pager.number - 1) * HISTORY_PER_PAGE)
        .limit(HISTORY_PER_PAGE)
    )
    return [
        HistoryRow(entry.created_at, name or "a former member", entry.detail)
        for entry, name in rows
    ], pager
