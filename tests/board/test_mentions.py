"""@mentions: links to members' pages (sanitised, never in code or quotes; unknown names stay
text), a cap per post that refuses with the text kept, an hourly limit per member, and the
composer's typeahead (members only, prefix match, bounded, active members only)."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.models import Post
from forum.core.settings import Settings
from forum.core.text import render_markdown
from tests.helpers import CSRF_RE, login, make_category, make_thread, make_user


async def _token(client: httpx.AsyncClient, path: str = "/") -> str:
    match = CSRF_RE.search((await client.get(path)).text)
    assert match
    return match.group(1)


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={**data, "csrftoken": await _token(client)})


def test_render_links_known_names_outside_code_links_and_quotes() -> None:
    links = {"alice": "/u/alice"}
    html = render_markdown(
        "Hi @Alice and @nobody.\n\n`@alice` [see @alice](https://x.org)\n\n> @alice said\n\n"
        "    @alice in code\n\nmail alice@alice.org",
        links,
    )
    assert html.count('href="/u/alice"') == 1
    assert '<a href="/u/alice" rel="nofollow noopener ugc">@Alice</a>' in html
    assert "@nobody" in html and "/u/nobody" not in html
    assert "<code>@alice</code>" in html
    assert render_markdown("Hi @alice") == "<p>Hi @alice</p>\n"  # no links: plain text


def test_a_mention_link_cannot_smuggle_markup() -> None:
    html = render_markdown('@alice"><script>x</script>', {"alice": "/u/alice"})
    assert "<script>" not in html and 'href="/u/alice"' in html


async def test_a_reply_links_existing_members_to_their_profiles(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    junior = await make_user(db, settings, username="junior")
    await make_user(db, settings, username="Senior.One")
    thread, _ = await make_thread(db, settings, junior, await make_category(db))
    await login(client, "junior")
    body = "Thanks @senior.one, and @ghost too. `@senior.one` in code."
    r = await _post(client, f"/t/{thread.id}/reply", {"body": body})
    assert r.status_code == 303
    page = (await client.get(f"/t/{thread.id}")).text
    assert '<a href="/u/Senior.One" rel="nofollow noopener ugc">@senior.one</a>' in page
    assert "@ghost" in page and "/u/ghost" not in page
    assert "<code>@senior.one</code>" in page


async def test_too_many_mentions_are_refused_with_the_text_kept(
    app, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    app.state.settings = settings.model_copy(update={"mentions_max_per_post": 2})
    author = await make_user(db, settings, username="caller")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, author, category)
    await login(client, "caller")
    body = "Paging @aaa @bbb @ccc"
    before = await db.scalar(select(func.count(Post.id)))
    r = await _post(client, f"/t/{thread.id}/reply", {"body": body})
    assert r.status_code == 400
    assert "at most 2 members" in r.text and f">{body}</textarea>" in r.text
    r = await _post(client, f"/c/{category.slug}/new", {"title": "Calling all", "body": body})
    assert r.status_code == 400 and f">{body}</textarea>" in r.text
    assert await db.scalar(select(func.count(Post.id))) == before
    assert (await _post(client, f"/t/{thread.id}/reply", {"body": "@aaa @bbb"})).status_code == 303


async def test_mentions_are_rate_limited_per_member(
    app, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    app.state.settings = settings.model_copy(update={"mentions_max_per_hour": 2})
    author = await make_user(db, settings, username="chatty")
    for name in ("ann", "ben", "cat"):
        await make_user(db, settings, username=name)
    thread, _ = await make_thread(db, settings, author, await make_category(db))
    await login(client, "chatty")
    assert (await _post(client, f"/t/{thread.id}/reply", {"body": "@ann @ben"})).status_code == 303
    r = await _post(client, f"/t/{thread.id}/reply", {"body": "And @cat"})
    assert r.status_code == 429 and "mentioned many members" in r.text
    assert ">And @cat</textarea>" in r.text
    # Names that are not members, and posts without mentions, are not limited.
    assert (await _post(client, f"/t/{thread.id}/reply", {"body": "@nobody1"})).status_code == 303


async def test_typeahead_is_for_members_prefix_bounded_and_active_only(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    asker = await make_user(db, settings, username="asker")
    for i in range(12):
        await make_user(db, settings, username=f"mentor{i:02d}")
    gone = await make_user(db, settings, username="mentorgone")
    gone.status = "suspended"
    gone.suspended_until = None
    await make_user(db, settings, username="m_x")
    await db.commit()
    assert (await client.get("/members/suggest?q=men")).status_code in (303, 401)
    await login(client, asker.username)
    r = await client.get("/members/suggest?q=@MEN")
    assert r.status_code == 200
    names = r.json()["names"]
    assert len(names) == 8 and all(n.startswith("mentor") for n in names)
    assert "mentorgone" not in (await client.get("/members/suggest?q=mentorg")).json()["names"]
    assert (await client.get("/members/suggest?q=")).json()["names"] == []
    # LIKE wildcards are matched literally.
    assert (await client.get("/members/suggest?q=m_")).json()["names"] == ["m_x"]
    assert (await client.get("/members/suggest?q=%25")).json()["names"] == []
    assert (await client.get("/members/suggest?q=" + "a" * 5000)).status_code == 200


async def test_an_edit_links_new_mentions_and_counts_only_those(
    app, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    app.state.settings = settings.model_copy(update={"mentions_max_per_hour": 2})
    author = await make_user(db, settings, username="editor1")
    await make_user(db, settings, username="dee")
    await make_user(db, settings, username="eve")
    thread, posts = await make_thread(db, settings, author, await make_category(db), replies=1)
    await login(client, "editor1")
    reply = posts[1]
    r = await _post(client, f"/p/{reply.id}/edit", {"body": "Now with @dee"})
    assert r.status_code == 303
    html = await db.scalar(
        select(Post.body_html).where(Post.id == reply.id).execution_options(populate_existing=True)
    )
    assert html is not None and 'href="/u/dee"' in html
    # Editing again without new names counts nothing; one new name is the second of two.
    for body in ("Now with @dee, reworded", "Now with @dee and @eve"):
        assert (await _post(client, f"/p/{reply.id}/edit", {"body": body})).status_code == 303
    await make_user(db, settings, username="fay")
    await db.commit()
    r = await _post(client, f"/p/{reply.id}/edit", {"body": "And @fay"})
    assert r.status_code == 429 and ">And @fay</textarea>" in r.text
