"""What a walk-through of the programme journeys found: the training acknowledged on the
application form itself (a refused application keeps what was typed), publishing confirmed
on a page of its own, pairing a member by hand before and after publishing, decided
applications showing their decision, slots in words, the member's own answers and steps,
and the pairing and check-in pages' details."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.services import publish as publish_article
from forum.core.settings import Settings
from forum.programmes.models import Application, TrainingAck
from tests.helpers import csrf_token, login, make_user
from tests.programmes.test_programmes import make_programme


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
