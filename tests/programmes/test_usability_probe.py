"""A usability probe's findings: the pair space explains itself (who the partner is, the
programme's purpose and ground rules, first steps), a decline may say why and the applicant
sees it (re-applying starts from their answers), the CSV export's meeting count sits in its
column, and the programme form shows every field's error at once."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.audit import AuditEntry
from forum.core.db import Database, utcnow
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.messages.models import Conversation
from forum.messages.services import reply
from forum.programmes import services as svc
from forum.programmes.models import Application, Programme
from tests.helpers import login, make_user, post_form
from tests.programmes.test_programmes import deliver, enrol, make_programme, notes
from tests.programmes.test_schedule_and_meetings import publish_pairs

# --- the dashboard's CSV export ---------------------------------------------------------------


async def test_the_export_puts_the_meeting_count_in_the_value_column(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior = await db.get(type(lead), pair.junior_id)
    assert junior is not None
    later = utcnow() + timedelta(days=3)
    for days_ago in (0, 1):
        day = (later - timedelta(days=days_ago)).date().isoformat()
        await svc.log_meeting(db, settings, junior, programme, pair.id, day, now=later)
    await db.commit()
    await login(client, "leader")
    exported = await client.get(f"/programmes/{programme.id}/dashboard.csv")
    assert exported.status_code == 200
    reader = csv.DictReader(io.StringIO(exported.text))
    assert reader.fieldnames == ["programme", "round", "measure", "side", "answers", "value"]
    (row,) = [r for r in reader if r["measure"] == "meetings logged"]
    # Two meetings: a figure (`value`), not a number of check-in answers (`answers`).
    assert row["value"] == "2" and row["answers"] == ""
    assert row["programme"] == "Reverse pilot" and row["side"] == "all"


# --- the programme form -----------------------------------------------------------------------


async def test_the_programme_form_shows_every_error_at_once_and_keeps_what_was_typed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="leader", role="programme_lead")
    await db.commit()
    await login(client, "leader")
    fields = {"name": "", "kind": "sideways", "purpose": "", "evaluation": "",
              "starts_on": "2027-03-01", "ends_on": "2027-02-01", "pilot_size": "zero",
              "checkin_days": "900", "ground_rules": "Listen first, my typed rules",
              "topics": "AI tools\nBudgeting"}  # fmt: skip
    bad = await post_form(client, "/programmes/new", fields, token_from="/programmes/new")
    assert bad.status_code == 400
    for message in (
        "Give the programme a name.",
        "Choose reverse, traditional or peer.",
        "The purpose is required.",
        "How results are evaluated is required.",
        "The programme cannot end before it starts.",
        "The pilot size must be a whole number.",
        "The check-in interval must be between 1 and 365.",
    ):
        assert message in bad.text, message
    assert "7 fields need correcting" in bad.text
    for field in ("name", "kind", "purpose", "evaluation", "ends_on", "pilot_size",
                  "checkin_days"):  # fmt: skip
        assert f'id="{field}-error"' in bad.text, field
    # What was typed stays, the right and the wrong alike.
    assert "Listen first, my typed rules" in bad.text and 'value="zero"' in bad.text
    assert 'value="2027-03-01"' in bad.text and "AI tools\nBudgeting" in bad.text
    assert await db.scalar(select(Programme.id)) is None


async def test_the_service_names_every_field_at_fault(db: AsyncSession, settings: Settings) -> None:
    lead = await make_user(db, settings, role="programme_lead")
    form = svc.ProgrammeForm(name="Pilot", purpose="", evaluation="", pilot_size="-1")
    try:
        await svc.create_programme(db, settings, lead, form)
    except svc.FormErrors as exc:
        assert set(exc.errors) == {"purpose", "evaluation", "pilot_size"}
    else:
        raise AssertionError("the form was taken")


# --- a decline's reason -----------------------------------------------------------------------

REASON = "This pilot is for the finance team first; the spring round is open to Sales."


async def test_a_decline_says_why_to_the_applicant_only_and_applying_again_keeps_the_answers(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    member = await make_user(db, settings, username="applicant")
    await make_user(db, settings, username="onlooker")
    await make_user(db, settings, username="other_lead", role="programme_lead")
    application = await enrol(db, settings, programme, member, "junior", department="Sales")
    await db.commit()
    page = f"/programmes/{programme.id}"
    listing = f"{page}/applications"
    decide = f"{listing}/{application.id}"
    await login(client, "leader")
    shown = (await client.get(listing)).text
    assert 'name="reason"' in shown and "only applicant and you read it" in shown
    # No CSRF token: refused, nothing decided.
    assert (await client.post(decide, data={"decision": "decline"})).status_code == 403
    # Too long: refused saying so, the typed reason kept, nothing decided.
    long = "x" * (svc.REASON_MAX + 1)
    refused = await post_form(client, decide, {"decision": "decline", "reason": long}, listing)
    assert refused.status_code == 400
    assert f"at most {svc.REASON_MAX} characters" in refused.text and long in refused.text
    await db.refresh(application)
    assert application.status == "pending" and application.decline_reason == ""
    # Far too long: a 4xx, never a 500.
    huge = await post_form(client, decide, {"decision": "decline", "reason": "y" * 5000}, listing)
    assert 400 <= huge.status_code < 500
    # Declined with a reason: the lead's page shows it beside the application.
    done = await post_form(client, decide, {"decision": "decline", "reason": REASON}, listing)
    assert done.status_code == 303
    await db.refresh(application)
    assert application.status == "declined" and application.decline_reason == REASON
    assert application.decided_at is not None
    assert REASON in (await client.get(listing)).text
    # The History says a reason was given, not what it is.
    logged = await db.scalar(
        select(AuditEntry.detail).where(AuditEntry.action == "programme_decline")
    )
    assert logged == "Declined applicant's application (junior side) with a reason."
    await db.commit()
    await deliver(settings, database)
    # The applicant is told, with the reason, in the app and by e-mail.
    (told,) = await notes(db, member)
    assert "was declined" in told.detail and REASON[:60] in told.detail
    assert len(told.detail) <= 200 and told.link == f"{page}#application"
    mail = await db.scalar(select(OutboxMessage).where(OutboxMessage.to_address == member.email))
    assert mail is not None and REASON[:60] in mail.body
    # The applicant's page: the decline and its reason first; applying again is offered
    # after it, folded, starting from their previous answers.
    client.cookies.clear()
    await login(client, "applicant")
    mine = (await client.get(page)).text
    assert "declined on" in mine and REASON in mine and "Only you and the programme" in mine
    decline_at, again_at = mine.index(REASON), mine.index('<details class="reapply"')
    form_at = mine.index(f'action="{page}/apply')
    assert decline_at < again_at < form_at
    assert "Apply again, starting from your previous answers" in mine
    assert 'value="Sales"' in mine and 'value="2"' in mine
    assert 'name="side" value="junior" checked' in mine
    assert 'name="teaches" value="AI tools" checked' in mine
    assert 'name="availability" value="mon-am" checked' in mine
    # Nobody else reads the reason: another member, another lead, a visitor.
    for name in ("onlooker", "other_lead", None):
        client.cookies.clear()
        if name:
            await login(client, name)
        assert REASON not in (await client.get(page)).text
        assert REASON not in (await client.get(listing)).text
    assert (await client.get(listing)).status_code in (303, 401, 403)
    client.cookies.clear()
    await login(client, "other_lead")
    assert (await client.get(listing)).status_code == 403
    forbidden = await post_form(client, decide, {"decision": "accept"}, "/programmes")
    assert forbidden.status_code == 403
    # Applying again: pending anew, and the reason is gone with the decision.
    client.cookies.clear()
    await login(client, "applicant")
    sent = await post_form(
        client, f"{page}/apply",
        {"side": "junior", "seniority": "2", "department": "Sales", "teaches": "AI tools"}, page,
    )  # fmt: skip
    assert sent.status_code == 303
    again = await db.scalar(select(Application).execution_options(populate_existing=True))
    assert again is not None and again.status == "pending" and again.decline_reason == ""
    assert REASON not in (await client.get(page)).text


async def test_a_decline_without_a_reason_says_so_and_a_long_reason_is_cut_in_the_notice(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, name="N" * 90)
    plain = await make_user(db, settings)
    worded = await make_user(db, settings)
    first = await enrol(db, settings, programme, plain, "junior")
    second = await enrol(db, settings, programme, worded, "junior")
    await svc.decide(db, settings, lead, programme, first.id, False)
    await svc.decide(db, settings, lead, programme, second.id, False, "because " * 60)
    assert first.decline_reason == ""
    assert len(second.decline_reason) <= svc.REASON_MAX
    await db.commit()
    await deliver(settings, database)
    (no_reason,) = await notes(db, plain)
    assert no_reason.detail.endswith("was declined")
    (cut,) = await notes(db, worded)
    assert len(cut.detail) <= 200 and cut.detail.endswith("…”") and "because" in cut.detail
    # A put-down is refused as any lead's text members read.
    third = await enrol(db, settings, programme, await make_user(db, settings), "junior")
    try:
        await svc.decide(db, settings, lead, programme, third.id, False,
                         "You are too junior to get this.")  # fmt: skip
    except svc.ProgrammeError as exc:
        assert exc.field == "reason" and "put-down" in exc.message
    else:
        raise AssertionError("the put-down was taken")


# --- the pair's page --------------------------------------------------------------------------

RULES = "The senior listens first; frankness is never held against anyone."


async def test_the_paired_notice_leads_to_a_page_explaining_the_pair_and_its_first_steps(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, ground_rules=RULES)
    pair, other = await publish_pairs(db, settings, lead, programme, 2)
    junior = await db.get(type(lead), pair.junior_id)
    senior = await db.get(type(lead), pair.senior_id)
    assert junior is not None and senior is not None
    await make_user(db, settings, username="outsider")
    await db.commit()
    await deliver(settings, database)
    page = f"/programmes/{programme.id}/pairs/{pair.id}"
    # The notice names the partner and the programme, and leads to the pair's page.
    (told,) = [n for n in await notes(db, junior) if "paired" in n.detail]
    assert senior.username in told.detail and "“Reverse pilot”" in told.detail
    assert told.link == page
    await login(client, junior.username)
    shown = await client.get(page)
    assert shown.status_code == 200
    text = shown.text
    # Who the partner is and each one's side.
    assert f"<strong>{senior.username}</strong>, the senior mentee" in text
    assert "you are the junior mentor" in text
    # The programme's purpose and ground rules, in full while the space is empty.
    assert "Seniors learn from juniors." in text and RULES in text
    assert '<details class="about" open>' in text
    assert '<details class="first-steps" open>' in text
    assert "Nothing is written in it yet." in text
    # First steps: a first meeting, the slots both chose, the check-in cadence.
    assert "agree a time for your first meeting" in text
    assert "You both said you are available on Monday morning" in text
    assert "Every 14 days, a short check-in" in text
    # The way into the private space, and to the programme's page.
    assert f'href="/messages/{pair.conversation_id}"' in text
    assert f'href="/programmes/{programme.id}#pair-{pair.id}"' in text
    # The programme's page links to it.
    assert page in (await client.get(f"/programmes/{programme.id}")).text
    # Once something is written, the guide stays, folded.
    conversation = await db.get(Conversation, pair.conversation_id)
    assert conversation is not None
    message = await reply(db, settings, junior, conversation, "Hello! Monday morning?")
    message.state = "clear"
    await db.commit()
    folded = (await client.get(page)).text
    assert '<details class="about">' in folded and RULES in folded
    assert "1 message in it so far" in folded
    # The private space leads back to it (the space is a conversation, which knows nothing of
    # programmes: a route in between finds the pair).
    space = (await client.get(f"/messages/{pair.conversation_id}")).text
    assert f'href="/programmes/spaces/{pair.conversation_id}"' in space
    back = await client.get(f"/programmes/spaces/{pair.conversation_id}")
    assert back.status_code in (302, 303) and back.headers["location"] == page
    # The partner reads it from their side.
    client.cookies.clear()
    await login(client, senior.username)
    theirs = (await client.get(page)).text
    assert f"<strong>{junior.username}</strong>, the junior mentor" in theirs
    assert "you are the senior mentee" in theirs
    # Nobody else: another pair's member, the lead, an outsider, a wrong programme.
    other_junior = await db.get(type(lead), other.junior_id)
    assert other_junior is not None
    for name in (other_junior.username, "leader", "outsider"):
        client.cookies.clear()
        await login(client, name)
        refused = await client.get(page)
        assert refused.status_code == 404 and senior.username not in refused.text
        outside = await client.get(f"/programmes/spaces/{pair.conversation_id}")
        assert outside.status_code == 404
    client.cookies.clear()
    await login(client, junior.username)
    elsewhere = await make_programme(db, settings, lead, name="Other")
    await db.commit()
    assert (await client.get(f"/programmes/{elsewhere.id}/pairs/{pair.id}")).status_code == 404
    assert (await client.get(f"/programmes/{programme.id}/pairs/999999")).status_code == 404
    # A visitor is sent to log in.
    client.cookies.clear()
    assert (await client.get(page)).status_code in (302, 303)


async def test_a_traditional_pair_reads_its_roles_and_a_pair_without_common_slots_is_told(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, kind="traditional")
    (pair,) = await publish_pairs(db, settings, lead, programme)
    senior = await db.get(type(lead), pair.senior_id)
    assert senior is not None
    (application,) = [a for a, _ in await svc.applications(db, programme, senior.id)]
    application.availability = "tue-pm"
    await db.commit()
    await login(client, senior.username)
    text = (await client.get(f"/programmes/{programme.id}/pairs/{pair.id}")).text
    assert "the junior mentee" in text and "you are the senior mentor" in text
    assert "You chose no availability slot in common" in text
    assert "The lead set no ground rules" in text
