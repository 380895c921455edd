"""An HR lead's and participants' usability probe: an open or running programme's settings
(dates, interval and wording change; what members applied on stays), check-in questions on a
page of their own (reworded or removed while unanswered), closing from the programme's page,
and whom a member who cannot lead asks."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.audit import AuditEntry
from forum.core.settings import Settings
from forum.notifications.models import NotificationWork
from forum.programmes import services as svc
from forum.programmes.models import CheckinQuestion, Programme
from tests.helpers import csrf_token, login, make_user, post_form
from tests.programmes.test_programmes import enrol, make_programme
from tests.programmes.test_schedule_and_meetings import publish_pairs


async def told(db: AsyncSession, user_id: int) -> list[str]:
    return list(
        await db.scalars(
            select(NotificationWork.detail)
            .where(NotificationWork.recipient_id == user_id)
            .order_by(NotificationWork.id)
        )
    )


async def history(db: AsyncSession, programme: Programme) -> list[str]:
    return list(
        await db.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.target_type == "programme", AuditEntry.target_id == programme.id)
            .order_by(AuditEntry.id)
        )
    )


def settings_fields(programme: Programme, **changed: str) -> dict[str, str]:
    form = svc.form_of(programme)
    values = {f: getattr(form, f) for f in svc.CHANGEABLE}
    values.update(changed)
    return values


# --- 1. an open programme's settings ----------------------------------------------------------


async def test_an_open_programmes_dates_and_wording_change_what_members_applied_on_stays(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, starts_on="2031-03-01")
    applicant = await make_user(db, settings, username="applicant")
    await enrol(db, settings, programme, applicant, "junior")
    await make_user(db, settings, username="plain")
    await db.commit()
    page = f"/programmes/{programme.id}"
    settings_page = f"{page}/settings"
    await login(client, "leader")
    shown = (await client.get(page)).text
    assert f'href="{settings_page}">Change the settings</a>' in shown
    form = await client.get(settings_page)
    assert form.status_code == 200 and "Settings members applied on" in form.text
    assert svc.FROZEN_WHY in form.text
    assert 'name="kind"' not in form.text and 'name="topics"' not in form.text
    assert 'name="pilot_size"' not in form.text and 'name="starts_on"' in form.text
    # Dates with the same validation as when created: what was typed comes back.
    bad = await post_form(client, settings_page,
                          settings_fields(programme, ends_on="2031-02-01"), settings_page)  # fmt: skip
    assert bad.status_code == 400 and "The programme cannot end before it starts." in bad.text
    assert 'value="2031-02-01"' in bad.text
    # New dates and wording; a kind, topics or pilot size sent along are ignored.
    saved = await post_form(
        client, settings_page,
        {**settings_fields(programme, starts_on="2031-04-01", ends_on="2031-07-01",
                           purpose="Seniors learn AI tools from juniors.", checkin_days="21"),
         "kind": "peer", "topics": "Knitting", "pilot_size": "99"},
        settings_page,
    )  # fmt: skip
    assert saved.status_code == 303
    await db.refresh(programme)
    assert programme.starts_on == date(2031, 4, 1) and programme.ends_on == date(2031, 7, 1)
    assert programme.purpose == "Seniors learn AI tools from juniors."
    assert programme.checkin_days == 21
    assert (programme.kind, programme.pilot_size) == ("reverse", 8)
    assert "Knitting" not in programme.topics and programme.status == "open"
    # The applicant is told of the new dates, as of a decision; the History records it.
    (news,) = [n for n in await told(db, applicant.id) if "has changed" in n]
    assert "01 April 2031 to 01 July 2031" in news and "every 21 days" in news
    (logged,) = [h for h in await history(db, programme) if h.startswith("Changed the")]
    assert "the dates (were starting on 01 March 2031, no end date; now 01 April 2031 to " in logged
    assert "the purpose" in logged and "the check-in interval (now every 21 days)" in logged
    # CSRF and authorisation as elsewhere.
    forged = await client.post(settings_page, data=settings_fields(programme, purpose="Forged"))
    assert forged.status_code == 403
    client.cookies.clear()
    await login(client, "plain")
    assert (await client.get(settings_page)).status_code == 403
    refused = await post_form(client, settings_page, settings_fields(programme, purpose="Mine"),
                              "/programmes")  # fmt: skip
    assert refused.status_code == 403
    await db.refresh(programme)
    assert programme.purpose == "Seniors learn AI tools from juniors."


async def test_a_running_programmes_start_and_interval_stay_once_check_ins_began(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    assert programme.published_at is not None
    programme.published_at -= timedelta(days=40)  # running: check-ins have begun
    programme.starts_on = programme.published_at.date()
    await db.commit()
    await login(client, "leader")
    settings_page = f"/programmes/{programme.id}/settings"
    moved = await post_form(
        client, settings_page,
        settings_fields(programme, starts_on="2040-01-01", checkin_days="7"), settings_page,
    )  # fmt: skip
    assert moved.status_code == 400
    assert "its start date can no longer change" in moved.text
    assert "the interval can no longer change" in moved.text
    # The end date and the wording still change; both partners are told of the new end.
    later = await post_form(client, settings_page,
                            settings_fields(programme, ends_on="2040-06-30",
                                            ground_rules="Listen first."), settings_page)  # fmt: skip
    assert later.status_code == 303
    await db.refresh(programme)
    assert programme.ends_on == date(2040, 6, 30) and programme.ground_rules == "Listen first."
    for member in (pair.junior_id, pair.senior_id):
        assert any("30 June 2040" in n for n in await told(db, member))
    # A closed programme's settings are settled.
    programme.status = "closed"
    await db.commit()
    closed = await client.get(settings_page)
    assert closed.status_code == 400 and svc.CLOSED_SETTINGS in closed.text


# --- 2. check-in questions ---------------------------------------------------------------------


async def test_questions_are_reworded_and_removed_while_unanswered_frankness_never(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    await make_user(db, settings, username="plain")
    mine = await svc.add_question(db, settings, lead, programme, "Was it useful?", "scale", "both")
    answered = await svc.add_question(db, settings, lead, programme, "Did you meet?", "scale",
                                      "both")  # fmt: skip
    asked = await svc.questions(db, programme, closing=None)
    (frank,) = [q for q in asked if q.frankness]
    (note,) = [q for q in asked if svc.is_note(q)]
    await db.commit()
    page = f"/programmes/{programme.id}/questions"
    change = f"{page}/change"
    await login(client, "leader")
    shown = await client.get(page)
    assert shown.status_code == 200 and "<h1>Check-in questions</h1>" in shown.text
    assert "Pairing</h1>" not in shown.text
    reworded = await post_form(client, change, {"question": str(mine.id), "action": "edit",
                                                "prompt": "Was the meeting useful?"}, page)  # fmt: skip
    assert reworded.status_code == 303
    await db.refresh(mine)
    assert mine.prompt == "Was the meeting useful?"
    # The frankness question: never.
    for action in ("edit", "remove"):
        refused = await post_form(client, change, {"question": str(frank.id), "action": action,
                                                   "prompt": "Were you frank?"}, page)  # fmt: skip
        assert refused.status_code == 400 and svc.FRANKNESS_FIXED in refused.text
    await db.refresh(frank)
    assert frank.prompt == svc.FRANKNESS
    # The default note question follows the same rule as the lead's own: unanswered, it can go.
    dropped = await post_form(client, change, {"question": str(note.id), "action": "remove"},
                              page)  # fmt: skip
    assert dropped.status_code == 303
    assert await db.scalar(select(CheckinQuestion.id).where(CheckinQuestion.id == note.id)) is None
    removed = await post_form(client, change, {"question": str(mine.id), "action": "remove"},
                              page)  # fmt: skip
    assert removed.status_code == 303
    assert await db.scalar(select(CheckinQuestion.id).where(CheckinQuestion.id == mine.id)) is None
    history_rows = await history(db, programme)
    assert any("Reworded a check-in question: “Was it useful?”" in h for h in history_rows)
    assert any("Removed the check-in question “Was the meeting useful?”" in h
               for h in history_rows)  # fmt: skip
    # Someone else: refused, nothing changed; a question of no such id: 404.
    client.cookies.clear()
    await login(client, "plain")
    other = await post_form(client, change, {"question": str(answered.id), "action": "remove"},
                            "/programmes")  # fmt: skip
    assert other.status_code == 403
    client.cookies.clear()
    await login(client, "leader")
    missing = await post_form(client, change, {"question": "999999", "action": "remove"}, page)
    assert missing.status_code == 404
    nothing = await post_form(client, change, {"question": "", "action": "remove"}, page)
    assert nothing.status_code == 400


async def test_an_answered_question_is_neither_reworded_nor_removed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    asked = await svc.add_question(db, settings, lead, programme, "Did you meet?", "scale", "both")
    (pair,) = await publish_pairs(db, settings, lead, programme)
    assert programme.published_at is not None
    programme.published_at -= timedelta(days=programme.checkin_days)
    junior = await db.get(type(lead), pair.junior_id)
    assert junior is not None
    values = {q.id: ("4" if q.kind == "scale" else "") for q in
              await svc.questions(db, programme, "junior")}  # fmt: skip
    await svc.answer_checkin(db, settings, junior, programme, "junior", values)
    await db.commit()
    page = f"/programmes/{programme.id}/questions"
    await login(client, "leader")
    assert "Answered: it stays as it is." in (await client.get(page)).text
    for action in ("edit", "remove"):
        refused = await post_form(client, f"{page}/change",
                                  {"question": str(asked.id), "action": action,
                                   "prompt": "Did you two meet?"}, page)  # fmt: skip
        assert refused.status_code == 400
        assert "This question has 1 answer: it can no longer be reworded or removed" in refused.text
    await db.refresh(asked)
    assert asked.prompt == "Did you meet?"


# --- 3. closing from the programme's page ------------------------------------------------------


async def test_the_programme_page_offers_closing_to_its_lead_while_it_can_close(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, "leader")
    assert f'href="{page}/close">Close the programme…</a>' in (await client.get(page)).text
    programme.status = "closed"
    await db.commit()
    assert "Close the programme…" not in (await client.get(page)).text


# --- 12. whom to ask to run a programme ---------------------------------------------------------


async def test_a_member_who_cannot_lead_is_told_to_ask_an_administrator(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="plain")
    await make_user(db, settings, username="boss_ann", role="admin")
    gone = await make_user(db, settings, username="boss_gone", role="admin")
    gone.status = "suspended"
    await make_user(db, settings, username="leader", role="programme_lead")
    await db.commit()
    await login(client, "plain")
    listing = (await client.get("/programmes")).text
    assert "Want to run a programme? Programme leads are appointed by an administrator" in listing
    assert '<a href="/u/boss_ann">boss_ann</a>' in listing and "boss_gone" not in listing
    refused = await client.get("/programmes/new")
    assert refused.status_code == 403
    assert "Programme leads are appointed by an administrator" in refused.text
    assert '<a href="/u/boss_ann">boss_ann</a>' in refused.text
    token = await csrf_token(client, "/programmes")
    posted = await client.post("/programmes/new", data={"name": "X", "csrftoken": token})
    assert posted.status_code == 403 and "boss_ann" in posted.text
    # A lead is offered to start one instead.
    client.cookies.clear()
    await login(client, "leader")
    led = (await client.get("/programmes")).text
    assert "Start a programme" in led and "Want to run a programme?" not in led


# --- 11. the start-a-programme form --------------------------------------------------------------


async def test_the_programme_form_marks_required_fields_and_takes_a_number_of_days(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="leader", role="programme_lead")
    await db.commit()
    await login(client, "leader")
    form = (await client.get("/programmes/new")).text
    for name in ("name", "purpose", "evaluation"):
        assert f'id="{name}" name="{name}"' in form
        tag = form.split(f'id="{name}" name="{name}"', 1)[1].split(">", 1)[0]
        assert "required" in tag, name
    assert "The name, the purpose and how results will be evaluated are required" in form
    assert '<label for="name">Name</label>' in form  # (the label stays the field's name)
    assert 'name="checkin_days" type="number" min="1" max="365"' in form
    assert 'name="junior_learns" rows="3">' in form  # optional: not marked


# --- 5. leaving, with a reason for the lead only ---------------------------------------------------


async def test_leaving_takes_an_optional_reason_for_the_lead_and_says_one_thing_after(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior = await db.get(type(lead), pair.junior_id)
    assert junior is not None
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, junior.username)
    confirm = await client.get(f"{page}/leave")
    assert 'name="reason"' in confirm.text and "only the programme's lead reads it" in confirm.text
    too_long = await post_form(client, f"{page}/leave",
                               {"confirm": "yes", "reason": "Busy. " * 100}, page)  # fmt: skip
    assert too_long.status_code == 400 and "at most 500 characters" in too_long.text
    assert "Busy. Busy." in too_long.text
    await db.refresh(pair)
    assert pair.status == "active"
    left = await post_form(client, f"{page}/leave",
                           {"confirm": "yes", "reason": "My team moved to nights."}, page)  # fmt: skip
    assert left.status_code == 303
    after = (await client.get(page)).text
    assert "You left the programme: you cannot join it again." in after
    assert "if you would like a new partner" not in after
    # The partner never reads the reason; the lead does, in the History and the dashboard.
    client.cookies.clear()
    await login(client, "senior0")
    assert "nights" not in (await client.get(page)).text
    client.cookies.clear()
    await login(client, "leader")
    assert "Their reason: My team moved to nights." in (await client.get(f"{page}/history")).text
    assert "“My team moved to nights.”" in (await client.get(f"{page}/dashboard")).text


# --- 6. reporting the same message twice ---------------------------------------------------------


async def test_a_message_reported_already_says_so_kindly_not_a_bare_error(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    from forum.messages.models import Conversation
    from forum.messages.services import reply

    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    senior = await db.get(type(lead), pair.senior_id)
    junior = await db.get(type(lead), pair.junior_id)
    conversation = await db.get(Conversation, pair.conversation_id)
    assert senior is not None and junior is not None and conversation is not None
    message = await reply(db, settings, senior, conversation, "Juniors never get this.")
    message.state = "clear"
    await db.commit()
    page = f"/programmes/{programme.id}"
    action = f"{page}/pairs/{pair.id}/dismissive"
    await login(client, junior.username)
    done = await post_form(client, action, {"confirm": "yes", "message_id": str(message.id)},
                           page)  # fmt: skip
    assert done.status_code == 303
    # The programme page: "reported on …" in place of the link.
    shown = (await client.get(page)).text
    assert "latest message: reported on" in shown and f'href="{action}"' not in shown
    # The pair space's link, clicked again: a page saying so, with the way back.
    again = await client.get(f"/programmes/messages/{message.id}/dismissive",
                             follow_redirects=True)  # fmt: skip
    assert again.status_code == 200 and "You have reported this message" in again.text
    assert f'href="/messages/{pair.conversation_id}"' in again.text
    twice = await post_form(client, action, {"confirm": "yes", "message_id": str(message.id)},
                            page)  # fmt: skip
    assert twice.status_code == 409 and "Reported on" in twice.text


# --- 10. stale hints --------------------------------------------------------------------------------


async def test_hints_fit_where_the_member_stands(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    from forum.programmes import lifecycle as life

    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior = await db.get(type(lead), pair.junior_id)
    assert junior is not None
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, junior.username)
    running = (await client.get(page)).text
    assert "about the next round" not in running  # paired: nothing to ask about
    assert "has written in your private space, you can report" in running
    await life.close(db, settings, lead, programme)
    await db.commit()
    closed = (await client.get(page)).text
    assert "has written in your private space, you can report" not in closed
    assert life.stop("he apologised.") == "he apologised." and life.stop("ok") == "ok."


# --- 7. the applications page ----------------------------------------------------------------------


async def test_applications_accept_selected_at_once_and_decline_is_behind_a_disclosure(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    made = []
    for i in range(3):
        member = await make_user(db, settings, username=f"applicant{i}")
        made.append((member, await enrol(db, settings, programme, member, "junior")))
    await make_user(db, settings, username="plain")
    await db.commit()
    page = f"/programmes/{programme.id}/applications"
    bulk = f"{page}/accept"
    await login(client, "leader")
    shown = (await client.get(page)).text
    assert '<summary aria-label="Decline applicant0 (junior)…">Decline…</summary>' in shown
    assert 'form="accept-selected"' in shown and "Accept selected" in shown
    assert '<td class="nowrap" data-label="Decide">' not in shown
    nothing = await post_form(client, bulk, {}, page)
    assert nothing.status_code == 400 and "Tick the applications to accept." in nothing.text
    token = await csrf_token(client, page)
    chosen = [str(made[0][1].id), str(made[1][1].id)]
    forged = await client.post(bulk, data={"application": chosen})
    assert forged.status_code == 403
    accepted = await client.post(bulk, data={"application": chosen, "csrftoken": token})
    assert accepted.status_code == 303
    for member, application in made:
        await db.refresh(application)
        expected = "accepted" if str(application.id) in chosen else "pending"
        assert application.status == expected
        news = [n for n in await told(db, member.id) if "was accepted" in n]
        assert len(news) == (1 if expected == "accepted" else 0)
    # Ticking one decided already: nothing is accepted, said why.
    again = await client.post(
        bulk, data={"application": [str(made[0][1].id), str(made[2][1].id)], "csrftoken": token}
    )
    assert again.status_code == 400 and "no longer waiting for a decision" in again.text
    await db.refresh(made[2][1])
    assert made[2][1].status == "pending"
    client.cookies.clear()
    await login(client, "plain")
    other = await post_form(client, bulk, {"application": str(made[2][1].id)}, "/programmes")
    assert other.status_code == 403
