"""The account forms as a tester met them: every field's error at once, an empty reset form,
names held by registrations awaiting confirmation, logging out twice or by GET, and private
pages kept out of caches."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import EmailConfirmation, LoginSession, PasswordResetToken, User
from forum.accounts.services import token_hash
from forum.core.db import utcnow
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.core.web import SESSION_COOKIE
from tests.helpers import csrf_token, login, make_user, post_form

GOOD_PASSWORD = "a long enough password"


async def register(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    data = {
        "username": "newbie",
        "email": "newbie@example.org",
        "location": "Leeds",
        "password": GOOD_PASSWORD,
        "password_confirm": GOOD_PASSWORD,
    }
    data.update(fields)
    response = await post_form(client, "/register", data, token_from="/register")
    if response.status_code == 303:  # sent: on to the "Check your e-mail" page
        assert response.headers["location"] == "/register/sent"
        return await client.get("/register/sent")
    return response


def field_errors(page: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error">([^<]*)</p>', page))


async def count_users(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count(User.id))) or 0)


# --- registration: every error at once -----------------------------------------------------


async def test_an_empty_registration_reports_every_field(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    before = await count_users(db)
    r = await register(client, username="", email="", location="", password="", password_confirm="")
    assert r.status_code == 400
    errors = field_errors(r.text)
    assert set(errors) == {"username", "email", "password"}, errors
    assert "Choose a username" in errors["username"]
    assert "e-mail address" in errors["email"]
    assert "Choose a password" in errors["password"]
    assert await count_users(db) == before


async def test_every_bad_field_is_reported_and_typed_values_kept(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="taken_tom")
    await db.commit()
    r = await register(
        client, username="x", email="not-an-email", location="Leeds, Yorkshire",
        password="short", password_confirm="different",
    )  # fmt: skip
    assert r.status_code == 400
    errors = field_errors(r.text)
    assert set(errors) == {"username", "email", "password", "password_confirm"}, errors
    assert 'value="x"' in r.text and 'value="not-an-email"' in r.text
    assert 'value="Leeds, Yorkshire"' in r.text
    assert 'type="password" autocomplete="new-password" required minlength="10" maxlength="200"' \
        ' aria-invalid="true"' in r.text  # fmt: skip
    # A taken name is reported beside the other fields' errors too.
    r = await register(client, username="Taken_Tom", email="tom2@example.org", password="short",
                       password_confirm="short")  # fmt: skip
    errors = field_errors(r.text)
    assert "taken" in errors["username"] and "at least 10" in errors["password"], errors


async def test_a_known_address_still_answers_as_a_new_one(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="owner_olga", email="olga@example.org")
    await db.commit()
    before = await count_users(db)
    r = await register(client, username="someone_new", email="OLGA@example.org")
    assert r.status_code == 200 and "Check your e-mail" in r.text
    assert await count_users(db) == before


# --- registration sent: POST/redirect/GET ----------------------------------------------------


async def _sent(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    """A registration posted, as the browser sends it (the redirect not followed)."""
    data = {"username": "newbie", "email": "newbie@example.org", "location": "",
            "password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD, **fields}  # fmt: skip
    return await post_form(client, "/register", data, token_from="/register")


async def test_a_registration_redirects_to_a_page_that_reloads_without_sending_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A tester refreshed "Check your e-mail" (the answer to the POST) and the browser sent
    the form again. Now the POST redirects; the page it leads to says the same thing."""
    posted = await _sent(client, username="prg_pat", email="Pat@Example.org")
    assert posted.status_code == 303 and posted.headers["location"] == "/register/sent"
    cookie = next(h for h in posted.headers.get_list("set-cookie") if "candor_registered=" in h)
    assert "HttpOnly" in cookie and "Path=/register/sent" in cookie and "Pat@" not in cookie
    users, mails = await count_users(db), await db.scalar(select(func.count(OutboxMessage.id)))
    for _ in range(2):  # the page, and the page reloaded: a GET, which sends nothing again
        page = await client.get("/register/sent")
        assert page.status_code == 200
        assert "Check your e-mail: we have sent a message to <strong>Pat@Example.org</strong>." \
            in page.text  # fmt: skip
        assert "no-store" in page.headers["cache-control"]
        assert '<form method="post" action="/register">' not in page.text
    assert await count_users(db) == users
    assert await db.scalar(select(func.count(OutboxMessage.id))) == mails
    # Another browser (or a cookie expired or forged): the same words, without an address.
    client.cookies.clear()
    client.cookies.set("candor_registered", "forged.value", path="/register/sent")
    page = await client.get("/register/sent")
    assert page.status_code == 200 and "pat@" not in page.text.lower()
    assert "Check your e-mail: we have sent a message to the address you gave." in page.text
    # A known address answers exactly as a new one: the same redirect, the same page.
    await make_user(db, settings, username="prg_owner", email="known@example.org")
    await db.commit()
    client.cookies.clear()
    known = await _sent(client, username="prg_other", email="known@example.org")
    known_page = (await client.get("/register/sent")).text
    client.cookies.clear()
    fresh = await _sent(client, username="prg_fresh", email="fresh@example.org")
    fresh_page = (await client.get("/register/sent")).text
    assert (known.status_code, known.headers["location"]) == (303, "/register/sent")
    assert (fresh.status_code, fresh.headers["location"]) == (303, "/register/sent")
    strip = re.compile(r'value="[^"]*"|known@example.org|fresh@example.org')
    assert strip.sub("", known_page) == strip.sub("", fresh_page)
    # A refused form is still shown again at once, with what was typed.
    refused = await _sent(client, username="x", email="kept@example.org")
    assert refused.status_code == 400 and 'value="kept@example.org"' in refused.text


# --- the reset form ---------------------------------------------------------------------------


async def test_an_empty_reset_form_asks_for_an_address_or_name(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    for typed in ("", "   "):
        r = await post_form(client, "/password/forgot", {"email": typed}, "/password/forgot")
        assert r.status_code == 400, typed
        assert "Enter the e-mail address or the username" in r.text
        assert "If an account matches" not in r.text
        assert '<form method="post" action="/password/forgot">' in r.text
    # Known and unknown (well-formed) addresses still get the same neutral answer.
    await make_user(db, settings, username="rita", email="rita@example.org")
    await db.commit()
    for typed in ("rita@example.org", "nobody-here@example.org", "no_such_name"):
        r = await post_form(client, "/password/forgot", {"email": typed}, "/password/forgot")
        assert r.status_code == 200 and "If an account matches" in r.text, typed
    assert await db.scalar(select(func.count(OutboxMessage.id))) == 1


# --- names held by registrations awaiting confirmation ------------------------------------------


async def _lapse(db: AsyncSession, username: str) -> None:
    """The registration's link expired long ago."""
    past = utcnow() - timedelta(hours=72)
    user_id = await db.scalar(select(User.id).where(User.username_key == username))
    await db.execute(update(User).where(User.id == user_id).values(joined_at=past))
    await db.execute(
        update(EmailConfirmation)
        .where(EmailConfirmation.user_id == user_id)
        .values(expires_at=past + timedelta(hours=48))
    )
    await db.commit()


async def test_a_pending_registration_holds_its_name_until_its_link_expires(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    first = await register(client, username="pending_pia", email="pia@example.org")
    assert first.status_code == 200
    old_link = await db.scalar(
        select(OutboxMessage.secret_body).where(OutboxMessage.to_address == "pia@example.org")
    )
    assert old_link is not None
    old_path = re.search(r"/register/confirm/\S+", old_link).group(0)  # type: ignore[union-attr]
    # While the link is good, the name is reserved, and the page says why it may be.
    again = await register(client, username="Pending_Pia", email="other@example.org")
    assert again.status_code == 400
    assert "taken, or waiting for its registration to be confirmed" in again.text
    await _lapse(db, "pending_pia")
    # The link expired unused: the name and the address are free again.
    name = await register(client, username="pending_pia", email="new-pia@example.org")
    assert name.status_code == 200 and "Check your e-mail" in name.text
    rows = (
        await db.execute(select(User.email_key).where(User.username_key == "pending_pia"))
    ).all()
    assert [r.email_key for r in rows] == ["new-pia@example.org"]
    # The old link does not confirm the new account.
    assert (await client.get(old_path)).status_code == 400  # says so when opened
    confirm = await post_form(client, old_path, {}, token_from="/register")
    assert confirm.status_code == 400
    assert SESSION_COOKIE not in confirm.cookies
    await _lapse(db, "pending_pia")
    address = await register(client, username="fresh_fay", email="new-pia@example.org")
    assert address.status_code == 200
    owner = await db.scalar(select(User.username).where(User.email_key == "new-pia@example.org"))
    assert owner == "fresh_fay"


async def test_a_registration_with_a_live_link_or_a_confirmation_keeps_its_name(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # An old, unconfirmed account whose owner asked for a reset link that is still good.
    await register(client, username="slow_sam", email="sam@example.org")
    await _lapse(db, "slow_sam")
    sam = await db.scalar(select(User).where(User.username_key == "slow_sam"))
    assert sam is not None
    db.add(PasswordResetToken(user_id=sam.id, token_hash=token_hash("t" * 40),
                              expires_at=utcnow() + timedelta(minutes=30)))  # fmt: skip
    await db.commit()
    r = await register(client, username="slow_sam", email="sam2@example.org")
    assert r.status_code == 400 and "waiting for its registration" in r.text
    # A confirmed account's name is never freed, however old.
    old = await make_user(db, settings, username="old_olly")
    old.joined_at = utcnow() - timedelta(days=400)
    await db.commit()
    r = await register(client, username="old_olly", email="olly2@example.org")
    assert r.status_code == 400 and "taken" in r.text
    assert await db.scalar(select(func.count(User.id)).where(User.username_key == "old_olly")) == 1


# --- logging out ------------------------------------------------------------------------------


async def _follow(client: httpx.AsyncClient, response: httpx.Response) -> httpx.Response:
    for _ in range(5):
        if response.status_code not in (302, 303):
            break
        response = await client.get(response.headers["location"])
    return response


async def test_logging_out_twice_lands_on_the_home_page(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="twice_tia")
    await db.commit()
    await login(client, "twice_tia")
    stale = await csrf_token(client, "/")  # the page left open in another tab
    first = await client.post("/logout", data={"csrftoken": stale})
    assert first.status_code == 303
    assert "You have logged out." in (await _follow(client, first)).text
    second = await client.post("/logout", data={"csrftoken": stale})
    assert second.status_code == 303
    landed = await _follow(client, second)
    assert landed.status_code == 200 and str(landed.url).endswith("/")
    assert "You are already logged out." in landed.text and "expired" not in landed.text
    # With no token at all, too: there is nothing to end.
    bare = await client.post("/logout")
    assert (await _follow(client, bare)).status_code == 200


async def test_logout_still_takes_a_post_with_the_csrf_token(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="kept_kim")
    await db.commit()
    token = (await login(client, "kept_kim")).cookies[SESSION_COOKIE]
    refused = await client.post("/logout", data={"csrftoken": "forged"})
    assert refused.status_code == 403
    cross = await client.post("/logout", headers={"origin": "https://evil.example"})
    assert cross.status_code == 403
    db.expunge_all()
    assert await db.get(LoginSession, token_hash(token)) is not None
    # GET shows a button: a form that posts back with the token; nothing ends by GET.
    page = await client.get("/logout")
    assert page.status_code == 200 and "Log out" in page.text
    assert re.search(r'<form method="post" action="/logout">\s*<input type="hidden" '
                     r'name="csrftoken"', page.text)  # fmt: skip
    db.expunge_all()
    assert await db.get(LoginSession, token_hash(token)) is not None
    done = await post_form(client, "/logout", {}, token_from="/logout")
    assert done.status_code == 303 and done.headers["location"] == "/"
    db.expunge_all()
    assert await db.get(LoginSession, token_hash(token)) is None
    # Logged out, GET /logout says so and leads home.
    again = await client.get("/logout")
    assert again.status_code == 303 and again.headers["location"] == "/"
    assert "already logged out" in (await _follow(client, again)).text


# --- caching -----------------------------------------------------------------------------------


async def test_pages_for_a_signed_in_member_are_never_stored(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="shared_pc")
    await db.commit()
    for path in ("/", "/login", "/search?q=pilot"):
        anonymous = await client.get(path)
        assert "no-store" not in anonymous.headers.get("cache-control", ""), path
    signed_in = await login(client, "shared_pc")
    assert "no-store" in signed_in.headers["cache-control"]  # the sign-in's own redirect
    for path in ("/", "/account/profile", "/account/password", "/account/email", "/messages",
                 "/notifications", "/u/shared_pc", "/logout", "/mod"):  # fmt: skip
        r = await client.get(path)
        cache_control = r.headers.get("cache-control", "")
        assert "no-store" in cache_control and "private" in cache_control, (path, r.status_code)
    out = await post_form(client, "/logout", {}, token_from="/")
    assert "no-store" in out.headers["cache-control"]
    assert "no-store" not in (await client.get("/")).headers.get("cache-control", "")


# --- profile settings lead to the rest of the account -------------------------------------------


async def test_profile_settings_link_the_rest_of_the_account(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A tester found no way from the settings to their own public profile, their blocks or
    their programme applications: a "Your account" list now has them, each a page that opens."""
    await make_user(db, settings, username="links_lee")
    await db.commit()
    await login(client, "links_lee")
    page = (await client.get("/account/profile")).text
    start = page.index('<nav class="panel narrow" aria-labelledby="your-account">')
    nav = page[start : page.index("</nav>", start)]
    assert '<h2 id="your-account">Your account</h2>' in nav
    links = dict((name, href) for href, name in re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav))
    assert links == {
        "Your public profile": "/u/links_lee",
        "Change password": "/account/password",
        "Change e-mail address": "/account/email",
        "Notification settings": "/notifications/preferences",
        "Members you have blocked": "/messages/blocks",
        "Your mentoring programmes": "/programmes#yours",
        "Delete your account": "/account/delete",
    }
    for href in links.values():
        assert (await client.get(href)).status_code == 200, href
