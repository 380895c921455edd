"""A lead's figures of a check-in round that is over never move afterwards: not when a
participant leaves, a pair is ended by the lead, a member deletes their account, or the lead
pairs someone by hand later (a lead found last month's response rate had changed after a
member left: it was counted over the pairs running now)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts import services as accounts
from forum.core.settings import Settings
from forum.programmes import dashboard as dash
from forum.programmes import lifecycle as life
from forum.programmes import services as svc
from forum.programmes.models import Application, CheckinAnswer, DismissiveReport, Programme
from tests.helpers import login, make_user
from tests.programmes.test_programmes import _published, end_round, make_programme


def _round(board: dash.Dashboard, round_: int) -> dict[str, Any]:
    """Everything the dashboard shows of one round that is over."""
    return {
        "rate": [r for r in board.response_rates if r[0] == round_],
        "frankness": {side: (c.n, c.mean) for side, cells in board.frankness.items()
                      for r, c in cells.items() if r == round_},
        "questions": [(q.id, c.n, c.mean, c.why) for q, cells in board.questions
                      for r, c in cells.items() if r == round_],
        "texts": [t for t in board.texts if t[0] == round_],
        "withheld": [t for t in board.texts_withheld if t[0] == round_],
    }  # fmt: skip


async def _answers_of(db: AsyncSession, users: list[int]) -> list[tuple[int, int, str]]:
    rows = await db.scalars(select(CheckinAnswer).where(CheckinAnswer.user_id.in_(users))
                            .execution_options(populate_existing=True))  # fmt: skip
    return sorted((a.round, a.value or 0, a.text) for a in rows)


def _csv_round(text: str, round_: int) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row[1] == str(round_)]


async def test_a_closed_rounds_figures_stay_when_people_leave_or_pairs_change(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    scale = await svc.add_question(db, settings, lead, programme, "Was the meeting useful?",
                                   "scale", "both")  # fmt: skip
    written = await svc.add_question(db, settings, lead, programme, "What went well?", "text",
                                     "junior")  # fmt: skip
    people = await _published(db, settings, lead, programme, 6)
    frank = [q for q in await svc.questions(db, programme) if q.frankness][0]
    # Round 1: every junior answers, five seniors do.
    for n, (junior, _) in enumerate(people):
        await svc.answer_checkin(db, settings, junior, programme, "junior",
                                 {frank.id: str(1 + n % 5), scale.id: "4",
                                  written.id: f"Went well {n}"})  # fmt: skip
    for n, (_, senior) in enumerate(people[:5]):
        await svc.answer_checkin(db, settings, senior, programme, "senior",
                                 {frank.id: str(5 - n % 3), scale.id: "2"})  # fmt: skip
    end_round(programme)  # round 1 is over, round 2 open
    board = await dash.build(db, programme)
    before = _round(board, 1)
    leaving = [people[0][0].id, people[2][1].id]
    kept = await _answers_of(db, leaving)
    assert before["rate"] == [(1, 11, 12)]
    assert before["frankness"]["junior"][0] == 6 and before["frankness"]["senior"][0] == 5
    assert len(before["texts"]) == 6
    await db.commit()
    await login(client, "leader")
    csv_path = f"/programmes/{programme.id}/dashboard.csv"
    exported = _csv_round((await client.get(csv_path)).text, 1)
    assert ["Reverse pilot", "1", "response rate", "all", "11", "0.92"] in exported

    # A junior leaves (their pair ends) ...
    await life.leave(db, settings, people[0][0], programme)
    # ... the lead ends another pair after a report ...
    pairs = {p.junior_id: p for p in await svc.pairs_of(db, programme)}
    report = DismissiveReport(programme_id=programme.id, pair_id=pairs[people[1][0].id].id,
                              follow_up="", note="")  # fmt: skip
    db.add(report)
    await db.flush()
    await life.follow_up(db, settings, lead, programme, report.id, "change", "")
    # ... a senior deletes their account (their pair ends as leaving ends it) ...
    await accounts.delete_account(db, settings, people[2][1])
    # ... and the lead pairs, by hand, a member nobody asked in round 1.
    late = await make_user(db, settings, username="late_junior")
    db.add(Application(programme_id=programme.id, user_id=late.id, side="junior",
                       status="accepted"))  # fmt: skip
    await db.flush()
    await svc.pair_by_hand(db, settings, lead, programme, late.id, people[0][1].id)
    await db.commit()

    board = await dash.build(db, programme)
    assert _round(board, 1) == before
    # The answers are kept: anonymous figures of the lead's, nobody's to take back.
    assert await _answers_of(db, leaving) == kept
    assert _csv_round((await client.get(csv_path)).text, 1) == exported
    # The round still open counts who was asked in it: those whose pair ran in it (the three
    # ended in it, so were asked), and the pair made by hand in it.
    assert board.response_rates[1] == (2, 0, 13)
    assert board.pairs_active == 4 and board.participants == 8


async def test_the_closing_surveys_asked_are_those_running_when_it_closed(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 6)
    frank = [q for q in await svc.questions(db, programme) if q.frankness][0]
    for junior, _ in people:
        await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: "3"})
    await life.close(db, settings, lead, programme)
    board = await dash.build(db, programme)
    before = (board.response_rates, _round(board, 1), board.pairs_active, board.participants)
    assert board.closing is not None and board.closing.asked == 12
    assert before[0] == [(1, 6, 12)] and before[2:] == (6, 12)
    # After closing, the lead still ends a pair after a report: the figures of the programme
    # as it closed stay.
    (pair, *_) = await svc.pairs_of(db, programme)
    report = DismissiveReport(programme_id=programme.id, pair_id=pair.id, follow_up="", note="")
    db.add(report)
    await db.flush()
    await life.follow_up(db, settings, lead, programme, report.id, "change", "")
    board = await dash.build(db, programme)
    assert board.closing is not None and board.closing.asked == 12
    assert (board.response_rates, _round(board, 1), board.pairs_active,
            board.participants) == before  # fmt: skip


async def test_a_pair_ended_before_a_round_is_not_asked_in_it(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme: Programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 3)
    end_round(programme)
    end_round(programme)
    (pair,) = await life.leave(db, settings, people[0][0], programme)
    closes = svc.round_closes_at(programme, 1)
    assert closes is not None
    pair.ended_at = closes - timedelta(days=1)  # as if they had left in round 1
    board = await dash.build(db, programme)
    # The pair ended in round 1 (now over): asked then, not in rounds 2 and 3.
    assert [asked for _, _, asked in board.response_rates] == [6, 4, 4]
