"""Input outside a type's range (dates, integers, nested JSON) is a 400 or 404, never a 500."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.settings import Settings
from tests.helpers import csrf_token, login, make_user


async def test_dates_at_the_edge_of_the_calendar_are_refused(client: httpx.AsyncClient) -> None:
    for query in ("to=9999-12-31", "from=0001-01-01&to=9999-12-31", "from=10000-01-01",
                  "to=2026-02-30"):  # fmt: skip
        response = await client.get(f"/search?q=mentoring&{query}")
        assert response.status_code in (200, 400), query


async def test_deeply_nested_json_is_a_400(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="nester")
    await db.commit()
    await login(client, "nester")
    token = await csrf_token(client, "/account/profile")
    body = "[" * 100_000 + "]" * 100_000
    response = await client.post(
        "/api/cues",
        content=body,
        headers={"content-type": "application/json", "x-csrftoken": token},
    )
    assert response.status_code == 400


async def test_an_id_beyond_the_databases_integers_is_a_404(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="bigmod", role="moderator")
    await db.commit()
    await login(client, "bigmod")
    token = await csrf_token(client, "/mod/phrases")
    for path in ("/mod/phrases/99999999999999999999/delete", "/mod/phrases/2147483648/delete"):
        response = await client.post(path, data={"csrftoken": token})
        assert response.status_code == 404, path


async def test_an_unknown_address_is_a_404_with_the_ways_on(client: httpx.AsyncClient) -> None:
    """An address no route answers gave a page with the name alone: it now has the search
    box and the links a visitor has (no account links: it is rendered without a session)."""
    for path in ("/nothing", "/admin/nothing", "/members/", "/t/x"):
        response = await client.get(path)
        assert response.status_code == 404, path
        page = response.text
        assert "There is no page at this address." in page
        for link in ('action="/search"', 'href="/latest"', 'href="/articles"',
                     'href="/programmes"'):  # fmt: skip
            assert link in page, (path, link)
        assert "Log out" not in page and "Traceback" not in page


async def test_a_members_unknown_address_keeps_their_header(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's signed-in member mistyped an address and the bare page's header made them
    look signed out."""
    await make_user(db, settings, username="typo_tess")
    await db.commit()
    await login(client, "typo_tess")
    for path in ("/nope-not-here", "/admin/nothing"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "There is no page at this address." in response.text
        assert "typo_tess" in response.text and "Log out" in response.text
    # With a stale or forged cookie it is the visitor's page.
    client.cookies.set("candor_session", "forged")
    stale = await client.get("/nope-not-here")
    assert stale.status_code == 404 and "Log out" not in stale.text
