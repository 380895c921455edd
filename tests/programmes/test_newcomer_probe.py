"""A newcomer's usability probe (probe13): the applicant's steps name the wait, "Your
programmes" and the lead's applications tell paired and left apart from accepted and
withdrawn, departments are compared as people write them, the first proposal is the pairing
page's main action, the follow-up of a dismissive report names no side, the programme page
says its start date once and moves on after a meeting, the application form asks for
seniority and reports every missing field at once, the lead sees who has a free place, and
a meeting's date is checked against the member's own today."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.db import Database, utcnow
from forum.core.settings import Settings
from forum.programmes import dashboard as dash
from forum.programmes import lifecycle as life
from forum.programmes import pairing
from forum.programmes import services as svc
from forum.programmes.models import Application, DismissiveReport
from tests.helpers import login, make_user, post_form
from tests.programmes.test_lifecycle import _group, _publish, published_pair_with_message
from tests.programmes.test_programmes import enrol, make_programme
from tests.programmes.test_schedule_and_meetings import publish_pairs

# --- the follow-up of a dismissive report (finding 6) ----------------------------------------


async def test_the_follow_up_choices_name_no_side_and_keep_the_stored_value(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    # The senior reports the junior's message: either partner may.
    _lead, programme, _junior, senior, pair = await published_pair_with_message(
        db, settings, "That is an old-fashioned view.", senior_writes=False
    )
    await dash.report_dismissive(db, settings, senior, programme, pair.id)
    (report,) = await db.scalars(select(DismissiveReport))
    await db.commit()
    board = f"/programmes/{programme.id}/dashboard"
    await login(client, "leader")
    shown = (await client.get(board)).text
    assert "Spoke with the partner who wrote it" in shown
    assert "with the senior" not in shown and "with the junior" not in shown
    action = f"/programmes/{programme.id}/reports/{report.id}/follow-up"
    done = await post_form(client, action, {"action": "word"}, board)
    assert done.status_code == 303
    await db.refresh(report)
    assert report.follow_up == "word"
    assert "spoke with the partner who wrote it" in (await client.get(board)).text
    assert life.FOLLOW_UPS["word"] == "spoke with the partner who wrote it"


# --- the applicant's steps (finding 2) -------------------------------------------------------


async def test_the_current_step_names_the_wait_and_accepted_shows_once_true(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    member = await make_user(db, settings, username="grace")
    application = await enrol(db, settings, programme, member, "junior")
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, "grace")
    shown = (await client.get(page)).text
    steps = shown[shown.index('<ol class="steps"') : shown.index("</ol>")]
    assert 'aria-current="step">Waiting for the lead\'s decision</li>' in steps
    assert "Accepted" not in steps
    await svc.decide(db, settings, lead, programme, application.id, True)
    await db.commit()
    shown = (await client.get(page)).text
    steps = shown[shown.index('<ol class="steps"') : shown.index("</ol>")]
    assert "Waiting for the lead" not in steps
    assert 'class="done">Accepted <span class="visually-hidden">(done)</span>' in steps


# --- paired and left, apart from accepted and withdrawn (finding 3) ---------------------------


async def test_your_programmes_and_the_applications_say_paired_and_left_the_programme(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, senior),) = await _group(db, settings, lead, programme, 1)
    withdrawer = await make_user(db, settings, username="changed_mind")
    other = await make_programme(db, settings, lead, name="Spring pilot")
    await enrol(db, settings, other, withdrawer, "junior")
    await life.withdraw(db, settings, withdrawer, other)
    await _publish(db, settings, lead, programme)
    await db.commit()

    def part(page: str) -> str:
        return page[page.index("Your programmes") : page.index("All programmes")]

    await login(client, junior.username)
    assert "applied as junior: paired" in part((await client.get("/programmes")).text)
    listing = f"/programmes/{programme.id}/applications"
    client.cookies.clear()
    await login(client, "leader")
    shown = (await client.get(listing)).text
    assert f"Paired with {senior.username}" in shown and f"Paired with {junior.username}" in shown
    # The junior leaves the running pair: "left the programme", not "withdrawn".
    await life.leave(db, settings, junior, programme)
    await db.commit()
    shown = (await client.get(listing)).text
    assert "Left the programme (pair ended)" in shown and "Withdrawn" not in shown
    assert "Accepted; the pair has ended" in shown  # the senior, who did not leave
    client.cookies.clear()
    await login(client, junior.username)
    yours = part((await client.get("/programmes")).text)
    assert "applied as junior: left the programme (pair ended)" in yours
    assert "withdrawn" not in yours and "accepted" not in yours
    page = (await client.get(f"/programmes/{programme.id}")).text
    assert "you left the programme: your pair has ended." in page
    assert "you are paired." not in page
    client.cookies.clear()
    await login(client, senior.username)
    yours = part((await client.get("/programmes")).text)
    assert "applied as senior: accepted; the pair has ended" in yours
    # Withdrawing an application is still said as such.
    client.cookies.clear()
    await login(client, "changed_mind")
    assert "applied as junior: withdrawn" in part((await client.get("/programmes")).text)


# --- the pairing page: the first proposal, and who has a free place (findings 5 and 17) -------


async def test_before_any_proposal_propose_pairs_is_the_primary_action(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    await _group(db, settings, lead, programme, 1)
    await db.commit()
    page = f"/programmes/{programme.id}/proposal"
    await login(client, "leader")
    shown = (await client.get(page)).text
    empty = shown.index("No proposal yet")
    assert empty < shown.index("Criteria")
    # The first button on the page is "Propose pairs", filled (not "secondary").
    first = re.search(r"<button[^>]*>[^<]*</button>", shown[empty:])
    assert first is not None
    assert 'class="secondary"' not in first.group(0) and "Propose pairs" in first.group(0)
    assert "Nobody is told" in shown[empty:]
    # Saving the criteria is secondary, and does not speak of running "again".
    assert "run again" not in shown
    assert '<button type="submit" class="secondary" aria-describedby="save-run-note">' in shown
    assert shown.count(">Propose pairs</button>") == 1
    # Once there is a proposal, the page reads as before: no empty state.
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await db.commit()
    shown = (await client.get(page)).text
    assert "No proposal yet" not in shown and "Save criteria and run again" in shown


async def test_after_a_pair_ends_the_lead_sees_who_has_a_free_place(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, senior),) = await _group(db, settings, lead, programme, 1)
    await _publish(db, settings, lead, programme)
    await life.leave(db, settings, junior, programme)
    await db.commit()
    await login(client, "leader")
    shown = (await client.get(f"/programmes/{programme.id}/proposal")).text
    assert (
        f"Every accepted junior is in a pair (1 senior has a free place: {senior.username})."
        in (shown)
    )


# --- departments as people write them (finding 4) --------------------------------------------


def test_departments_written_two_ways_are_one_department_and_the_rule_is_said() -> None:
    cases = {
        ("People team", "People"): pairing.SAME_WORDS,
        ("people", " People "): pairing.SAME_CASE,
        ("Research & Development", "research and development dept."): pairing.SAME_WORDS,
        ("The Finance Department", "finance"): pairing.SAME_WORDS,
        ("Finance", "Finance operations"): pairing.SAME_START,
        ("People", "Peoplesoft support"): "",  # a whole word, not letters
        ("Sales", "Legal"): "",
        ("", "Sales"): "",
    }
    for (a, b), rule in cases.items():
        assert pairing.same_department(a, b) == rule, (a, b)
        assert pairing.same_department(b, a) == rule, (b, a)
    junior = pairing.Person(1, "junior", department="People team", seniority=1)
    senior = pairing.Person(2, "senior", department="People", seniority=20)
    score = pairing.breakdown(junior, senior, pairing.Criteria())
    assert score.parts["department"] == 0.0
    assert score.notes["department"] == (
        f"same department (People team, People: {pairing.SAME_WORDS})"
    )
    # The proposal's matrix agrees, "People" being both "People operations" and "People
    # strategy", which differ from each other.
    juniors = [junior, pairing.Person(3, "junior", department="People operations")]
    seniors = [senior, pairing.Person(4, "senior", department="People strategy")]
    matrix = pairing.score_matrix(juniors, seniors, pairing.Criteria(1, 0, 1, 0))
    for i, j in enumerate(juniors):
        for k, s in enumerate(seniors):
            assert matrix[i, k] == pairing.breakdown(j, s, pairing.Criteria(1, 0, 1, 0)).total
    assert pairing.breakdown(juniors[1], seniors[1], pairing.Criteria()).parts["department"] == 1


# --- a meeting's date, on the member's own clock (attacker probe) ----------------------------


async def test_a_meeting_is_never_dated_after_the_members_own_today(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior = await db.get(User, pair.junior_id)
    senior = await db.get(User, pair.senior_id)
    assert junior is not None and senior is not None
    # 23:30 UTC, three days on: already the next day in Auckland (UTC+13), not in Los Angeles.
    day = (utcnow() + timedelta(days=3)).date()
    now = datetime.combine(day, time(23, 30), UTC)
    tomorrow = (day + timedelta(days=1)).isoformat()
    junior.time_zone = ""  # UTC
    senior.time_zone = "Pacific/Auckland"
    await db.commit()
    try:
        await svc.log_meeting(db, settings, junior, programme, pair.id, tomorrow, now=now)
    except svc.ProgrammeError as exc:
        assert "has not come yet" in exc.message
    else:
        raise AssertionError("a meeting dated tomorrow (UTC) was logged")
    logged = await svc.log_meeting(db, settings, senior, programme, pair.id, tomorrow, now=now)
    assert logged.met_on.isoformat() == tomorrow  # Auckland's today
    senior.time_zone = "America/Los_Angeles"
    assert svc.member_today(senior, now) == day
    assert svc.meeting_days(programme, pair, now, senior)[1] == day
    # The form's max (and default) is the member's today.
    await db.commit()
    await login(client, junior.username)
    before = utcnow().date().isoformat()
    shown = (await client.get(f"/programmes/{programme.id}")).text
    after = utcnow().date().isoformat()
    assert f'max="{before}"' in shown or f'max="{after}"' in shown
    # A member behind UTC on the pair's first day has a day to log: the first day is on their
    # clock too (it was the UTC date, 8 December, after their today, 7 December).
    published = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    programme.published_at, programme.starts_on, pair.created_at = published, None, published
    first, last = svc.meeting_days(programme, pair, published + timedelta(minutes=5), senior)
    assert first == last == published.date() - timedelta(days=1)


# --- the application form (finding 16) -------------------------------------------------------


async def test_seniority_is_required_and_an_empty_form_names_every_missing_field(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    await make_user(db, settings, username="applicant")
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, "applicant")
    blank = (await client.get(page)).text
    # Empty by default (never a silent 0), required, and marked so, as the note says.
    assert 'name="seniority" type="number" min="0" max="60" step="1" required' in blank
    assert 'value=""' in blank[blank.index('id="seniority"') :][:200]
    assert "The side and your seniority are required" in blank
    assert blank.count("(required)") == 2
    empty = await post_form(client, f"{page}/apply", {}, page)
    assert empty.status_code == 400
    assert "Choose the side you apply for." in empty.text
    assert svc.SENIORITY_MISSING in empty.text
    assert "2 fields need correcting" in empty.text
    assert 'id="side-error"' in empty.text and 'id="seniority-error"' in empty.text
    # A senior who skips the seniority is not scored as a junior: nothing is sent.
    skipped = await post_form(client, f"{page}/apply",
                              {"side": "senior", "department": "Legal"}, page)  # fmt: skip
    assert skipped.status_code == 400 and svc.SENIORITY_MISSING in skipped.text
    assert "Choose the side" not in skipped.text and 'value="Legal"' in skipped.text
    assert await db.scalar(select(Application.id)) is None
    sent = await post_form(client, f"{page}/apply",
                           {"side": "senior", "seniority": "0"}, page)  # fmt: skip
    assert sent.status_code == 303


# --- the participant's programme page (finding 15) -------------------------------------------


async def test_the_start_is_said_once_and_next_steps_move_on_after_a_meeting(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    starts = utcnow().date() + timedelta(days=30)
    waiting = await make_programme(db, settings, lead, starts_on=starts.isoformat())
    (pair,) = await publish_pairs(db, settings, lead, waiting)
    junior = await db.get(User, pair.junior_id)
    assert junior is not None
    await db.commit()
    await login(client, junior.username)
    shown = (await client.get(f"/programmes/{waiting.id}")).text
    assert shown.count("The programme starts on") == 1
    assert shown.index("What happens next") < shown.index("The programme starts on")
    assert "starting on" not in shown and "Paired, not started yet." in shown
    # A running pilot: "Say hello" until the pair has met, then the next meeting.
    running = await make_programme(db, settings, lead, name="Running pilot")
    for side in ("junior", "senior"):
        member = await make_user(db, settings, username=f"run_{side}")
        application = await enrol(db, settings, running, member, side)
        await svc.decide(db, settings, lead, running, application.id, True)
    await _publish(db, settings, lead, running)
    (pair,) = await svc.pairs_of(db, running)
    await db.commit()
    client.cookies.clear()
    await login(client, "run_junior")
    page = f"/programmes/{running.id}"
    assert "Say hello in your private space" in (await client.get(page)).text
    member = await db.get(User, pair.senior_id)
    assert member is not None
    met = await svc.log_meeting(db, settings, member, running, pair.id, "")
    await db.commit()
    shown = (await client.get(page)).text
    assert "Say hello in your private space" not in shown
    assert "You last met on" in shown and "agree your next meeting" in shown
    assert met.met_on == svc.member_today(member)
