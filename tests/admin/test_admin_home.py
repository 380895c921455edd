"""The administrators' home: every staff page in one place, and members found by any part of
their name or the start of their address (wildcards typed are letters, not patterns)."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.audit import audit
from forum.core.settings import Settings
from tests.helpers import login, make_user, post_form


async def test_admins_find_members_by_name_or_address(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="boss_admin", role="admin")
    for name in ("kim_lee", "kimberly", "ak_kim", "kim_y"):
        await make_user(db, settings, username=name)
    await db.commit()
    await login(client, "boss_admin")
    home = await client.get("/admin")
    assert home.status_code == 200
    for path in ("/admin/ranks", "/admin/guidelines", "/admin/outbox", "/mod", "/mod/log"):
        assert f'href="{path}"' in home.text, path
    found = (await client.get("/admin", params={"q": "KIM"})).text
    assert ">kim_lee<" in found and ">kimberly<" in found and ">ak_kim<" in found
    # "_" and "%" are letters here: "kim_" finds kim_lee and kim_y, not kimberly nor ak_kim.
    underscored = (await client.get("/admin", params={"q": "kim_"})).text
    assert ">kim_lee<" in underscored and ">kim_y<" in underscored
    assert ">kimberly<" not in underscored and ">ak_kim<" not in underscored
    # By address: its start, as typed in any case.
    by_mail = (await client.get("/admin", params={"q": "KIMBERLY@"})).text
    assert ">kimberly<" in by_mail and ">kim_lee<" not in by_mail
    assert ">kim_lee<" not in (await client.get("/admin", params={"q": "%"})).text
    # A huge or odd query is cut, never an error.
    assert (await client.get("/admin", params={"q": "k@" * 5000})).status_code == 200
    assert (await client.get("/admin", params={"q": "kim", "page": "999"})).status_code == 200


async def test_a_programmes_record_is_in_the_log_for_administrators_only(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's moderator read a lead's decisions (who applied, who is paired with whom) in
    the moderation log, while the programme's History page refuses moderators."""
    admin = await make_user(db, settings, username="log_admin", role="admin")
    await make_user(db, settings, username="log_mod", role="moderator")
    audit(db, admin, "lock", "thread", 1, detail="Locked for a moment.")
    audit(db, admin, "programme_accept", "programme", 7, detail="Accepted pat's application.")
    await db.commit()
    await login(client, "log_mod")
    moderators = (await client.get("/mod/log")).text
    assert "Locked" in moderators and "Accepted pat" not in moderators
    assert "Accepted an application" not in moderators
    client.cookies.clear()
    await login(client, "log_admin")
    admins = (await client.get("/mod/log")).text
    assert "Locked" in admins and "Accepted an application" in admins


async def test_a_role_change_is_logged_in_words_and_roles_are_named(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's administrator read "role=editor special_rank_id=None -> ..." in the log and
    "programme_lead" in the profile's list of roles."""
    await make_user(db, settings, username="words_admin", role="admin")
    await make_user(db, settings, username="promoted")
    await db.commit()
    await login(client, "words_admin")
    profile = (await client.get("/u/promoted")).text
    assert ">Programme lead</option>" in profile and ">programme_lead<" not in profile
    form = {"role": "editor", "special_rank_id": ""}
    assert (await post_form(client, "/u/promoted/admin", form, "/u/promoted")).status_code == 303
    assert (await post_form(client, "/u/promoted/admin", form, "/u/promoted")).status_code == 303
    log = (await client.get("/mod/log")).text
    assert "Member, rank earned by points → Editor, rank earned by points" in log
    assert log.count("Changed the role of") == 1  # saving it unchanged logs nothing
    assert "special_rank_id" not in log


async def test_the_member_list_shows_warnings(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A member hidden-and-warned minutes before showed only "active"."""
    await make_user(db, settings, username="warn_admin", role="admin")
    warned = await make_user(db, settings, username="warned_once")
    warned.warning_count = 2
    await db.commit()
    await login(client, "warn_admin")
    found = (await client.get("/admin", params={"q": "warned_once"})).text
    assert "active, 2 warnings" in found
