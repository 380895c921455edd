"""Password guessing is limited per name on the sign-in form (an account's username and its
e-mail address count apart) and per session on the change-password form; per-address limits
see the real connecting address."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.cli import proxy_options
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from tests.helpers import PASSWORD, login, make_user, post_form


def _client_at(app: Any, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address` (the app sees it as the client's)."""
    transport = httpx.ASGITransport(app=app, client=(address, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _sign_in(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await post_form(client, "/login", {"username": name, "password": password})


async def test_guesses_count_per_name_so_a_lockout_does_not_pair_an_address_with_a_username(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe locked an account by its e-mail address and then tried usernames: the one
    refused was the address's. Each name (however it is capitalised) has its own count."""
    await make_user(db, settings, username="quinn", email="quinn@example.org")
    await make_user(db, settings, username="other_q", email="other@example.org")
    await db.commit()
    limit = settings.login_max_failures_account
    for n in range(limit):
        name = "QUINN@example.org" if n % 2 else "quinn@Example.org"
        assert (await _sign_in(client, name, f"wrong guess {n}")).status_code == 400
    refused = await _sign_in(client, "quinn@example.org", "another wrong guess")
    assert refused.status_code == 429
    # The username answers as any other account's does: no sign of the lockout.
    answers = [await _sign_in(client, name, "one more guess") for name in ("quinn", "other_q")]
    assert [r.status_code for r in answers] == [400, 400]
    assert "not right" in answers[0].text and "try again" not in answers[0].text.lower()
    assert (await _sign_in(client, "Quinn", PASSWORD)).status_code == 303


async def test_guessing_the_current_password_is_limited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="rowan")
    await db.commit()
    await login(client, "rowan")
    form = {"password": "a new password 1", "password_confirm": "a new password 1"}
    for n in range(settings.login_max_failures_account):
        wrong = {**form, "current_password": f"guess number {n}"}
        response = await post_form(client, "/account/password", wrong, "/account/password")
        assert response.status_code == 400
    last = {**form, "current_password": "yet another guess"}
    response = await post_form(client, "/account/password", last, "/account/password")
    assert response.status_code == 429


def test_forwarded_addresses_are_believed_only_from_listed_proxies(settings: Settings) -> None:
    assert proxy_options(settings) == {"proxy_headers": False}
    behind = settings.model_copy(update={"trusted_proxies": "10.0.0.5, 10.0.0.6"})
    assert proxy_options(behind) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.5", "10.0.0.6"],
    }


async def test_failed_registrations_count_toward_the_attempts_limit_only(
    app,
    client: httpx.AsyncClient,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    app.state.settings = settings.model_copy(
        update={"register_attempts_per_ip_hour": 6, "register_max_per_ip_hour": 2}
    )
    form = {"username": "x", "email": "x@example.org", "location": "",
            "password": "long enough pw", "password_confirm": "long enough pw"}  # fmt: skip
    for _ in range(3):  # more failed attempts than accounts allowed: a newcomer's typos
        response = await post_form(client, "/register", form, "/register")
        assert response.status_code == 400  # a bad username: refused, and counted
    for n in range(2):  # two accounts made: the accounts limit is reached
        fine = {**form, "username": f"fine-name-{n}", "email": f"fine{n}@example.org"}
        response = await post_form(client, "/register", fine, "/register")
        assert response.status_code == 303  # on to "Check your e-mail"
    late = {**form, "username": "a-third-name", "email": "third@example.org"}
    response = await post_form(client, "/register", late, "/register")
    assert response.status_code == 429
    assert "Too many sign-ups from your network this hour" in response.text
    # Past the attempts limit (failed ones count): refused as attempts, whatever the form.
    response = await post_form(client, "/register", form, "/register")
    assert response.status_code == 429 and "Too many registration attempts" in response.text


async def test_per_address_limits_count_an_ipv6_subscriber_by_its_64(
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """A subscriber given a /64 may take a fresh address in it for every request: the
    addresses of one /64 share a count, another /64 counts apart, and an IPv4 client seen as
    ::ffff:a.b.c.d shares its IPv4 address's count."""
    app.state.settings = settings.model_copy(
        update={"register_attempts_per_ip_hour": 2, "login_max_failures_ip": 2}
    )
    form = {"username": "x", "email": "x@example.org", "location": "",
            "password": "long enough pw", "password_confirm": "long enough pw"}  # fmt: skip

    def client_at(address: str) -> httpx.AsyncClient:
        return _client_at(app, address)

    async def register_from(address: str) -> int:
        async with client_at(address) as client:
            return (await post_form(client, "/register", form, "/register")).status_code

    async def sign_in_from(address: str) -> int:
        async with client_at(address) as client:
            return (await _sign_in(client, "nobody_here", "a wrong guess")).status_code

    # Two attempts (refused as invalid, but counted) from two addresses of one /64 ...
    assert await register_from("2001:db8:1:2::a") == 400
    assert await register_from("2001:db8:1:2:ffff:1:2:3") == 400
    # ... and a third address in it is over the limit; the next /64 is not.
    assert await register_from("2001:db8:1:2::c") == 429
    assert await register_from("2001:db8:1:3::a") == 400
    # IPv4 addresses count one by one; the mapped form is the same client.
    assert await register_from("192.0.2.10") == 400
    assert await register_from("::ffff:192.0.2.10") == 400
    assert await register_from("192.0.2.10") == 429
    assert await register_from("192.0.2.11") == 400
    # Failed sign-ins per address alike.
    assert await sign_in_from("2001:db8:9:9::1") == 400
    assert await sign_in_from("2001:db8:9:9::2") == 400
    assert await sign_in_from("2001:db8:9:9:abcd::3") == 429
    assert await sign_in_from("2001:db8:9:a::1") == 400
    assert await sign_in_from("::ffff:198.51.100.9") == 400
    assert await sign_in_from("198.51.100.9") == 400
    assert await sign_in_from("::ffff:c633:6409") == 429


async def test_guessing_elsewhere_does_not_lock_the_member_out_and_a_reset_clears_it(
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """A stranger's failed guesses lock out the stranger's address only; past the account-wide
    ceiling (a spread campaign) the owner is refused too, until a completed password reset."""
    app.state.settings = settings.model_copy(update={"login_max_failures_account_total": 8})
    await make_user(db, settings, username="sage", email="sage@example.org")
    await db.commit()

    def client_at(address: str) -> httpx.AsyncClient:
        return _client_at(app, address)

    async with client_at("203.0.113.7") as stranger, client_at("198.51.100.2") as owner:
        for n in range(settings.login_max_failures_account):
            assert (await _sign_in(stranger, "sage", f"guess {n}")).status_code == 400
        assert (await _sign_in(stranger, "sage", PASSWORD)).status_code == 429
        assert (await _sign_in(owner, "sage", PASSWORD)).status_code == 303  # not locked out
    for n, address in enumerate(["192.0.2.1", "192.0.2.2", "192.0.2.3"]):
        async with client_at(address) as spread:
            for k in range(3):
                await _sign_in(spread, "sage", f"spread guess {n}-{k}")
    async with client_at("198.51.100.2") as owner:
        locked = await _sign_in(owner, "sage", PASSWORD)
        assert locked.status_code == 429 and "reset your password" in locked.text
        await post_form(
            owner, "/password/forgot", {"email": "sage@example.org"}, "/password/forgot"
        )
    mail = await db.scalar(
        select(OutboxMessage.secret_body).where(OutboxMessage.to_address == "sage@example.org")
    )
    found = re.search(r"/password/reset/\S+", mail or "")
    assert found, mail
    link = found.group(0)
    async with client_at("198.51.100.2") as owner:
        new = {"password": "a fresh password 9", "password_confirm": "a fresh password 9"}
        assert (await post_form(owner, link, new, link)).status_code == 303
        assert (await _sign_in(owner, "sage", "a fresh password 9")).status_code == 303


async def test_a_device_the_member_signed_in_on_is_not_locked_out_by_strangers(
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """A probe locked an account out by failing five times from each of ten addresses (the
    account-wide ceiling). A browser the member signed in on before keeps a signed device
    cookie: its own failures count (five), strangers' do not; it still needs the password,
    and the cookie of another account, or a forged one, is no help."""
    app.state.settings = settings.model_copy(update={"login_max_failures_account_total": 8})
    await make_user(db, settings, username="rowan", email="rowan@example.org")
    await make_user(db, settings, username="other_member")
    await db.commit()

    def client_at(address: str) -> httpx.AsyncClient:
        return _client_at(app, address)

    async with client_at("198.51.100.9") as home, client_at("198.51.100.10") as elsewhere:
        assert (await _sign_in(home, "rowan", PASSWORD)).status_code == 303
        device = home.cookies.get("candor_device")
        assert device
        assert (await _sign_in(elsewhere, "other_member", PASSWORD)).status_code == 303
        foreign = elsewhere.cookies.get("candor_device")
        for n, address in enumerate(["192.0.2.11", "192.0.2.12", "192.0.2.13"]):
            async with client_at(address) as spread:
                for k in range(3):
                    await _sign_in(spread, "rowan", f"spread guess {n}-{k}")
        async with client_at("198.51.100.11") as fresh:
            assert (await _sign_in(fresh, "rowan", PASSWORD)).status_code == 429
            fresh.cookies.set("candor_device", foreign or "")  # another account's device
            assert (await _sign_in(fresh, "rowan", PASSWORD)).status_code == 429
            fresh.cookies.set("candor_device", device[:-2] + "xx")  # tampered
            assert (await _sign_in(fresh, "rowan", PASSWORD)).status_code == 429
        home.cookies.delete("candor_session")
        assert (await _sign_in(home, "rowan", PASSWORD)).status_code == 303
        # The device's own guesses are limited like an address's.
        home.cookies.delete("candor_session")
        for n in range(settings.login_max_failures_account):
            assert (await _sign_in(home, "rowan", f"home guess {n}")).status_code == 400
        assert (await _sign_in(home, "rowan", PASSWORD)).status_code == 429


async def test_strangers_failing_to_sign_in_do_not_lock_a_signed_in_members_forms(
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """Past the account-wide ceiling of failed sign-ins (strangers from many addresses), the
    member at home could no longer change their password or address, nor delete the account:
    those forms count the session's own guesses only."""
    app.state.settings = settings.model_copy(update={"login_max_failures_account_total": 8})
    await make_user(db, settings, username="home_h", email="home@example.org")
    await db.commit()

    def client_at(address: str) -> httpx.AsyncClient:
        return _client_at(app, address)

    async with client_at("198.51.100.30") as home:
        assert (await _sign_in(home, "home_h", PASSWORD)).status_code == 303
        for n, address in enumerate(["192.0.2.31", "192.0.2.32", "192.0.2.33"]):
            async with client_at(address) as spread:
                for k in range(3):
                    await _sign_in(spread, "home_h", f"spread guess {n}-{k}")
        form = {"current_password": PASSWORD, "password": "a new passphrase 8",
                "password_confirm": "a new passphrase 8"}  # fmt: skip
        changed = await post_form(home, "/account/password", form, "/account/password")
        assert changed.status_code == 303, changed.text[:300]


async def test_failures_behind_one_company_address_do_not_lock_out_a_member_on_their_device(
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """An attacker probe failed twenty sign-ins from one address (other accounts and made-up
    names): every account signing in from that address got 429, a company behind one NAT
    address locked out together. A browser its member signed in on before is not held by
    the address's limit; a new browser there still is."""
    await make_user(db, settings, username="nat_member")
    await db.commit()
    office = "203.0.113.50"
    async with _client_at(app, office) as mine:
        assert (await _sign_in(mine, "nat_member", PASSWORD)).status_code == 303
        mine.cookies.delete("candor_session")
        async with _client_at(app, office) as colleague:
            for n in range(settings.login_max_failures_ip):
                await _sign_in(colleague, f"made_up_{n % 4}", f"wrong {n}")
            assert (await _sign_in(colleague, "nat_member", PASSWORD)).status_code == 429
        assert (await _sign_in(mine, "nat_member", PASSWORD)).status_code == 303


async def test_a_device_cookie_given_before_a_password_change_counts_for_nothing(
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """The second attacker probe kept eight device cookies from earlier sign-ins and, after
    the password changed, had five guesses with each past every other limit. A cookie names
    the password it was given under; a known device's failures no longer count against its
    address either."""
    await make_user(db, settings, username="keeper")
    await db.commit()
    async with _client_at(app, "198.51.100.77") as old:
        assert (await _sign_in(old, "keeper", PASSWORD)).status_code == 303
        stale = old.cookies.get("candor_device")
        assert stale
        changed = await post_form(
            old, "/account/password",
            {"current_password": PASSWORD, "password": "a brand new password",
             "password_confirm": "a brand new password"},
            "/account/password",
        )  # fmt: skip
        assert changed.status_code == 303
    async with _client_at(app, "198.51.100.78") as attacker:
        for n in range(settings.login_max_failures_account):
            await _sign_in(attacker, "keeper", f"guess {n}")
        assert (await _sign_in(attacker, "keeper", "guess again")).status_code == 429
        attacker.cookies.set("candor_device", stale)
        assert (await _sign_in(attacker, "keeper", "one more guess")).status_code == 429
    # The member, signed in under the new password, has a device cookie that names it: from
    # the address the attacker failed at, it is told apart and signs in.
    async with _client_at(app, "198.51.100.79") as member:
        assert (await _sign_in(member, "keeper", "a brand new password")).status_code == 303
        fresh = member.cookies.get("candor_device")
    async with _client_at(app, "198.51.100.78") as member:
        member.cookies.set("candor_device", fresh or "")
        assert (await _sign_in(member, "keeper", "a brand new password")).status_code == 303
