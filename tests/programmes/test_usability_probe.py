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

from forum.core.db import utcnow
from forum.core.settings import Settings
from forum.programmes import services as svc
from forum.programmes.models import Programme
from tests.helpers import login, make_user, post_form
from tests.programmes.test_programmes import make_programme
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
