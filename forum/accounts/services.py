"""Account rules: registration, sign-in sessions, password resets, ranks and points."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, TypeVar

from sqlalchemy import and_, bindparam, case, delete, func, inspect, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.elements import ColumnElement

from forum.accounts.events import AccountDeleting, ProfileChanged, RankEarned
from forum.accounts.models import (
    ROLE_LABELS,
    EmailChange,
    EmailConfirmation,
    HeldUsername,
    LoginSession,
    PasswordResetToken,
    PointsEntry,
    ProfileState,
    Rank,
    RetiredUsername,
    Role,
    User,
    UserStatus,
)
from forum.accounts.passwords import Passwords
from forum.core import events, timezones
from forum.core.audit import AuditEntry, audit
from forum.core.cache import Cached
from forum.core.db import rowcount, utcnow
from forum.core.errors import DomainError, Forbidden
from forum.core.fastpath import Prepared, fast_path, fetch_rows
from forum.core.settings import Settings
from forum.core.text import clean_line
from moderation import cues
from moderation.normalise import for_model

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,29}$")
# A deleted account's name is this with its id ("deleted_member_42"); nobody registers one.
DELETED_PREFIX = "deleted_member"
# Structural check only; ownership is proven by the reset mail, not by a pattern.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PASSWORD_MIN = 10
# The letters of passwords anyone trying accounts guesses first ("password12", "qwertyuiop",
# with digits and marks around them).
COMMON_PASSWORDS = frozenset({
    "password", "passwords", "passw", "qwerty", "qwertyuiop", "asdfghjkl", "zxcvbnm", "letmein",
    "welcome", "iloveyou", "admin", "administrator", "monkey", "dragon", "football",
    "baseball", "sunshine", "princess", "trustno", "abcdef", "abcdefg", "abcdefgh",
    "abcdefghij", "changeme", "secret", "mentoring",
})  # fmt: skip
PASSWORD_MAX = 200


class AccountError(DomainError):
    """A rule about accounts was broken; `field` names the form field at fault."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The cue reading at which a username is refused (moderation.cues: stock put-downs score
# 0.85-1.0 stated directly, far less quoted, reported or advised against).
USERNAME_CUE_MAX = 0.5
# Words a member may not take as part of a name at registration: a name that reads as staff
# ("morgan-mod") borrows the moderators' voice. Operators, the CLI and the demo may.
# (Read with digits for letters: "m0d", "adm1n". Not "staff": "staff_engineer_jo" is a job.)
STAFF_WORDS = frozenset({"admin", "admins", "administrator", "moderator", "moderators", "mod",
                         "mods", "official"})  # fmt: skip
# Digits read as the letters they pass for ("t00 jun10r"): names here, programmes' texts too.
DIGITS_FOR_LETTERS = str.maketrans("013457", "oieast")


def on_premoderation(user: User, settings: Settings) -> bool:
    """Whether what `user` writes now (posts, edits, profile, messages) waits for a moderator:
    placed on pre-moderation, or a new account within its first
    `CANDOR_PREMODERATE_FIRST_POSTS` posts."""
    return user.premoderated or user.post_count < settings.premoderate_first_posts


def established(member: User, settings: Settings) -> bool:
    """A member past their first day with a few accepted posts, or past the days a report
    needs to count in full. Only an established member's reply up the ladder is spared the
    worker's hold (moderation.signals.PostInput), and only their posts are on view before the
    worker has read them (a fresh account's wait, hidden, for its check: forum.board.posting)."""
    if member.younger_than(timedelta(hours=settings.posts_new_account_hours)):
        return False
    settled = not member.younger_than(timedelta(days=settings.report_standing_days))
    return settled or member.post_count >= settings.report_standing_posts


def awaits_check(member: User, settings: Settings) -> bool:
    """Whether what `member` writes now (posts, edits, profile text) stays out of others'
    sight until the worker has read it (the state *checking*): a fresh account's, while the
    setting is on."""
    return settings.hide_new_accounts_posts_until_checked and not established(member, settings)


def validate_username(username: str) -> str:
    username = clean_line(username)
    if not USERNAME_RE.match(username):
        raise AccountError(
            "username",
            "Usernames are 3 to 30 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
        )
    # Deleted accounts are renamed deleted_member_<id>: nobody takes such a name, nor one that
    # reads like it ("Deleted.Member-12", "de1eted_member_12"), to pass as one.
    if username_skeleton(username).startswith(username_skeleton(DELETED_PREFIX)):
        raise AccountError(
            "username", f"Names starting {DELETED_PREFIX} are kept for deleted accounts."
        )
    # A name shows on every post and in "last post by" lines, and the worker never reads it:
    # a put-down for a name ("know_your_place_kid", "too_junior_to_get_this",
    # "come_back_in_20yrs") is refused here, read as words, text-speak spelt out, and run
    # together ("youretoojuniortogetthis"). A name is not speech: any cue reading a put-down
    # refuses it, not only a stock one.
    readings = (_name_words(username), _name_words(username.translate(DIGITS_FOR_LETTERS)))
    squashed = re.sub(r"[^a-z]", "", username.lower().translate(DIGITS_FOR_LETTERS))
    if max(
        cues.reading(for_model(words)) for words in readings
    ) >= USERNAME_CUE_MAX or cues.SQUASHED_PUT_DOWN.search(squashed):
        raise AccountError("username", "Choose another username: this one reads as a put-down.")
    return username


def _name_words(username: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Za-z])|[._\-]+", " ", username)


# What a name looks like to a reader: without case and separators, and with the characters
# that pass for others in a thread's font read alike. "morgan-mod", "Morgan.Mod" and
# "rnorgan_mod" are "morgan_mod" to anyone reading a thread.
_LOOK_ALIKE = (
    (".", ""), ("_", ""), ("-", ""), ("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "i"),
    ("l", "i"), ("3", "e"), ("4", "a"), ("5", "s"), ("7", "t"),
    # And digits a probe passed for letters ("2ed_beta", "zed_6eta"). Each digit reads as a
    # letter no other digit reads as, so names told apart by digits alone stay apart.
    ("2", "z"), ("6", "b"),
)  # fmt: skip


def username_skeleton(username: str) -> str:
    skeleton = username.lower()
    for seen, read in _LOOK_ALIKE:
        skeleton = skeleton.replace(seen, read)
    return skeleton


def _skeleton_column(key: ColumnElement[str] | None = None) -> ColumnElement[str]:
    """`username_skeleton` in SQL, of a lower-cased name column (by default the members')."""
    column: ColumnElement[str] = User.username_key.expression if key is None else key
    for seen, read in _LOOK_ALIKE:
        column = func.replace(column, seen, read)
    return column


def check_staff_words(username: str) -> None:
    parts = _name_words(username.translate(DIGITS_FOR_LETTERS)).lower().split()
    # Read as a reader reads them: "rnoderator", "admln".
    if {username_skeleton(w) for w in STAFF_WORDS} & {username_skeleton(p) for p in parts}:
        raise AccountError("username", "Usernames may not name a staff role (mod, admin).")


def validate_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise AccountError("email", "Enter a valid e-mail address.")
    # The .invalid names are reserved (RFC 2606) and deleted accounts' addresses are made
    # there: an unconfirmed registration holding one made that member's deletion fail.
    if email.lower().rstrip(".").endswith(".invalid"):
        raise AccountError("email", "Enter a valid e-mail address.")
    return email


def validate_password(password: str, field: str = "password", username: str = "") -> str:
    if len(password) < PASSWORD_MIN:
        raise AccountError(field, f"Passwords need at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise AccountError(field, f"Passwords can have at most {PASSWORD_MAX} characters.")
    # The first guesses of anyone trying accounts: digits only ("1234567890"), a few
    # characters repeated ("aaaaaaaaaa", "abcabcabca") or the account's own name in it.
    core = re.sub(r"[^a-z]", "", password.lower())
    if password.isdigit() or len(set(password.lower())) < 5 or core in COMMON_PASSWORDS:
        raise AccountError(field, "Choose a password that is harder to guess: mix words, "
                                  "letters and digits, or use a passphrase.")  # fmt: skip
    if len(username) >= 3 and (
        username.lower() in password.lower() or username.lower()[::-1] in password.lower()
    ):
        raise AccountError(field, "Choose a password that does not contain your username.")
    return password


async def create_user(
    session: AsyncSession,
    passwords: Passwords,
    *,
    username: str,
    email: str,
    password: str,
    role: str = Role.member.value,
    location: str = "",
    joined_at: datetime | None = None,
    confirmed: bool = True,
    score_profile: bool = False,
    hide_until_checked: bool = False,
    time_zone: str = "",
) -> User:
    """A new account. `score_profile` sends a location typed at registration to the moderation
    worker (accounts made by an operator, the CLI or the demo are not scored);
    `hide_until_checked` keeps it from others until the worker has read it. A `time_zone`
    that is not a known zone's name is dropped (the registration form's is the browser's
    guess, not something the member typed)."""
    username = validate_username(username)
    email = validate_email(email)
    validate_password(password, username=username)
    if role not in {r.value for r in Role}:
        raise AccountError("role", f"Unknown role {role!r}.")
    # A registration never confirmed, whose link has expired, holds its name and address no
    # longer: it goes, so that they can be registered afresh.
    await _drop_lapsed_registrations(session, username, email)
    problem = await username_problem(session, username)
    if problem is not None:
        raise AccountError("username", problem)
    if await address_owner(session, email) is not None:
        raise AccountError("email", "An account with that e-mail address already exists.")
    checking = score_profile and hide_until_checked and bool(location.strip())
    user = User(
        username=username,
        username_key=username.lower(),
        email=email,
        email_key=email.lower(),
        password_hash=await passwords.hash(password),
        role=role,
        location=clean_line(location)[:100],
        joined_at=joined_at or utcnow(),
        post_count=0,
        points=0,
        email_confirmed_at=(joined_at or utcnow()) if confirmed else None,
        profile_state=(ProfileState.checking if checking else ProfileState.clear).value,
        profile_note=PROFILE_CHECKING_NOTE if checking else "",
        profile_needs_scoring=score_profile and bool(location.strip()),
        profile_version=0,
        time_zone=timezones.canonical(time_zone)
        if timezones.valid(time_zone) and time_zone != "UTC"
        else "",
    )
    if role in (Role.moderator.value, Role.admin.value):  # an editor is not a moderator
        user.special_rank_id = await session.scalar(
            select(Rank.id).where(
                Rank.name == ("Administrator" if role == "admin" else "Moderator")
            )
        )
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError:
        # Lost a race with a concurrent registration of the same name or address.
        raise AccountError("username", "That username or e-mail address is taken.") from None
    return user


USERNAME_TAKEN = "That username is taken, or waiting for its registration to be confirmed."


def _lapsed() -> ColumnElement[bool]:
    """An account whose address nobody confirmed and whose owner can no longer confirm it:
    made more than CONFIRMATION_HOURS ago, with no unused, unexpired registration or reset
    link (signing in with the right password mails a fresh link, and so keeps it alive).
    Such an account cannot have signed in, so it has written nothing."""
    now = utcnow()
    live_link = [
        select(kind.id).where(
            kind.user_id == User.id, kind.used_at.is_(None), kind.expires_at > now
        ).exists()
        for kind in (EmailConfirmation, PasswordResetToken)
    ]  # fmt: skip
    condition: ColumnElement[bool] = and_(
        User.email_confirmed_at.is_(None),
        User.joined_at < now - timedelta(hours=CONFIRMATION_HOURS),
        *(~link for link in live_link),
    )
    return condition


async def _drop_lapsed_registrations(
    session: AsyncSession, username: str | None, email: str
) -> None:
    """Delete the lapsed registrations (`_lapsed`) holding this name (or one that reads alike)
    or this address. Their links go first, explicitly: a link must never outlive its account."""
    holds: list[ColumnElement[bool]] = [User.email_key == email.lower()]
    if username:
        holds += [
            User.username_key == username.lower(),
            _skeleton_column() == username_skeleton(username),
        ]
    ids = list((await session.scalars(select(User.id).where(or_(*holds), _lapsed()))).all())
    if not ids:
        return
    try:
        async with session.begin_nested():
            for kind in (EmailConfirmation, PasswordResetToken, EmailChange, LoginSession):
                await session.execute(delete(kind).where(kind.user_id.in_(ids)))
            await session.execute(
                delete(User)
                .where(User.id.in_(ids), _lapsed())
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        pass  # something refers to it after all: it keeps its name, as before


async def username_problem(session: AsyncSession, username: str) -> str | None:
    """Why a well-formed `username` cannot be registered (taken, awaiting a registration's
    confirmation, or reading like a member's name), or None. Lapsed registrations (`_lapsed`)
    do not count: registering deletes them."""
    key = username.lower()
    if await session.scalar(select(User.id).where(User.username_key == key, ~_lapsed())):
        return USERNAME_TAKEN
    # Names that read alike ("morgan-mod" beside "morgan_mod") are one name to a reader.
    # Compared by skeleton: a scan of the names, made at registration only.
    alike = await session.scalar(
        select(User.username)
        .where(_skeleton_column() == username_skeleton(username), ~_lapsed())
        .limit(1)
    )
    if alike is not None:
        return f"That username is too like {alike}'s: choose another."
    # A name held by an attempt with a known address answers as a pending registration's,
    # and a deleted account's former name as a taken one, word for word (nobody takes it,
    # nor one alike; a probe told a deleted name apart when the words differed).
    for key_column, shown_column, live in (
        (HeldUsername.username_key, HeldUsername.username, HeldUsername.held_until > utcnow()),
        (RetiredUsername.username_key, RetiredUsername.username_key, true()),
    ):
        found = await session.scalar(
            select(shown_column)
            .where(
                live,
                or_(
                    key_column == key,
                    _skeleton_column(key_column.expression) == username_skeleton(username),
                ),
            )
            .limit(1)
        )
        if found is not None:
            return (
                USERNAME_TAKEN
                if found.lower() == key
                else (f"That username is too like {found}'s: choose another.")
            )
    return None


async def hold_username(
    session: AsyncSession, username: str, email: str = "", password_hash: str = ""
) -> None:
    """Hold a free `username` for as long as a pending registration holds its name
    (`HeldUsername`), after an attempt to register it with an address that has an account,
    with the address and the password's hash it was tried with."""
    key = username.strip().lower()
    until = utcnow() + timedelta(hours=CONFIRMATION_HOURS)
    try:
        async with session.begin_nested():
            row = await session.get(HeldUsername, key)
            if row is None:
                row = HeldUsername(username_key=key, username=username.strip(), held_until=until)
                session.add(row)
            row.held_until = until
            row.email_key = email.strip().lower()
            row.password_hash = password_hash
    except IntegrityError:
        pass  # held by a request at the same moment: held either way


async def held_attempts(session: AsyncSession, typed: str) -> list[HeldUsername]:
    """The live holds named by `typed` (a username, or the address an attempt was made with)."""
    key = typed.strip().lower()
    column = HeldUsername.email_key if "@" in key else HeldUsername.username_key
    return list(
        await session.scalars(
            select(HeldUsername)
            .where(column == key, HeldUsername.held_until > utcnow())
            .order_by(HeldUsername.held_until.desc())  # the latest attempt first
            .limit(5)
        )
    )


async def prune_held_usernames(session: AsyncSession) -> None:
    await session.execute(delete(HeldUsername).where(HeldUsername.held_until < utcnow()))


async def end_lapsed_suspensions(session: AsyncSession) -> int:
    """Suspensions whose time has run out end in the record too (`is_suspended` already read
    them as over): the member was left "suspended" for good, missing from lists that ask for
    active members, and a moderator could not lift what was over (an attacker probe). The
    number ended."""
    ended = await session.execute(
        update(User)
        .where(User.status == UserStatus.suspended.value, User.suspended_until <= utcnow())
        .values(status=UserStatus.active.value, suspended_until=None)
    )
    return rowcount(ended)


def check_registration(username: str, email: str, password: str, confirm: str) -> dict[str, str]:
    """Every problem with a registration form's fields at once (field -> message), without
    asking the database; `username_problem` and the address's owner are the caller's next
    questions."""
    errors: dict[str, str] = {}
    checks = (
        ("username", username, "Choose a username.",
         lambda: check_staff_words(validate_username(username))),
        ("email", email, "Enter your e-mail address.", lambda: validate_email(email)),
        ("password", password, "Choose a password.",
         lambda: validate_password(password, username=username)),
    )  # fmt: skip
    for name, value, missing, check in checks:
        if not value.strip():
            errors[name] = missing
            continue
        try:
            check()
        except AccountError as exc:
            errors[exc.field or name] = exc.message
    if password and password != confirm:
        errors["password_confirm"] = "The two passwords do not match."
    return errors


async def find_by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username_key == username.lower()[:30]))


async def set_role(
    session: AsyncSession, admin: User, member: User, role: str, special_rank_id: int | None
) -> None:
    """An administrator sets a member's role and special rank (audited). Nobody removes
    their own administrator role, so the board always keeps one administrator."""
    if not admin.is_admin:
        raise Forbidden("Only administrators can do that.")
    if role not in {r.value for r in Role}:
        raise AccountError("role", "Unknown role.")
    if special_rank_id is not None:
        special = select(Rank.id).where(Rank.id == special_rank_id, Rank.is_special.is_(True))
        if await session.scalar(special) is None:
            raise AccountError("special_rank_id", "Unknown special rank.")
    if member.id == admin.id and role != Role.admin.value:
        raise AccountError("role", "You cannot remove your own administrator role.")
    if is_deleted(member):
        raise AccountError("role", "This account has been deleted: it keeps no role.")
    if (member.role, member.special_rank_id) == (role, special_rank_id):
        return  # nothing changed: nothing to log
    names = dict((await session.execute(select(Rank.id, Rank.name))).all())

    def said(role_value: str, rank_id: int | None) -> str:
        rank = (
            names.get(rank_id, "earned by points") if rank_id is not None else ("earned by points")
        )
        return f"{ROLE_LABELS.get(Role(role_value), role_value)}, rank {rank}"

    before = said(member.role, member.special_rank_id)
    member.role = role
    member.special_rank_id = special_rank_id
    # In words ("Member, rank earned by points → Editor, rank earned by points"): the log
    # showed "role=editor special_rank_id=None".
    audit(session, admin, "set_role", "user", member.id, "",
          f"{before} → {said(role, special_rank_id)}")  # fmt: skip


async def set_role_from_the_command_line(session: AsyncSession, member: User, role: str) -> str:
    """The operator sets a member's role (`candor user role`): on a fresh board the first
    administrator registered on the web had no way to be made one (the newcomer probe). A
    staff role brings its special rank, as `create_user` gives it; leaving one drops it.
    Logged with no actor (the operator). The change in words."""
    if role not in {r.value for r in Role}:
        raise AccountError(
            "role", f"Unknown role {role!r}: one of {', '.join(r.value for r in Role)}."
        )
    if is_deleted(member):
        raise AccountError("role", "This account has been deleted: it keeps no role.")
    staff_ranks = dict(
        (await session.execute(
            select(Rank.name, Rank.id).where(Rank.name.in_(("Administrator", "Moderator")))
        )).all()
    )  # fmt: skip
    before = ROLE_LABELS.get(Role(member.role), member.role)
    member.role = role
    if role in (Role.moderator.value, Role.admin.value):
        member.special_rank_id = staff_ranks.get(
            "Administrator" if role == "admin" else "Moderator"
        )
    elif member.special_rank_id in staff_ranks.values():
        member.special_rank_id = None
    change = f"{before} → {ROLE_LABELS.get(Role(role), role)}"
    detail = f"{change} (from the command line)"
    session.add(AuditEntry(actor_id=None, action="set_role", target_type="user",
                           target_id=member.id, detail=detail))  # fmt: skip
    return change


async def find_user(session: AsyncSession, username_or_email: str) -> User | None:
    key = username_or_email.strip().lower()
    if not key:
        return None
    column = User.email_key if "@" in key else User.username_key
    return await session.scalar(select(User).where(column == key))


# Who may act on whom: nobody acts on a peer or a superior. Moderators act on members and
# editors; what concerns a moderator or an administrator goes to an administrator.
ROLE_LEVEL = {Role.member.value: 0, Role.editor.value: 0, Role.programme_lead.value: 0,
              Role.moderator.value: 1, Role.admin.value: 2}  # fmt: skip
PEER_OR_SUPERIOR = (
    "Moderators act on members; a moderator's or an administrator's account is for an "
    "administrator to act on."
)


def outranks(actor: User, member: User) -> bool:
    return ROLE_LEVEL.get(actor.role, 0) > ROLE_LEVEL.get(member.role, 0)


RESTRICTIONS = ("suspension", "premoderation")


async def lift_restriction(
    session: AsyncSession, actor: User, member: User, restriction: str, reason: str
) -> None:
    """A moderator or an administrator lifts a member's suspension or pre-moderation, with a
    reason, in the audit log."""
    reason = _restriction_checked(actor, member, restriction, reason, "it is kept in the log")
    if restriction == "suspension":
        if not is_suspended(member):
            raise AccountError("restriction", f"{member.username} is not suspended.")
        member.status = UserStatus.active.value
        member.suspended_until = None
    else:
        if not member.premoderated:
            raise AccountError("restriction", f"{member.username} is not on pre-moderation.")
        member.premoderated = False
    audit(session, actor, f"lift_{restriction}", "user", member.id, reason[:2000])


def guess_key(user: User | None, typed: str = "") -> str:
    """What password guesses are counted by. At sign-in (`typed`), the name as typed, folded
    as `find_user` folds it: an account has two names, its username and its e-mail address,
    and each has its own count, so a lockout met through one says nothing about the other (a
    probe learnt which address belongs to which username by locking one and trying the
    other). The forms of a signed-in member count by the account."""
    if typed.strip():
        return f"name:{typed.strip().lower()[:254]}"
    assert user is not None
    return f"user:{user.id}"


def sign_in_keys(user: User) -> tuple[str, str]:
    """The sign-in form's guess keys for `user`'s two names."""
    return guess_key(None, user.username_key), guess_key(None, user.email_key)


PROFILE_HELD_NOTE = "Waiting for a moderator's approval before other members can see it."
PROFILE_CHECKING_NOTE = (
    "Other members see it once the automatic check has read it, usually within seconds "
    "(new accounts' profiles wait for it)."
)


async def update_profile(
    session: AsyncSession, settings: Settings, user: User, location: str, bio: str
) -> bool:
    """Save a member's location and bio; True if they changed. Changed text goes to the
    moderation worker like a post: public meanwhile, unless the member is on pre-moderation or
    a moderator had hidden the earlier text, when it waits for a moderator, or the account is
    not yet established, when it waits (checking) for the worker (as its posts do: a probe's
    put-down for a bio was on view for 15 s behind a backlog)."""
    if is_suspended(user):
        raise Forbidden("Your account is suspended: your profile cannot be changed.")
    if location == user.location and bio == user.bio:
        return False
    user.location = location
    user.bio = bio
    user.profile_version += 1
    user.profile_needs_scoring = True
    premoderated = on_premoderation(user, settings)
    held = not user.is_moderator and (
        premoderated or user.profile_state == ProfileState.hidden.value
    )
    if held:
        user.profile_state = ProfileState.held.value
        user.profile_note = PROFILE_HELD_NOTE
    elif user.profile_state != ProfileState.held.value:
        checking = not user.is_moderator and awaits_check(user, settings)
        user.profile_state = (ProfileState.checking if checking else ProfileState.pending).value
        user.profile_note = PROFILE_CHECKING_NOTE if checking else ""
    await events.announce(session, ProfileChanged(user.id, held))
    return True


def set_time_zone(user: User, name: str) -> None:
    """The zone the member's pages show times in ("UTC" or "" for UTC)."""
    name = name.strip()
    if name and not timezones.valid(name):
        raise AccountError("time_zone", "Choose a time zone from the list.")
    user.time_zone = "" if name == "UTC" else timezones.canonical(name)


# How long a moderator may suspend a member for (the review queue's decisions and a profile's
# restriction form offer these).
SUSPENSIONS = {"24h": timedelta(hours=24), "72h": timedelta(hours=72), "7d": timedelta(days=7),
               "30d": timedelta(days=30)}  # fmt: skip


async def impose_restriction(
    session: AsyncSession,
    actor: User,
    member: User,
    restriction: str,
    reason: str,
    duration: str = "",
) -> None:
    """A moderator or an administrator suspends a member, or puts them on pre-moderation, from
    their profile, with a reason, in the audit log (a probe's administrator could do it only
    by reporting one of the member's posts and deciding on it, which also hid the post)."""
    reason = _restriction_checked(
        actor, member, restriction, reason, "the member is told it, and it is logged"
    )
    if restriction == "suspension":
        if duration not in SUSPENSIONS:
            raise AccountError("duration", "Choose how long to suspend for.")
        if is_suspended(member):
            # (A probe's moderator cut an administrator's 30 days to 24 hours, mailing each time.)
            raise AccountError(
                "restriction",
                f"{member.username} is suspended already: lift that suspension first to set "
                "another.",
            )
        suspend(member, duration)
    else:
        if member.premoderated:
            raise AccountError("restriction", f"{member.username} is on pre-moderation already.")
        member.premoderated = True
    audit(session, actor, f"impose_{restriction}", "user", member.id, reason[:2000], duration)


def _restriction_checked(
    actor: User, member: User, restriction: str, reason: str, told: str
) -> str:
    """What imposing and lifting a restriction both check: the hierarchy (nobody acts on
    themselves, a peer or a superior), a live account, a known restriction and a reason,
    returned stripped."""
    if member.id == actor.id or not outranks(actor, member):
        raise Forbidden(PEER_OR_SUPERIOR)
    if is_deleted(member):
        raise AccountError("restriction", "That account has been deleted.")
    if restriction not in RESTRICTIONS:
        raise AccountError("restriction", "Choose a restriction.")
    reason = reason.strip()
    if not reason:
        raise AccountError("reason", f"Give a reason: {told}.")
    return reason


def suspend(member: User, duration: str) -> None:
    """Suspend `member` for `duration` (a key of SUSPENSIONS), from the profile or a review
    decision. A suspension running already is never shortened by another (lifting it is how
    one ends early): a probe's moderator cut an administrator's 30 days to 24 hours. A deleted
    account stays deleted."""
    if is_deleted(member):
        return
    running = is_suspended(member)
    if running and member.suspended_until is None:
        return  # suspended with no end: stays so
    until = utcnow() + SUSPENSIONS[duration]
    if running and member.suspended_until is not None:
        until = max(until, member.suspended_until)
    member.status = UserStatus.suspended.value
    member.suspended_until = until


def is_suspended(user: User) -> bool:
    if user.status != UserStatus.suspended.value:
        return False
    return user.suspended_until is None or user.suspended_until > utcnow()


# --- sessions -------------------------------------------------------------------------------


async def start_session(session: AsyncSession, user: User, days: int, user_agent: str = "") -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            id=token_hash(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=days),
            user_agent=user_agent[:200],
        )
    )
    return token


_USER_FOR_SESSION = (
    select(User)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(LoginSession.id == bindparam("sid"), LoginSession.expires_at > bindparam("now"))
)


_USER_ATTRIBUTES = tuple(attr.key for attr in inspect(User).column_attrs)
# Every column of a member, as a named row the fast path returns.
UserRow = NamedTuple("UserRow", [(key, object) for key in _USER_ATTRIBUTES])  # type: ignore[misc]
_USER_ROW_FOR_SESSION = Prepared(
    _USER_FOR_SESSION.with_only_columns(
        *(getattr(User, key).label(key) for key in _USER_ATTRIBUTES), maintain_column_froms=True
    ),
    UserRow,
)


async def user_for_session(session: AsyncSession, token: str | None) -> User | None:
    """The member signed in with `token`. A read-only request (every logged-in page view)
    reads the row on the fast path and hands the session a User built from it: the ORM's
    loading machinery was most of what a logged-in page cost over an anonymous one. The User
    is complete (every column), so it behaves exactly like a loaded one."""
    if not token or len(token) > 100:
        return None
    params = {"sid": token_hash(token), "now": utcnow()}
    conn = await session.connection()
    if not fast_path(conn):
        return await session.scalar(_USER_FOR_SESSION, params)
    rows = await fetch_rows(conn, _USER_ROW_FOR_SESSION, params)
    if not rows:
        return None
    user = User(**rows[0]._asdict())
    make_transient_to_detached(user)  # as if just loaded: persistent once added, nothing to flush
    session.add(user)
    return user


async def end_session(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.execute(delete(LoginSession).where(LoginSession.id == token_hash(token)))


async def end_all_sessions(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


async def set_password(session: AsyncSession, passwords: Passwords, user: User, new: str) -> None:
    validate_password(new, username=user.username)
    user.password_hash = await passwords.hash(new)
    # Every other sign-in of this account ends; the caller starts a fresh one if it wants.
    await end_all_sessions(session, user.id)


# --- single-use links: password resets and registration confirmations ----------------------

CONFIRMATION_HOURS = 48
T = TypeVar("T", PasswordResetToken, EmailConfirmation, EmailChange)


async def _issue(session: AsyncSession, kind: type[T], user: User, lifetime: timedelta) -> str:
    """A new link token of `kind` for `user`; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(kind(user_id=user.id, token_hash=token_hash(token), expires_at=utcnow() + lifetime))
    return token


async def _find(session: AsyncSession, kind: type[T], token: str) -> T | None:
    """The token's record if it is known, unused and unexpired."""
    if not token or len(token) > 100:
        return None
    record = await session.scalar(select(kind).where(kind.token_hash == token_hash(token)))
    if record is None or record.used_at is not None or record.expires_at <= utcnow():
        return None
    return record


async def _claim(session: AsyncSession, kind: type[T], token: str) -> User | None:
    """Use the token once, atomically: of two concurrent uses only one updates the row and
    gets the member."""
    record = await _find(session, kind, token)
    if record is None:
        return None
    claimed = await session.execute(
        update(kind).where(kind.id == record.id, kind.used_at.is_(None)).values(used_at=utcnow())
    )
    return await session.get(User, record.user_id) if rowcount(claimed) == 1 else None


def _address_proven(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()


async def create_reset_token(session: AsyncSession, user: User, minutes: int) -> str:
    return await _issue(session, PasswordResetToken, user, timedelta(minutes=minutes))


async def find_reset_token(session: AsyncSession, token: str) -> PasswordResetToken | None:
    return await _find(session, PasswordResetToken, token)


async def use_reset_token(
    session: AsyncSession, passwords: Passwords, token: str, new_password: str
) -> User | None:
    # Checked before the link is used up, with the account's name (a password holding it is
    # refused): a refused password leaves the link good for the next try.
    record = await _find(session, PasswordResetToken, token)
    owner = await session.get(User, record.user_id) if record is not None else None
    validate_password(new_password, username=owner.username if owner is not None else "")
    user = await _claim(session, PasswordResetToken, token)
    if user is None:
        return None
    await set_password(session, passwords, user, new_password)
    _address_proven(user)  # the reset link proved the address is theirs
    # Any other outstanding tokens for the account die with this one.
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return user


async def create_confirmation(session: AsyncSession, user: User) -> str:
    return await _issue(session, EmailConfirmation, user, timedelta(hours=CONFIRMATION_HOURS))


# A sign-in to an account whose address is unproven mails the link again at most this often
# (a newcomer probe's repeated sign-ins mailed it on every try).
RESEND_CONFIRMATION_AFTER = timedelta(minutes=10)


async def confirmation_sent_lately(session: AsyncSession, user: User) -> bool:
    """Whether a registration link went to the member within RESEND_CONFIRMATION_AFTER."""
    return (
        await session.scalar(
            select(EmailConfirmation.id)
            .where(
                EmailConfirmation.user_id == user.id,
                EmailConfirmation.created_at > utcnow() - RESEND_CONFIRMATION_AFTER,
            )
            .limit(1)
        )
        is not None
    )


async def confirmation_valid(session: AsyncSession, token: str) -> bool:
    """Whether a registration link is still good (known, unused, unexpired), without using it."""
    return await _find(session, EmailConfirmation, token) is not None


async def confirm_email(session: AsyncSession, token: str) -> User | None:
    """The member whose registration link this is, now confirmed; None if it is unknown,
    used or expired."""
    user = await _claim(session, EmailConfirmation, token)
    if user is not None:
        _address_proven(user)
    return user


# --- changing one's e-mail address -----------------------------------------------------------

EMAIL_CHANGE_HOURS = 24


def mask_email(address: str) -> str:
    """Enough of an address for its owner to recognise it, in a mail to someone else's box."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


async def address_owner(session: AsyncSession, email: str) -> User | None:
    """The account holding `email`; a lapsed registration (`_lapsed`) holds it no longer."""
    return await session.scalar(select(User).where(User.email_key == email.lower(), ~_lapsed()))


async def request_email_change(session: AsyncSession, user: User, new_email: str) -> str:
    """A link token for moving `user` to `new_email` (validated, not the current address);
    the caller mails it to the new address. The address changes only when it is opened."""
    new_email = validate_email(new_email)
    if new_email.lower() == user.email_key:
        raise AccountError("email", "That is already your address.")
    token = secrets.token_urlsafe(32)
    session.add(
        EmailChange(
            user_id=user.id,
            new_email=new_email,
            token_hash=token_hash(token),
            expires_at=utcnow() + timedelta(hours=EMAIL_CHANGE_HOURS),
        )
    )
    return token


async def find_email_change(session: AsyncSession, user: User, token: str) -> EmailChange | None:
    """The pending change this link names, if it is `user`'s, unused and unexpired."""
    record = await _find(session, EmailChange, token)
    return record if record is not None and record.user_id == user.id else None


async def confirm_email_change(session: AsyncSession, user: User, token: str) -> str | None:
    """Move `user` to the address the link was sent to; the old address, or None if the link
    is unknown, used, expired or another member's. The link must be opened by the member
    signed in (a mistyped address's owner cannot take the account over by opening it)."""
    record = await find_email_change(session, user, token)
    if record is None:
        return None
    other = await address_owner(session, record.new_email)
    if other is not None and other.id != user.id:
        raise AccountError("email", "That address now belongs to another account.")
    claimed = await session.execute(
        update(EmailChange)
        .where(EmailChange.id == record.id, EmailChange.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if rowcount(claimed) != 1:
        return None
    await _drop_lapsed_registrations(session, None, record.new_email)
    old = user.email
    user.email = record.new_email
    user.email_key = record.new_email.lower()
    user.email_confirmed_at = utcnow()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # lost a race with a registration of the same address
        raise AccountError("email", "That address now belongs to another account.") from None
    # Links mailed to the old address, and other pending changes, die with it.
    for kind in (PasswordResetToken, EmailChange):
        await session.execute(
            update(kind)
            .where(kind.user_id == user.id, kind.used_at.is_(None))
            .values(used_at=utcnow())
        )
    return old


# --- deleting one's account ----------------------------------------------------------------

# Reserved for examples and tests (RFC 2606): no mail is ever delivered there.
DELETED_EMAIL_DOMAIN = "deleted.invalid"
# Not an argon2 hash: no password verifies against it (Passwords.verify says False).
UNUSABLE_PASSWORD = "!deleted"
LAST_ADMIN = (
    "You are the board's last administrator: make another member an administrator (on their "
    "profile) before you delete your account, so that someone can still run the board."
)


def is_deleted(user: User) -> bool:
    return user.status == UserStatus.deleted.value


async def is_last_admin(session: AsyncSession, user: User, *, lock: bool = False) -> bool:
    """Whether `user` is the only administrator left. With `lock`, the administrators' rows
    are locked (in id order, so two at once wait rather than deadlock) until the transaction
    ends: of two last administrators deleting their accounts at once, the second sees the
    first gone and is refused."""
    if not user.is_admin:
        return False
    query = select(User.id).where(
        User.role == Role.admin.value, User.status != UserStatus.deleted.value
    )
    if lock:
        query = query.order_by(User.id).with_for_update()
    return set(await session.scalars(query)) <= {user.id}


async def delete_account(session: AsyncSession, settings: Settings, user: User) -> str:
    """The member deletes their own account (the caller checked their password), in the
    request's transaction; returns the anonymous name their posts now show.

    The account stays, anonymised, so that threads stay readable: posts, reactions, private
    messages, reports and the points ledger are kept. It is renamed deleted_member_<id>; its
    former name is retired (`RetiredUsername`: nobody registers it, nor one that reads alike);
    its address is freed for a new registration (replaced by one nobody receives); no password
    signs in to it; every session ends; its profile text, role and special rank go, and so do
    its pending e-mail changes and its confirmation and reset links. The domains above remove
    the rest (AccountDeleting: drafts, notifications, watches, blocks, programme applications
    and pairs). Audited without the old address. The last administrator is refused."""
    if is_deleted(user):
        raise AccountError("", "This account has already been deleted.")
    if await is_last_admin(session, user, lock=True):
        raise AccountError("", LAST_ADMIN)
    old_key = user.username_key
    # Marked first: a suspended member may delete their account, and what the domains above do
    # for them (leaving a programme) is refused to a suspended one.
    user.status = UserStatus.deleted.value
    await events.announce(session, AccountDeleting(user.id, settings))
    anonymous = f"{DELETED_PREFIX}_{user.id}"
    taken = select(User.id).where(User.username_key == anonymous, User.id != user.id)
    if await session.scalar(taken) is not None:  # registered before such names were refused
        anonymous = f"{anonymous}_{secrets.token_hex(3)}"
    user.username = user.username_key = anonymous
    address = f"{anonymous}@{DELETED_EMAIL_DOMAIN}"
    if await session.scalar(select(User.id).where(User.email_key == address, User.id != user.id)):
        address = f"{anonymous}.{secrets.token_hex(4)}@{DELETED_EMAIL_DOMAIN}"
    user.email = user.email_key = address
    user.password_hash = UNUSABLE_PASSWORD
    user.role = Role.member.value
    user.special_rank_id = None
    user.location = ""
    user.bio = ""
    user.profile_state = ProfileState.clear.value
    user.profile_note = ""
    user.profile_needs_scoring = False
    user.profile_version += 1  # a verdict on the old text, arriving late, finds it gone
    user.rank_notice = None
    user.notifications_unread = 0
    session.add(RetiredUsername(username_key=old_key))
    for kind in (EmailConfirmation, PasswordResetToken, EmailChange):
        await session.execute(delete(kind).where(kind.user_id == user.id))
    await end_all_sessions(session, user.id)
    audit(
        session, user, "account_delete", "user", user.id,
        detail=f"Their posts now show as {anonymous}.",  # not the old name: they left
    )  # fmt: skip
    await session.flush()
    return anonymous


# --- ranks and points -------------------------------------------------------------------------


@dataclass(frozen=True)
class RankTable:
    earned: list[tuple[int, str]]  # (min_points, name), ascending
    special: dict[int, str]

    def rank_for(self, points: int, special_rank_id: int | None = None) -> str:
        if special_rank_id is not None and special_rank_id in self.special:
            return self.special[special_rank_id]
        name = self.earned[0][1] if self.earned else ""
        for min_points, rank_name in self.earned:
            if points >= min_points:
                name = rank_name
        return name

    def floor_of(self, points: int) -> tuple[int, str] | None:
        """The earned rank (threshold, name) held at `points`."""
        held = None
        for min_points, name in self.earned:
            if points >= min_points:
                held = (min_points, name)
        return held


async def _read_ranks(session: AsyncSession) -> RankTable:
    rows = (await session.execute(select(Rank).order_by(Rank.min_points))).scalars().all()
    return RankTable(
        earned=[
            (r.min_points, r.name) for r in rows if not r.is_special and r.min_points is not None
        ],
        special={r.id: r.name for r in rows if r.is_special},
    )


_RANKS = Cached(_read_ranks)


async def load_ranks(session: AsyncSession, cache_seconds: float = 0.0) -> RankTable:
    """The rank table; pages pass `cache_seconds` to reuse it briefly: every author panel
    needs it and it changes only when an admin edits ranks."""
    return await _RANKS.get(session, cache_seconds)


RANK_NAME_MAX = 60
POINTS_MAX = 1_000_000_000


def _forget_ranks() -> None:
    """After an edit: this process reads the table afresh; others within `cache_seconds`."""
    _RANKS.forget()


async def _check_rank(
    session: AsyncSession, name: str, min_points: int | None, special: bool, rank_id: int | None
) -> str:
    name = clean_line(name)
    if not name:
        raise AccountError("name", "A rank needs a name.")
    if len(name) > RANK_NAME_MAX:
        raise AccountError("name", f"Keep rank names to {RANK_NAME_MAX} characters.")
    same_name = select(Rank.id).where(func.lower(Rank.name) == name.lower())
    if rank_id is not None:
        same_name = same_name.where(Rank.id != rank_id)
    if await session.scalar(same_name) is not None:
        raise AccountError("name", f"There is already a rank called {name}.")
    if not special:
        if min_points is None or not 0 <= min_points <= POINTS_MAX:
            raise AccountError("min_points", "Earned ranks need a points threshold of 0 or more.")
        same_floor = select(Rank.name).where(
            Rank.min_points == min_points, Rank.is_special.is_(False)
        )
        if rank_id is not None:
            same_floor = same_floor.where(Rank.id != rank_id)
        taken = await session.scalar(same_floor)
        if taken is not None:
            raise AccountError("min_points", f"{taken} already starts at {min_points} points.")
    return name


async def add_rank(
    session: AsyncSession, name: str, min_points: int | None, special: bool = False
) -> Rank:
    """An earned rank (reached at `min_points`) or a special one (assigned by an admin)."""
    name = await _check_rank(session, name, min_points, special, None)
    rank = Rank(name=name, min_points=None if special else min_points, is_special=special)
    session.add(rank)
    await session.flush()
    _forget_ranks()
    return rank


# Removing the rank at 0 points (a probe's administrator did) made every new member the next
# rank up ("Associate" with no posts).
FIRST_RANK = (
    "The rank at 0 points is every new member's: rename it if you like, but it stays at 0 "
    "points and cannot be removed."
)


async def edit_rank(
    session: AsyncSession, rank: Rank, name: str, min_points: int | None
) -> tuple[str, str]:
    """Rename a rank or move its threshold; a rank stays earned or special. Returns the
    rank's description before and after, for the audit log."""
    before = f"{rank.name} ({rank.min_points})"
    if not rank.is_special and rank.min_points == 0 and min_points != 0:
        raise AccountError("min_points", FIRST_RANK)
    rank.name = await _check_rank(session, name, min_points, rank.is_special, rank.id)
    if not rank.is_special:
        rank.min_points = min_points
    await session.flush()
    _forget_ranks()
    return before, f"{rank.name} ({rank.min_points})"


async def delete_rank(session: AsyncSession, rank: Rank) -> int:
    """Remove a rank. Members who held it as a special rank go back to their earned one;
    the last earned rank stays, so every member has one. Returns how many members held it."""
    if not rank.is_special:
        earned = await session.scalar(select(func.count(Rank.id)).where(Rank.is_special.is_(False)))
        if (earned or 0) <= 1:
            raise AccountError("rank", "The last earned rank cannot be removed.")
        if rank.min_points == 0:
            raise AccountError("rank", FIRST_RANK)
    held = await session.execute(
        update(User).where(User.special_rank_id == rank.id).values(special_rank_id=None)
    )
    await session.delete(rank)
    await session.flush()
    _forget_ranks()
    return rowcount(held)


async def award_points(
    session: AsyncSession,
    user_id: int,
    delta: int,
    reason: str,
    post_id: int | None = None,
    post_delta: int = 0,
    *,
    at: datetime | None = None,
    ranks_cache_seconds: float = 0.0,
) -> None:
    """Write a ledger entry (dated `at`, by default now) and move the counters in one atomic
    UPDATE (exact under concurrency). Points that carry the member into a higher earned rank
    leave them a notice (`User.rank_notice`) until they dismiss it."""
    session.add(
        PointsEntry(
            user_id=user_id, delta=delta, reason=reason, post_id=post_id,
            created_at=at or utcnow(),
        )
    )  # fmt: skip
    moved = await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(points=User.points + delta, post_count=User.post_count + post_delta)
        .returning(User.points, User.special_rank_id, User.rank_notice)
    )
    row = moved.first()
    if row is None or delta == 0 or row.special_rank_id is not None:
        return  # a special rank is shown instead of the earned one: nothing to announce
    if delta < 0 and row.rank_notice is None:
        return  # points lost, and no congratulations on show to take back
    # The UPDATE serialised concurrent awards: exactly one of them sees the threshold crossed.
    ranks = await load_ranks(session, ranks_cache_seconds)
    before, after = ranks.floor_of(row.points - delta), ranks.floor_of(row.points)
    if delta < 0:
        if before is not None and (after is None or after[0] < before[0]):
            # Back below the rank (posts hidden or deleted): its congratulations go too.
            await session.execute(update(User).where(User.id == user_id).values(rank_notice=None))
        return
    if after is not None and (before is None or after[0] > before[0]):
        if post_id is not None and await _given_back(session, user_id, post_id):
            return  # a post back on view (after its check): the rank was announced before
        await session.execute(update(User).where(User.id == user_id).values(rank_notice=after[1]))
        await events.announce(session, RankEarned(user_id, after[1]))


async def _given_back(session: AsyncSession, user_id: int, post_id: int) -> bool:
    """Whether this post's points were set aside while an edit of it waited for its check:
    their return restores a rank already reached, and announces nothing again. (A post a
    moderator hid and later restored may bring a new rank: that is announced.)"""
    taken = await session.scalar(
        select(PointsEntry.id).where(
            PointsEntry.user_id == user_id, PointsEntry.post_id == post_id,
            PointsEntry.reason == "post_checking",
        ).limit(1)
    )  # fmt: skip
    return taken is not None


async def dismiss_rank_notice(session: AsyncSession, user: User) -> None:
    user.rank_notice = None


@dataclass(frozen=True)
class RankReached:
    name: str
    min_points: int
    reached_at: datetime | None  # None: not reached


async def rank_history(session: AsyncSession, member: User, ranks: RankTable) -> list[RankReached]:
    """When `member` first reached each earned rank, from the running total of their points
    ledger (oldest first; the lowest rank is held from joining). Thresholds are today's."""
    running = (
        select(
            PointsEntry.created_at.label("at"),
            func.sum(PointsEntry.delta)
            .over(order_by=(PointsEntry.created_at, PointsEntry.id))
            .label("total"),
        )
        .where(PointsEntry.user_id == member.id)
        .cte("running")
    )
    earned = [(p, name) for p, name in ranks.earned if p > 0]
    firsts: list[datetime | None] = []
    if earned:  # one pass over the ledger: the first time the total reached each threshold
        row = (
            await session.execute(
                select(*(func.min(case((running.c.total >= p, running.c.at))) for p, _ in earned))
            )
        ).one()
        firsts = list(row)
    reached = [RankReached(name, p, member.joined_at) for p, name in ranks.earned if p <= 0]
    reached += [RankReached(name, p, at) for (p, name), at in zip(earned, firsts, strict=True)]
    return reached


async def recount_points(session: AsyncSession) -> int:
    """Recompute every member's points from the ledger; the number of members."""
    points = (
        select(func.coalesce(func.sum(PointsEntry.delta), 0))
        .where(PointsEntry.user_id == User.id)
        .scalar_subquery()
    )
    result = await session.execute(update(User).values(points=points))
    return rowcount(result)
