"""CSRF: a token tied to the browser and its sign-in, checked on every state-changing request
whatever headers it carries; `Origin` checked where sent; multipart forms work."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from forum.core.csrf import COOKIE
from forum.core.settings import Settings
from tests.helpers import CSRF_RE, csrf_token, login, make_user

LOGIN = {"username": "nobody", "password": "pw-pw-pw-pw"}


async def test_an_authorization_header_does_not_skip_the_check(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    for header in ("Bearer anything", "Basic YTpi"):
        response = await client.post("/login", data=LOGIN, headers={"authorization": header})
        assert response.status_code == 403, header


async def test_a_token_from_another_sign_in_is_refused(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="alice")
    await make_user(db, settings, username="bob")
    await db.commit()
    await login(client, "alice")
    alices = await csrf_token(client, "/account/profile")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await login(other, "bob")
        # Bob's browser, Alice's token (as a forged page would send it): refused.
        forged = await other.post("/logout", data={"csrftoken": alices})
        assert forged.status_code == 403
        own = await other.post("/logout", data={"csrftoken": await csrf_token(other, "/")})
        assert own.status_code == 303


async def test_signing_in_changes_the_token(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="carol")
    await db.commit()
    before = await csrf_token(client, "/login")
    await login(client, "carol")
    after = await csrf_token(client, "/account/profile")
    assert before != after
    stale = await client.post("/logout", data={"csrftoken": before})
    assert stale.status_code == 403


async def test_a_request_from_another_origin_is_refused_even_with_a_token(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_token(client, "/login")
    data = {**LOGIN, "csrftoken": token}
    for headers in ({"origin": "https://evil.example"}, {"origin": "null"},
                    {"sec-fetch-site": "cross-site"}):  # fmt: skip
        response = await client.post("/login", data=data, headers=headers)
        assert response.status_code == 403, headers
    same = await client.post("/login", data=data, headers={"origin": "http://testserver"})
    assert same.status_code == 400  # reached the view: wrong credentials


async def test_the_token_is_not_the_cookie(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    token = CSRF_RE.search(page.text)
    assert token is not None and client.cookies.get(COOKIE)
    assert token.group(1) != client.cookies.get(COOKIE)
    assert "Cookie" in page.headers.get("vary", "")


async def test_multipart_forms_work(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client, "/login")
    fields = {**LOGIN, "csrftoken": token}
    response = await client.post("/login", files={k: (None, v) for k, v in fields.items()})
    assert response.status_code == 400 and "not right" in response.text  # the view ran
    without = await client.post("/login", files={k: (None, v) for k, v in LOGIN.items()})
    assert without.status_code == 403


async def test_a_file_upload_is_refused_cleanly(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client, "/login")
    response = await client.post(
        "/login", data={**LOGIN, "csrftoken": token}, files={"avatar": ("a.png", b"x" * 10)}
    )
    assert 400 <= response.status_code < 500


async def test_an_expired_form_shows_back_what_was_typed_but_a_foreign_one_does_not(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    from tests.helpers import make_category, make_thread

    author = await make_user(db, settings, username="carol")
    thread, _ = await make_thread(db, settings, author, await make_category(db))
    await db.commit()
    await login(client, "carol")
    stale = await csrf_token(client, f"/t/{thread.id}")
    await login(client, "carol")  # signed in again (another tab): the old token is void
    typed = "A long considered reply <b>with markup</b> & all."
    refused = await client.post(f"/t/{thread.id}/reply", data={"body": typed, "csrftoken": stale})
    assert refused.status_code == 403 and "This form has expired" in refused.text
    assert "A long considered reply &lt;b&gt;with markup&lt;/b&gt; &amp; all." in refused.text
    assert "<textarea" in refused.text and "readonly" in refused.text
    # From another site (its Origin says so), nothing is shown back.
    foreign = await client.post(
        f"/t/{thread.id}/reply", data={"body": typed, "csrftoken": stale},
        headers={"origin": "https://evil.example"},
    )  # fmt: skip
    assert foreign.status_code == 403 and "considered reply" not in foreign.text


def test_every_template_that_writes_the_token_imports_it_with_its_context() -> None:
    """Jinja imports a macro without the page's context unless told: `csrf()` would then write
    an empty token and the form would be refused (a member's delete form shipped so)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    imports = re.compile(r"{%-?\s*from\s+\"_macros.html\"\s+import\s+([^%]*?)-?%}")
    wrong = []
    for path in sorted(root.rglob("*.html")):
        for names in imports.findall(path.read_text()):
            if re.search(r"\bcsrf\b", names) and "with context" not in names:
                wrong.append(str(path.relative_to(root)))
    checked = [p for p in root.rglob("*.html") if "csrf()" in p.read_text()]
    assert len(checked) > 20
    assert wrong == []
