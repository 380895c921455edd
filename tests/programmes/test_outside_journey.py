"""The programmes journey as a new member and a programme lead found it from outside: the
lead told of applications, accepted members left unpaired told so, only the actions each
one can take offered (a report once there is something to report, no apply form for the
lead, a withdrawal confirmed), dates as the board writes them, profiles without stray
commas, and no training step to apply where nothing takes applications."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.articles.services import publish as publish_article
from forum.core.db import Database
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.messages.models import Conversation
from forum.messages.services import reply
from forum.programmes import lifecycle as life
from forum.programmes import pairing
from forum.programmes import services as svc
from tests.helpers import login, make_user, post_form
from tests.programmes.test_programmes import deliver, enrol, make_programme, notes
from tests.programmes.test_schedule_and_meetings import publish_pairs


async def test_the_lead_is_told_of_each_application_and_withdrawal_by_name(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, name="Spring pilot")
    first = await make_user(db, settings, username="first_one")
    second = await make_user(db, settings, username="second_one")
    await enrol(db, settings, programme, first, "junior")
    await enrol(db, settings, programme, second, "senior")
    await life.withdraw(db, settings, second, programme)
    await db.commit()
    await deliver(settings, database)
    told = [n for n in await notes(db, lead) if n.kind == "programme_lead"]
    assert [n.detail for n in told] == [
        "first_one applied to “Spring pilot” (junior side)",
        "second_one applied to “Spring pilot” (senior side)",
        "second_one withdrew their application (senior side) from “Spring pilot”",
    ]
    assert {n.link for n in told} == {f"/programmes/{programme.id}/applications"}
    assert [n.actor_id for n in told] == [first.id, second.id, second.id]
    # Nobody else is told of an application.
    assert await notes(db, first) == []
    await login(client, "leader")
    listed = (await client.get("/notifications")).text
    assert "first_one applied to" in listed


async def test_an_accepted_member_left_unpaired_is_told_and_their_page_says_so(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, name="Spring pilot")
    people = {}
    for name, side in (("jun_a", "junior"), ("jun_b", "junior"), ("sen_a", "senior"),
                       ("jun_declined", "junior")):  # fmt: skip
        people[name] = await make_user(db, settings, username=name)
        application = await enrol(db, settings, programme, people[name], side)
        await svc.decide(db, settings, lead, programme, application.id, name != "jun_declined")
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    (pair,) = await svc.publish(db, settings, lead, programme)
    paired_junior = "jun_a" if pair.junior_id == people["jun_a"].id else "jun_b"
    spare = people["jun_b" if paired_junior == "jun_a" else "jun_a"]
    await db.commit()
    await deliver(settings, database)
    sentence = (
        "You were not paired in “Spring pilot” this round (junior side): the lead may pair you "
        "later, or in the next round"
    )
    (told,) = [n for n in await notes(db, spare) if "paired" in n.detail]
    assert told.kind == "programme" and told.detail == sentence
    assert told.link == f"/programmes/{programme.id}"
    # E-mailed as their preferences say (at once by default), like "You are paired with".
    subjects = list(await db.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.to_address == spare.email)))  # fmt: skip
    assert sentence in subjects
    # The paired members and a declined one are not told they were left out.
    for name in (paired_junior, "sen_a", "jun_declined"):
        assert not [n for n in await notes(db, people[name]) if "not paired" in n.detail], name
    # Their page says so, not only "accepted"; so does their list of programmes.
    await login(client, spare.username)
    page = (await client.get(f"/programmes/{programme.id}")).text
    assert "You applied on the junior side" in page
    assert "accepted, not paired this round." in page and "Paired: not this round" in page
    assert "may pair you later, or in the next round" in page
    assert (
        "applied as junior: accepted, not paired this round"
        in (await client.get("/programmes")).text
    )
    client.cookies.clear()
    await login(client, paired_junior)
    page = (await client.get(f"/programmes/{programme.id}")).text
    assert "not paired" not in page and "Your pair" in page


async def test_this_felt_dismissive_is_offered_once_the_partner_has_written(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior, senior = await db.get(User, pair.junior_id), await db.get(User, pair.senior_id)
    assert junior is not None and senior is not None
    conversation = await db.get(Conversation, pair.conversation_id)
    assert conversation is not None
    await db.commit()
    page = f"/programmes/{programme.id}"
    action = f"{page}/pairs/{pair.id}/dismissive"
    await login(client, junior.username)
    # Right after pairing there is nothing to report: no link (the server still refuses).
    shown = (await client.get(page)).text
    assert "This felt dismissive" not in shown and action not in shown
    assert f"Once {senior.username} has written in your private space" in shown
    refused = await client.get(action)
    assert refused.status_code == 400 and "not written anything you could report" in refused.text
    # The member's own message, or the partner's still held for review, changes nothing.
    mine = await reply(db, settings, junior, conversation, "Hello, when shall we meet?")
    mine.state = "clear"
    held = await reply(db, settings, senior, conversation, "Waiting for a moderator.")
    held.state = "held"
    await db.commit()
    assert action not in (await client.get(page)).text
    # Once the partner's message is shown, the link is there.
    held.state = "clear"
    await db.commit()
    shown = (await client.get(page)).text
    assert f'href="{action}"' in shown and "This felt dismissive" in shown
    assert (await client.get(action)).status_code == 200


async def test_the_lead_sees_lead_actions_on_their_programme_not_the_apply_form(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    editor = await make_user(db, settings, username="editor1", role="editor")
    article = await publish_article(db, settings, editor, "Train first", "Summary here.", "Body")
    programme = await make_programme(db, settings, lead, training=article.slug)
    member = await make_user(db, settings, username="member1")
    await svc.acknowledge(db, settings, member, programme, article.id)
    await enrol(db, settings, programme, member, "junior")
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, "leader")
    shown = (await client.get(page)).text
    assert 'name="side"' not in shown and f"{page}/apply" not in shown
    assert "I have read" not in shown  # the training is shown, not a step for the lead
    assert "Train first" in shown
    assert "You lead this programme" in shown and "1 application waits for your decision" in (shown)
    assert f'href="{page}/applications"' in shown
    # Nor may the lead apply to their own programme (they would read their partner's
    # check-in answers).
    refused = await post_form(client, f"{page}/apply", {"side": "junior"}, page)
    assert refused.status_code == 403 and "You lead this programme" in refused.text
    # Once it runs, the lead is not told to ask themselves about the next round.
    programme.status = "published"
    await db.commit()
    shown = (await client.get(page)).text
    assert "about the next round" not in shown and "Ask its lead" not in shown
    assert "takes no more applications" in shown and "start a programme</a>" in shown
    # A member still sees the form, or whom to ask.
    client.cookies.clear()
    await login(client, "member1")
    assert '<a href="/u/leader">leader</a>, about the next round' in (await client.get(page)).text


async def test_withdrawing_is_confirmed_on_a_page_of_its_own(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    member = await make_user(db, settings, username="changer")
    await make_user(db, settings, username="other")
    application = await enrol(db, settings, programme, member, "junior")
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, "other")
    nothing = await client.get(f"{page}/withdraw")
    assert nothing.status_code == 400 and "no application to withdraw" in nothing.text
    client.cookies.clear()
    await login(client, "changer")
    # The programme's page leads to the confirmation: no one-click form.
    shown = (await client.get(page)).text
    assert f'href="{page}/withdraw"' in shown and f'action="{page}/withdraw"' not in shown
    asked = await client.get(f"{page}/withdraw")
    assert asked.status_code == 200 and "Withdraw your application?" in asked.text
    assert "junior side" in asked.text and "leader" in asked.text
    assert "You may apply again while the programme takes applications" in asked.text
    assert f'action="{page}/withdraw"' in asked.text and 'name="csrftoken"' in asked.text
    await db.refresh(application)
    assert application.status == "pending"  # looking changes nothing
    # Without the form's token: refused; with it, the POST withdraws as before.
    assert (await client.post(f"{page}/withdraw", data={})).status_code == 403
    done = await post_form(client, f"{page}/withdraw", {}, f"{page}/withdraw")
    assert done.status_code == 303
    await db.refresh(application)
    assert application.status == "withdrawn"


async def test_programme_dates_are_picked_as_dates_and_written_as_the_board_writes_them(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="leader", role="programme_lead")
    await db.commit()
    await login(client, "leader")
    form = (await client.get("/programmes/new")).text
    for name in ("starts_on", "ends_on"):
        assert f'id="{name}" name="{name}" type="date"' in form
    assert "YYYY-MM-DD" not in form
    fields = {"name": "Dated pilot", "kind": "reverse", "purpose": "Seniors learn.",
              "evaluation": "Surveys", "pilot_size": "8", "checkin_days": "14",
              "starts_on": "2027-13-10", "ends_on": "2027-04-01"}  # fmt: skip
    bad = await post_form(client, "/programmes/new", fields, "/programmes/new")
    assert bad.status_code == 400 and "Give a date as YYYY-MM-DD." in bad.text
    assert 'aria-describedby="starts_on-error"' in bad.text
    made = await post_form(client, "/programmes/new", {**fields, "starts_on": "2027-01-10"},
                           "/programmes/new")  # fmt: skip
    assert made.status_code == 303
    page = (await client.get(made.headers["location"])).text
    assert "10 Jan 2027 to 01 Apr 2027" in page and "2027-01-10" not in page


async def test_an_applications_profile_joins_only_the_parts_given(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    for name, title, department in (("no_title", "", "Marketing"), ("both", "Designer", "Ops"),
                                    ("title_only", "Analyst", ""), ("neither", "", "")):  # fmt: skip
        member = await make_user(db, settings, username=name)
        form = svc.ApplicationForm(side="junior", job_title=title, department=department,
                                   seniority="2")  # fmt: skip
        await svc.apply(db, settings, member, programme, form)
    await db.commit()
    await login(client, "leader")
    page = (await client.get(f"/programmes/{programme.id}/applications")).text
    cells = [
        " ".join(c.split())
        for c in re.findall(
            r'<td class="small profile" data-label="Profile">(.*?)Teaches', page, re.S
        )
    ]
    assert cells == ["Marketing; 2 years.", "Designer, Ops; 2 years.", "Analyst; 2 years.",
                     "2 years."]  # fmt: skip


async def test_no_step_to_apply_is_offered_where_nothing_takes_applications(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    editor = await make_user(db, settings, username="editor1", role="editor")
    article = await publish_article(db, settings, editor, "Train first", "Summary here.", "Body")
    running = await make_programme(db, settings, lead, name="Running", training=article.slug)
    running.status = "published"
    await make_user(db, settings, username="newcomer")
    await db.commit()
    await login(client, "newcomer")
    listing = (await client.get("/programmes")).text
    assert "then apply" not in listing and "No programme takes applications now" in listing
    page = (await client.get(f"/programmes/{running.id}")).text
    # The material is shown; no "I have read" step to an application that cannot be made.
    assert "Train first" in page and "I have read" not in page and 'name="training"' not in page
    assert f"/programmes/{running.id}/training/" not in page
    assert "Applications are closed" in page
    # With a programme open, the list says how to apply, and its page offers the step.
    open_one = await make_programme(db, settings, lead, name="Open", training=article.slug)
    await db.commit()
    listing = (await client.get("/programmes")).text
    assert "Read a programme's training material, then apply" in listing
    assert "No programme takes applications now" not in listing
    page = (await client.get(f"/programmes/{open_one.id}")).text
    assert 'name="training"' in page and "Train first" in page
    assert "Applications are closed" not in page
