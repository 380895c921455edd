"""A newcomer's usability probe (probe13): the applicant's steps name the wait, "Your
programmes" and the lead's applications tell paired and left apart from accepted and
withdrawn, departments are compared as people write them, the first proposal is the pairing
page's main action, the follow-up of a dismissive report names no side, the programme page
says its start date once and moves on after a meeting, the application form asks for
seniority and reports every missing field at once, the lead sees who has a free place, and
a meeting's date is checked against the member's own today."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.db import Database
from forum.core.settings import Settings
from forum.messages.models import Conversation
from forum.messages.services import reply
from forum.programmes import dashboard as dash
from forum.programmes import lifecycle as life
from forum.programmes import services as svc
from forum.programmes.models import DismissiveReport
from tests.helpers import login, make_user, post_form
from tests.programmes.test_lifecycle import _group, _publish
from tests.programmes.test_programmes import make_programme

# --- the follow-up of a dismissive report (finding 6) ----------------------------------------


async def test_the_follow_up_choices_name_no_side_and_keep_the_stored_value(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, senior),) = await _group(db, settings, lead, programme, 1)
    await _publish(db, settings, lead, programme)
    (pair,) = await svc.pairs_of(db, programme)
    conversation = await db.get(Conversation, pair.conversation_id)
    assert conversation is not None
    # The senior reports the junior's message: either partner may.
    message = await reply(db, settings, junior, conversation, "That is an old-fashioned view.")
    message.state = "clear"
    await db.commit()
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
