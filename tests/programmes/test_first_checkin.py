"""The first check-in round opens one check-in interval after a programme starts, not at the
start: pairs meet before they are asked how it is going (with checkin_days 14, the first
check-in opens 14 days after the start, the second 28 days after, and so on). Closing the
programme closes the round that was open, and no later one opens.

Programmes that had started before this rule (migration 0032) keep the schedule they ran on:
their answers are stored by its rounds' numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import httpx
from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.cli import alembic_config
from forum.core.db import Database, connect, utcnow
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.notifications.models import Notification
from forum.programmes import dashboard as dash
from forum.programmes import lifecycle as life
from forum.programmes import services as svc
from forum.programmes.models import CheckinAnswer, CheckinQuestion, Pair, Programme
from tests.conftest import make_settings, run_in_thread
from tests.helpers import login, make_user, post_form
from tests.programmes.test_programmes import _published, deliver, make_programme

# The example of the issue: a programme starting on 7 December 2026, checking in every 14 days.
STARTS = date(2026, 12, 7)
PAIRED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _running(**kw: object) -> Programme:
    values: dict[str, object] = {"status": "published", "starts_on": STARTS,
                                 "published_at": PAIRED, "checkin_days": 14, "closed_at": None}  # fmt: skip
    values.update(kw)
    return Programme(**values)


def test_round_1_opens_one_interval_after_the_start_and_none_before() -> None:
    programme = _running()
    start = datetime(2026, 12, 7, tzinfo=UTC)
    assert svc.starts_at(programme) == start and svc.has_started(programme, start)
    # The first interval: running (meetings are logged), no check-in open.
    assert svc.current_round(programme, start) == 0
    assert svc.phase(programme, start + timedelta(days=3)) == "running"
    assert svc.current_round(programme, start + timedelta(days=14, seconds=-1)) == 0
    assert svc.closed_rounds(programme, start + timedelta(days=13)) == 0
    # Round 1 opens exactly one interval after the start; round 2 one more after it.
    assert svc.round_opens_at(programme, 1) == datetime(2026, 12, 21, tzinfo=UTC)
    assert svc.current_round(programme, datetime(2026, 12, 21, tzinfo=UTC)) == 1
    assert svc.round_closes_at(programme, 1) == datetime(2027, 1, 4, tzinfo=UTC)
    assert svc.current_round(programme, datetime(2027, 1, 4, tzinfo=UTC)) == 2
    assert svc.closed_rounds(programme, datetime(2027, 1, 4, tzinfo=UTC)) == 1
    assert svc.first_checkin_message(programme) == ("The first check-in opens on 21 December 2026.")
    # Without a start date, the interval counts from publication.
    undated = _running(starts_on=None)
    assert svc.round_opens_at(undated, 1) == PAIRED + timedelta(days=14)
    assert svc.current_round(undated, PAIRED + timedelta(days=13)) == 0
    assert svc.current_round(undated, PAIRED + timedelta(days=14)) == 1
    # Another interval: the first check-in waits for it.
    weekly = _running(checkin_days=7)
    assert svc.round_opens_at(weekly, 1) == datetime(2026, 12, 14, tzinfo=UTC)
    # A programme that had started before this rule keeps its schedule: round 1 at the start.
    earlier = _running(checkins_from_start=True)
    assert svc.round_opens_at(earlier, 1) == start
    assert svc.current_round(earlier, start) == 1
    assert svc.current_round(earlier, start + timedelta(days=14)) == 2


def test_closing_stops_the_rounds_where_they_were() -> None:
    # Closed during the first interval: no round was ever open, whenever it is read.
    early = _running(status="closed", closed_at=datetime(2026, 12, 15, tzinfo=UTC))
    later = datetime(2027, 6, 1, tzinfo=UTC)
    assert svc.current_round(early, later) == 0 and svc.closed_rounds(early, later) == 0
    # Closed in round 2: round 2 closes with it, and no round 3 opens.
    closed = _running(status="closed", closed_at=datetime(2027, 1, 10, tzinfo=UTC))
    assert svc.current_round(closed, later) == 2 and svc.closed_rounds(closed, later) == 2


async def _frank(db: AsyncSession, programme: Programme) -> CheckinQuestion:
    (frank,) = [q for q in await svc.questions(db, programme, "junior") if q.frankness]
    return frank


async def test_the_pages_say_when_the_first_check_in_opens_in_the_first_interval(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, _),) = await _published(db, settings, lead, programme, 1, first_round_open=False)
    assert programme.published_at is not None
    opens = programme.published_at + timedelta(days=14)
    said = f"The first check-in opens on {opens:%d %B %Y}."
    assert svc.has_started(programme) and svc.current_round(programme) == 0
    frank = await _frank(db, programme)
    try:
        await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: "4"})
    except svc.ProgrammeError as exc:
        assert exc.message == said
    else:
        raise AssertionError("a check-in was answered before the first one opened")
    (pair,) = await svc.pairs_of(db, programme)
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, junior.username)
    shown = (await client.get(page)).text
    # Running: meetings are logged from the start; the check-in waits, and says until when.
    assert "Log the meeting" in shown and said in shown
    assert "Answer the check-in" not in shown
    assert said in (await client.get(f"{page}/pairs/{pair.id}")).text
    # The check-in page is a normal page saying when it opens (no form, no error).
    checkin = await client.get(f"{page}/checkin")
    assert checkin.status_code == 200 and said in checkin.text
    assert "Send check-in" not in checkin.text and "Check-in 1" not in checkin.text
    assert "The programme starts on" not in checkin.text  # it has started
    sent = await post_form(client, f"{page}/checkin", {"side": "junior", f"q{frank.id}": "4"},
                           page)  # fmt: skip
    assert sent.status_code == 400 and said in sent.text
    assert await svc.answered(db, programme, junior.id) == set()
    client.cookies.clear()
    await login(client, "leader")
    board = (await client.get(f"{page}/dashboard")).text
    assert f"No check-in round yet. {said}" in board
    assert "Check-in rounds so far: <strong>0</strong>" in board and "is open" not in board


async def test_publishing_says_when_the_first_check_in_will_open(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    from forum.programmes import pairing
    from tests.programmes.test_programmes import enrol

    lead = await make_user(db, settings, username="leader", role="programme_lead")
    starts = utcnow().date() + timedelta(days=10)
    programme = await make_programme(db, settings, lead, starts_on=starts.isoformat(),
                                     checkin_days="7")  # fmt: skip
    for side in ("junior", "senior"):
        member = await make_user(db, settings, username=f"{side}x")
        application = await enrol(db, settings, programme, member, side)
        await svc.decide(db, settings, lead, programme, application.id, True)
    await svc.run_job(db, await svc.request_proposal(db, settings, lead, programme), pairing)
    await db.commit()
    await login(client, "leader")
    confirm = (await client.get(f"/programmes/{programme.id}/publish")).text
    opens = starts + timedelta(days=7)
    said = f"The first check-in opens 7 days after the programme starts, on {opens:%d %B %Y}"
    assert said in confirm


async def test_no_check_in_reminder_before_the_first_round_opens(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, senior),) = await _published(db, settings, lead, programme, 1, first_round_open=False)
    assert programme.published_at is not None
    published = programme.published_at

    async def checkin_notes() -> list[Notification]:
        await db.commit()
        await deliver(settings, database)
        return list(await db.scalars(select(Notification).where(Notification.kind == "checkin")))

    assert await svc.remind_due(db) == 0
    # A minute before the first interval is over: still nothing.
    programme.published_at = published - timedelta(days=14, minutes=-1)
    assert await svc.remind_due(db) == 0
    assert await checkin_notes() == []
    (pair,) = await db.scalars(select(Pair).where(Pair.programme_id == programme.id))
    assert pair.reminded_round == 0
    # One interval after the start, round 1 opens: both are reminded, once.
    programme.published_at = published - timedelta(days=14)
    assert await svc.remind_due(db) == 1
    notes = await checkin_notes()
    assert sorted(n.recipient_id for n in notes) == sorted([junior.id, senior.id])
    assert all(n.detail.startswith("Check-in 1 of ") for n in notes)
    assert await svc.remind_due(db) == 0
    mailed = await db.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.subject.like("Check-in %")))  # fmt: skip
    assert len(list(mailed)) == 2


async def test_a_programme_closed_in_its_first_interval_had_no_check_in_round(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 5, first_round_open=False)
    assert await life.close(db, settings, lead, programme) == 10
    later = utcnow() + timedelta(days=60)
    assert svc.current_round(programme, later) == 0 and svc.closed_rounds(programme, later) == 0
    assert await svc.remind_due(db) == 0
    # The closing survey is asked, and its figures show as ever.
    frank = await _frank(db, programme)
    for junior, _ in people:
        await life.answer_closing(db, settings, junior, programme, "junior", {frank.id: "4"})
    board = await dash.build(db, programme, later)
    assert board.rounds == 0 and board.closed == 0 and board.open_round == 0
    assert board.response_rates == [] and board.frankness == {"junior": {}, "senior": {}}
    assert board.closing is not None and board.closing.answered == 5
    assert board.closing.frankness["junior"].mean == 4.0
    rows = list(csv.reader(io.StringIO(dash.csv_export(programme, board))))
    assert [r[1] for r in rows[1:]] == ["0", "closing", "closing", "closing"]  # no round
    await db.commit()
    await login(client, "leader")
    shown = (await client.get(f"/programmes/{programme.id}/dashboard")).text
    assert "No check-in round was held: the programme closed before its first check-in opened." in (
        shown
    )
    assert "Round 1" not in shown and "round 1" not in shown and "0 of 10" not in shown
    client.cookies.clear()
    await login(client, people[0][1].username)
    page = (await client.get(f"/programmes/{programme.id}")).text
    assert "Answer the closing survey" in page
    assert "Check-in 1" not in page and "check-in 1" not in page


# --- programmes that had started before the rule ----------------------------------------------


async def _seed_old_programmes(url: str) -> None:
    """Programmes as they stood before migration 0032: one running for 20 days on the old
    schedule (round 1 opened at publication and all five juniors answered it in its first
    days; round 2 opened on day 14 and its reminders went), others in every other state."""
    database = connect(url)
    settings = make_settings(url)
    try:
        async with database.sessionmaker() as db:
            lead = await make_user(db, settings, username="leader", role="programme_lead")
            running = await make_programme(db, settings, lead, name="Running")
            people = await _published(db, settings, lead, running, 5, first_round_open=False)
            published = utcnow() - timedelta(days=20)
            running.published_at = published
            frank = await _frank(db, running)
            for n, (junior, _) in enumerate(people):
                db.add(CheckinAnswer(programme_id=running.id, question_id=frank.id,
                                     user_id=junior.id, side="junior", round=1, value=2 + n % 3,
                                     text="", created_at=published + timedelta(days=3)))  # fmt: skip
            for pair in await svc.pairs_of(db, running):
                pair.reminded_round = 2
            today = utcnow().date()
            for name, status, paired, starts, closed in (
                ("Closed", "closed", 100, None, 50),
                ("Started on its date", "published", 30, today - timedelta(days=5), None),
                ("Waiting for its date", "published", 3, today + timedelta(days=10), None),
                ("Open", "open", None, today + timedelta(days=30), None),
                ("Draft", "draft", None, None, None),
            ):
                db.add(Programme(
                    lead_id=lead.id, name=name, status=status, starts_on=starts,
                    published_at=None if paired is None else utcnow() - timedelta(days=paired),
                    closed_at=None if closed is None else utcnow() - timedelta(days=closed),
                ))  # fmt: skip
            await db.commit()
    finally:
        await database.dispose()


async def _after_the_migration(url: str) -> dict[str, object]:
    database = connect(url)
    settings = make_settings(url)
    try:
        async with database.sessionmaker() as db:
            found = {p.name: p for p in await db.scalars(select(Programme))}
            flags = {name: p.checkins_from_start for name, p in found.items()}
            running = found["Running"]
            before = svc.current_round(running), svc.closed_rounds(running)
            board = await dash.build(db, running)
            frank = await _frank(db, running)
            (junior,) = await db.scalars(select(User).where(User.username == "junior0"))
            # The round-1 answer is still the junior's, as round 1's: answering now is round 2.
            own_1, _ = await svc.own_answers(db, running, junior, "junior", 1)
            own_2, _ = await svc.own_answers(db, running, junior, "junior", 2)
            answered_in = await svc.answer_checkin(db, settings, junior, running, "junior",
                                                   {frank.id: "5"})  # fmt: skip
            rounds = sorted(
                (a.round, a.value)
                for a in await db.scalars(
                    select(CheckinAnswer).where(
                        CheckinAnswer.user_id == junior.id, CheckinAnswer.question_id == frank.id
                    )
                )
            )
            reminded = await svc.remind_due(db)
            # Its next round, copied, is a new programme: it takes the new schedule.
            lead = await db.get(User, running.lead_id)
            assert lead is not None
            copy = await svc.copy_programme(db, settings, lead, running)
            await db.flush()
            copied = copy.checkins_from_start
            await db.rollback()
            return {
                "flags": flags,
                "rounds": before,
                "figures": (board.closed, board.open_round, board.frankness["junior"][1].n,
                            board.frankness["junior"][1].mean, board.response_rates[0]),
                "own": (own_1, own_2),
                "answered_in": answered_in,
                "answers": rounds,
                "reminded": reminded,
                "copied": copied,
            }  # fmt: skip
    finally:
        await database.dispose()


def test_programmes_that_had_started_keep_their_rounds_and_answers(fresh_url: str) -> None:
    """Migration 0032 keeps the old schedule for programmes that had started (their answers
    carry its rounds' numbers): a round-1 answer stays round 1's, shown once round 1 is over,
    never taken for the open round's or replaced; no reminder comes again."""
    run_in_thread(_seed_old_programmes, fresh_url)
    config = alembic_config(fresh_url)
    command.downgrade(config, "0031")
    command.upgrade(config, "head")
    seen = run_in_thread(_after_the_migration, fresh_url)
    assert seen["flags"] == {
        "Running": True, "Closed": True, "Started on its date": True,
        "Waiting for its date": False, "Open": False, "Draft": False,
    }  # fmt: skip
    # Day 20 of the old schedule: round 1 is over, round 2 open.
    assert seen["rounds"] == (2, 1)
    assert seen["figures"] == (1, 2, 5, 2.8, (1, 5, 10))
    own = seen["own"]
    assert isinstance(own, tuple) and own[0] and own[1] == {}
    assert seen["answered_in"] == 2
    assert seen["answers"] == [(1, 2), (2, 5)]
    assert seen["reminded"] == 0
    assert seen["copied"] is False
