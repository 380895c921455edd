"""Accepted answers in Q&A categories: the thread's author or a moderator marks (and unmarks)
the reply that answered; it is shown under the question and as "Answered" in the listing,
never to those who may not see the post; admins make a category Q&A."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.models import Category, Thread
from forum.core.audit import AuditEntry
from forum.core.settings import Settings
from tests.helpers import CSRF_RE, login, make_category, make_user


async def _token(client: httpx.AsyncClient, path: str = "/") -> str:
    match = CSRF_RE.search((await client.get(path)).text)
    assert match
    return match.group(1)


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={**data, "csrftoken": await _token(client)})


async def _accepted(db: AsyncSession, thread_id: int) -> int | None:
    stmt = (
        select(Thread.accepted_post_id)
        .where(Thread.id == thread_id)
        .execution_options(populate_existing=True)
    )
    return await db.scalar(stmt)


async def _qa_thread(db: AsyncSession, settings: Settings, qa: bool = True):  # type: ignore[no-untyped-def]
    from forum.board.posting import create_reply, create_thread

    asker = await make_user(db, settings, username="asker")
    helper = await make_user(db, settings, username="helper")
    await make_user(db, settings, username="bystander")
    category = await make_category(db, "Questions")
    category.is_qa = qa
    thread, first = await create_thread(
        db, settings, asker, category, "How do I start?", "What should a first meeting cover?"
    )
    answer = await create_reply(db, settings, helper, thread, "Agree goals and how often to meet.")
    await db.commit()
    return category, thread, first, answer


async def test_the_author_marks_the_answer_shown_under_the_question_and_in_the_listing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    category, thread, first, answer = await _qa_thread(db, settings)
    await login(client, "asker")
    page = await client.get(f"/t/{thread.id}")
    assert f'action="/p/{answer.id}/accept"' in page.text
    assert f'action="/p/{first.id}/accept"' not in page.text  # not the question itself
    r = await _post(client, f"/p/{answer.id}/accept", {})
    assert r.status_code == 303
    assert await _accepted(db, thread.id) == answer.id
    page = await client.get(f"/t/{thread.id}")
    box = page.text.index('id="accepted-heading"')
    assert page.text.index(f'id="p{first.id}"') < box < page.text.index(f'id="p{answer.id}"')
    assert "Agree goals and how often to meet." in page.text[box : box + 800]
    assert "Accepted answer</span>" in page.text
    listing = await client.get(f"/c/{category.slug}")
    assert "Answered</span>" in listing.text
    # Unmarking takes it away; marking the question itself is refused.
    assert (await _post(client, f"/p/{answer.id}/accept", {"undo": "1"})).status_code == 303
    assert await _accepted(db, thread.id) is None
    r = await _post(client, f"/p/{first.id}/accept", {})
    assert r.status_code == 400 and "cannot be its own answer" in r.text
    assert "Answered</span>" not in (await client.get(f"/c/{category.slug}")).text


async def test_only_the_author_or_a_moderator_and_only_in_qa_categories(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    category, thread, first, answer = await _qa_thread(db, settings)
    await make_user(db, settings, username="modder", role="moderator")
    await db.commit()
    await login(client, "bystander")
    assert f"/p/{answer.id}/accept" not in (await client.get(f"/t/{thread.id}")).text
    r = await _post(client, f"/p/{answer.id}/accept", {})
    assert r.status_code == 403 and await _accepted(db, thread.id) is None
    await login(client, "helper")
    assert (await _post(client, f"/p/{answer.id}/accept", {})).status_code == 403
    await login(client, "modder")
    assert (await _post(client, f"/p/{answer.id}/accept", {})).status_code == 303
    assert await _accepted(db, thread.id) == answer.id
    actions = (await db.scalars(select(AuditEntry.action))).all()
    assert "accept_answer" in actions  # a moderator's mark on someone else's thread is logged
    # Outside a Q&A category nobody can mark an answer.
    category.is_qa = False
    await db.commit()
    assert f"/p/{answer.id}/accept" not in (await client.get(f"/t/{thread.id}")).text
    assert (await _post(client, f"/p/{answer.id}/accept", {"undo": "1"})).status_code == 403


async def test_a_hidden_accepted_answer_is_not_shown_to_those_who_cannot_see_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    category, thread, first, answer = await _qa_thread(db, settings)
    await login(client, "asker")
    await _post(client, f"/p/{answer.id}/accept", {})
    answer.moderation_state = "hidden"
    await db.commit()
    await login(client, "bystander")
    page = await client.get(f"/t/{thread.id}")
    assert 'id="accepted-heading"' not in page.text
    assert "Agree goals" not in page.text
    assert "Answered</span>" not in (await client.get(f"/c/{category.slug}")).text
    # Its author still sees it (as on the rest of the thread page).
    await login(client, "helper")
    assert 'id="accepted-heading"' in (await client.get(f"/t/{thread.id}")).text
    # A deleted answer is gone for members too.
    answer.is_deleted = True
    answer.moderation_state = "clear"
    await db.commit()
    await login(client, "bystander")
    assert 'id="accepted-heading"' not in (await client.get(f"/t/{thread.id}")).text


async def test_admins_make_a_category_qa(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    category, thread, first, answer = await _qa_thread(db, settings, qa=False)
    await make_user(db, settings, username="boss", role="admin")
    await make_user(db, settings, username="modder", role="moderator")
    await db.commit()
    await login(client, "modder")
    assert f"/c/{category.slug}/qa" not in (await client.get(f"/c/{category.slug}")).text
    assert (await _post(client, f"/c/{category.slug}/qa", {})).status_code == 403
    await login(client, "boss")
    assert f'action="/c/{category.slug}/qa"' in (await client.get(f"/c/{category.slug}")).text
    assert (await _post(client, f"/c/{category.slug}/qa", {})).status_code == 303
    fresh = select(Category.is_qa).where(Category.id == category.id)
    assert await db.scalar(fresh.execution_options(populate_existing=True)) is True
    assert (await _post(client, f"/c/{category.slug}/qa", {"undo": "1"})).status_code == 303
    assert await db.scalar(fresh.execution_options(populate_existing=True)) is False
