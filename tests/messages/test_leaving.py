"""Leaving a conversation: members leave an ordinary one; a conversation left elsewhere (a
programme pair's space, left with the pair on the programme's page) offers no Leave and
refuses one with a clear message, and its members stay in it."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.db import utcnow
from forum.core.settings import Settings
from forum.messages import services as pm
from forum.messages.models import Conversation, Participant
from tests.helpers import login, make_user, post_form, url


async def _space(db: AsyncSession, *members: User, leave_via: str) -> int:
    """A conversation nobody started (as programmes open a pair's space)."""
    now = utcnow()
    conversation = Conversation(subject="Pilot: a and b", created_by=None, created_at=now,
                                last_message_at=now, leave_via=leave_via)  # fmt: skip
    db.add(conversation)
    await db.flush()
    for member in members:
        db.add(Participant(conversation_id=conversation.id, user_id=member.id, last_read_id=0))
    await db.commit()
    return conversation.id


async def test_a_conversation_left_elsewhere_offers_no_leave_and_refuses_one(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await make_user(db, settings, username="pair_a")
    b = await make_user(db, settings, username="pair_b")
    await make_user(db, settings, username="outsider")
    conversation_id = await _space(db, a, b, leave_via="/programmes/7")
    page = url("conversation", conversation_id=conversation_id)
    leave = url("leave_conversation", conversation_id=conversation_id)
    await login(client, "pair_a")
    shown = await client.get(page)
    assert shown.status_code == 200
    assert leave not in shown.text and "Leave this conversation" not in shown.text
    assert 'href="/programmes/7"' in shown.text and "leave the programme" in shown.text
    assert (await client.get(leave)).headers.get("location", "").endswith("#leave")
    refused = await post_form(client, leave, {}, token_from=page)
    assert refused.status_code == 403
    assert (
        "cannot leave this conversation by itself" in refused.text
        and "leave the programme" in refused.text
    )
    # Still theirs: in the inbox and open.
    assert await pm.membership(db, conversation_id, a.id) is not None
    assert (await client.get(page)).status_code == 200
    assert "Pilot: a and b" in (await client.get(url("messages"))).text
    # Without the form's token, nothing happens either (CSRF).
    assert (await client.post(leave)).status_code == 403
    client.cookies.clear()
    # Someone outside it learns nothing of it.
    await login(client, "outsider")
    assert (await post_form(client, leave, {}, token_from="/messages")).status_code == 404
    assert (await client.get(page)).status_code == 404


async def test_an_ordinary_conversation_is_left_with_its_button(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    a = await make_user(db, settings, username="talker_a")
    b = await make_user(db, settings, username="talker_b")
    conversation_id = await _space(db, a, b, leave_via="")
    page = url("conversation", conversation_id=conversation_id)
    await login(client, "talker_a")
    assert "Leave this conversation" in (await client.get(page)).text
    # The link asks first (leaving was one click that could not be undone).
    asked = await client.get(url("leave_conversation", conversation_id=conversation_id))
    assert asked.status_code == 200 and "Leave this conversation?" in asked.text
    assert await pm.membership(db, conversation_id, a.id) is not None
    left = await post_form(
        client, url("leave_conversation", conversation_id=conversation_id), {}, token_from=page
    )
    assert left.status_code == 303
    assert await pm.membership(db, conversation_id, a.id) is None
    assert await pm.membership(db, conversation_id, b.id) is not None


async def test_the_service_refuses_to_leave_a_conversation_left_elsewhere(
    db: AsyncSession, settings: Settings
) -> None:
    a = await make_user(db, settings, username="svc_a")
    b = await make_user(db, settings, username="svc_b")
    conversation_id = await _space(db, a, b, leave_via="/programmes/3")
    found = await pm.membership(db, conversation_id, a.id)
    assert found is not None
    try:
        await pm.leave(db, *found)
    except pm.MessageError as exc:
        assert exc.status == 403 and "leave the programme" in exc.message
    else:
        raise AssertionError("a pair space was left on its own")
    assert found[1].left_at is None
