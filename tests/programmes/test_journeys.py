"""What a walk-through of the programme journeys found: the training acknowledged on the
application form itself (a refused application keeps what was typed), publishing confirmed
on a page of its own, pairing a member by hand before and after publishing, decided
applications showing their decision, slots in words, the member's own answers and steps,
and the pairing and check-in pages' details."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.articles.services import publish as publish_article
from forum.core.settings import Settings
from forum.notifications.models import NotificationWork
from forum.programmes import pairing
from forum.programmes import services as svc
from forum.programmes.models import Application, Programme, TrainingAck
from tests.helpers import csrf_token, login, make_user, post_form
from tests.programmes.test_programmes import enrol, make_programme


async def accepted(
    db: AsyncSession, settings: Settings, lead: User, programme: Programme, side: str,
    name: str, **kw: str,
) -> User:  # fmt: skip
    """A member whose application on `side` the lead accepted."""
    member = await make_user(db, settings, username=name)
    application = await enrol(db, settings, programme, member, side, **kw)
    await svc.decide(db, settings, lead, programme, application.id, True)
    return member


async def proposed(db: AsyncSession, settings: Settings, lead: User, programme: Programme) -> None:
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)


async def test_the_training_is_acknowledged_on_the_application_form(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="rosa_lead", role="programme_lead")
    editor = await make_user(db, settings, username="editor1", role="editor")
    article = await publish_article(db, settings, editor, "Listen first", "Summary here.", "Body")
    programme = await make_programme(db, settings, lead, training=article.slug)
    await make_user(db, settings, username="sam")
    await db.commit()
    await login(client, "sam")
    page = f"/programmes/{programme.id}"
    shown = (await client.get(page)).text
    # One form: the box is inside it, required, and the article opens beside the form.
    form = shown[shown.index(f'action="{page}/apply#apply"') :]
    form = form[: form.index("</form>")]
    assert f'name="training" value="{article.id}" required' in form
    assert 'target="_blank"' in form and "Listen first" in form
    assert f"{page}/training/" not in shown  # no separate button reloading the page
    typed = {
        "side": "junior", "job_title": "Analyst", "department": "Finance", "seniority": "2",
        "teaches": ["AI tools"], "learns": ["Budgeting"], "availability": ["tue-pm"],
        "free_text": "Spreadsheets, mostly.", "avoid": "", "reporting_line": "",
    }  # fmt: skip
    token = await csrf_token(client, page)
    refused = await client.post(f"{page}/apply", data={**typed, "csrftoken": token})
    assert refused.status_code == 400
    assert 'id="training-error"' in refused.text and "I have read" in refused.text
    assert "Your application was not sent" in refused.text
    # Everything typed is kept.
    for kept in ('value="Analyst"', 'value="Finance"', "Spreadsheets, mostly.",
                 'value="junior" checked', 'value="AI tools" checked',
                 'value="Budgeting" checked', 'value="tue-pm" checked'):  # fmt: skip
        assert kept in refused.text, kept
    assert await db.scalar(select(func.count(Application.id))) == 0
    assert await db.scalar(select(func.count(TrainingAck.id))) == 0
    # One submit acknowledges and applies.
    sent = await client.post(
        f"{page}/apply", data={**typed, "training": str(article.id), "csrftoken": token}
    )
    assert sent.status_code == 303
    assert await db.scalar(select(Application.status)) == "pending"
    ack = await db.scalar(select(TrainingAck))
    assert ack is not None and ack.article_id == article.id


async def test_publishing_is_confirmed_on_a_page_saying_what_it_does(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="rosa_lead", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    for i in range(2):
        await accepted(db, settings, lead, programme, "junior", f"junior{i}")
        await accepted(db, settings, lead, programme, "senior", f"senior{i}")
    # Wanting nothing anyone teaches: the lowest scores, left out.
    await accepted(db, settings, lead, programme, "junior", "left_over", teaches="Social media",
                   learns="Social media")  # fmt: skip
    await enrol(db, settings, programme, await make_user(db, settings, username="waiting"),
                "junior")  # fmt: skip
    await proposed(db, settings, lead, programme)
    await db.commit()
    told = await db.scalar(select(func.count(NotificationWork.id)))
    page = f"/programmes/{programme.id}"
    await login(client, "rosa_lead")
    proposal = (await client.get(f"{page}/proposal")).text
    assert f'href="{page}/publish"' in proposal and 'action="{page}/publish"' not in proposal
    asked = await client.get(f"{page}/publish")
    assert asked.status_code == 200 and "Publish 2 pairs?" in asked.text
    assert "junior0 (junior) with" in asked.text and "junior1 (junior) with" in asked.text
    assert "1 accepted member is left unmatched: left_over (junior)" in asked.text
    assert "Applications close" in asked.text
    assert "1 application you have not decided stays out of the pairs" in asked.text
    assert "5 members are told" in asked.text  # four paired, one left out
    assert 'name="confirm" value="yes"' in asked.text
    # One click without the confirmation changes nothing.
    unconfirmed = await post_form(client, f"{page}/publish", {}, f"{page}/publish")
    assert unconfirmed.status_code == 400 and "Nothing has changed" in unconfirmed.text
    await db.refresh(programme)
    assert programme.status == "open" and await svc.pairs_of(db, programme) == []
    assert await db.scalar(select(func.count(NotificationWork.id))) == told
    done = await post_form(client, f"{page}/publish", {"confirm": "yes"}, f"{page}/publish")
    assert done.status_code == 303
    await db.refresh(programme)
    assert programme.status == "published" and len(await svc.pairs_of(db, programme)) == 2
    # Published: the page says so instead of asking again.
    again = await client.get(f"{page}/publish")
    assert again.status_code == 400 and "already published" in again.text
