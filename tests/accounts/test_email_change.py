"""Changing one's e-mail address: the current password, a single-use expiring link to the new
address opened by the member signed in, the old address told, nothing revealed about which
addresses have accounts, and a rate limit."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import EmailChange, PasswordResetToken, User
from forum.accounts.services import create_reset_token
from forum.core.db import utcnow
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from tests.helpers import PASSWORD, login, make_user, post_form


async def ask(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await post_form(
        client, "/account/email", {"email": email, "current_password": password}, "/account/email"
    )


async def mails_to(db: AsyncSession, address: str) -> list[OutboxMessage]:
    return list(
        (
            await db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.to_address == address)
                .order_by(OutboxMessage.id)
                .execution_options(populate_existing=True)
            )
        ).all()
    )


async def link_in(db: AsyncSession, address: str) -> str:
    messages = await mails_to(db, address)
    assert messages, f"no mail to {address}"
    message = messages[-1]
    assert message.secret_body is not None
    assert "/account/email/confirm/" not in message.body  # admins never see the link
    match = re.search(r"http://testserver(/account/email/confirm/\S+)", message.secret_body)
    assert match, message.secret_body
    return match.group(1)


async def reload(db: AsyncSession, username: str) -> User:
    user = await db.scalar(
        select(User).where(User.username_key == username).execution_options(populate_existing=True)
    )
    assert user is not None
    return user


async def test_the_address_changes_only_when_the_mailed_link_is_confirmed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="mover", email="old@example.org")
    await db.commit()
    await login(client, "mover")
    r = await ask(client, "New@Example.org")
    assert r.status_code == 200 and "Check your e-mail" in r.text
    assert (await reload(db, "mover")).email == "old@example.org"  # not yet
    link = await link_in(db, "New@Example.org")
    page = await client.get(link)
    assert page.status_code == 200 and "New@Example.org" in page.text
    assert (await reload(db, "mover")).email == "old@example.org"  # a GET changes nothing
    r = await post_form(client, link, {}, link)
    assert r.status_code == 303
    user = await reload(db, "mover")
    assert (user.email, user.email_key) == ("New@Example.org", "new@example.org")
    told = await mails_to(db, "old@example.org")
    assert told and "was changed" in told[-1].body and "N…@Example.org" in told[-1].body
    assert "New@Example.org" not in told[-1].body  # the old box learns only a hint of it
    assert (await post_form(client, link, {}, link)).status_code == 400  # single use
    # Signing in by the new address works; the old one names no account any more.
    client.cookies.clear()
    await login(client, "new@example.org")
    client.cookies.clear()
    r = await post_form(client, "/login", {"username": "old@example.org", "password": PASSWORD})
    assert r.status_code == 400


async def test_the_current_password_is_required_and_counts_as_a_guess(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="guarded", email="guarded@example.org")
    await db.commit()
    await login(client, "guarded")
    r = await ask(client, "elsewhere@example.org", password="not the password")
    assert r.status_code == 400 and "current password is not right" in r.text
    assert 'value="elsewhere@example.org"' in r.text  # the typed address is kept
    assert await mails_to(db, "elsewhere@example.org") == []
    for _ in range(settings.login_max_failures_account):
        await ask(client, "elsewhere@example.org", password="still wrong")
    r = await ask(client, "elsewhere@example.org")  # even the right password, now
    assert r.status_code == 429
    assert await mails_to(db, "elsewhere@example.org") == []


async def test_bad_addresses_get_a_message_not_a_link(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="typist", email="typist@example.org")
    await db.commit()
    await login(client, "typist")
    r = await ask(client, "not an address")
    assert r.status_code == 400 and "valid e-mail address" in r.text
    r = await ask(client, "TYPIST@example.org")
    assert r.status_code == 400 and "already your address" in r.text
    assert await db.scalar(select(EmailChange.id)) is None


async def test_a_taken_address_answers_the_same_and_tells_its_owner(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="holder", email="taken@example.org")
    await make_user(db, settings, username="seeker", email="seeker@example.org")
    await db.commit()
    await login(client, "seeker")
    taken = await ask(client, "TAKEN@example.org")
    free = await ask(client, "free@example.org")
    strip = re.compile(r'value="[^"]*"|TAKEN@example.org|free@example.org')
    assert taken.status_code == free.status_code == 200
    assert strip.sub("", taken.text) == strip.sub("", free.text)  # the same page
    told = await mails_to(db, "taken@example.org")
    assert len(told) == 1 and "already has one" in told[0].body and told[0].secret_body is None
    assert "seeker" not in told[0].body  # the owner is not told who asked
    changes = (await db.scalars(select(EmailChange.new_email))).all()
    assert changes == ["free@example.org"]  # no link was made for the taken address
    assert (await reload(db, "seeker")).email == "seeker@example.org"


async def test_only_the_member_who_asked_can_use_the_link(
    client: httpx.AsyncClient, app, db: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """The owner of a mistyped address must not take the account over by opening the link."""
    await make_user(db, settings, username="asker", email="asker@example.org")
    await make_user(db, settings, username="stranger", email="stranger@example.org")
    await db.commit()
    await login(client, "asker")
    await ask(client, "typo@example.org")
    link = await link_in(db, "typo@example.org")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as other:
        anonymous = await other.get(link)
        assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
        # The sign-in page says why it is there (a link opened in a phone's mail).
        page = await other.get(anonymous.headers["location"])
        assert "Log in to confirm your new e-mail address" in page.text
        await login(other, "stranger")
        assert (await other.get(link)).status_code == 400
        assert (await post_form(other, link, {}, "/")).status_code == 400
    assert (await reload(db, "asker")).email == "asker@example.org"
    assert (await reload(db, "stranger")).email == "stranger@example.org"


async def test_links_expire_and_die_with_the_change(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db, settings, username="switcher", email="switcher@example.org")
    reset = await create_reset_token(db, user, 60)  # mailed to the old address
    await db.commit()
    await login(client, "switcher")
    await ask(client, "first@example.org")
    first = await link_in(db, "first@example.org")
    await ask(client, "second@example.org")
    second = await link_in(db, "second@example.org")
    await ask(client, "late@example.org")
    late = await link_in(db, "late@example.org")
    await db.execute(
        update(EmailChange)
        .where(EmailChange.new_email == "late@example.org")
        .values(expires_at=utcnow())
    )
    await db.commit()
    assert (await post_form(client, late, {}, "/")).status_code == 400  # expired
    assert (await post_form(client, second, {}, second)).status_code == 303
    assert (await reload(db, "switcher")).email == "second@example.org"
    assert (await post_form(client, first, {}, "/")).status_code == 400  # died with the change
    # A reset link mailed to the old address no longer works.
    record = await db.scalar(
        select(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id)
        .execution_options(populate_existing=True)
    )
    assert record is not None and record.used_at is not None
    assert (await client.get(f"/password/reset/{reset}")).status_code == 400


async def test_an_address_taken_meanwhile_is_refused_at_confirmation(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="slowpoke", email="slowpoke@example.org")
    await db.commit()
    await login(client, "slowpoke")
    await ask(client, "contested@example.org")
    link = await link_in(db, "contested@example.org")
    await make_user(db, settings, username="quicker", email="Contested@example.org")
    await db.commit()
    r = await post_form(client, link, {}, "/")
    assert r.status_code == 409 and "belongs to another account" in r.text
    assert (await reload(db, "slowpoke")).email == "slowpoke@example.org"


async def test_requests_are_rate_limited_per_account(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="spammer", email="spammer@example.org")
    await db.commit()
    await login(client, "spammer")
    for n in range(settings.email_change_max_per_hour):
        assert (await ask(client, f"victim{n}@example.org")).status_code == 200
    r = await ask(client, "one-more@example.org")
    assert r.status_code == 429 and "Try again later" in r.text
    assert await mails_to(db, "one-more@example.org") == []


async def test_changing_the_address_needs_a_sign_in_and_a_csrf_token(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    r = await client.get("/account/email")
    assert r.status_code == 303 and "/login" in r.headers["location"]
    await make_user(db, settings, username="forged", email="forged@example.org")
    await db.commit()
    await login(client, "forged")
    r = await client.post(
        "/account/email", data={"email": "evil@example.org", "current_password": PASSWORD}
    )
    assert r.status_code == 403
    assert await mails_to(db, "evil@example.org") == []
