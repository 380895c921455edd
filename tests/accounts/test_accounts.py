"""Registration, sign-in, sessions, password reset and profiles, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from forum.accounts.models import (
    EmailConfirmation,
    HeldUsername,
    LoginSession,
    PasswordResetToken,
    User,
)
from forum.accounts.services import prune_held_usernames, token_hash
from forum.core.db import utcnow
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.core.web import SESSION_COOKIE
from tests.helpers import PASSWORD, csrf_token, login, make_user, post_form


async def register(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    data = {
        "username": "newbie",
        "email": "newbie@example.org",
        "location": "Leeds",
        "password": "a long enough password",
        "password_confirm": "a long enough password",
    }
    data.update(fields)
    response = await post_form(client, "/register", data, token_from="/register")
    if response.status_code == 303:  # sent: on to the "Check your e-mail" page
        assert response.headers["location"] == "/register/sent"
        return await client.get("/register/sent")
    return response


async def count_users(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count(User.id))) or 0)


async def _confirmation_link(db: AsyncSession, address: str) -> str:
    message = await db.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == address)
        .order_by(OutboxMessage.id.desc())
    )
    assert message is not None and message.secret_body is not None
    assert "/register/confirm/" not in message.body  # what admins see holds no usable link
    match = re.search(r"/register/confirm/(\S+)", message.secret_body)
    assert match, message.secret_body
    return match.group(0)


async def test_register_then_confirm_by_the_mailed_link(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await register(client)
    assert response.status_code == 200 and "Check your e-mail" in response.text
    user = await db.scalar(select(User).where(User.username_key == "newbie"))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert user.email_confirmed_at is None
    assert user.location == "Leeds" and user.post_count == 0 and user.points == 0
    link = await _confirmation_link(db, "newbie@example.org")
    landing = await client.get(link)  # a button, not yet a sign-in (no login CSRF by link)
    assert landing.status_code == 200 and "Log out" not in landing.text
    assert (await post_form(client, link, {}, link)).status_code == 303
    home = await client.get("/")
    assert "newbie" in home.text and "Log out" in home.text
    assert (await post_form(client, link, {}, "/")).status_code == 400  # single use
    # ... and the used link says so when opened, not after its button.
    again = await client.get(link)
    assert again.status_code == 400 and "already used or expired" in again.text
    assert "Confirm my account" not in again.text


async def test_registering_a_known_address_answers_the_same_and_tells_its_owner(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="owner1", email="taken@example.org")
    await db.commit()
    before = await count_users(db)
    response = await register(client, username="someone-else", email="TAKEN@example.org")
    assert response.status_code == 200 and "Check your e-mail" in response.text
    fresh = await register(client, username="another-one", email="free@example.org")
    strip = re.compile(r'value="[^"]*"|taken@example.org|free@example.org|TAKEN@example.org')
    assert strip.sub("", response.text) == strip.sub("", fresh.text)  # the same page
    assert await count_users(db) == before + 1  # only the free address made an account
    told = await db.scalar(
        select(OutboxMessage).where(OutboxMessage.to_address == "taken@example.org")
    )
    assert told is not None and "already has one" in told.body


async def test_a_known_addresss_attempt_holds_its_name_as_a_new_registration_would(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe registered a name with an address, then tried the name again: taken meant the
    address was new, free that it had an account. Both now hold the name alike."""
    await make_user(db, settings, username="owner3", email="known@example.org")
    await db.commit()
    await register(client, username="Probe_Known", email="known@example.org")
    await register(client, username="probe_new", email="unknown@example.org")
    answers = []
    for name, alike in (("probe_known", "probe-known"), ("probe_new", "probe-new")):
        again = await register(client, username=name, email="third@example.org")
        assert again.status_code == 400
        answers.append(again.text.replace(name, "NAME"))
        look_alike = await register(client, username=alike, email="fourth@example.org")
        assert look_alike.status_code == 400 and "too like" in look_alike.text
    assert "taken, or waiting for its registration" in answers[0]
    assert answers[0] == answers[1]
    # Held as long as a pending registration's link lasts, then free (and pruned).
    await db.execute(update(HeldUsername).values(held_until=utcnow() - timedelta(seconds=1)))
    await db.commit()
    await prune_held_usernames(db)
    await db.commit()
    assert await db.scalar(select(func.count()).select_from(HeldUsername)) == 0
    free = await register(client, username="probe_known", email="fifth@example.org")
    assert free.status_code == 200 and "Check your e-mail" in free.text


async def test_signing_in_with_a_held_name_answers_as_a_pending_registration(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe and a review registered a name with an address and a password of their own,
    then signed in with them: "confirm your e-mail first" meant the address was new, "not
    right" that it had an account. Both now answer the first way."""
    await make_user(db, settings, username="owner5", email="known5@example.org")
    await db.commit()
    password = "a long enough password"
    await register(client, username="held_h", email="known5@example.org", password=password,
                   password_confirm=password)  # fmt: skip
    await register(client, username="pending_p", email="unknown5@example.org",
                   password=password, password_confirm=password)  # fmt: skip
    client.cookies.clear()
    answers = []
    for name in ("held_h", "pending_p", "known5@example.org", "unknown5@example.org"):
        signed = await post_form(client, "/login", {"username": name, "password": password})
        answers.append((signed.status_code, "Confirm your e-mail address first" in signed.text))
    assert answers == [(403, True)] * 4
    # A wrong password is "not right" for both.
    for name in ("held_h", "pending_p"):
        wrong = await post_form(client, "/login", {"username": name, "password": "not it at all"})
        assert wrong.status_code == 400 and "not right" in wrong.text


async def test_an_addresss_owner_is_told_of_registration_attempts_a_few_times_a_day(
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    """Twelve attempts from two addresses mailed the owner twelve times in seconds: three a
    day now, whoever tries from wherever, and the page answers the same throughout."""
    await make_user(db, settings, username="owner2", email="lena@example.org")
    await db.commit()
    pages = set()
    for n in range(6):
        address = "203.0.113.20" if n % 2 else "203.0.113.21"
        transport = httpx.ASGITransport(app=app, client=(address, 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            page = await register(c, username=f"lena-try-{n}", email="lena@example.org")
            assert page.status_code == 200 and "Check your e-mail" in page.text
            pages.add(re.sub(r'value="[^"]*"', "", page.text))
    told = (
        await db.scalars(
            select(OutboxMessage).where(OutboxMessage.to_address == "lena@example.org")
        )
    ).all()
    assert len(told) == 3 and len(pages) == 1


async def test_an_unconfirmed_account_cannot_sign_in_and_gets_the_link_again(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(client)
    first = await _confirmation_link(db, "newbie@example.org")
    client.cookies.clear()

    async def sign_in() -> httpx.Response:
        return await post_form(
            client, "/login", {"username": "newbie", "password": "a long enough password"}
        )

    async def mails() -> int:
        return int(await db.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.to_address == "newbie@example.org")) or 0)  # fmt: skip

    # Within ten minutes of the last link, signing in again mails nothing more (a newcomer
    # probe's every try mailed the link again); after, it mails a new link.
    sent = await mails()
    response = await sign_in()
    assert response.status_code == 403 and "Confirm your e-mail" in response.text
    assert await mails() == sent
    await db.execute(update(EmailConfirmation).values(created_at=utcnow() - timedelta(minutes=11)))
    await db.commit()
    assert (await sign_in()).status_code == 403
    again = await _confirmation_link(db, "newbie@example.org")
    assert again != first and await mails() == sent + 1


async def test_session_cookie_flags(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="flags")
    await db.commit()
    response = await login(client, "flags")
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here


async def test_session_cookie_secure_over_https(
    app: Starlette, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="secure1")
    await db.commit()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as c:
        response = await login(c, "secure1")
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)
    )
    assert "Secure" in cookie


async def test_duplicate_username_and_email_case_insensitive(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="Alice", email="alice@example.org")
    await db.commit()
    before = await count_users(db)
    r1 = await register(client, username="ALICE", email="other@example.org")
    assert r1.status_code == 400 and "username is taken" in r1.text
    r2 = await register(client, username="someone", email="Alice@Example.ORG")
    assert r2.status_code == 200 and "Check your e-mail" in r2.text  # the owner is told
    # Names a reader cannot tell from hers: separators, "rn" for "m", "1" or "l" for "i".
    await make_user(db, settings, username="morgan_m", email="morgan@example.org")
    await db.commit()
    for alike in ("a.lice", "A-L-I-C-E", "al1ce", "aIice", "rnorgan-m", "Morgan.M", "m0rg4n_m"):
        r3 = await register(client, username=alike, email=f"{alike}@example.org")
        assert r3.status_code == 400 and "too like" in r3.text, alike
    assert await count_users(db) == before + 1
    unlike = await register(client, username="alicia", email="alicia@example.org")
    assert unlike.status_code == 200


async def _each_refused(client: httpx.AsyncClient, cases: list[tuple[dict[str, str], str]]) -> None:
    """Each registration is refused (400) with its message (at most ten a test: the
    registration limit per address)."""
    for fields, message in cases:
        response = await register(client, **fields)
        assert response.status_code == 400, fields
        assert message in response.text, fields


async def test_register_bad_input_gives_form_errors(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    before = await count_users(db)
    cases = [
        ({"username": "x"}, "Usernames are 3 to 30"),
        ({"username": "<script>"}, "Usernames are 3 to 30"),
        ({"username": "a" * 31}, "Usernames are 3 to 30"),
        # A name shows on every post: a stock put-down for one is refused, however joined.
        ({"username": "know_your_place_kid"}, "reads as a put-down"),
        ({"username": "ComeBackIn20Years"}, "reads as a put-down"),
        ({"email": "not-an-email"}, "valid e-mail"),
        ({"password": "short", "password_confirm": "short"}, "at least 10"),
        ({"password_confirm": "something else entirely"}, "do not match"),
    ]
    await _each_refused(client, cases)
    # Names that only mention juniors or tenure are fine.
    fine = await register(client, username="junior_dev_20", email="jd@example.org")
    assert fine.status_code == 200 and "reads as a put-down" not in fine.text
    before += 1
    # A username far beyond any limit is refused before any work is done.
    huge = await register(client, username="a" * 10_000)
    assert huge.status_code == 413
    assert await count_users(db) == before


async def test_register_refuses_put_down_and_staff_names(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """A twelfth-session probe registered too_junior_to_get_this, come_back_in_20yrs and
    morgan-mod (beside the demo's morgan_mod)."""
    before = await count_users(db)
    cases = [
        # Any put-down a cue reads, text-speak spelt out.
        ({"username": "too_junior_to_get_this"}, "reads as a put-down"),
        ({"username": "come_back_in_20yrs"}, "reads as a put-down"),
        # A name that reads as staff is not for members to take.
        ({"username": "morgan-mod"}, "staff role"),
        ({"username": "Site.Admin"}, "staff role"),
        ({"username": "m0d_jo"}, "staff role"),
        ({"username": "rnoderator_jo"}, "staff role"),
        ({"username": "tooGreenToGetIt"}, "reads as a put-down"),
    ]  # fmt: skip
    await _each_refused(client, cases)
    assert await count_users(db) == before


async def test_register_refuses_guessable_passwords(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """The same probe set the passwords 1234567890, password12 and goodname7goodname7."""
    before = await count_users(db)
    cases = [
        # The first guesses anyone tries, and the account's own name.
        ({"password": "1234567890", "password_confirm": "1234567890"}, "harder to guess"),
        ({"password": "abcabcabcabc", "password_confirm": "abcabcabcabc"}, "harder to guess"),
        ({"password": "password12", "password_confirm": "password12"}, "harder to guess"),
        ({"password": "qwertyuiop", "password_confirm": "qwertyuiop"}, "harder to guess"),
        ({"username": "goodname7", "password": "goodname7goodname7",
          "password_confirm": "goodname7goodname7"}, "does not contain your username"),
    ]  # fmt: skip
    await _each_refused(client, cases)
    assert await count_users(db) == before


async def test_login_logout_and_session_rotation(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="carol")
    await db.commit()
    first = await login(client, "carol")
    token1 = first.cookies[SESSION_COOKIE]
    assert (await client.get("/account/profile")).status_code == 200
    second = await login(client, "CAROL")  # usernames are case-insensitive
    token2 = second.cookies[SESSION_COOKIE]
    assert token1 != token2
    # The first session ended when the second began.
    assert await db.get(LoginSession, token_hash(token1)) is None
    assert await db.get(LoginSession, token_hash(token2)) is not None
    response = await post_form(client, "/logout", {}, token_from="/")
    assert response.status_code == 303
    assert await db.get(LoginSession, token_hash(token2)) is None
    # An old cookie replayed after logout is worthless.
    client.cookies.set(SESSION_COOKIE, token2)
    assert (await client.get("/account/profile")).status_code == 303


async def test_login_with_email_and_wrong_password(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="dora", email="dora@example.org")
    await db.commit()
    bad = await post_form(client, "/login", {"username": "dora", "password": "wrong password!"})
    assert bad.status_code == 400 and "not right" in bad.text
    unknown = await post_form(client, "/login", {"username": "nobody", "password": "whatever123"})
    assert unknown.status_code == 400 and "not right" in unknown.text
    empty = await post_form(client, "/login", {"username": "", "password": ""})
    assert (
        empty.status_code == 400
        and "Enter your username (or e-mail address) and your" in empty.text
    )
    no_password = await post_form(client, "/login", {"username": "dora", "password": ""})
    assert no_password.status_code == 400 and "Enter your password." in no_password.text
    assert 'value="dora"' in no_password.text  # the name typed stays
    ok = await post_form(client, "/login", {"username": "DORA@example.org", "password": PASSWORD})
    assert ok.status_code == 303


async def test_login_next_is_never_an_open_redirect(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="erin")
    await db.commit()
    for target, expected in [
        ("/u/erin", "/u/erin"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
    ]:
        response = await post_form(
            client, "/login", {"username": "erin", "password": PASSWORD, "next": target}
        )
        assert response.headers["location"] == expected


async def test_failed_logins_are_rate_limited_per_account(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="frank")
    await db.commit()
    for _ in range(settings.login_max_failures_account):
        r = await post_form(client, "/login", {"username": "frank", "password": "wrong password!"})
        assert r.status_code == 400
    # Even the right password is refused while the account is locked out.
    locked = await post_form(client, "/login", {"username": "frank", "password": PASSWORD})
    assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.text
    # ... with how long to wait, as a client reads it (the lockout window's end).
    wait = int(locked.headers["Retry-After"])
    assert 0 < wait <= settings.login_window_seconds


async def test_failed_logins_are_rate_limited_per_ip(
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    app.state.settings = settings.model_copy(update={"login_max_failures_ip": 3})
    await make_user(db, settings, username="gina")
    await db.commit()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for name in ["x1", "x2", "x3"]:
            r = await post_form(c, "/login", {"username": name, "password": "wrong password!"})
            assert r.status_code == 400
        r = await post_form(c, "/login", {"username": "gina", "password": PASSWORD})
        assert r.status_code == 429


def _reset_link(body: str) -> str:
    match = re.search(r"/password/reset/(\S+)", body)
    assert match, body
    return match.group(0)


async def test_forgot_password_outbox_reset_single_use(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    user = await make_user(db, settings, username="hana", email="hana@example.org")
    await db.commit()
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await login(other, "hana")  # a second device, which the reset must sign out
    r = await post_form(
        client, "/password/forgot", {"email": "HANA@example.org"}, "/password/forgot"
    )
    assert r.status_code == 200 and "If an account matches" in r.text
    # Unknown addresses get the very same answer.
    r2 = await post_form(
        client, "/password/forgot", {"email": "ghost@example.org"}, "/password/forgot"
    )
    assert r2.status_code == 200 and "If an account matches" in r2.text
    message = await db.scalar(
        select(OutboxMessage).where(OutboxMessage.to_address == "hana@example.org")
    )
    assert message is not None
    # What admins can read holds no usable link; the mail to send does, until it is sent.
    assert "/password/reset/" not in message.body and message.secret_body is not None
    link = _reset_link(message.secret_body)
    token = link.rsplit("/", 1)[1]
    # Only a hash of the token is stored.
    stored = (await db.scalars(select(PasswordResetToken.token_hash))).all()
    assert token not in stored and token_hash(token) in stored
    assert (await client.get(link)).status_code == 200
    # A refused password (it holds the username) leaves the link good for the next try.
    weak = "hana-hana-hana-2026"
    refused = await post_form(client, link, {"password": weak, "password_confirm": weak}, link)
    assert refused.status_code == 400 and "does not contain your username" in refused.text
    new = "a brand new password"
    done = await post_form(client, link, {"password": new, "password_confirm": new}, link)
    assert done.status_code == 303 and done.headers["location"] == "/login?username=hana"
    # The sign-in page names the account; the address is told its password changed.
    assert 'value="hana"' in (await client.get(done.headers["location"])).text
    told = (await db.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.to_address == "hana@example.org"))).all()  # fmt: skip
    assert "Your Candor password was changed" in told
    again = await client.get(link)
    assert again.status_code == 400 and "already been used" in again.text
    assert (await other.get("/account/profile")).status_code == 303  # signed out
    await other.aclose()
    await login(client, "hana", new)
    await db.refresh(user)
    assert user.password_hash.startswith("$argon2id$")


async def test_expired_reset_token_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="ivan", email="ivan@example.org")
    await db.commit()
    await post_form(client, "/password/forgot", {"email": "ivan"}, "/password/forgot")
    message = await db.scalar(
        select(OutboxMessage).where(OutboxMessage.to_address == "ivan@example.org")
    )
    assert message is not None and message.secret_body is not None
    link = _reset_link(message.secret_body)
    await db.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    await db.commit()
    response = await post_form(
        client,
        link,
        {"password": "another password", "password_confirm": "another password"},
        "/login",
    )
    assert response.status_code == 400 and "expired" in response.text
    assert (await client.get("/password/reset/made-up-token")).status_code == 400


async def test_change_password_ends_other_sessions(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="jack")
    await db.commit()
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await login(other, "jack")
    await login(client, "jack")
    wrong = await post_form(
        client,
        "/account/password",
        {
            "current_password": "not it at all",
            "password": "new password 123",
            "password_confirm": "new password 123",
        },
        "/account/password",
    )
    assert wrong.status_code == 400
    ok = await post_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "password": "new password 123",
            "password_confirm": "new password 123",
        },
        "/account/password",
    )
    assert ok.status_code == 303
    assert (await client.get("/account/profile")).status_code == 200  # this browser stays in
    told = await db.scalar(
        select(OutboxMessage.body).where(
            OutboxMessage.subject == "Your Candor password was changed"
        )
    )
    assert told is not None and "from its settings" in told
    assert (await other.get("/account/profile")).status_code == 303  # the other is signed out
    await other.aclose()


async def test_profile_shows_stats_and_members_edit_their_own(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="kim", location="Oslo")
    await db.commit()
    page = await client.get("/u/KIM")
    assert page.status_code == 200
    for text in ["kim", "Newcomer", "Oslo", "Total posts", "Joined"]:
        assert text in page.text
    assert (await client.get("/u/nobody-here")).status_code == 404
    assert "/messages/new?to=kim" not in page.text  # visitors send no messages
    await make_user(db, settings, username="lee")
    await db.commit()
    await login(client, "lee")
    assert "/messages/new?to=kim" in (await client.get("/u/kim")).text
    form = await client.get("/messages/new?to=kim")
    assert form.status_code == 200 and 'value="kim"' in form.text
    await login(client, "kim")
    r = await post_form(
        client, "/account/profile", {"location": "Bergen", "bio": "HR lead."}, "/account/profile"
    )
    assert r.status_code == 303
    page = await client.get("/u/kim")
    assert "Bergen" in page.text and "HR lead." in page.text
    assert "/messages/new?to=kim" not in page.text  # not to oneself
    too_long = await post_form(
        client, "/account/profile", {"location": "x", "bio": "b" * 2001}, "/account/profile"
    )
    assert too_long.status_code == 400
    # Far past the limit: refused before any work, the typed text shown back to copy.
    bio = "My long story. " * 700
    far = await post_form(client, "/account/profile", {"location": "Bergen", "bio": bio}, "/")
    assert far.status_code == 413 and "Your bio is far too long" in far.text
    assert "My long story. My long story." in far.text
    assert "Bergen" in (await client.get("/u/kim")).text


async def test_admin_assigns_roles_and_special_ranks_members_cannot(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="boss", role="admin")
    await make_user(db, settings, username="lara")
    await make_user(db, settings, username="mona")
    await db.commit()
    await login(client, "mona")
    refused = await post_form(
        client, "/u/lara/admin", {"role": "admin", "special_rank_id": ""}, "/"
    )
    assert refused.status_code == 403
    await login(client, "boss")
    page = await client.get("/u/lara")
    rank_id = re.search(r'<option value="(\d+)"[^>]*>Moderator</option>', page.text)
    assert rank_id
    ok = await post_form(
        client, "/u/lara/admin", {"role": "moderator", "special_rank_id": rank_id.group(1)}, "/"
    )
    assert ok.status_code == 303
    assert "Moderator" in (await client.get("/u/lara")).text
    lara = await db.scalar(select(User).where(User.username_key == "lara"))
    assert lara is not None and lara.role == "moderator"
    bad = await post_form(client, "/u/lara/admin", {"role": "emperor", "special_rank_id": ""}, "/")
    assert bad.status_code == 400


async def test_outbox_is_admin_only(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="root1", role="admin")
    await make_user(db, settings, username="nina")
    await db.commit()
    assert (await client.get("/admin/outbox")).status_code == 303  # to the login page
    await login(client, "nina")
    assert (await client.get("/admin/outbox")).status_code == 403
    await login(client, "root1")
    assert (await client.get("/admin/outbox")).status_code == 200


async def test_csrf_token_is_required_for_login(client: httpx.AsyncClient) -> None:
    await csrf_token(client)
    response = await client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 403 and "expired" in response.text


async def test_signing_in_returns_to_the_page_asked_for_with_its_query(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="quentin")
    await db.commit()
    asked = await client.get("/messages/new?to=priya_s&x=a%26b")
    assert asked.status_code == 303
    login_url = asked.headers["location"]
    assert login_url == "/login?next=%2Fmessages%2Fnew%3Fto%3Dpriya_s%26x%3Da%2526b"
    page = await client.get(login_url)
    assert 'value="/messages/new?to=priya_s&amp;x=a%26b"' in page.text
    done = await post_form(
        client, "/login",
        {"username": "quentin", "password": PASSWORD, "next": "/messages/new?to=priya_s&x=a%26b"},
    )  # fmt: skip
    assert done.headers["location"] == "/messages/new?to=priya_s&x=a%26b"


async def test_settings_are_one_click_from_every_page(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="settler")
    await db.commit()
    await login(client, "settler")
    home = (await client.get("/")).text
    assert re.search(
        r'<a href="/account/profile"[^>]*>.*?<span class="label">Settings</span></a>', home
    )
    page = (await client.get("/account/profile")).text
    for link in ("/account/password", "/account/email", "/notifications/preferences"):
        assert f'href="{link}"' in page, link


async def test_forgot_password_keeps_the_name_typed_at_sign_in(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="forgetful")
    await db.commit()
    wrong = await post_form(client, "/login", {"username": "forgetful", "password": "nope-nope"})
    assert 'href="/password/forgot?account=forgetful"' in wrong.text
    page = (await client.get("/password/forgot?account=forgetful")).text
    assert 'value="forgetful"' in page
    # What is carried is only shown back, escaped.
    odd = (await client.get('/password/forgot?account="><b>x')).text
    assert "<b>x" not in odd and "&gt;&lt;b&gt;x" in odd


async def test_the_username_rule_is_said_before_it_is_broken(client: httpx.AsyncClient) -> None:
    """The browser said only "Please match the requested format" to a name with a space."""
    page = (await client.get("/register")).text
    assert 'id="username-hint"' in page and "no spaces" in page
    assert 'aria-describedby="username-hint"' in page and 'title="3 to 30 letters' in page
