"""Administrators edit the rank table at /admin/ranks; author panels follow."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import Rank, User
from forum.core.audit import AuditEntry
from forum.core.settings import Settings
from tests.helpers import login, make_user, post_form


async def _admin(client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
    await make_user(db, settings, username="boss", role="admin")
    await db.commit()
    await login(client, "boss")


async def _post(client: httpx.AsyncClient, **data: str) -> httpx.Response:
    return await post_form(client, "/admin/ranks", data, token_from="/admin/ranks")


async def _rank(db: AsyncSession, name: str) -> Rank | None:
    return await db.scalar(
        select(Rank).where(Rank.name == name).execution_options(populate_existing=True)
    )


async def test_an_added_earned_rank_names_members_who_reached_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await _admin(client, db, settings)
    member = await make_user(db, settings, username="climber")
    member.points = 320  # between Executive (150) and Senior Executive (500)
    await db.commit()
    assert ">Executive<" in (await client.get("/u/climber")).text

    r = await _post(client, action="add", name="Mentor Lead", kind="earned", min_points="300")
    assert r.status_code == 303
    assert "Rank Mentor Lead added." in (await client.get("/admin/ranks")).text  # the flash
    assert ">Mentor Lead<" in (await client.get("/u/climber")).text

    rank = await _rank(db, "Mentor Lead")
    assert rank is not None and rank.min_points == 300 and not rank.is_special
    r = await _post(
        client, action="save", rank_id=str(rank.id), name="Mentor Lead", min_points="400"
    )
    assert r.status_code == 303
    assert ">Executive<" in (await client.get("/u/climber")).text  # 320 is below it now
    actions = (
        await db.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "rank"))
    ).all()
    assert list(actions) == ["rank_add", "rank_edit"]


async def test_bad_rank_edits_are_refused_with_the_reason_and_change_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await _admin(client, db, settings)
    before = await db.scalar(select(func.count(Rank.id)))
    for data, message in [
        ({"name": "executive", "min_points": "42"}, "There is already a rank called executive."),
        ({"name": "Halfway", "min_points": "150"}, "Executive already starts at 150 points."),
        ({"name": "Halfway", "min_points": ""}, "Earned ranks need a points threshold"),
        ({"name": "Halfway", "min_points": "-5"}, "Earned ranks need a points threshold"),
        ({"name": "   ", "min_points": "42"}, "A rank needs a name."),
        ({"name": "x" * 61, "min_points": "42"}, "Keep rank names to 60 characters."),
    ]:
        r = await _post(client, action="add", kind="earned", **data)
        assert r.status_code == 400 and message in r.text, data
        assert data["name"].strip()[:61] in r.text  # what was typed is kept
    r = await _post(client, action="save", rank_id="999999", name="Ghost", min_points="1")
    assert r.status_code == 404
    r = await _post(client, action="launch", name="x")
    assert r.status_code == 400
    assert await db.scalar(select(func.count(Rank.id))) == before


async def test_special_ranks_are_given_on_profiles_and_removing_one_frees_its_holders(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await _admin(client, db, settings)
    member = await make_user(db, settings, username="speaker")
    await db.commit()
    r = await _post(client, action="add", name="Programme Lead", kind="special")
    assert r.status_code == 303
    rank = await _rank(db, "Programme Lead")
    assert rank is not None and rank.is_special and rank.min_points is None
    r = await post_form(
        client,
        "/u/speaker/admin",
        {"role": "member", "special_rank_id": str(rank.id)},
        token_from="/u/speaker",
    )
    assert r.status_code == 303
    assert ">Programme Lead<" in (await client.get("/u/speaker")).text
    assert "held by 1" in (await client.get("/admin/ranks")).text

    r = await _post(client, action="delete", rank_id=str(rank.id), name="Programme Lead")
    assert r.status_code == 303
    assert (
        "Rank Programme Lead removed; 1 member held it." in (await client.get("/admin/ranks")).text
    )
    assert await _rank(db, "Programme Lead") is None
    held = await db.scalar(
        select(User.special_rank_id)
        .where(User.id == member.id)
        .execution_options(populate_existing=True)
    )
    assert held is None
    assert ">Newcomer<" in (await client.get("/u/speaker")).text


async def test_the_last_earned_rank_stays(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await _admin(client, db, settings)
    earned = (
        await db.scalars(select(Rank).where(Rank.is_special.is_(False)).order_by(Rank.min_points))
    ).all()
    for rank in earned[1:]:
        r = await _post(client, action="delete", rank_id=str(rank.id), name=rank.name)
        assert r.status_code == 303, rank.name
    last = earned[0]
    r = await _post(client, action="delete", rank_id=str(last.id), name=last.name)
    assert r.status_code == 400 and "The last earned rank cannot be removed." in r.text
    assert await _rank(db, last.name) is not None


async def test_the_rank_at_zero_points_stays_at_zero(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's administrator removed "Newcomer" and every new member became "Associate"."""
    await _admin(client, db, settings)
    first = await db.scalar(
        select(Rank).where(Rank.is_special.is_(False)).order_by(Rank.min_points).limit(1)
    )
    assert first is not None and first.min_points == 0
    gone = await _post(client, action="delete", rank_id=str(first.id), name=first.name)
    assert gone.status_code == 400 and "stays at 0 points" in gone.text
    moved = await _post(client, action="save", rank_id=str(first.id), name=first.name,
                        min_points="10")  # fmt: skip
    assert moved.status_code == 400 and "stays at 0" in moved.text
    renamed = await _post(client, action="save", rank_id=str(first.id), name="Starter",
                          min_points="0")  # fmt: skip
    assert renamed.status_code == 303 and await _rank(db, "Starter") is not None
