"""Reactions: a fixed set, one per member per kind, not on one's own or unseen posts, taken
back with `undo`; counts on the post card and a "who reacted" page; points through the ledger
only when the setting says so and never from young accounts; rate-limited; ReactionAdded."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import PointsEntry, User
from forum.accounts.services import recount_points
from forum.board import reactions
from forum.board.events import ReactionAdded
from forum.board.models import Post, Reaction
from forum.core import events
from forum.core.db import utcnow
from forum.core.errors import DomainError
from forum.core.settings import Settings
from tests.helpers import CSRF_RE, login, make_category, make_thread, make_user


async def _token(client: httpx.AsyncClient, path: str = "/") -> str:
    match = CSRF_RE.search((await client.get(path)).text)
    assert match
    return match.group(1)


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={**data, "csrftoken": await _token(client)})


async def _count(db: AsyncSession, post_id: int, kind: str | None = None) -> int:
    stmt = select(func.count(Reaction.id)).where(Reaction.post_id == post_id)
    if kind:
        stmt = stmt.where(Reaction.kind == kind)
    return int(await db.scalar(stmt) or 0)


async def _points(db: AsyncSession, user_id: int) -> int:
    stmt = select(User.points).where(User.id == user_id).execution_options(populate_existing=True)
    return int(await db.scalar(stmt) or 0)


async def _setup(db: AsyncSession, settings: Settings):  # type: ignore[no-untyped-def]
    author = await make_user(db, settings, username="asker")
    fan = await make_user(db, settings, username="fan")
    thread, posts = await make_thread(db, settings, author, await make_category(db), replies=1)
    return author, fan, thread, posts


async def test_react_shows_the_count_and_undo_takes_it_back(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author, fan, thread, posts = await _setup(db, settings)
    post = posts[1]
    await login(client, "fan")
    page = await client.get(f"/t/{thread.id}")
    assert f'action="/p/{post.id}/react/thanks"' in page.text
    r = await _post(client, f"/p/{post.id}/react/thanks", {})
    assert r.status_code == 303
    assert await _count(db, post.id, "thanks") == 1
    # A second click (or a resubmitted form) does not add another.
    assert (await _post(client, f"/p/{post.id}/react/thanks", {})).status_code == 303
    assert await _count(db, post.id, "thanks") == 1
    await _post(client, f"/p/{post.id}/react/helpful", {})
    page = await client.get(f"/t/{thread.id}")
    assert 'aria-pressed="true">Thanks <span class="reaction-count">1</span>' in page.text
    assert 'aria-pressed="true">Helpful <span class="reaction-count">1</span>' in page.text
    assert 'aria-pressed="false">Agree <span class="reaction-count">0</span>' in page.text
    who = await client.get(f"/p/{post.id}/reactions")
    assert who.status_code == 200 and 'href="/u/fan">fan</a>' in who.text
    assert (await _post(client, f"/p/{post.id}/react/thanks", {"undo": "1"})).status_code == 303
    assert await _count(db, post.id, "thanks") == 0
    assert await _count(db, post.id, "helpful") == 1
    # Visitors see the counts but no buttons.
    await client.post("/logout", data={"csrftoken": await _token(client)})
    anonymous = await client.get(f"/t/{thread.id}")
    assert f"/p/{post.id}/react/" not in anonymous.text
    assert 'Helpful <span class="reaction-count">1</span>' in anonymous.text


async def test_one_per_member_per_kind_is_a_constraint(
    db: AsyncSession, settings: Settings
) -> None:
    author, fan, thread, posts = await _setup(db, settings)
    db.add(Reaction(post_id=posts[1].id, user_id=fan.id, kind="agree"))
    await db.flush()
    db.add(Reaction(post_id=posts[1].id, user_id=fan.id, kind="agree"))
    with pytest.raises(IntegrityError):
        await db.flush()
    await db.rollback()


async def test_not_on_own_posts_unknown_kinds_or_unseen_posts(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author, fan, thread, posts = await _setup(db, settings)
    hidden = posts[1]
    hidden.moderation_state = "hidden"
    await db.commit()
    await login(client, "asker")
    own = await _post(client, f"/p/{posts[0].id}/react/thanks", {})
    assert own.status_code == 403 and "your own posts" in own.text
    page = await client.get(f"/t/{thread.id}")
    assert f"/p/{posts[0].id}/react/" not in page.text  # no buttons on one's own post
    await login(client, "fan")
    assert (await _post(client, f"/p/{posts[0].id}/react/love", {})).status_code == 404
    assert (await _post(client, f"/p/{hidden.id}/react/thanks", {})).status_code == 404
    assert (await client.get(f"/p/{hidden.id}/reactions")).status_code == 404
    assert await _count(db, hidden.id) == 0 and await _count(db, posts[0].id) == 0


async def test_reacting_needs_login_and_csrf(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author, fan, thread, posts = await _setup(db, settings)
    token = await _token(client, "/login")
    r = await client.post(f"/p/{posts[1].id}/react/thanks", data={"csrftoken": token})
    assert r.status_code == 401
    await login(client, "fan")
    r = await client.post(f"/p/{posts[1].id}/react/thanks", data={"csrftoken": "forged"})
    assert r.status_code == 403
    assert await _count(db, posts[1].id) == 0


async def test_points_only_when_set_and_never_from_young_accounts_and_recount_is_exact(
    app, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    author, fan, thread, posts = await _setup(db, settings)
    young = await make_user(db, settings, username="newcomer")
    fan.joined_at = utcnow() - timedelta(days=30)
    await db.commit()
    post = posts[1]
    before = await _points(db, author.id)
    # Default: reactions earn nothing.
    await login(client, "fan")
    await _post(client, f"/p/{post.id}/react/thanks", {})
    assert await _points(db, author.id) == before
    app.state.settings = settings.model_copy(update={"reaction_points": 3})
    await _post(client, f"/p/{post.id}/react/helpful", {})
    assert await _points(db, author.id) == before + 3
    await login(client, "newcomer")
    await _post(client, f"/p/{post.id}/react/helpful", {})
    assert await _count(db, post.id, "helpful") == 2
    assert await _points(db, author.id) == before + 3  # too young to earn anyone points
    # Taking back reverses exactly what the reaction earned, through the ledger.
    await login(client, "fan")
    await _post(client, f"/p/{post.id}/react/helpful", {"undo": "1"})
    await _post(client, f"/p/{post.id}/react/thanks", {"undo": "1"})  # earned nothing
    assert await _points(db, author.id) == before
    reasons = (
        await db.scalars(
            select(PointsEntry.reason).where(
                PointsEntry.user_id == author.id, PointsEntry.reason.like("reaction%")
            )
        )
    ).all()
    assert sorted(reasons) == ["reaction", "reaction_removed"]
    await db.execute(User.__table__.update().values(points=0))
    await recount_points(db)
    assert await _points(db, author.id) == before
    assert young.id  # (the young member's reaction stays, pointless)


async def test_reactions_are_rate_limited(
    app, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    app.state.settings = settings.model_copy(update={"reactions_max_per_hour": 2})
    author, fan, thread, posts = await _setup(db, settings)
    await login(client, "fan")
    assert (await _post(client, f"/p/{posts[1].id}/react/thanks", {})).status_code == 303
    assert (await _post(client, f"/p/{posts[1].id}/react/agree", {})).status_code == 303
    r = await _post(client, f"/p/{posts[0].id}/react/agree", {})
    assert r.status_code == 429 and "reacted to many posts" in r.text
    assert await _count(db, posts[0].id) == 0


async def test_reaction_added_is_announced_after_storing(
    db: AsyncSession, settings: Settings
) -> None:
    author, fan, thread, posts = await _setup(db, settings)
    seen: list[tuple[ReactionAdded, int]] = []

    async def handler(session: AsyncSession, event: ReactionAdded) -> None:
        stored = await session.scalar(
            select(Reaction.post_id).where(Reaction.id == event.reaction_id)
        )
        seen.append((event, stored or 0))

    events.subscribe(ReactionAdded, handler)
    try:
        post = await db.get(Post, posts[1].id)
        assert post is not None
        assert await reactions.add_reaction(db, settings, fan, post, "agree")
        assert not await reactions.add_reaction(db, settings, fan, post, "agree")  # no repeat
    finally:
        events._handlers[ReactionAdded].remove(handler)
    assert len(seen) == 1
    event, stored_post = seen[0]
    assert (event.post_id, event.actor_id, event.kind) == (post.id, fan.id, "agree")
    assert stored_post == post.id


async def test_reactions_do_not_add_thread_page_queries(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    queries,  # type: ignore[no-untyped-def]
) -> None:
    author, fan, thread, posts = await _setup(db, settings)
    await login(client, "fan")
    queries.start()
    await client.get(f"/t/{thread.id}")
    before = queries.stop()
    for kind in ("thanks", "helpful", "agree"):
        await _post(client, f"/p/{posts[1].id}/react/{kind}", {})
    queries.start()
    page = await client.get(f"/t/{thread.id}")
    assert queries.stop() == before
    assert page.text.count('aria-pressed="true"') == 3


async def test_suspended_members_and_deleted_posts_get_no_reactions(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author, fan, thread, posts = await _setup(db, settings)
    fan.status = "suspended"
    fan.suspended_until = utcnow() + timedelta(days=1)
    await db.commit()
    await login(client, "fan")
    assert f"/p/{posts[1].id}/react/" not in (await client.get(f"/t/{thread.id}")).text
    r = await _post(client, f"/p/{posts[1].id}/react/thanks", {})
    assert r.status_code == 403 and "suspended" in r.text
    post = await db.get(Post, posts[1].id)
    assert post is not None
    post.is_deleted = True
    with pytest.raises(DomainError, match="deleted"):
        reactions.check_may_react(author, post, "thanks")
    assert await _count(db, posts[1].id) == 0


async def test_members_share_cached_cards_with_their_own_token_filled_in(
    app, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    author, fan, thread, posts = await _setup(db, settings)
    await make_user(db, settings, username="other_fan")
    await db.commit()
    cached = app.state.post_card.cached
    tokens = []
    misses = []
    for name in ("fan", "other_fan"):
        await login(client, name)
        page = (await client.get(f"/t/{thread.id}")).text
        misses.append(cached.cache_info().misses)
        token = await _token(client, f"/t/{thread.id}")
        tokens.append(token)
        form = page[page.index(f'action="/p/{posts[1].id}/react/thanks"') :][:200]
        assert f'value="{token}"' in form and "\x00" not in page
    assert tokens[0] != tokens[1]
    # The second member's cards came from the cache the first one filled: nothing rendered.
    assert misses[1] == misses[0]
    # A reaction changes the card (the counts are in the key), for everyone.
    await _post(client, f"/p/{posts[1].id}/react/agree", {})
    await login(client, "fan")
    page = (await client.get(f"/t/{thread.id}")).text
    assert 'aria-pressed="false">Agree <span class="reaction-count">1</span>' in page
