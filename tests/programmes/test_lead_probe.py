"""A programme lead's usability probe: the programme form ticks articles and slots and says
what each kind means; a new programme is a draft until its lead opens it; the pairing page
explains its buttons and takes weights in number boxes; the dashboard's privacy line is
plain and its chart has a legend and axis titles; a programme is copied for a next round."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.models import Article
from forum.articles.services import publish as publish_article
from forum.core.settings import Settings
from forum.programmes import dashboard as dash
from forum.programmes import pairing
from forum.programmes import services as svc
from forum.programmes.models import Application, CheckinQuestion, Pair, Programme
from tests.helpers import csrf_token, login, make_user
from tests.programmes.test_programmes import enrol, make_programme

FIELDS = {"name": "Spring pilot", "kind": "reverse", "purpose": "Seniors learn from juniors.",
          "evaluation": "A survey at twelve weeks.", "pilot_size": "8", "checkin_days": "14",
          "topics": "AI tools\nBudgeting"}  # fmt: skip


async def send(
    client: httpx.AsyncClient, path: str, data: dict[str, str | list[str]], token_from: str
) -> httpx.Response:
    """A form post with repeated fields (ticked boxes)."""
    return await client.post(path, data={**data, "csrftoken": await csrf_token(client, token_from)})


async def _articles(db: AsyncSession, settings: Settings) -> tuple[Article, Article]:
    editor = await make_user(db, settings, username="editor1", role="editor")
    kept = await publish_article(db, settings, editor, "Listening first", "How to listen.", "B")
    gone = await publish_article(db, settings, editor, "An old guide", "Withdrawn.", "B")
    gone.is_deleted = True
    return kept, gone


def _checked(html: str, name: str, value: str) -> bool:
    tag = re.search(rf'<input type="checkbox" name="{name}" value="{re.escape(value)}"[^>]*>', html)
    return tag is not None and " checked" in tag.group(0)


# --- 1. the programme form --------------------------------------------------------------------


async def test_the_form_ticks_articles_and_slots_and_explains_the_kinds(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    kept, gone = await _articles(db, settings)
    await make_user(db, settings, username="leader", role="programme_lead")
    await db.commit()
    await login(client, "leader")
    page = (await client.get("/programmes/new")).text
    assert "slugs or ids" not in page and "e.g. mon-am" not in page
    assert f'name="training" value="{kept.id}"' in page and "Listening first" in page
    assert f'value="{gone.id}"' not in page and "An old guide" not in page
    assert 'name="slots" value="mon-am"' in page and 'aria-label="Friday afternoon"' in page
    assert 'type="radio" name="kind" value="peer"' in page and "Reverse mentoring" in page
    assert "A junior colleague mentors a senior one" in page

    data: dict[str, str | list[str]] = {**FIELDS, "training": [str(kept.id)],
                                        "slots": ["mon-am", "thu-pm"]}  # fmt: skip
    made = await send(client, "/programmes/new", data, "/programmes/new")
    assert made.status_code == 303
    programme = await db.scalar(select(Programme))
    assert programme is not None
    assert programme.training == str(kept.id) and programme.slots == "mon-am\nthu-pm"


async def test_unknown_articles_and_slots_are_refused_and_the_ticks_kept(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    kept, gone = await _articles(db, settings)
    await make_user(db, settings, username="leader", role="programme_lead")
    await db.commit()
    await login(client, "leader")
    data: dict[str, str | list[str]] = {
        **FIELDS, "name": "My typed name", "training": [str(kept.id), str(gone.id), "999999"],
        "slots": ["mon-am", "someday"],
    }  # fmt: skip
    bad = await send(client, "/programmes/new", data, "/programmes/new")
    assert bad.status_code == 400
    assert f"There is no published article “{gone.id}”" in bad.text
    assert "“someday” is not a time slot" in bad.text
    assert 'value="My typed name"' in bad.text
    assert _checked(bad.text, "training", str(kept.id)) and _checked(bad.text, "slots", "mon-am")
    assert not _checked(bad.text, "slots", "tue-am")
    assert await db.scalar(select(Programme.id)) is None


# --- 2. drafts ----------------------------------------------------------------------------------


async def test_a_new_programme_is_a_draft_seen_by_its_lead_and_admins_until_opened(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    member = await make_user(db, settings, username="member1")
    await make_user(db, settings, username="boss", role="admin")
    await db.commit()
    await login(client, "leader")
    made = await send(client, "/programmes/new", {**FIELDS, "slots": ["mon-am"]},
                      "/programmes/new")  # fmt: skip
    assert made.status_code == 303
    programme = await db.scalar(select(Programme))
    assert programme is not None and programme.status == "draft"
    page = f"/programmes/{programme.id}"
    shown = (await client.get(page)).text
    assert "A draft" in shown and "Open for applications…" in shown
    assert "Spring pilot" in (await client.get("/programmes")).text
    # Only the lead and administrators find it; members neither see it listed nor apply.
    for who in (None, "member1", "boss"):
        client.cookies.clear()
        if who:
            await login(client, who)
        listed = "Spring pilot" in (await client.get("/programmes")).text
        found = (await client.get(page)).status_code
        if who == "boss":
            assert listed and found == 200
            continue
        assert not listed and found == 404
        if who:
            applied = await send(client, f"{page}/apply", {"side": "junior"}, "/programmes")
            assert applied.status_code == 404
            opened = await send(client, f"{page}/open", {"confirm": "yes"}, "/programmes")
            assert opened.status_code == 404
    assert [m.programme.id for m in await svc.my_programmes(db, member)] == []
    assert [p.id for p, _ in await svc.programmes_list(db, lead)] == [programme.id]
    assert [p.id for p, _ in await svc.programmes_list(db, member)] == []
    try:
        await enrol(db, settings, programme, member, "junior")
    except svc.ProgrammeError as exc:
        assert exc.message == "This programme does not take applications yet."
    else:
        raise AssertionError("a draft took an application")
    client.cookies.clear()
    await login(client, "leader")

    # A draft's settings can be changed; a bad one comes back with what was typed.
    settings_page = f"{page}/settings"
    assert 'value="Spring pilot"' in (await client.get(settings_page)).text
    bad = await send(client, settings_page, {**FIELDS, "name": "", "slots": ["tue-pm"]},
                     settings_page)  # fmt: skip
    assert bad.status_code == 400 and "Give the programme a name." in bad.text
    assert _checked(bad.text, "slots", "tue-pm")
    saved = await send(client, settings_page, {**FIELDS, "ground_rules": "Listen first.",
                                               "slots": ["mon-am", "tue-pm"]}, settings_page)  # fmt: skip
    assert saved.status_code == 303

    # Opening asks for a confirmation, and without it nothing changes.
    confirm = await client.get(f"{page}/open")
    assert confirm.status_code == 200 and "Listen first." in confirm.text
    assert "Tuesday afternoon" in confirm.text
    refused = await send(client, f"{page}/open", {}, f"{page}/open")
    assert refused.status_code == 400 and "Nothing has changed" in refused.text
    # Without the CSRF token, refused.
    forged = await client.post(f"{page}/open", data={"confirm": "yes"})
    assert forged.status_code == 403
    await db.refresh(programme)
    assert programme.status == "draft" and programme.ground_rules == "Listen first."
    opened = await send(client, f"{page}/open", {"confirm": "yes"}, f"{page}/open")
    assert opened.status_code == 303
    await db.refresh(programme)
    assert programme.status == "open"
    # Once open, the settings page still answers: what members apply on is read-only there.
    reopened = await client.get(settings_page)
    assert reopened.status_code == 200 and "Settings members applied on" in reopened.text
    assert 'name="kind"' not in reopened.text and 'name="slots"' not in reopened.text
    assert (await send(client, f"{page}/open", {"confirm": "yes"}, page)).status_code == 400
    await enrol(db, settings, programme, member, "junior")
    assert [m.programme.id for m in await svc.my_programmes(db, member)] == [programme.id]


# --- 3. the pairing page ----------------------------------------------------------------------


async def test_the_pairing_page_explains_its_buttons_and_takes_weights_in_number_boxes(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    for side in ("junior", "senior"):
        application = await enrol(db, settings, programme,
                                  await make_user(db, settings, username=side), side)  # fmt: skip
        await svc.decide(db, settings, lead, programme, application.id, True)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await db.commit()
    await login(client, "leader")
    page = (await client.get(f"/programmes/{programme.id}/proposal")).text
    assert ('id="c-overlap" name="overlap" type="number" min="0" max="10" step="0.1" '
            'value="1"') in page  # fmt: skip
    assert 'id="c-gap_max" name="gap_max" type="number" min="0" max="60" step="1" value="40"' in (
        page
    )
    assert 'value="1.0"' not in page and 'value="40.0"' not in page
    assert "How much it counts that both are free at the same times" in page
    assert 'aria-describedby="save-run-note"' in page and 'aria-describedby="propose-note"' in page
    assert "with the criteria as last saved" in page
    assert 'id="edit-note"' in page and '<div class="tool-row pair-actions">' in page


# --- 4. the dashboard -------------------------------------------------------------------------


async def test_the_dashboard_says_its_privacy_rule_plainly_and_the_chart_has_a_legend(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    await db.commit()
    await login(client, "leader")
    page = (await client.get(f"/programmes/{programme.id}/dashboard")).text
    assert "nobody's answers can be singled out" in page
    assert "No figure here lets you work out" not in page
    assert "No check-in round is over yet" in page
    svg = dash.frankness_svg(await dash.build(db, programme))
    assert ">Check-in round</text>" in svg and ">Frankness (1–5)</text>" in svg
    assert ">Junior side</text>" in svg and ">Senior side</text>" in svg
    # The legend's senior sample is dashed, as the senior line is.
    assert re.search(r'stroke-dasharray="6 4"/><text[^>]*>Senior side', svg)


# --- 5. copying -------------------------------------------------------------------------------


async def test_a_programme_is_copied_as_a_draft_without_people_or_dates(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    await make_user(db, settings, username="other_lead", role="programme_lead")
    programme = await make_programme(db, settings, lead, ground_rules="Listen first.",
                                     starts_on="2027-01-10", kind="peer")  # fmt: skip
    await svc.add_question(db, settings, lead, programme, "What did you learn?", "text", "both",
                           closing=True)  # fmt: skip
    member = await make_user(db, settings, username="member1")
    await enrol(db, settings, programme, member, "junior")
    await db.commit()
    page = f"/programmes/{programme.id}"
    # Nobody but the lead (and administrators) copies it.
    await login(client, "other_lead")
    assert (await send(client, f"{page}/copy", {}, page)).status_code == 403
    await login(client, "leader")
    assert "Copy this programme" in (await client.get(page)).text
    assert (await client.post(f"{page}/copy")).status_code == 403  # no CSRF token
    copied = await send(client, f"{page}/copy", {}, page)
    assert copied.status_code == 303
    copy = await db.scalar(select(Programme).where(Programme.id != programme.id))
    assert copy is not None
    assert copied.headers["location"].startswith(f"/programmes/{copy.id}/settings")
    assert copy.status == "draft" and copy.lead_id == lead.id
    assert copy.name == "Reverse pilot (copy)" and copy.starts_on is None
    for column in ("kind", "purpose", "evaluation", "ground_rules", "training", "topics",
                   "slots", "checkin_days", "pilot_size"):  # fmt: skip
        assert getattr(copy, column) == getattr(programme, column), column
    asked = await db.scalars(select(CheckinQuestion).where(CheckinQuestion.programme_id == copy.id))
    assert sorted((q.prompt, q.closing) for q in asked) == [
        (svc.NOTE, False),
        (svc.FRANKNESS, False),
        ("What did you learn?", True),
    ]
    for table in (Application, Pair):
        found = await db.scalar(select(table.id).where(table.programme_id == copy.id))
        assert found is None
    edit = await client.get(copied.headers["location"])
    assert edit.status_code == 200 and 'value="Reverse pilot (copy)"' in edit.text
    assert _checked(edit.text, "slots", "mon-am")
