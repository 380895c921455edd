"""The programmes journey as a new member and a programme lead found it from outside: the
lead told of applications, accepted members left unpaired told so, only the actions each
one can take offered (a report once there is something to report, no apply form for the
lead, a withdrawal confirmed), dates as the board writes them, profiles without stray
commas, and no training step to apply where nothing takes applications."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.db import Database
from forum.core.settings import Settings
from forum.programmes import lifecycle as life
from tests.helpers import login, make_user
from tests.programmes.test_programmes import deliver, enrol, make_programme, notes


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
