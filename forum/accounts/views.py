"""Sign-in, registration, password reset, account settings and member profiles."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum import ratelimit
from forum.accounts import services as accounts
from forum.accounts.models import Rank, Role, User
from forum.board.models import Category, Post, Thread
from forum.board.services import audit, post_visibility
from forum.mail import send_mail
from forum.text import clean_block, clean_line, excerpt
from forum.web import SESSION_COOKIE, Ctx, field_int, field_str, safe_next, view


def _client_ip(ctx: Ctx) -> str:
    return ctx.request.client.host if ctx.request.client else "unknown"


def _sign_in(ctx: Ctx, token: str) -> None:
    ctx.set_cookies.append((SESSION_COOKIE, token, ctx.settings.session_days * 86400))


@view()
async def login(ctx: Ctx) -> Response:
    next_url = safe_next(ctx.request.query_params.get("next"))
    if ctx.request.method == "GET":
        return ctx.render("accounts/login.html", {"next": next_url, "form": {}})
    form = await ctx.form()
    name = field_str(form, "username", 254).strip()
    password = field_str(form, "password", 200)
    next_url = safe_next(field_str(form, "next", 500), next_url)
    s = ctx.settings
    window = s.login_window_seconds
    account_key = f"login:account:{name.lower()[:100]}"
    ip_key = f"login:ip:{_client_ip(ctx)}"
    if (
        await ratelimit.current(ctx.db, account_key, window) >= s.login_max_failures_account
        or await ratelimit.current(ctx.db, ip_key, window) >= s.login_max_failures_ip
    ):
        minutes = max(1, window // 60)
        return ctx.render(
            "accounts/login.html",
            {
                "next": next_url,
                "form": {"username": name},
                "error": f"Too many failed sign-in attempts. Try again in {minutes} minutes, "
                "or reset your password.",
            },
            status_code=429,
        )
    user = await accounts.find_user(ctx.db, name)
    passwords = ctx.request.app.state.passwords
    if user is None:
        passwords.dummy_verify(password)
        ok = False
    else:
        ok = passwords.verify(user.password_hash, password)
    if not ok or user is None:
        await ratelimit.hit(ctx.db, account_key, window)
        await ratelimit.hit(ctx.db, ip_key, window)
        return ctx.render(
            "accounts/login.html",
            {
                "next": next_url,
                "form": {"username": name},
                "error": "That username or password is not right.",
            },
            status_code=400,
        )
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    await ratelimit.reset(ctx.db, account_key)
    # A fresh session id at every sign-in (no fixation); the old one, if any, ends.
    await accounts.end_session(ctx.db, ctx.request.cookies.get(SESSION_COOKIE))
    token = await accounts.start_session(
        ctx.db, user, ctx.settings.session_days, ctx.request.headers.get("user-agent", "")
    )
    _sign_in(ctx, token)
    ctx.flash(f"Welcome back, {user.username}.")
    return ctx.redirect(next_url)


@view()
async def logout(ctx: Ctx) -> Response:
    await accounts.end_session(ctx.db, ctx.request.cookies.get(SESSION_COOKIE))
    ctx.set_cookies.append((SESSION_COOKIE, "", None))
    ctx.flash("You have logged out.")
    return ctx.redirect("/")


@view()
async def register(ctx: Ctx) -> Response:
    if ctx.user is not None:
        return ctx.redirect("/")
    if ctx.request.method == "GET":
        return ctx.render("accounts/register.html", {"form": {}, "errors": {}})
    form = await ctx.form()
    values = {
        "username": field_str(form, "username", 30),
        "email": field_str(form, "email", 254),
        "location": field_str(form, "location", 100),
    }
    password = field_str(form, "password", 200)
    confirm = field_str(form, "password_confirm", 200)
    errors: dict[str, str] = {}
    if password != confirm:
        errors["password_confirm"] = "The two passwords do not match."
    ip_key = f"register:ip:{_client_ip(ctx)}"
    if await ratelimit.current(ctx.db, ip_key, 3600) >= ctx.settings.register_max_per_ip_hour:
        errors["username"] = "Too many accounts were registered from your network. Try again later."
        return ctx.render("accounts/register.html", {"form": values, "errors": errors}, 429)
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
            )
        except accounts.AccountError as exc:
            errors[exc.field] = exc.message
    if errors or user is None:
        return ctx.render("accounts/register.html", {"form": values, "errors": errors}, 400)
    await ratelimit.hit(ctx.db, ip_key, 3600)
    await ctx.db.flush()
    token = await accounts.start_session(ctx.db, user, ctx.settings.session_days)
    _sign_in(ctx, token)
    ctx.flash(f"Welcome to {ctx.settings.site_name}, {user.username}.")
    return ctx.redirect("/")


@view()
async def forgot_password(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return ctx.render("accounts/forgot.html", {})
    form = await ctx.form()
    name = field_str(form, "email", 254).strip()
    ip_key = f"reset:ip:{_client_ip(ctx)}"
    if await ratelimit.hit(ctx.db, ip_key, 3600) > 20:
        return ctx.render(
            "accounts/forgot.html", {"error": "Too many reset requests. Try again later."}, 429
        )
    user = await accounts.find_user(ctx.db, name)
    if user is not None and await ratelimit.hit(ctx.db, f"reset:account:{user.id}", 3600) <= 5:
        token = await accounts.create_reset_token(ctx.db, user, ctx.settings.reset_token_minutes)
        link = f"{ctx.settings.base_url.rstrip('/')}/password/reset/{token}"
        await send_mail(
            ctx.db,
            ctx.settings,
            user.email,
            f"Reset your {ctx.settings.site_name} password",
            f"Hello {user.username},\n\nSomeone asked to reset the password of your "
            f"{ctx.settings.site_name} account. To choose a new one, open this link within "
            f"{ctx.settings.reset_token_minutes} minutes:\n\n{link}\n\n"
            "If it was not you, ignore this message; your password stays as it is.\n",
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
    ctx.set_cookies.append((SESSION_COOKIE, "", None))
    ctx.flash("Your password has been changed. Log in with the new one.")
    return ctx.redirect("/login")


@view(login=True)
async def change_password(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None
    if ctx.request.method == "GET":
        return ctx.render("accounts/password.html", {})
    form = await ctx.form()
    passwords = ctx.request.app.state.passwords
    if not passwords.verify(user.password_hash, field_str(form, "current_password", 200)):
        return ctx.render(
            "accounts/password.html", {"error": "Your current password is not right."}, 400
        )
    new = field_str(form, "password", 200)
    if new != field_str(form, "password_confirm", 200):
        return ctx.render(
            "accounts/password.html", {"error": "The two passwords do not match."}, 400
        )
    try:
        await accounts.set_password(ctx.db, passwords, user, new)
    except accounts.AccountError as exc:
        return ctx.render("accounts/password.html", {"error": exc.message}, 400)
    # All sessions ended with the change; this browser gets a new one.
    token = await accounts.start_session(ctx.db, user, ctx.settings.session_days)
    _sign_in(ctx, token)
    ctx.flash("Your password has been changed; other devices have been signed out.")
    return ctx.redirect(f"/u/{user.username}")


@view(login=True)
async def edit_profile(ctx: Ctx) -> Response:
    user = ctx.user
    assert user is not None
    if ctx.request.method == "GET":
        return ctx.render(
            "accounts/profile_edit.html", {"form": {"location": user.location, "bio": user.bio}}
        )
    form = await ctx.form()
    location = clean_line(field_str(form, "location", 100))
    bio = clean_block(field_str(form, "bio", ctx.settings.bio_max))
    errors = {}
    if len(location) > 100:
        errors["location"] = "Locations can have at most 100 characters."
    if len(bio) > ctx.settings.bio_max:
        errors["bio"] = f"The bio can have at most {ctx.settings.bio_max:,} characters."
    if errors:
        return ctx.render(
            "accounts/profile_edit.html",
            {"form": {"location": location, "bio": bio}, "errors": errors},
            400,
        )
    user.location = location
    user.bio = bio
    ctx.flash("Your profile has been saved.")
    return ctx.redirect(f"/u/{user.username}")


@view()
async def profile(ctx: Ctx) -> Response:
    username = ctx.request.path_params["username"]
    member = await ctx.db.scalar(select(User).where(User.username_key == username.lower()[:30]))
    if member is None:
        raise HTTPException(404, "There is no member by that name.")
    ranks = await accounts.load_ranks(ctx.db)
    recent = await ctx.db.execute(
        select(Post.id, Post.body_source, Post.created_at, Thread.id, Thread.title)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .where(
            Post.author_id == member.id,
            Thread.is_deleted.is_(False),
            post_visibility(ctx.user),
            or_(Category.staff_only.is_(False), ctx.is_moderator),
        )
        .order_by(Post.id.desc())
        .limit(10)
    )
    special = (await ctx.db.scalars(select(Rank).where(Rank.is_special.is_(True)))).all()
    thread_count = await ctx.db.scalar(
        select(func.count(Thread.id)).where(
            Thread.author_id == member.id, Thread.is_deleted.is_(False)
        )
    )
    return ctx.render(
        "accounts/profile.html",
        {
            "member": member,
            "rank": ranks.rank_for(member.points, member.special_rank_id),
            "thread_count": thread_count or 0,
            "recent": [
                {
                    "post_id": pid,
                    "excerpt": excerpt(src),
                    "created_at": at,
                    "thread_id": tid,
                    "title": title,
                }
                for pid, src, at, tid, title in recent
            ],
            "roles": [r.value for r in Role],
            "special_ranks": special,
            "suspended": accounts.is_suspended(member),
        },
    )


@view(admin=True)
async def admin_member(ctx: Ctx) -> Response:
    member = await ctx.db.scalar(
        select(User).where(User.username_key == ctx.request.path_params["username"].lower()[:30])
    )
    if member is None:
        raise HTTPException(404, "There is no member by that name.")
    form = await ctx.form()
    role = field_str(form, "role", 20)
    if role not in {r.value for r in Role}:
        raise HTTPException(400, "Unknown role.")
    rank_id = field_int(form, "special_rank_id")
    if (
        rank_id is not None
        and await ctx.db.scalar(
            select(Rank.id).where(Rank.id == rank_id, Rank.is_special.is_(True))
        )
        is None
    ):
        raise HTTPException(400, "Unknown special rank.")
    assert ctx.user is not None
    if member.id == ctx.user.id and role != Role.admin.value:
        raise HTTPException(400, "You cannot remove your own administrator role.")
    before = f"role={member.role} special_rank_id={member.special_rank_id}"
    member.role = role
    member.special_rank_id = rank_id
    audit(
        ctx.db,
        ctx.user,
        "set_role",
        "user",
        member.id,
        "",
        f"{before} -> role={role} special_rank_id={rank_id}",
    )
    ctx.flash(f"{member.username}'s role and rank have been saved.")
    return ctx.redirect(f"/u/{member.username}")


routes = [
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/register", register, methods=["GET", "POST"], name="register"),
    Route("/password/forgot", forgot_password, methods=["GET", "POST"], name="forgot_password"),
    Route(
        "/password/reset/{token}", reset_password, methods=["GET", "POST"], name="reset_password"
    ),
    Route("/account/password", change_password, methods=["GET", "POST"], name="change_password"),
    Route("/account/profile", edit_profile, methods=["GET", "POST"], name="edit_profile"),
    Route("/u/{username}", profile, methods=["GET"], name="profile"),
    Route("/u/{username}/admin", admin_member, methods=["POST"], name="admin_member"),
]
