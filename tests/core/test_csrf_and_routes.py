"""Every state-changing route, taken from the route table, refuses requests without a CSRF token;
security headers are on every response."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Route

from forum.accounts.models import User
from forum.board.models import Post, Thread
from forum.core.audit import AuditEntry
from forum.core.csrf import COOKIE
from forum.core.settings import Settings
from tests.helpers import csrf_token, login, make_category, make_thread, make_user


def state_changing_routes(app) -> list[str]:  # type: ignore[no-untyped-def]
    paths = []
    for route in app.routes:
        if isinstance(route, Route) and route.methods and route.methods - {"GET", "HEAD"}:
            paths.append(route.path)
    return paths


async def test_every_state_changing_route_requires_a_csrf_token(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    await make_user(db, settings, username="csrfadmin", role="admin")
    member = await make_user(db, settings, username="csrfmember")
    category = await make_category(db)
    thread, posts = await make_thread(db, settings, member, category)
    values = {
        "thread_id": str(thread.id),
        "post_id": str(posts[0].id),
        "slug": category.slug,
        "username": "csrfmember",
        "token": "x" * 20,
        "item_id": "1",
        "phrase_id": "1",
        "article_id": "1",
        "action": "lock",
        "notification_id": "1",
        "kind": "thanks",
        "conversation_id": "1",
        "programme_id": "1",
        "application_id": "1",
        "pair_id": "1",
        "meeting_id": "1",
        "report_id": "1",
        "message_id": "1",
        "user_id": str(member.id),
        "category_id": str(category.id),
    }
    routes = state_changing_routes(app)
    assert len(routes) >= 11  # a new route shows up here by itself
    await login(client, "csrfadmin")
    counts_before = [
        await db.scalar(select(func.count(m.id))) for m in (User, Thread, Post, AuditEntry)
    ]
    for template in routes:
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], template)
        data = {
            "body": "x" * 10,
            "title": "A title",
            "reason": "r",
            "role": "member",
            "username": "csrfmember",
            "password": "whatever1234",
            "email": "e@example.org",
        }
        missing = await client.post(path, data=data)
        assert missing.status_code == 403, template
        wrong = await client.post(path, data={**data, "csrftoken": "forged"})
        assert wrong.status_code == 403, template
        # A token from a header must match the cookie too.
        header = await client.post(path, data=data, headers={"x-csrftoken": "forged"})
        assert header.status_code == 403, template
    counts_after = [
        await db.scalar(select(func.count(m.id))) for m in (User, Thread, Post, AuditEntry)
    ]
    assert counts_after == counts_before
    await db.refresh(thread)
    assert not thread.is_locked


async def test_requests_without_any_cookie_are_checked_too(client: httpx.AsyncClient) -> None:
    client.cookies.clear()
    response = await client.post(
        "/register",
        data={
            "username": "drive-by",
            "email": "d@example.org",
            "password": "x" * 12,
            "password_confirm": "x" * 12,
        },
    )
    assert response.status_code == 403


async def test_a_valid_token_passes(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client, "/login")
    response = await client.post(
        "/login", data={"username": "nobody", "password": "pw-pw-pw-pw", "csrftoken": token}
    )
    assert response.status_code == 400  # reached the view: wrong credentials, not a CSRF refusal


@pytest.mark.parametrize("path", ["/", "/login", "/nowhere", "/static/candor.css"])
async def test_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_templates_have_no_inline_script_or_style(client: httpx.AsyncClient) -> None:
    for path in ["/", "/login", "/register", "/password/forgot"]:
        text = (await client.get(path)).text
        # Scripts come from files (the registration form's time-zone guess does).
        assert not re.search(r"<script(?![^>]*\ssrc=)", text)
        assert "<style" not in text and " style=" not in text
        assert not re.search(r"\son[a-z]+=", text)


async def test_csrf_cookie_is_set_only_by_pages_with_forms(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    thread, _ = await make_thread(db, settings, author, await make_category(db))
    reading = await client.get(f"/t/{thread.id}")
    assert reading.status_code == 200 and COOKIE not in reading.headers.get("set-cookie", "")
    form = await client.get("/login")
    assert f"{COOKIE}=" in form.headers.get("set-cookie", "")
    assert re.search(r'name="csrftoken" value="[0-9a-f]{64}"', form.text)
