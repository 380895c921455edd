"""Factories and HTTP helpers shared by the tests. Factories go through the real services."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.passwords import Passwords
from forum.accounts.services import create_user
from forum.board.categories import create_category
from forum.board.models import Category, Post, Thread
from forum.board.posting import create_reply, create_thread
from forum.core.settings import Settings
from forum.core.urls import path_builder

PASSWORD = "correct horse battery"


def url(name: str, /, **params: object) -> str:
    """A path from a route name, as a request's `ctx.url` builds it (for services that take one)."""
    from forum.app import create_app

    global _url
    if _url is None:
        _url = path_builder(create_app(Settings(secret_key="paths")).router)
    return _url(name, **params)


_url = None
_seq = itertools.count(1)


async def make_user(
    session: AsyncSession,
    settings: Settings,
    username: str | None = None,
    role: str = "member",
    email: str | None = None,
    location: str = "Leeds",
) -> User:
    n = next(_seq)
    username = username or f"member{n}"
    user = await create_user(
        session,
        Passwords(settings),
        username=username,
        email=email or f"{username}@example.org",
        password=PASSWORD,
        role=role,
        location=location,
    )
    await session.flush()
    return user


async def make_category(
    session: AsyncSession, name: str | None = None, parent: Category | None = None
) -> Category:
    return await create_category(session, name or f"Category {next(_seq)}", parent=parent)


async def make_thread(
    session: AsyncSession,
    settings: Settings,
    author: User,
    category: Category,
    title: str = "How do we pair mentors?",
    body: str = "We have 20 mentees.",
    replies: int = 0,
) -> tuple[Thread, list[Post]]:
    thread, first = await create_thread(session, settings, author, category, title, body)
    posts = [first]
    for i in range(replies):
        posts.append(await create_reply(session, settings, author, thread, f"Reply number {i + 1}"))
    await session.commit()
    return thread, posts


CSRF_RE = re.compile(r'name="csrftoken" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, str], token_from: str = "/login"
) -> httpx.Response:
    token = await csrf_token(client, token_from)
    return await client.post(path, data={**data, "csrftoken": token})


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    response = await post_form(client, "/login", {"username": username, "password": password})
    assert response.status_code == 303, response.text
    return response


def parse_tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag in `html` with its attributes, as a browser's parser would see them."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(html)
    return found
