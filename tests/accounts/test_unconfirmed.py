"""An account whose address nobody confirmed is not a member yet: no public page, not offered
to @mention or message, its name in a post not linked."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.mentions import mention_links, suggest_usernames
from forum.core.settings import Settings
from forum.messages import services as pm
from tests.helpers import login, make_user


async def test_an_unconfirmed_account_is_not_on_show(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    writer = await make_user(db, settings, username="writer9")
    pending = await make_user(db, settings, username="pending_pat")
    confirmed = await make_user(db, settings, username="pending_pam")
    pending.email_confirmed_at = None
    await db.commit()
    assert (await client.get("/u/pending_pat")).status_code == 404
    assert (await client.get("/u/pending_pam")).status_code == 200
    assert await suggest_usernames(db, "pending") == ["pending_pam"]
    links = await mention_links(db, settings, writer, "@pending_pat and @pending_pam")
    assert set(links) == {confirmed.username_key}
    try:
        await pm.resolve_recipients(db, settings, writer, "pending_pat")
    except pm.MessageError as exc:
        assert "no member called" in exc.message
    else:
        raise AssertionError("a message to an unconfirmed account was accepted")
    # Moderators still see the page (to deal with an abusive registration).
    await make_user(db, settings, username="mod9", role="moderator")
    await db.commit()
    await login(client, "mod9")
    assert (await client.get("/u/pending_pat")).status_code == 200
