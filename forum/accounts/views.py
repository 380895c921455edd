"""Sign-in, registration, password reset, account settings, and admins' role changes.
(A member's public page lists their posts, so it belongs to the board: forum.board.profiles.)"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from forum.accounts import services as accounts
from forum.accounts.models import ProfileState, Rank, User
from forum.accounts.passwords import DEMO_PASSWORD
from forum.accounts.web import Ctx
from forum.core import ratelimit, timezones
from forum.core.audit import audit
from forum.core.db import utcnow
from forum.core.errors import DomainError
from forum.core.metrics import LOGIN_FAILURES
from forum.core.outbox import queue_mail
from forum.core.settings import Settings
from forum.core.text import clean_block, clean_line, too_many_cells
from forum.core.web import (
    PRIVATE_CACHE_CONTROL,
    SESSION_COOKIE,
    cookie_secure,
    field_int,
    field_str,
    safe_next,
    view,
)


def _sign_in(ctx: Ctx, token: str) -> None:
    ctx.set_cookies.append((SESSION_COOKIE, token, ctx.settings.session_days * 86400))


async def _check_guesses(ctx: Ctx, account_key: str, device: str | None = None) -> None:
    """Refuse a password check once this account has had too many failures from this client
    address, or from everywhere together (ratelimit.RateLimited). From a device the account
    signed in on before (`device`, from its cookie), only that device's own failures count:
    strangers failing everywhere lock them out, not the member at home."""
    limits = ratelimit.limits(ctx.settings)
    if device is not None:
        await ratelimit.check(ctx.db, limits.login_account, f"{account_key}|device:{device}")
        return
    await ratelimit.check(ctx.db, limits.login_account, f"{account_key}|{ctx.client}")
    await ratelimit.check(ctx.db, limits.login_account_total, account_key)


async def _record_guess(ctx: Ctx, account_key: str, device: str | None = None) -> None:
    limits = ratelimit.limits(ctx.settings)
    if device is not None:
        await ratelimit.record(ctx.db, limits.login_account, f"{account_key}|device:{device}")
        return
    await ratelimit.record(ctx.db, limits.login_account, f"{account_key}|{ctx.client}")
    await ratelimit.record(ctx.db, limits.login_account_total, account_key)


# How often an address's owner is told someone tried to register with it.
REGISTRATION_TOLD = ratelimit.Limit("register:told", 3, 86400, "")

# A device a member has signed in on: a signed cookie naming the account and a random id,
# given at a successful sign-in and kept a year. Its holder still needs the password; it
# only keeps their guesses apart from everyone else's (a probe locked an account out by
# failing five times from each of ten addresses).
DEVICE_COOKIE = "candor_device"
DEVICE_DAYS = 365


def _devices(ctx: Ctx) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.settings.secret_key.get_secret_value(), salt="device")


def _signed_in_device(ctx: Ctx) -> str:
    """The guesses of a signed-in member's forms (changing the password or the address,
    deleting the account) count for their session alone: strangers failing to sign in from
    everywhere had locked a member at home out of those forms too."""
    token = ctx.request.cookies.get(SESSION_COOKIE, "")
    return "session:" + hashlib.sha256(token.encode()).hexdigest()[:32]


async def _current_password_problem(ctx: Ctx, user: User, given: str) -> tuple[int, str] | None:
    """Whether `given` is the signed-in member's current password, for the forms that ask for
    it (changing the password or the address, deleting the account): None when it is, else
    the status and message to show. Wrong guesses count for the session alone
    (`_signed_in_device`), five a window as an address's."""
    key, device = accounts.guess_key(user), _signed_in_device(ctx)
    try:
        await _check_guesses(ctx, key, device)
    except ratelimit.RateLimited as exc:
        return 429, exc.message
    if not await ctx.request.app.state.passwords.verify(user.password_hash, given):
        await _record_guess(ctx, key, device)
        return 400, "Your current password is not right."
    return None


def _password_mark(user: User) -> str:
    """A device cookie holds this of the password it was given under: a new password makes
    every earlier device a stranger again."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _known_device(ctx: Ctx, user: User | None) -> str | None:
    """The id of this browser's device cookie when it was given to `user`, else None."""
    raw = ctx.request.cookies.get(DEVICE_COOKIE)
    if user is None or not raw or len(raw) > 500:
        return None
    try:
        data = _devices(ctx).loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.id:
        return None
    if data.get("p") != _password_mark(user):
        return None  # given before the password last changed (a probe's old cookies guessed on)
    device = data.get("d")
    return device if isinstance(device, str) and 0 < len(device) <= 64 else None


async def _clear_guesses(ctx: Ctx, account_key: str) -> None:
    limits = ratelimit.limits(ctx.settings)
    await ratelimit.clear(ctx.db, limits.login_account, f"{account_key}|{ctx.client}")
    await ratelimit.clear(ctx.db, limits.login_account_total, account_key)


@view()
async def login(ctx: Ctx) -> Response:
    next_url = safe_next(ctx.request.query_params.get("next"))
    if ctx.request.method == "GET":
        # After a password reset the page names the account (the reset knew it).
        typed = (ctx.request.query_params.get("username") or "")[:254]
        note = ""
        if next_url.startswith(ctx.url("change_email") + "/"):
            # A confirmation link opened where the member is not signed in (a phone's mail).
            note = "Log in to confirm your new e-mail address: the link goes on from here."
        return ctx.render(
            "accounts/login.html", {"next": next_url, "form": {"username": typed}, "note": note}
        )
    form = await ctx.form()
    name = field_str(form, "username", 254).strip()
    password = field_str(form, "password", 200)
    next_url = safe_next(field_str(form, "next", 500), next_url)
    if not name or not password:
        # Nothing to check: said plainly, and no guess counted.
        missing = "your username or e-mail address" if not name else "your password"
        if not name and not password:
            missing = "your username (or e-mail address) and your password"
        return ctx.render(
            "accounts/login.html",
            {"next": next_url, "form": {"username": name}, "error": f"Enter {missing}."},
            status_code=400,
        )
    limits = ratelimit.limits(ctx.settings)
    user = await accounts.find_user(ctx.db, name)
    # Failures count against the name typed (accounts.guess_key).
    account_key = accounts.guess_key(user, name)
    device = _known_device(ctx, user)
    try:
        await _check_guesses(ctx, account_key, device)
        if device is None:
            # (The address's limit slows guessing across accounts; a browser this account
            # signed in on before is its member: twenty failures by others behind a company's
            # one address had locked everyone there out, an attacker probe found.)
            await ratelimit.check(ctx.db, limits.login_ip, ctx.client)
    except ratelimit.RateLimited as exc:
        return ctx.render(
            "accounts/login.html",
            {"next": next_url, "form": {"username": name}, "error": exc.message},
            status_code=429,
        )
    passwords = ctx.request.app.state.passwords
    held = False
    if user is None:
        # A held name is checked against its attempt's hash in place of the dummy one: one
        # hash either way, as a pending registration's sign-in costs.
        holds = [h for h in await accounts.held_attempts(ctx.db, name) if h.password_hash]
        if holds:
            held = await passwords.verify(holds[0].password_hash, password)
        else:
            await passwords.dummy_verify(password)
        ok = False
    else:
        ok = await passwords.verify(user.password_hash, password)
        if "@" in name:
            # By address, a second check either way: a held attempt's hash when the account's
            # failed, a dummy one when it passed (one check for a pending registration's right
            # password and two for a held address told them apart by time).
            if ok:
                await passwords.dummy_verify(password)
            else:
                held = await _held_attempt_matches(ctx, name, password)
    if held:
        # A name (or address) an attempt with a known address holds, with that attempt's
        # password: answered as a pending registration is (a probe and a review told the two
        # answers apart, and with them whether the address had an account).
        await _record_guess(ctx, account_key)
        return _confirm_first(ctx, next_url, name)
    if not ok or user is None:
        LOGIN_FAILURES.inc()
        await _record_guess(ctx, account_key, device)
        if device is None:  # (a known device's failures are its own, as its limit is)
            await ratelimit.record(ctx.db, limits.login_ip, ctx.client)
        return ctx.render(
            "accounts/login.html",
            {
                "next": next_url,
                "form": {"username": name},
                "error": "That username or password is not right.",
            },
            status_code=400,
        )
    if user.email_confirmed_at is None:
        # The password is right but the address unproven: send the link again.
        await _record_guess(ctx, account_key)
        if await accounts.confirmation_sent_lately(ctx.db, user):
            return _confirm_first(ctx, next_url, name)
        _confirmation_mail(ctx, user, await accounts.create_confirmation(ctx.db, user))
        return _confirm_first(ctx, next_url, name)
    rehashed = passwords.needs_rehash(user.password_hash)
    if rehashed:
        user.password_hash = await passwords.hash(password)
    await _clear_guesses(ctx, account_key)
    if device is None or rehashed:  # (a new hash: the device's cookie names it afresh)
        token = _devices(ctx).dumps(
            {"u": user.id, "d": device or secrets.token_urlsafe(16), "p": _password_mark(user)}
        )
        ctx.set_cookies.append((DEVICE_COOKIE, token, DEVICE_DAYS * 86400))
    if device is not None:
        limits = ratelimit.limits(ctx.settings)
        await ratelimit.clear(ctx.db, limits.login_account, f"{account_key}|device:{device}")
    # A fresh session id at every sign-in (no fixation); the old one, if any, ends.
    await accounts.end_session(ctx.db, ctx.request.cookies.get(SESSION_COOKIE))
    token = await accounts.start_session(
        ctx.db, user, ctx.settings.session_days, ctx.request.headers.get("user-agent", "")
    )
    _sign_in(ctx, token)
    ctx.flash(f"Welcome back, {user.username}.")
    if password == DEMO_PASSWORD:
        ctx.flash(
            "This account signs in with the demo board's published password: change it "
            "(Settings, Change password) before others can reach this board.",
            warning=True,
        )
    return ctx.redirect(next_url)


def _confirm_first(ctx: Ctx, next_url: str, name: str) -> Response:
    return ctx.render(
        "accounts/login.html",
        {"next": next_url, "form": {"username": name},
         "error": "Confirm your e-mail address first: we have mailed you the link (again, "
                  "at most once every ten minutes)."},
        status_code=403,
    )  # fmt: skip


async def _held_attempt_matches(ctx: Ctx, name: str, password: str) -> bool:
    """Whether `password` is that of a held attempt named by `name`: one password check, a
    dummy one when nothing is held."""
    passwords = ctx.request.app.state.passwords
    holds = [h for h in await accounts.held_attempts(ctx.db, name) if h.password_hash]
    if not holds:
        await passwords.dummy_verify(password)
        return False
    return bool(await passwords.verify(holds[0].password_hash, password))


ALREADY_LOGGED_OUT = "You are already logged out."


@view()
async def _logout_page(ctx: Ctx) -> Response:
    """GET /logout (a bookmark, a typed address): a button that logs out, since logging out
    itself takes a POST with the CSRF token."""
    if ctx.user is None:
        ctx.flash(ALREADY_LOGGED_OUT)
        return ctx.redirect(ctx.url("home"))
    return ctx.render("accounts/logout.html", {})


@view()
async def _logout(ctx: Ctx) -> Response:
    signed_in = ctx.user is not None
    await accounts.end_session(ctx.db, ctx.request.cookies.get(SESSION_COOKIE))
    ctx.set_cookies.append((SESSION_COOKIE, "", None))
    # A session that ended elsewhere (a password change on another device, its expiry).
    ctx.flash("You have logged out." if signed_in else ALREADY_LOGGED_OUT)
    return ctx.redirect(ctx.url("home"))


async def logout(request: Request) -> Response:
    """Logging out takes a POST with this browser's CSRF token. A browser with no session
    cookie is logged out already: its form came from a stale page (whose token was made for
    the session that has ended) or from another site, and there is nothing to end, so it goes
    to GET /logout, which says so and leads home, instead of a "form expired" refusal."""
    if request.method == "POST" and not request.cookies.get(SESSION_COOKIE):
        return RedirectResponse(request.app.state.url("logout"), status_code=303)
    if request.method == "POST":
        return await _logout(request)
    return await _logout_page(request)


def _confirmation_mail(ctx: Ctx, user: User, token: str) -> None:
    link = ctx.settings.base_url.rstrip("/") + ctx.url("confirm_email", token=token)
    site = ctx.settings.site_name
    before = (
        f"Hello {user.username},\n\nTo finish creating your {site} account, open this link "
        f"within {accounts.CONFIRMATION_HOURS} hours:\n\n"
    )
    after = "\n\nIf you did not register, ignore this message: no account is made without it.\n"
    queue_mail(
        ctx.db,
        user.email,
        f"Confirm your {site} account",
        before + link + after,
        redacted=before + "[the confirmation link: sent only in the e-mail]" + after,
    )


# A registration sent goes on to GET /register/sent (POST/redirect/GET: reloading the page
# sends nothing again), which names the address from this signed cookie, kept for a while so
# that a reload still names it; without it the page says the same without the address.
SENT_COOKIE = "candor_registered"
SENT_SECONDS = 30 * 60


def _sent_signer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="registered")


def _sent(ctx: Ctx, address: str) -> Response:
    """The answer to a registration sent, the same whether the address was new or known."""
    path = ctx.url("register_sent")
    response = ctx.redirect(path)
    response.set_cookie(
        SENT_COOKIE, _sent_signer(ctx.settings).dumps(address), max_age=SENT_SECONDS, path=path,
        httponly=True, samesite="lax", secure=cookie_secure(ctx.request, ctx.settings),
    )  # fmt: skip
    return response


@view()
async def register_sent(ctx: Ctx) -> Response:
    """The "Check your e-mail" page, after a registration was sent."""
    if ctx.user is not None:
        return ctx.redirect(ctx.url("home"))
    address = None
    raw = ctx.request.cookies.get(SENT_COOKIE)
    if raw:
        try:
            found = _sent_signer(ctx.settings).loads(raw, max_age=SENT_SECONDS)
        except BadSignature:  # tampered with, or expired
            found = None
        address = found if isinstance(found, str) else None
    response = ctx.render("accounts/register.html", {"sent": True, "address": address})
    # It names an address: kept by no cache, the browser's own included.
    response.headers["cache-control"] = PRIVATE_CACHE_CONTROL
    return response


@view()
async def register(ctx: Ctx) -> Response:
    """Registration answers the same whether or not the address has an account: a new account
    is confirmed by a mailed link; the owner of a known address is told by mail. Either way
    the answer is a redirect to the "Check your e-mail" page (_sent)."""
    if ctx.user is not None:
        return ctx.redirect(ctx.url("home"))
    if ctx.request.method == "GET":
        return ctx.render("accounts/register.html", {"form": {}, "errors": {}})
    form = await ctx.form()
    values = {
        "username": field_str(form, "username", 30),
        "email": field_str(form, "email", 254),
        "location": field_str(form, "location", 100),
        "time_zone": field_str(form, "time_zone", 64),
    }
    password = field_str(form, "password", 200)
    confirm = field_str(form, "password_confirm", 200)
    errors: dict[str, str] = {}
    # Every attempt counts toward one limit, failed ones too: the form must not become a free
    # oracle for which names and addresses have accounts. Accounts made count toward a lower
    # one (so do attempts with an address that has an account: the page says the same).
    limits = ratelimit.limits(ctx.settings)
    try:
        await ratelimit.hit(ctx.db, limits.register_attempts_ip, ctx.client)
        await ratelimit.check(ctx.db, limits.register_ip, ctx.client)
    except ratelimit.RateLimited as exc:
        errors["username"] = exc.message
        return ctx.render("accounts/register.html", {"form": values, "errors": errors}, 429)
    errors.update(
        accounts.check_registration(values["username"], values["email"], password, confirm)
    )
    if "username" not in errors:
        problem = await accounts.username_problem(ctx.db, values["username"].strip())
        if problem is not None:
            errors["username"] = problem
    if "email" not in errors:
        values["email"] = accounts.validate_email(values["email"])
    # The address's owner is told by mail, and the page says the same as for a new account;
    # so only a form with nothing else wrong asks.
    owner = None if errors else await accounts.address_owner(ctx.db, values["email"])
    if owner is not None:
        await ratelimit.record(ctx.db, limits.register_ip, ctx.client)
        # As long as making an account takes: hashing the password is most of it. The name is
        # held with the hash, as a pending registration holds both.
        hashed = await ctx.request.app.state.passwords.hash(password)
        await accounts.hold_username(ctx.db, values["username"], values["email"], hashed)
        site = ctx.settings.site_name
        # Told at most a few times a day, whoever tries from wherever (a probe sent twelve
        # such mails in seconds from two addresses); the page says the same either way.
        if await ratelimit.record(ctx.db, REGISTRATION_TOLD, owner.id) > REGISTRATION_TOLD.max:
            return _sent(ctx, values["email"])
        queue_mail(
            ctx.db,
            owner.email,
            f"Someone tried to register on {site} with your address",
            f"Hello {owner.username},\n\nSomeone tried to create a {site} account with this "
            f"e-mail address, which already has one: yours, {owner.username}. If it was you, "
            "sign in, or reset your password if you have forgotten it. If it was not, you can "
            "ignore this message.\n",
        )
        return _sent(ctx, values["email"])
    user = None
    if not errors:
        try:
            user = await accounts.create_user(
                ctx.db,
                ctx.request.app.state.passwords,
                username=values["username"],
                email=values["email"],
                password=password,
                location=values["location"],
                time_zone=values["time_zone"],
                confirmed=False,
                score_profile=True,
                hide_until_checked=ctx.settings.hide_new_accounts_posts_until_checked,
            )
        except accounts.AccountError as exc:
            errors[exc.field] = exc.message
    if errors or user is None:
        return ctx.render("accounts/register.html", {"form": values, "errors": errors}, 400)
    await ratelimit.record(ctx.db, limits.register_ip, ctx.client)
    await ctx.db.flush()
    _confirmation_mail(ctx, user, await accounts.create_confirmation(ctx.db, user))
    return _sent(ctx, values["email"])


CONFIRMATION_GONE = (
    "This link is unknown, already used or expired. If you have confirmed your account "
    "already, sign in; otherwise register again."
)


@view()
async def confirm_email(ctx: Ctx) -> Response:
    """The link only shows a button: confirming signs the browser in, so it takes a POST with
    this browser's CSRF token (a page elsewhere cannot sign a visitor into someone's account
    by sending them to a link)."""
    token = ctx.request.path_params["token"]
    if ctx.request.method == "GET":
        # A link that cannot work says so at once, not after the button.
        if not await accounts.confirmation_valid(ctx.db, token):
            return ctx.render_error(400, CONFIRMATION_GONE)
        return ctx.render("accounts/confirm.html", {"token": token})
    user = await accounts.confirm_email(ctx.db, token)
    if user is None:
        return ctx.render_error(400, CONFIRMATION_GONE)
    await accounts.end_session(ctx.db, ctx.request.cookies.get(SESSION_COOKIE))
    _sign_in(ctx, await accounts.start_session(ctx.db, user, ctx.settings.session_days))
    ctx.flash(f"Welcome to {ctx.settings.site_name}, {user.username}.")
    return ctx.redirect(ctx.url("home"))


@view()
async def forgot_password(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        # The name typed at the sign-in form, carried over (the newcomer probe retyped it).
        typed = ctx.request.query_params.get("account", "")[:254].strip()
        return ctx.render("accounts/forgot.html", {"form": {"email": typed}})
    form = await ctx.form()
    name = field_str(form, "email", 254).strip()
    if not name:
        return ctx.render(
            "accounts/forgot.html",
            {"error": "Enter the e-mail address or the username of your account.", "form": {}},
            400,
        )
    limits = ratelimit.limits(ctx.settings)
    try:
        await ratelimit.hit(ctx.db, limits.reset_ip, ctx.client)
    except ratelimit.RateLimited as exc:
        return ctx.render(
            "accounts/forgot.html", {"error": exc.message, "form": {"email": name}}, 429
        )
    user = await accounts.find_user(ctx.db, name)
    if user is not None and accounts.is_deleted(user):
        user = None  # nobody may sign in to a deleted account: no link is made for it
    within = (
        user is not None
        and await ratelimit.record(ctx.db, limits.reset_account, user.id)
        <= limits.reset_account.max
    )
    if user is not None and not within:
        ratelimit.refused(limits.reset_account)  # silently: the page says the same
    if user is not None and within:
        token = await accounts.create_reset_token(ctx.db, user, ctx.settings.reset_token_minutes)
        path = ctx.url("reset_password", token=token)
        link = f"{ctx.settings.base_url.rstrip('/')}{path}"
        before = (
            f"Hello {user.username},\n\nSomeone asked to reset the password of your "
            f"{ctx.settings.site_name} account. To choose a new one, open this link within "
            f"{ctx.settings.reset_token_minutes} minutes:\n\n"
        )
        after = "\n\nIf it was not you, ignore this message; your password stays as it is.\n"
        queue_mail(
            ctx.db,
            user.email,
            f"Reset your {ctx.settings.site_name} password",
            before + link + after,
            redacted=before + "[the reset link: sent only in the e-mail]" + after,
        )
    # The same answer whether or not the account exists, so addresses cannot be probed.
    return ctx.render("accounts/forgot.html", {"sent": True})


@view()
async def reset_password(ctx: Ctx) -> Response:
    token = ctx.request.path_params["token"]
    record = await accounts.find_reset_token(ctx.db, token)
    if record is None:
        return ctx.render("accounts/reset.html", {"invalid": True}, 400)
    if ctx.request.method == "GET":
        return ctx.render("accounts/reset.html", {"token": token})
    form = await ctx.form()
    password = field_str(form, "password", 200)
    if password != field_str(form, "password_confirm", 200):
        return ctx.render(
            "accounts/reset.html", {"token": token, "error": "The two passwords do not match."}, 400
        )
    try:
        user = await accounts.use_reset_token(
            ctx.db, ctx.request.app.state.passwords, token, password
        )
    except accounts.AccountError as exc:
        return ctx.render("accounts/reset.html", {"token": token, "error": exc.message}, 400)
    if user is None:
        return ctx.render("accounts/reset.html", {"invalid": True}, 400)
    # Whoever holds the mailbox may sign in again at once, whatever was guessed meanwhile.
    for key in accounts.sign_in_keys(user):
        await _clear_guesses(ctx, key)
    _password_changed_mail(ctx, user, "with a reset link mailed to this address")
    ctx.set_cookies.append((SESSION_COOKIE, "", None))
    ctx.flash("Your password has been changed. Log in with the new one.")
    return ctx.redirect(f"{ctx.url('login')}?{urlencode({'username': user.username})}")


def _password_changed_mail(ctx: Ctx, user: User, how: str) -> None:
    """Tell the account's address its password changed (a reset, or a change from Settings):
    if it was not the member, they learn it at once."""
    site = ctx.settings.site_name
    queue_mail(
        ctx.db,
        user.email,
        f"Your {site} password was changed",
        f"Hello {user.username},\n\nThe password of your {site} account was changed just now, "
        f"{how}, and every device signed in to it was signed out.\n\nIf you did not do "
        f'this, ask for a reset link at once ("Forgot password?" on the sign-in page) and '
        f"tell the {site} administrators.\n",
    )


@view(login=True)
async def change_password(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None
    if ctx.request.method == "GET":
        return ctx.render("accounts/password.html", {})
    form = await ctx.form()
    passwords = ctx.request.app.state.passwords
    problem = await _current_password_problem(ctx, user, field_str(form, "current_password", 200))
    if problem is not None:
        return ctx.render("accounts/password.html", {"error": problem[1]}, problem[0])
    new = field_str(form, "password", 200)
    if new != field_str(form, "password_confirm", 200):
        return ctx.render(
            "accounts/password.html", {"error": "The two passwords do not match."}, 400
        )
    try:
        await accounts.set_password(ctx.db, passwords, user, new)
    except accounts.AccountError as exc:
        return ctx.render("accounts/password.html", {"error": exc.message}, 400)
    _password_changed_mail(ctx, user, "from its settings")
    # All sessions ended with the change; this browser gets a new one.
    token = await accounts.start_session(ctx.db, user, ctx.settings.session_days)
    _sign_in(ctx, token)
    ctx.flash("Your password has been changed; other devices have been signed out.")
    return ctx.redirect(ctx.url("profile", username=user.username))


def _settings_page(
    ctx: Ctx, form: dict[str, str], errors: dict[str, str] | None = None
) -> Response:
    """The Settings page: the profile's form (withheld while suspended) and the time zone."""
    assert ctx.user is not None
    context = {
        "form": form, "errors": errors or {}, "suspended": accounts.is_suspended(ctx.user),
        "zones": timezones.zone_names(), "now": utcnow(),
    }  # fmt: skip
    return ctx.render("accounts/profile_edit.html", context, 400 if errors else 200)


@view(login=True)
async def edit_profile(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None
    if ctx.request.method == "GET":
        # A suspended member still reaches the rest of their settings (deleting the account
        # among them); only the profile's form is withheld.
        return _settings_page(ctx, {"location": user.location, "bio": user.bio})
    if accounts.is_suspended(user):
        raise HTTPException(403, "Your account is suspended: your profile cannot be changed.")
    form = await ctx.form()
    location = clean_line(field_str(form, "location", 100))
    bio = clean_block(field_str(form, "bio", ctx.settings.bio_max))
    errors = {}
    if len(location) > 100:
        errors["location"] = "Locations can have at most 100 characters."
    if len(bio) > ctx.settings.bio_max:
        errors["bio"] = f"The bio can have at most {ctx.settings.bio_max:,} characters."
    elif tables := too_many_cells(bio):
        errors["bio"] = tables
    if errors:
        return _settings_page(ctx, {"location": location, "bio": bio}, errors)
    changed = await accounts.update_profile(ctx.db, ctx.settings, user, location, bio)
    if changed and user.profile_state == ProfileState.held.value:
        ctx.flash("Your profile has been saved; others will see it once a moderator approves it.")
    elif changed and user.profile_state == ProfileState.checking.value:
        ctx.flash("Your profile has been saved; others will see it once the automatic check "
                  "has read it, usually within seconds.")  # fmt: skip
    else:
        ctx.flash("Your profile has been saved.")
    return ctx.redirect(ctx.url("profile", username=user.username))


@view(login=True)
async def edit_time_zone(ctx: Ctx) -> Response:
    """The zone the member's pages show times in. Not profile text (nobody else sees it), so a
    suspended member may change it too."""
    user = ctx.user
    assert user is not None
    form = await ctx.form()
    try:
        accounts.set_time_zone(user, field_str(form, "time_zone", 64))
    except accounts.AccountError as exc:
        return _settings_page(
            ctx, {"location": user.location, "bio": user.bio}, {exc.field: exc.message}
        )
    shown = user.time_zone or "UTC"
    ctx.flash(f"Times are now shown in {shown.replace('_', ' ')}.")
    return ctx.redirect(ctx.url("edit_profile"))


def _email_change_mail(ctx: Ctx, user: User, new_email: str, token: str) -> None:
    link = ctx.settings.base_url.rstrip("/") + ctx.url("confirm_email_change", token=token)
    site = ctx.settings.site_name
    before = (
        f"Hello {user.username},\n\nYou asked to use this address for your {site} account. "
        f"To confirm it, sign in as {user.username} and open this link within "
        f"{accounts.EMAIL_CHANGE_HOURS} hours:\n\n"
    )
    after = (
        "\n\nUntil then your account keeps its old address. If you did not ask for this, "
        "ignore this message.\n"
    )
    queue_mail(
        ctx.db,
        new_email,
        f"Confirm your new {site} address",
        before + link + after,
        redacted=before + "[the confirmation link: sent only in the e-mail]" + after,
    )


def _email_page(
    ctx: Ctx, status: int = 200, *, email: str = "", error: str = "", field: str = ""
) -> Response:
    context: dict[str, object] = {
        "form": {"email": email},
        "errors": {field: error} if field else {},
    }
    if error and not field:
        context["error"] = error
    return ctx.render("accounts/email.html", context, status)


@view(login=True)
async def change_email(ctx: Ctx) -> Response:
    """A new address takes the current password; it is used only once a link mailed to it is
    opened. The page says the same whether or not the new address has an account (as
    registration does); that account's owner is told by mail instead."""
    user = ctx.user
    assert user is not None
    if ctx.request.method == "GET":
        return _email_page(ctx)
    form = await ctx.form()
    email = field_str(form, "email", 254).strip()
    limits = ratelimit.limits(ctx.settings)
    problem = await _current_password_problem(ctx, user, field_str(form, "current_password", 200))
    if problem is not None:
        status, message = problem
        field = "current_password" if status == 400 else ""
        return _email_page(ctx, status, email=email, error=message, field=field)
    try:
        email = accounts.validate_email(email)
        if email.lower() == user.email_key:
            raise accounts.AccountError("email", "That is already your address.")
        await ratelimit.hit(ctx.db, limits.email_change_account, user.id)
    except accounts.AccountError as exc:
        return _email_page(ctx, 400, email=email, error=exc.message, field=exc.field)
    except ratelimit.RateLimited as exc:
        return _email_page(ctx, 429, email=email, error=exc.message)
    owner = await accounts.address_owner(ctx.db, email)
    site = ctx.settings.site_name
    if owner is not None:
        queue_mail(
            ctx.db,
            owner.email,
            f"Someone tried to use your address on {site}",
            f"Hello {owner.username},\n\nSomeone asked to move another {site} account to this "
            f"e-mail address, which already has one: yours, {owner.username}. Nothing has "
            "changed. If it was you, you can ignore this message.\n",
        )
    else:
        token = await accounts.request_email_change(ctx.db, user, email)
        _email_change_mail(ctx, user, email, token)
    return ctx.render("accounts/email.html", {"sent": email, "hours": accounts.EMAIL_CHANGE_HOURS})


@view(login=True)
async def confirm_email_change(ctx: Ctx) -> Response:
    """The mailed link shows a button for the member it was made for, signed in; confirming
    takes a POST with this browser's CSRF token."""
    user = ctx.user
    assert user is not None
    token = ctx.request.path_params["token"]
    invalid = (
        "This link is unknown, already used or expired, or it was made for another account. "
        "Sign in as the member who asked for it, or ask again from your settings."
    )
    if ctx.request.method == "GET":
        record = await accounts.find_email_change(ctx.db, user, token)
        if record is None:
            return ctx.render_error(400, invalid)
        return ctx.render(
            "accounts/email_confirm.html", {"token": token, "new_email": record.new_email}
        )
    try:
        old = await accounts.confirm_email_change(ctx.db, user, token)
    except accounts.AccountError as exc:
        await ctx.rollback()
        return ctx.render_error(409, exc.message)
    if old is None:
        return ctx.render_error(400, invalid)
    site = ctx.settings.site_name
    queue_mail(
        ctx.db,
        old,
        f"Your {site} address was changed",
        f"Hello {user.username},\n\nThe e-mail address of your {site} account was changed "
        f"from this one to {accounts.mask_email(user.email)}. Mail about your account, "
        "password resets included, now goes there.\n\nIf you did not do this, someone may "
        f"have your password: write to the {site} administrators from this address.\n",
    )
    ctx.flash(f"Your e-mail address is now {user.email}.")
    return ctx.redirect(ctx.url("profile", username=user.username))


def _delete_page(
    ctx: Ctx, status: int = 200, *, error: str = "", last_admin: bool = False
) -> Response:
    return ctx.render(
        "accounts/delete.html", {"error": error, "last_admin": last_admin}, status_code=status
    )


@view(login=True)
async def delete_account(ctx: Ctx) -> Response:
    """What deleting one's account does, then, with the current password, doing it
    (accounts.delete_account) and signing out. A suspended member may; the board's last
    administrator may not."""
    user = ctx.user
    assert user is not None
    if ctx.request.method == "GET":
        if await accounts.is_last_admin(ctx.db, user):
            return _delete_page(ctx, error=accounts.LAST_ADMIN, last_admin=True)
        return _delete_page(ctx)
    form = await ctx.form()
    if await accounts.is_last_admin(ctx.db, user):
        return _delete_page(ctx, 400, error=accounts.LAST_ADMIN, last_admin=True)
    problem = await _current_password_problem(ctx, user, field_str(form, "current_password", 200))
    if problem is not None:
        status, message = problem
        if status == 400:
            message = "Your password is not right: nothing has been deleted."
        return _delete_page(ctx, status, error=message)
    try:
        anonymous = await accounts.delete_account(ctx.db, ctx.settings, user)
    except DomainError as exc:  # the last administrator after all, or a domain above refused
        await ctx.rollback()
        return _delete_page(
            ctx, exc.status, error=exc.message, last_admin=exc.message == accounts.LAST_ADMIN
        )
    ctx.set_cookies.append((SESSION_COOKIE, "", None))
    ctx.flash(
        f"Your account has been deleted and you have been signed out. Your posts stay, shown "
        f"under the name {anonymous}."
    )
    return ctx.redirect(ctx.url("home"))


@view(login=True)
async def dismiss_rank_notice(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None
    form = await ctx.form()
    await accounts.dismiss_rank_notice(ctx.db, user)
    return ctx.redirect(safe_next(field_str(form, "next", 500), ctx.url("home")))


async def _member_or_404(ctx: Ctx) -> User:
    member = await accounts.find_by_username(ctx.db, ctx.request.path_params["username"])
    if member is None:
        raise HTTPException(404, "There is no member by that name.")
    return member


@view(moderator=True)
async def lift_restriction(ctx: Ctx) -> Response:
    member = await _member_or_404(ctx)
    form = await ctx.form()
    assert ctx.user is not None
    restriction = field_str(form, "restriction", 20)
    await accounts.lift_restriction(
        ctx.db, ctx.user, member, restriction, clean_line(field_str(form, "reason", 2000))
    )
    lifted = "suspension" if restriction == "suspension" else "pre-moderation"
    site = ctx.settings.site_name
    queue_mail(
        ctx.db, member.email, f"Your {site} {lifted} has been lifted",
        f"Hello {member.username},\n\nA moderator has lifted your {lifted}: you can post "
        f"on {site} as before.\n",
    )  # fmt: skip
    ctx.flash(f"{member.username}'s {lifted} has been lifted; they have been told by mail.")
    return ctx.redirect(ctx.url("profile", username=member.username))


@view(moderator=True)
async def restrict_member(ctx: Ctx) -> Response:
    """A moderator or an administrator suspends a member or puts them on pre-moderation from
    the profile; the member is told by mail why, and for how long."""
    member = await _member_or_404(ctx)
    form = await ctx.form()
    assert ctx.user is not None
    restriction = field_str(form, "restriction", 20)
    duration = field_str(form, "duration", 10)
    reason = clean_line(field_str(form, "reason", 2000))
    await accounts.impose_restriction(ctx.db, ctx.user, member, restriction, reason, duration)
    site = ctx.settings.site_name
    if restriction == "suspension":
        what = f"Your {site} account is suspended for {duration}"
        lines = (f"you can read the board, but not post, reply, react or send messages until "
                 f"{timezones.when(member.suspended_until, member.time_zone)}")  # fmt: skip
    else:
        what = f"Your {site} posts will wait for a moderator"
        lines = "your posts and messages are shown once a moderator has approved them"
    queue_mail(
        ctx.db, member.email, what,
        f"Hello {member.username},\n\n{what}: {lines}.\n\nThe moderator's reason: {reason}\n\n"
        f"The board's guidelines: {ctx.settings.base_url.rstrip('/')}{ctx.url('guidelines')}\n",
    )  # fmt: skip
    done = f"suspended for {duration}" if restriction == "suspension" else "on pre-moderation"
    ctx.flash(f"{member.username} is {done}; they have been told by mail.")
    return ctx.redirect(ctx.url("profile", username=member.username))


@view(admin=True)
async def admin_member(ctx: Ctx) -> Response:
    member = await _member_or_404(ctx)
    form = await ctx.form()
    assert ctx.user is not None
    await accounts.set_role(
        ctx.db,
        ctx.user,
        member,
        field_str(form, "role", 20),
        field_int(form, "special_rank_id"),
    )
    ctx.flash(f"{member.username}'s role and rank have been saved.")
    return ctx.redirect(ctx.url("profile", username=member.username))


async def _rank_page(ctx: Ctx, status: int = 200, **extra: object) -> Response:
    ranks = (
        await ctx.db.scalars(select(Rank).order_by(Rank.is_special, Rank.min_points, Rank.name))
    ).all()
    holders = dict(
        (
            await ctx.db.execute(
                select(User.special_rank_id, func.count(User.id))
                .where(User.special_rank_id.is_not(None))
                .group_by(User.special_rank_id)
            )
        ).all()
    )
    context = {"ranks": ranks, "holders": holders, "errors": {}, "form": {}, "failed_id": None,
               "failed": {}, "points_per_post": ctx.settings.points_per_post}  # fmt: skip
    return ctx.render("admin/ranks.html", {**context, **extra}, status)


@view(admin=True)
async def ranks(ctx: Ctx) -> Response:
    """Earned ranks (by points) and special ones (assigned on a member's profile)."""
    if ctx.request.method == "GET":
        return await _rank_page(ctx)
    assert ctx.user is not None
    form = await ctx.form()
    action = field_str(form, "action", 10)
    name = field_str(form, "name", 200)
    min_points = field_int(form, "min_points")
    rank_id = field_int(form, "rank_id")
    special = field_str(form, "kind", 10) == "special"
    values = {"name": name, "min_points": "" if min_points is None else str(min_points),
              "kind": "special" if special else "earned"}  # fmt: skip
    try:
        if action == "add":
            rank = await accounts.add_rank(ctx.db, name, min_points, special)
            detail = f"{rank.name} ({'special' if special else rank.min_points})"
            audit(ctx.db, ctx.user, "rank_add", "rank", rank.id, "", detail)
            ctx.flash(f"Rank {rank.name} added.")
        elif action in ("save", "delete"):
            found = await ctx.db.get(Rank, rank_id) if rank_id is not None else None
            if found is None:
                raise HTTPException(404, "There is no such rank.")
            rank = found
            if action == "save":
                before, after = await accounts.edit_rank(ctx.db, rank, name, min_points)
                audit(ctx.db, ctx.user, "rank_edit", "rank", rank.id, "", f"{before} -> {after}")
                ctx.flash(f"Rank {rank.name} saved.")
            else:
                gone = rank.name
                held = await accounts.delete_rank(ctx.db, rank)
                audit(ctx.db, ctx.user, "rank_delete", "rank", rank_id or 0, "", gone)
                holders = f"; {held} member{'s' if held != 1 else ''} held it" if held else ""
                ctx.flash(f"Rank {gone} removed{holders}.")
        else:
            raise HTTPException(400, "Unknown action.")
    except accounts.AccountError as exc:
        await ctx.rollback()
        return await _rank_page(
            ctx,
            400,
            errors={exc.field: exc.message},
            form=values if action == "add" else {},
            failed_id=rank_id if action != "add" else None,
            failed=values,
        )
    return ctx.redirect(ctx.url("admin_ranks"))


routes = [
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["GET", "POST"], name="logout"),
    Route("/register", register, methods=["GET", "POST"], name="register"),
    Route("/register/sent", register_sent, methods=["GET"], name="register_sent"),
    Route(
        "/register/confirm/{token}", confirm_email, methods=["GET", "POST"], name="confirm_email"
    ),
    Route("/password/forgot", forgot_password, methods=["GET", "POST"], name="forgot_password"),
    Route(
        "/password/reset/{token}", reset_password, methods=["GET", "POST"], name="reset_password"
    ),
    Route("/account/password", change_password, methods=["GET", "POST"], name="change_password"),
    Route("/account/profile", edit_profile, methods=["GET", "POST"], name="edit_profile"),
    Route("/account/time-zone", edit_time_zone, methods=["POST"], name="edit_time_zone"),
    Route("/account/email", change_email, methods=["GET", "POST"], name="change_email"),
    Route(
        "/account/email/confirm/{token}",
        confirm_email_change,
        methods=["GET", "POST"],
        name="confirm_email_change",
    ),  # fmt: skip
    Route("/account/delete", delete_account, methods=["GET", "POST"], name="delete_account"),
    Route(
        "/account/rank-notice", dismiss_rank_notice, methods=["POST"], name="dismiss_rank_notice"
    ),
    Route("/admin/ranks", ranks, methods=["GET", "POST"], name="admin_ranks"),
    Route("/u/{username}/lift", lift_restriction, methods=["POST"], name="lift_restriction"),
    Route("/u/{username}/restrict", restrict_member, methods=["POST"], name="restrict_member"),
    Route("/u/{username}/admin", admin_member, methods=["POST"], name="admin_member"),
]
