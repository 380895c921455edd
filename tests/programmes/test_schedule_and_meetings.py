"""A programme's start date (pairs published ahead of it wait: not running, no check-in)
and its pairs' meetings (logged with a day, once a day per pair, removable by whoever logged
one; the dashboard counts them honestly)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.db import utcnow
from forum.core.settings import Settings
from forum.programmes import dashboard as dash
from forum.programmes import pairing
from forum.programmes import services as svc
from forum.programmes.models import Pair, Programme
from tests.helpers import login, make_user, post_form
from tests.programmes.test_programmes import enrol, make_programme


async def publish_pairs(
    db: AsyncSession, settings: Settings, lead: User, programme: Programme, n: int = 1
) -> list[Pair]:
    for i in range(n):
        for side in ("junior", "senior"):
            member = await make_user(db, settings, username=f"{side}{i}")
            application = await enrol(db, settings, programme, member, side)
            await svc.decide(db, settings, lead, programme, application.id, True)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await svc.publish(db, settings, lead, programme)
    return await svc.pairs_of(db, programme)


# --- the start date ---------------------------------------------------------------------------

# The tester's case: a programme starting on 10 January 2027, paired on 22 November 2026.
STARTS = date(2027, 1, 10)
PAIRED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_a_programme_paired_before_its_start_is_not_running_and_opens_no_check_in() -> None:
    programme = Programme(status="published", starts_on=STARTS, published_at=PAIRED,
                          checkin_days=14, closed_at=None)  # fmt: skip
    on = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert svc.current_round(programme, on) == 0
    assert not svc.has_started(programme, on)
    assert svc.phase(programme, on) == "paired, starting on 10 January 2027"
    eve = datetime(2027, 1, 9, 23, 59, tzinfo=UTC)
    assert svc.current_round(programme, eve) == 0
    # From the start date it runs; its rounds count from it (not from publication), the first
    # opening one interval after it: the pairs meet before they are asked how it is going.
    day_one = datetime(2027, 1, 10, 0, 0, tzinfo=UTC)
    assert svc.current_round(programme, day_one) == 0 and svc.phase(programme, day_one) == "running"
    assert svc.round_opens_at(programme, 1) == datetime(2027, 1, 24, tzinfo=UTC)
    assert svc.current_round(programme, day_one + timedelta(days=14, seconds=-1)) == 0
    assert svc.current_round(programme, day_one + timedelta(days=14)) == 1
    assert svc.current_round(programme, day_one + timedelta(days=27)) == 1
    assert svc.current_round(programme, day_one + timedelta(days=28)) == 2


def test_rounds_count_from_publication_when_the_start_date_has_passed() -> None:
    published = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    programme = Programme(status="published", starts_on=date(2026, 11, 1), published_at=published,
                          checkin_days=14, closed_at=None)  # fmt: skip
    assert svc.current_round(programme, published) == 0
    assert svc.current_round(programme, published + timedelta(days=14)) == 1
    assert svc.current_round(programme, published + timedelta(days=28)) == 2
    undated = Programme(status="published", starts_on=None, published_at=published,
                        checkin_days=14, closed_at=None)  # fmt: skip
    assert svc.current_round(undated, published + timedelta(days=1)) == 0
    assert svc.current_round(undated, published + timedelta(days=14)) == 1
    # Closed before it started: no round was ever open.
    early = Programme(status="closed", starts_on=STARTS, published_at=PAIRED, checkin_days=14,
                      closed_at=datetime(2026, 12, 20, tzinfo=UTC))  # fmt: skip
    assert svc.current_round(early, datetime(2027, 3, 1, tzinfo=UTC)) == 0
    assert svc.phase(early) == "closed"


async def test_pairs_published_before_the_start_wait_for_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    starts = utcnow().date() + timedelta(days=30)
    programme = await make_programme(db, settings, lead, starts_on=starts.isoformat())
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior = await db.get(User, pair.junior_id)
    assert junior is not None
    assert svc.current_round(programme) == 0
    assert await svc.remind_due(db) == 0  # no check-in reminder before the start
    (frank,) = [q for q in await svc.questions(db, programme, "junior") if q.frankness]
    try:
        await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: "4"})
    except svc.ProgrammeError as exc:
        assert "starts on" in exc.message
    else:
        raise AssertionError("a check-in was answered before the programme started")
    await db.commit()
    page = f"/programmes/{programme.id}"
    listed = (await client.get("/programmes")).text
    assert "paired, starting on" in listed and "running" not in listed
    await login(client, junior.username)
    shown = (await client.get(page)).text
    assert "Running." not in shown and "Paired, not started yet." in shown
    assert "Answer the check-in" not in shown and "Log the meeting" not in shown
    # Meetings begin with the programme; the first check-in one interval later.
    first = starts + timedelta(days=14)
    said = (f"The programme starts on {starts:%d %B %Y}: meetings begin then. "
            f"The first check-in opens on {first:%d %B %Y}.")  # fmt: skip
    assert said in shown
    # The check-in page is a normal page saying when the first check-in opens, no form.
    checkin = await client.get(f"{page}/checkin")
    assert checkin.status_code == 200
    assert said in checkin.text
    assert f"The first check-in opens on {starts:%d %B %Y}" not in checkin.text
    assert 'name="side"' not in checkin.text and "Send check-in" not in checkin.text
    sent = await post_form(client, f"{page}/checkin", {"side": "junior", f"q{frank.id}": "4"},
                           page)  # fmt: skip
    assert sent.status_code == 400 and "The first check-in opens on" in sent.text
    assert await svc.answered(db, programme, junior.id) == set()
    met = await post_form(client, f"{page}/pairs/{pair.id}/meeting", {"met_on": ""}, page)
    assert met.status_code == 400 and "meetings begin then" in met.text
    client.cookies.clear()
    await login(client, "leader")
    board = (await client.get(f"{page}/dashboard")).text
    assert f"No check-in round yet. {said}" in board


# --- meetings ---------------------------------------------------------------------------------


async def test_a_meeting_is_logged_for_a_day_once_and_removed_by_whoever_logged_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair, other) = await publish_pairs(db, settings, lead, programme, 2)
    # The pair started three days ago.
    started = utcnow() - timedelta(days=3)
    programme.published_at = started
    pair.created_at = started
    junior = await db.get(User, pair.junior_id)
    senior = await db.get(User, pair.senior_id)
    assert junior is not None and senior is not None
    await db.commit()
    page = f"/programmes/{programme.id}"
    action = f"{page}/pairs/{pair.id}/meeting"
    today = utcnow().date()
    yesterday = today - timedelta(days=1)
    await login(client, junior.username)
    form = (await client.get(page)).text
    assert f'name="met_on" type="date" required min="{started.date().isoformat()}"' in form
    assert f'value="{today.isoformat()}"' in form
    assert (
        await post_form(client, action, {"met_on": yesterday.isoformat()}, page)
    ).status_code == 303
    # The same day again is refused, the day kept in the form.
    again = await post_form(client, action, {"met_on": yesterday.isoformat()}, page)
    assert again.status_code == 400 and "already logged for your pair (by you)" in again.text
    assert f'value="{yesterday.isoformat()}"' in again.text
    for bad, words in (
        ((today + timedelta(days=3)).isoformat(), "has not come yet"),
        ((started - timedelta(days=2)).date().isoformat(), "Your pair started on"),
        ("06/12/2026", "Give a date as YYYY-MM-DD"),
    ):
        refused = await post_form(client, action, {"met_on": bad}, page)
        assert refused.status_code == 400 and words in refused.text, bad
        assert f'value="{bad}"' in refused.text
    # A partner in another pair cannot log or remove this pair's meetings.
    other_junior = await db.get(User, other.junior_id)
    assert other_junior is not None
    client.cookies.clear()
    await login(client, senior.username)
    # The partner logging the same meeting counts it once.
    same = await post_form(client, action, {"met_on": yesterday.isoformat()}, page)
    assert same.status_code == 400 and "(by your partner)" in same.text
    assert (await post_form(client, action, {"met_on": today.isoformat()}, page)).status_code == 303
    meetings = (await svc.meetings(db, [pair.id]))[pair.id]
    assert [m.met_on for m in meetings] == [today, yesterday]
    mine, theirs = meetings
    assert mine.logged_by == senior.id and theirs.logged_by == junior.id
    remove = f"{page}/pairs/{pair.id}/meetings/{{}}/remove"
    # Only whoever logged a meeting removes it.
    assert (await post_form(client, remove.format(theirs.id), {}, page)).status_code == 403
    shown = (await client.get(page)).text
    assert "2 meetings logged" in shown and shown.count("Remove (logged by mistake)") == 1
    client.cookies.clear()
    await login(client, other_junior.username)
    assert (await post_form(client, action, {"met_on": today.isoformat()}, page)).status_code == 403
    assert (await post_form(client, remove.format(theirs.id), {}, page)).status_code == 403
    # A meeting of another pair is not found through one's own pair.
    own = f"{page}/pairs/{other.id}/meetings/{theirs.id}/remove"
    assert (await post_form(client, own, {}, page)).status_code == 404
    client.cookies.clear()
    await login(client, junior.username)
    assert (await client.post(remove.format(theirs.id))).status_code == 403  # no CSRF token
    assert (await post_form(client, remove.format(theirs.id), {}, page)).status_code == 303
    board = await dash.build(db, programme)
    assert board.meetings == 1 and board.undated_meetings == 0
    assert "1 meeting logged" in (await client.get(page)).text


async def test_the_dashboard_counts_meetings_not_clicks(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior = await db.get(User, pair.junior_id)
    assert junior is not None
    now = utcnow() + timedelta(days=10)  # a fixed clock, ten days on
    for _ in range(3):
        try:
            await svc.log_meeting(db, settings, junior, programme, pair.id, "", now=now)
        except svc.ProgrammeError as exc:
            assert "already logged" in exc.message
    assert (await dash.build(db, programme)).meetings == 1
    # Clicks counted before meetings took a date are shown apart, never added in.
    pair.meetings = 3
    board = await dash.build(db, programme)
    assert board.meetings == 1 and board.undated_meetings == 3
