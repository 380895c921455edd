"""The lead's dashboard never lets a withheld answer be worked out (an outside tester's report):
not by setting the figure over both sides beside one side's (6 × 2.83 − 5 × 3.0 = 2, the one
senior's answer), nor by watching a figure move while answers come in or are replaced. A
check-in round's figures show once it is over; the closing survey, which stays open, counts
answers in fives."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.settings import Settings
from forum.programmes import dashboard as dash
from forum.programmes import lifecycle as life
from forum.programmes import services as svc
from forum.programmes.models import CheckinQuestion, Programme
from tests.helpers import login, make_user
from tests.programmes.test_programmes import _published, end_round, make_programme


async def _frankness(db: AsyncSession, programme: Programme) -> CheckinQuestion:
    (frank,) = [q for q in await svc.questions(db, programme) if q.frankness]
    return frank


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _when(programme: Programme, round_: int) -> str:
    closes = svc.round_closes_at(programme, round_)
    assert closes is not None
    return f"{closes:%d %b %Y, %H:%M UTC}"  # as the pages write a moment


async def test_the_figure_over_both_sides_never_gives_the_withheld_side_away(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # The tester's repro: round 3, five juniors answer 1, 5, 2, 3, 4 and one senior answers 2.
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 6)
    end_round(programme)
    end_round(programme)
    assert svc.current_round(programme) == 3
    frank = await _frankness(db, programme)
    for (junior, _), value in zip(people, "15234", strict=False):
        await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: value})
    await svc.answer_checkin(db, settings, people[0][1], programme, "senior", {frank.id: "2"})
    end_round(programme)
    board = await dash.build(db, programme)
    junior_side, senior_side = board.frankness["junior"][3], board.frankness["senior"][3]
    assert (junior_side.n, junior_side.mean) == (5, 3.0)
    assert (senior_side.n, senior_side.mean) == (1, None)
    ((question, cells),) = board.questions
    assert question.frankness and question.side == "both"
    # Shown, the combined figure was 17 / 6 = 2.83, and 6 × 17/6 − 5 × 3.0 = 2: the senior's.
    assert cells[3].n == 6 and cells[3].mean is None and "one side" in cells[3].why
    await db.commit()
    await login(client, "leader")
    page = (await client.get(f"/programmes/{programme.id}/dashboard")).text
    assert "<td>3.0 (5 answers)</td><td>withheld (1 answer)</td>" in page
    assert "round 3: withheld (one side gave fewer than five answers)" in page
    assert "2.83" not in page and "nobody's answers can be singled out" in page
    rows = _rows((await client.get(f"/programmes/{programme.id}/dashboard.csv")).text)
    assert ["Reverse pilot", "3", svc.FRANKNESS, "both", "6", ""] in rows
    assert ["Reverse pilot", "3", "frankness", "junior", "5", "3.00"] in rows
    assert ["Reverse pilot", "3", "frankness", "senior", "1", ""] in rows
    assert not [r for r in rows if "2.83" in r]


async def test_a_figure_over_both_sides_shows_when_each_side_gave_none_or_five(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 5)
    frank = await _frankness(db, programme)
    for junior, _ in people:
        await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: "4"})
    end_round(programme)  # round 1: five juniors, no senior
    for junior, senior in people:
        await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: "4"})
        await svc.answer_checkin(db, settings, senior, programme, "senior", {frank.id: "2"})
    end_round(programme)  # round 2: five a side
    board = await dash.build(db, programme)
    ((_, cells),) = board.questions
    assert (cells[1].n, cells[1].mean) == (5, 4.0)
    assert (cells[2].n, cells[2].mean) == (10, 3.0)


async def test_an_open_round_shows_no_figure_so_answers_coming_in_or_replaced_give_none_away(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 6)
    written = await svc.add_question(db, settings, lead, programme, "What went well?", "text",
                                     "junior")  # fmt: skip
    frank = await _frankness(db, programme)
    for n, (junior, _) in enumerate(people[:5]):
        await svc.answer_checkin(db, settings, junior, programme, "junior",
                                 {frank.id: "4", written.id: f"Fine, note {n}"})  # fmt: skip
    await db.commit()
    await login(client, "leader")
    path = f"/programmes/{programme.id}/dashboard"

    async def seen() -> tuple[str, str]:
        await db.commit()
        return (await client.get(path)).text, (await client.get(f"{path}.csv")).text

    page, exported = await seen()
    when = _when(programme, 1)
    assert f"Round 1 is open: its figures show when it closes on {when}." in page
    assert f"open: shown when it closes on {when}" in page
    assert f"Withheld until round 1 closes on {when}" in page and "Fine, note" not in page
    assert "4.0 (" not in page and "(5 answers)" not in page
    # The export has the response rate (who answered, not what), and no figure of the round.
    assert _rows(exported)[1:] == [["Reverse pilot", "1", "meetings logged", "all", "", "0"],
                                   ["Reverse pilot", "1", "response rate", "all", "5", "0.42"]]  # fmt: skip
    # A participant replaces an answer; another answers: only the count moves, never a figure.
    await svc.answer_checkin(db, settings, people[0][0], programme, "junior",
                             {frank.id: "1", written.id: "Not fine at all"})  # fmt: skip
    replaced_page, replaced_export = await seen()
    assert replaced_export == exported and "Not fine at all" not in replaced_page
    await svc.answer_checkin(db, settings, people[5][0], programme, "junior",
                             {frank.id: "5", written.id: "Sixth"})  # fmt: skip
    _, more = await seen()
    assert _rows(more)[2] == ["Reverse pilot", "1", "response rate", "all", "6", "0.50"]
    assert _rows(more)[3:] == []
    # Once over, the round's figures show, final: its answers can no longer change.
    end_round(programme)
    page, exported = await seen()
    assert "<td>3.67 (6 answers)</td><td>withheld (0 answers)</td>" in page
    assert f"Round 2 is open: its figures show when it closes on {_when(programme, 2)}." in page
    assert "Not fine at all" in page and "Sixth" in page and "Fine, note 0" not in page
    assert ["Reverse pilot", "1", "frankness", "junior", "6", "3.67"] in _rows(exported)
    await svc.answer_checkin(db, settings, people[1][0], programme, "junior", {frank.id: "1"})
    board = await dash.build(db, programme)
    assert board.frankness["junior"][1].mean == 22 / 6  # the answer is round 2's
    assert 2 not in board.frankness["junior"]


async def test_closing_the_programme_ends_its_round_and_shows_it(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 5)
    frank = await _frankness(db, programme)
    for junior, _ in people:
        await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: "3"})
    assert (await dash.build(db, programme)).frankness["junior"] == {}
    await life.close(db, settings, lead, programme)
    board = await dash.build(db, programme)
    assert board.open_round == 0 and board.closed == 1
    assert board.frankness["junior"][1].mean == 3.0


def test_a_round_closes_when_the_next_opens() -> None:
    from datetime import UTC, datetime

    published = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    programme = Programme(status="published", starts_on=None, published_at=published,
                          checkin_days=14, closed_at=None)  # fmt: skip
    # Round 1 opens an interval after the start, round 2 two, and round 3 three: then round 2
    # closes.
    assert svc.round_opens_at(programme, 1) == published + timedelta(days=14)
    closes = svc.round_closes_at(programme, 2)
    assert closes == published + timedelta(days=42)
    assert svc.current_round(programme, closes - timedelta(seconds=1)) == 2
    assert svc.closed_rounds(programme, closes - timedelta(seconds=1)) == 1
    assert svc.current_round(programme, closes) == 3 and svc.closed_rounds(programme, closes) == 2
    programme.status, programme.closed_at = "closed", closes - timedelta(days=3)
    assert svc.closed_rounds(programme) == 2  # closing ends the open round
    assert svc.round_closes_at(Programme(published_at=None), 1) is None


async def _close_with_six_pairs(
    db: AsyncSession, settings: Settings, lead: User, programme: Programme
) -> list[tuple[User, User]]:
    people = await _published(db, settings, lead, programme, 6)
    await life.close(db, settings, lead, programme)
    return people


async def test_the_closing_survey_counts_answers_in_fives_so_one_more_moves_no_figure(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    recommend = await svc.add_question(db, settings, lead, programme, "Would you recommend it?",
                                       "scale", "both", closing=True)  # fmt: skip
    change = await svc.add_question(db, settings, lead, programme, "One thing to change?",
                                    "text", "both", closing=True)  # fmt: skip
    people = await _close_with_six_pairs(db, settings, lead, programme)
    frank = await _frankness(db, programme)
    for n, (junior, _) in enumerate(people[:5]):
        await life.answer_closing(db, settings, junior, programme, "junior",
                                  {frank.id: "4", recommend.id: "4", change.id: f"Idea {n}"})  # fmt: skip
    board = await dash.build(db, programme)
    assert board.closing is not None
    before = board.closing.frankness["junior"]
    assert (before.n, before.counted, before.mean) == (5, 5, 4.0)
    assert [t for _, t in board.closing.texts] == [f"Idea {n}" for n in range(5)]
    await db.commit()
    await login(client, "leader")
    path = f"/programmes/{programme.id}/dashboard"
    exported = (await client.get(f"{path}.csv")).text
    # A sixth junior, then one senior: no figure moves (6 × m6 − 5 × m5 would be the
    # sixth's answer; the combined figure less the juniors' would be the senior's).
    await life.answer_closing(db, settings, people[5][0], programme, "junior",
                              {frank.id: "1", recommend.id: "1", change.id: "Secret sixth"})  # fmt: skip
    await life.answer_closing(db, settings, people[0][1], programme, "senior",
                              {frank.id: "2", recommend.id: "2", change.id: "Senior's own"})  # fmt: skip
    board = await dash.build(db, programme)
    assert board.closing is not None and board.closing.answered == 7
    after = board.closing.frankness["junior"]
    assert (after.n, after.counted, after.mean, after.waiting) == (6, 5, 4.0, 1)
    assert board.closing.frankness["senior"].mean is None
    ((_, combined),) = board.closing.questions
    assert (combined.n, combined.counted, combined.mean) == (7, 5, 4.0)
    assert [t for _, t in board.closing.texts] == [f"Idea {n}" for n in range(5)]
    assert board.closing.texts_waiting == 2
    await db.commit()
    page = (await client.get(path)).text
    assert "4.0 (5 answers; 1 more waiting)" in page and "4.0 (5 answers; 2 more waiting)" in page
    assert "Secret sixth" not in page and "Senior's own" not in page
    assert "2 written answers wait for more to come in" in page
    assert "count each side's answers in fives" in page
    # In the export, only counts move: how many answered, and the seniors' withheld count.
    now = _rows((await client.get(f"{path}.csv")).text)
    moved = [r for r in now if r not in _rows(exported)]
    assert moved == [["Reverse pilot", "closing", "closing survey answered", "all", "7", "12"],
                     ["Reverse pilot", "closing", "frankness", "senior", "1", ""]]  # fmt: skip
    # Four more seniors make a five: the seniors' figure shows, and the combined one counts
    # them (never a side's one to four answers).
    for _, senior in people[1:5]:
        await life.answer_closing(db, settings, senior, programme, "senior",
                                  {frank.id: "2", recommend.id: "2", change.id: ""})  # fmt: skip
    board = await dash.build(db, programme)
    assert board.closing is not None
    assert board.closing.frankness["senior"].mean == 2.0
    ((_, combined),) = board.closing.questions
    assert (combined.n, combined.counted, combined.mean) == (11, 10, 3.0)
