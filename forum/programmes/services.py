"""Programme rules: who may lead, creating a programme, training acknowledgements,
applications and the lead's decisions, pairing jobs and the lead's edits, publishing pairs
(each gets a private conversation) and check-ins.

Members are told through notifications (forum.notifications: in the app, and by e-mail or
in a digest as each chose); the lead's decisions go to the audit log, which the programme's
History page reads back in words.

The pairing itself (forum.programmes.pairing, numpy and scipy) never runs in the web process:
`run_job` takes the pairing module as a parameter and is called by the worker or the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import case, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import Role, User, UserStatus
from forum.accounts.services import DIGITS_FOR_LETTERS, is_suspended
from forum.articles.models import Article
from forum.core import ratelimit, timezones
from forum.core.audit import audit
from forum.core.db import utcnow
from forum.core.errors import DomainError
from forum.core.settings import Settings
from forum.core.text import clean_line, counted
from forum.messages.models import VISIBLE_STATES, Block, Conversation, Message, Participant
from forum.notifications.fanout import record
from forum.notifications.models import Kind as NoteKind
from forum.notifications.models import Notification, NotificationWork
from forum.programmes.models import (
    Application,
    ApplicationStatus,
    CheckinAnswer,
    CheckinQuestion,
    JobStatus,
    Kind,
    Meeting,
    Pair,
    PairingJob,
    PairStatus,
    Programme,
    ProgrammeStatus,
    Side,
    TrainingAck,
)
from forum.programmes.paths import path
from forum.programmes.slots import NO_COMMON_SLOT, slot_code
from moderation import cues
from moderation.normalise import for_model

NAME_MAX = 200
TEXT_MAX = 5000
LIST_MAX = 50  # items in one list (topics, slots, a member's choices)
ITEM_MAX = 100
PILOT_MIN, PILOT_MAX = 6, 12  # what the form suggests, and why (see the create page)
FRANKNESS = "Did you feel able to speak frankly?"
# Asked in every regular check-in by default: a participant's place to tell the lead something
# in their own words. A free-text question as the lead's own are (optional, as every written
# answer is; read on the dashboard under the same rule: once the round is over, only if five
# participants wrote one, never by name, never by the partner). Last in the form: its position
# is past any the lead's questions take (each a number from 1 up, 20 at most).
NOTE = "Anything you would like the programme's lead to know?"
NOTE_POSITION = 1000
ID_RE = re.compile(r"[0-9]{1,12}")
T = TypeVar("T")


class ProgrammeError(DomainError):
    pass


class Forbidden(ProgrammeError):
    status = 403


# --- small helpers ----------------------------------------------------------------------------


def lines(text: str) -> list[str]:
    """A stored list: one item a line, blank lines dropped, duplicates kept once."""
    seen: list[str] = []
    for raw in text.splitlines():
        item = raw.strip()
        if item and item not in seen:
            seen.append(item)
    return seen


def clean_list(items: list[str], field: str) -> str:
    kept = lines("\n".join(clean_line(i) for i in items))
    if len(kept) > LIST_MAX:
        raise ProgrammeError(field, f"Choose at most {LIST_MAX} items.")
    if any(len(i) > ITEM_MAX for i in kept):
        raise ProgrammeError(field, f"Each item can have at most {ITEM_MAX} characters.")
    return "\n".join(kept)


def _text(value: str, field: str, label: str, *, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise ProgrammeError(field, f"{label} is required.")
    if len(value) > TEXT_MAX:
        raise ProgrammeError(field, f"{label} can have at most {TEXT_MAX} characters.")
    return value


def _shown(
    value: str,
    field: str,
    label: str,
    readers: str = "the programme's pages are read by the juniors it is for",
    level: float = cues.NUDGE,
) -> str:
    """A lead's text every member reads (a programme's name, purpose, ground rules, a check-in
    question), and a member's application the lead reads, is refused when it states a put-down
    the composer would point out, plainly (not quoted, reported or advised against): a probe
    published "Juniors, you are too junior to get this" as a programme's ground rules, and
    another put it in an application's job title; programme texts pass no moderation."""
    found: list[str] = []
    # As written, and as the model reads it (digits for letters, Markdown and hyphens inside
    # words, letters spaced out: "you are t00 *junior* to get this").
    plain = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", "", value).translate(DIGITS_FOR_LETTERS)
    for text in (value, for_model(value), for_model(plain)):
        found = cues.nudge_phrases(text)
        if found and cues.stated_plainly(text, level):
            break
        found = []
    if found:
        raise ProgrammeError(
            field,
            f"{label} reads as a put-down of junior colleagues (“{found[0][:80]}”): "
            f"{readers}. Rephrase it.",
        )
    return value


def _date(value: str, field: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProgrammeError(field, "Give a date as YYYY-MM-DD.") from None


def _int(value: str, field: str, low: int, high: int, label: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ProgrammeError(field, f"{label} must be a whole number.") from None
    if not low <= number <= high:
        raise ProgrammeError(field, f"{label} must be between {low} and {high}.")
    return number


async def check_rate(session: AsyncSession, settings: Settings, user: User) -> None:
    """Every programme form a member sends passes here: a suspended member sends none (an
    application, a check-in, a lead's decision), and each counts against the hourly limit."""
    if is_suspended(user):
        raise Forbidden("", "Your account is suspended: programme forms cannot be sent now.")
    limit = ratelimit.Limit(
        "programme:hour", settings.programme_writes_max_per_hour, 3600,
        "You have sent many programme forms this hour. Try again later.",
    )  # fmt: skip
    await ratelimit.hit(session, limit, user.id)


def can_lead(user: User | None) -> bool:
    return user is not None and user.is_programme_lead


ADMINS_NAMED = 3  # how many administrators a member who cannot lead is told to ask


async def admin_names(session: AsyncSession, limit: int = ADMINS_NAMED) -> list[str]:
    """A few active administrators' usernames (the longest-standing first): those a member who
    would like to run a programme asks, since administrators appoint programme leads."""
    return list(
        await session.scalars(
            select(User.username)
            .where(User.role == Role.admin.value, User.status == UserStatus.active.value)
            .order_by(User.id)
            .limit(limit)
        )
    )


def leads(user: User | None, programme: Programme) -> bool:
    """The programme's own lead, or an administrator."""
    return user is not None and (user.is_admin or programme.lead_id == user.id)


def require_lead(user: User, programme: Programme) -> None:
    if not leads(user, programme):
        raise Forbidden("programme", "Only this programme's lead can do that.")


def title(programme: Programme) -> str:
    """The programme's name in a sentence (notifications are at most 200 characters)."""
    name = programme.name
    return f"“{name if len(name) <= 80 else name[:79] + '…'}”"


def log(session: AsyncSession, actor: User, programme: Programme, action: str, words: str) -> None:
    """One of the lead's decisions, in the audit log, in words (the History page reads it)."""
    audit(session, actor, f"programme_{action}", "programme", programme.id, detail=words)


def tell(
    session: AsyncSession, user_id: int, kind: NoteKind, sentence: str, link: str, *,
    actor_id: int | None = None,
) -> None:  # fmt: skip
    record(session, user_id, kind, sentence, link, actor_id=actor_id)


LEAD_NOTICES_A_DAY = 3


async def tell_lead(
    session: AsyncSession, programme: Programme, member: User, sentence: str
) -> None:
    """Tell the programme's lead of a member's application or withdrawal, leading to the
    applications page: at most LEAD_NOTICES_A_DAY a day per member and programme (a probe
    applied and withdrew in turn, and each notice was mailed to the lead at once; past that
    the applications page still shows where things stand)."""
    if programme.lead_id is None or programme.lead_id == member.id:
        return
    link = path("programme_applications", programme_id=programme.id)
    since = utcnow() - timedelta(days=1)
    told = 0
    for table in (Notification, NotificationWork):
        told += await session.scalar(
            select(func.count(table.id)).where(
                table.recipient_id == programme.lead_id, table.actor_id == member.id,
                table.link == link, table.created_at > since,
            )
        ) or 0  # fmt: skip
    if told >= LEAD_NOTICES_A_DAY:
        return
    tell(session, programme.lead_id, NoteKind.programme_lead, sentence, link, actor_id=member.id)


async def usernames(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {i: name for i, name in rows}


# --- programmes -------------------------------------------------------------------------------


# Each kind in words, with what it means (the programme form's choices).
KINDS: dict[str, tuple[str, str]] = {
    Kind.reverse.value: (
        "Reverse mentoring",
        "A junior colleague mentors a senior one: the senior learns from the junior.",
    ),
    Kind.traditional.value: (
        "Traditional mentoring",
        "A senior colleague mentors a junior one: the junior learns from the senior.",
    ),
    Kind.peer.value: (
        "Peer mentoring",
        "Colleagues learn from each other; members may apply on both sides.",
    ),
}


@dataclass
class ProgrammeForm:
    name: str = ""
    kind: str = Kind.reverse.value
    purpose: str = ""
    junior_learns: str = ""
    senior_learns: str = ""
    evaluation: str = ""
    starts_on: str = ""
    ends_on: str = ""
    pilot_size: str = "8"
    ground_rules: str = ""
    # The training articles' ids (the form's ticked boxes; slugs are taken too), one a line.
    training: str = ""
    topics: str = ""
    # Slot codes ("mon-am", the form's ticked grid cells), one a line.
    slots: str = ""
    checkin_days: str = "14"


async def published_articles(session: AsyncSession) -> list[Article]:
    """The board's articles a lead may choose as training, by title."""
    found = await session.scalars(
        select(Article).where(Article.is_deleted.is_(False)).order_by(Article.title).limit(500)
    )
    return list(found)


async def _training_ids(session: AsyncSession, text: str) -> str:
    ids: list[str] = []
    for item in lines(text)[:LIST_MAX]:
        number = ID_RE.fullmatch(item)
        where = Article.id == int(item) if number else Article.slug == item[:120]
        found = await session.scalar(select(Article.id).where(where, Article.is_deleted.is_(False)))
        if found is None:
            raise ProgrammeError(
                "training",
                f"There is no published article “{item[:120]}”: tick articles from the list.",
            )
        if str(found) not in ids:
            ids.append(str(found))
    return "\n".join(ids)


def _slots(text: str) -> str:
    """The slots as codes; a slot naming no day and part of the day is refused."""
    codes: list[str] = []
    for item in lines(text):
        code = slot_code(item)
        if code is None:
            raise ProgrammeError(
                "slots", f"“{item[:80]}” is not a time slot: tick days and times in the grid."
            )
        if code not in codes:
            codes.append(code)
    if len(codes) > LIST_MAX:
        raise ProgrammeError("slots", f"Choose at most {LIST_MAX} slots.")
    return "\n".join(codes)


class FormErrors(ProgrammeError):
    """A form refused for every field at fault at once (`errors`: field to message), not one
    field a time (a probe's lead fixed one error only to be shown the next)."""

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(field, message)
        self.errors = errors


class _Checks:
    """Runs a form's checks one by one, keeping each refusal by its field (the first for a
    field) and going on with the next check."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def __call__(self, check: Callable[[], T], default: T) -> T:
        try:
            return check()
        except ProgrammeError as exc:
            self.errors.setdefault(exc.field, exc.message)
            return default

    async def wait(self, check: Awaitable[T], default: T) -> T:
        try:
            return await check
        except ProgrammeError as exc:
            self.errors.setdefault(exc.field, exc.message)
            return default

    def done(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


def _name(value: str) -> str:
    name = clean_line(value)
    if not name:
        raise ProgrammeError("name", "Give the programme a name.")
    if len(name) > NAME_MAX:
        raise ProgrammeError("name", f"Names can have at most {NAME_MAX} characters.")
    return _shown(name, "name", "The name")


def _kind(value: str) -> str:
    if value not in {k.value for k in Kind}:
        raise ProgrammeError("kind", "Choose reverse, traditional or peer.")
    return value


def _said(value: str, field: str, label: str, *, required: bool = False) -> str:
    """A lead's text members read: within its length, and no put-down."""
    return _shown(_text(value, field, label, required=required), field, label)


async def _checked(
    session: AsyncSession, form: ProgrammeForm, only: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The form's values as a programme's columns; a form at fault is refused with every
    field's error at once (`FormErrors`). `only`: those fields alone are checked and returned
    (an open programme's settings that may still change, `CHANGEABLE`)."""
    if only is not None:
        full = await _checked(session, _with_checked_defaults(form, only))
        return {k: v for k, v in full.items() if k in only}
    check = _Checks()
    name = check(lambda: _name(form.name), "")
    kind = check(lambda: _kind(form.kind), Kind.reverse.value)
    starts = check(lambda: _date(form.starts_on, "starts_on"), None)
    ends = check(lambda: _date(form.ends_on, "ends_on"), None)
    if starts and ends and ends < starts:
        check.errors.setdefault("ends_on", "The programme cannot end before it starts.")
    purpose = check(lambda: _said(form.purpose, "purpose", "The purpose", required=True), "")
    junior_learns = check(
        lambda: _said(form.junior_learns, "junior_learns", "What juniors should learn"), ""
    )
    senior_learns = check(
        lambda: _said(form.senior_learns, "senior_learns", "What seniors should learn"), ""
    )
    evaluation = check(
        lambda: _said(form.evaluation, "evaluation", "How results are evaluated", required=True),
        "",
    )
    pilot_size = check(lambda: _int(form.pilot_size, "pilot_size", 1, 1000, "The pilot size"), 8)
    ground_rules = check(lambda: _said(form.ground_rules, "ground_rules", "The ground rules"), "")
    training = await check.wait(_training_ids(session, form.training), "")
    topics = check(
        lambda: _shown(clean_list(form.topics.splitlines(), "topics"), "topics", "A topic"), ""
    )
    slots = check(lambda: _slots(form.slots), "")
    checkin_days = check(
        lambda: _int(form.checkin_days, "checkin_days", 1, 365, "The check-in interval"), 14
    )
    check.done()
    return dict(
        name=name, kind=kind, purpose=purpose, junior_learns=junior_learns,
        senior_learns=senior_learns, evaluation=evaluation, starts_on=starts, ends_on=ends,
        pilot_size=pilot_size, ground_rules=ground_rules, training=training, topics=topics,
        slots=slots, checkin_days=checkin_days,
    )  # fmt: skip


async def create_programme(
    session: AsyncSession, settings: Settings, lead: User, form: ProgrammeForm, *,
    draft: bool = False,
) -> Programme:  # fmt: skip
    """A new programme; a form at fault is refused with every field's error at once
    (`FormErrors`). The web form makes a draft (`draft`): its lead opens it for applications
    once it is reviewed (`open_programme`)."""
    if not can_lead(lead):
        raise Forbidden("programme", "Only programme leads and administrators create programmes.")
    values = await _checked(session, form)
    status = ProgrammeStatus.draft if draft else ProgrammeStatus.open
    programme = Programme(lead_id=lead.id, criteria="{}", edits="{}", status=status.value,
                          created_at=utcnow(), **values)  # fmt: skip
    await check_rate(session, settings, lead)
    session.add(programme)
    await session.flush()
    # Always asked of the junior side, and of the senior side too, so the lead can compare.
    session.add(CheckinQuestion(programme_id=programme.id, prompt=FRANKNESS, kind="scale",
                                side="both", frankness=True, position=0))  # fmt: skip
    session.add(note_question(programme.id))
    await session.flush()
    return programme


def note_question(programme_id: int) -> CheckinQuestion:
    """The free-text question every regular check-in asks by default (`NOTE`). Programmes
    made before it was had it added by migration 0030, unless closed (their check-ins had
    stopped)."""
    return CheckinQuestion(programme_id=programme_id, prompt=NOTE, kind="text", side="both",
                           frankness=False, closing=False, position=NOTE_POSITION)  # fmt: skip


def is_note(question: CheckinQuestion) -> bool:
    return question.prompt == NOTE and question.kind == "text" and not question.closing


def form_of(programme: Programme) -> ProgrammeForm:
    """A programme's settings as its form shows them."""
    return ProgrammeForm(
        name=programme.name, kind=programme.kind, purpose=programme.purpose,
        junior_learns=programme.junior_learns, senior_learns=programme.senior_learns,
        evaluation=programme.evaluation,
        starts_on=programme.starts_on.isoformat() if programme.starts_on else "",
        ends_on=programme.ends_on.isoformat() if programme.ends_on else "",
        pilot_size=str(programme.pilot_size), ground_rules=programme.ground_rules,
        training=programme.training, topics=programme.topics, slots=programme.slots,
        checkin_days=str(programme.checkin_days),
    )  # fmt: skip


NOT_DRAFT = "Only a draft's settings can be changed: members may have read and applied to it."
CLOSED_SETTINGS = "The programme is closed: its settings are settled."

# Once a programme is open, what members applied on stays as it was: the kind (the sides they
# chose), the topics (what they teach and learn), the time slots (their availability), the
# training they acknowledged and the pilot size they were told of. The rest may change.
FROZEN = ("kind", "topics", "slots", "training", "pilot_size")
CHANGEABLE = ("name", "purpose", "junior_learns", "senior_learns", "evaluation", "ground_rules",
              "starts_on", "ends_on", "checkin_days")  # fmt: skip
FROZEN_WHY = (
    "Members applied on these: the kind of mentoring (the side they chose), the topics (what "
    "they teach and learn), the time slots (when they are free), the training they read and "
    "the pilot size. They stay as they were when the programme opened; to change them, copy "
    "the programme for a next round."
)
# Each setting in words (the History's record of a change).
LABELS = {"name": "the name", "purpose": "the purpose", "junior_learns": "what the junior side "
          "learns", "senior_learns": "what the senior side learns",
          "evaluation": "how results are evaluated", "ground_rules": "the ground rules",
          "starts_on": "the start date", "ends_on": "the end date",
          "checkin_days": "the check-in interval"}  # fmt: skip
SCHEDULE = ("starts_on", "ends_on", "checkin_days")


def _with_checked_defaults(form: ProgrammeForm, only: tuple[str, ...]) -> ProgrammeForm:
    """The form with every field outside `only` set to a value that passes its check."""
    safe = ProgrammeForm(name="x", purpose="x", evaluation="x")
    return ProgrammeForm(**{f: getattr(form if f in only else safe, f)
                            for f in ProgrammeForm.__dataclass_fields__})  # fmt: skip


def dates_words(starts: date | None, ends: date | None) -> str:
    if starts and ends:
        return f"{starts:%d %B %Y} to {ends:%d %B %Y}"
    if starts:
        return f"starting on {starts:%d %B %Y}, no end date"
    if ends:
        return f"no start date, ending on {ends:%d %B %Y}"
    return "no dates set"


async def update_programme(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme,
    form: ProgrammeForm,
) -> list[str]:  # fmt: skip
    """The lead changes a draft's settings (every field at fault at once, as when created);
    once open (and while running), only the `CHANGEABLE` ones, with the same checks: what
    members applied on (`FROZEN`) stays. Check-in rounds count from the start date with the
    interval, so once the programme has started its start date stays, and once a check-in
    round has opened the interval does (answers given would move to other rounds). A change
    of schedule is told to the applicants and participants; every change is in the History.
    Returns the settings changed (their names)."""
    require_lead(lead, programme)
    if programme.status == ProgrammeStatus.draft.value:
        values = await _checked(session, form)
        await check_rate(session, settings, lead)
        for key, value in values.items():
            setattr(programme, key, value)
        await session.flush()
        return list(values)
    if programme.status == ProgrammeStatus.closed.value:
        raise ProgrammeError("programme", CLOSED_SETTINGS)
    values = await _checked(session, form, CHANGEABLE)
    changed = [k for k in CHANGEABLE if values[k] != getattr(programme, k)]
    errors: dict[str, str] = {}
    if programme.status == ProgrammeStatus.published.value:
        start = starts_at(programme)
        if "starts_on" in changed and start is not None and has_started(programme):
            errors["starts_on"] = (
                f"The programme started on {start:%d %B %Y}: its start date can no longer "
                "change (check-in rounds count from it)."
            )
        round_ = current_round(programme)
        if "checkin_days" in changed and round_ > 0:
            errors["checkin_days"] = (
                f"Check-in {round_} is open: the interval can no longer change (answers "
                "already given would move to other rounds)."
            )
    if errors:
        raise FormErrors(errors)
    if not changed:
        return []
    await check_rate(session, settings, lead)
    before = {k: getattr(programme, k) for k in SCHEDULE}
    for key in changed:
        setattr(programme, key, values[key])
    said = []
    for key in changed:
        if key == "checkin_days":
            said.append(f"the check-in interval (now every {counted(values[key], 'day')})")
        elif key not in ("starts_on", "ends_on"):
            said.append(LABELS[key])
    dates_changed = "starts_on" in changed or "ends_on" in changed
    if dates_changed:
        said.insert(0, f"the dates (were {dates_words(before['starts_on'], before['ends_on'])}; "
                       f"now {dates_words(programme.starts_on, programme.ends_on)})")  # fmt: skip
    log(session, lead, programme, "settings", "Changed the settings: " + ", ".join(said) + ".")
    if dates_changed or "checkin_days" in changed:
        await _tell_schedule(session, programme, dates_changed, "checkin_days" in changed)
    await session.flush()
    return changed


async def _tell_schedule(
    session: AsyncSession, programme: Programme, dates: bool, interval: bool
) -> None:
    """Applicants still waiting or accepted, and participants in a running pair, are told of a
    change of dates or of the check-in interval, leading to the programme's page."""
    live = (ApplicationStatus.pending.value, ApplicationStatus.accepted.value)
    ids = set(
        await session.scalars(
            select(Application.user_id).where(
                Application.programme_id == programme.id, Application.status.in_(live)
            )
        )
    )
    for pair in await pairs_of(session, programme):
        if pair.status == PairStatus.active.value:
            ids |= {pair.junior_id, pair.senior_id}
    parts = []
    if dates:
        parts.append(f"dates are now {dates_words(programme.starts_on, programme.ends_on)}")
    if interval:
        parts.append(f"check-ins come every {counted(programme.checkin_days, 'day')}")
    sentence = f"{title(programme)} has changed: its " + "; ".join(parts)
    link = path("programme", programme_id=programme.id)
    for uid in sorted(ids - {programme.lead_id}):
        tell(session, uid, NoteKind.programme, sentence[:200], link)


async def open_programme(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme
) -> None:
    """A draft opens for applications: listed to members, who may apply."""
    require_lead(lead, programme)
    if programme.status != ProgrammeStatus.draft.value:
        raise ProgrammeError("programme", "The programme is not a draft: it is open already.")
    await check_rate(session, settings, lead)
    programme.status = ProgrammeStatus.open.value
    log(session, lead, programme, "open", "Opened the programme for applications.")
    await session.flush()


COPY_SUFFIX = " (copy)"


async def copy_programme(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme
) -> Programme:
    """A new draft with the programme's settings, pairing criteria and check-in questions
    (for a next round): no dates, applications, pairs or pairing edits. Its lead is the
    programme's (or, the programme having none, whoever copies it)."""
    require_lead(lead, programme)
    await check_rate(session, settings, lead)
    name = programme.name[: NAME_MAX - len(COPY_SUFFIX)] + COPY_SUFFIX
    copy = Programme(
        lead_id=programme.lead_id if programme.lead_id is not None else lead.id, name=name,
        kind=programme.kind, purpose=programme.purpose, junior_learns=programme.junior_learns,
        senior_learns=programme.senior_learns, evaluation=programme.evaluation,
        starts_on=None, ends_on=None, pilot_size=programme.pilot_size,
        ground_rules=programme.ground_rules, training=programme.training,
        topics=programme.topics, slots=programme.slots, criteria=programme.criteria or "{}",
        edits="{}", checkin_days=programme.checkin_days, status=ProgrammeStatus.draft.value,
        created_at=utcnow(),
    )  # fmt: skip
    session.add(copy)
    await session.flush()
    copied = await questions(session, programme, closing=None)
    for q in copied:
        session.add(CheckinQuestion(programme_id=copy.id, prompt=q.prompt, kind=q.kind,
                                    side=q.side, frankness=q.frankness, closing=q.closing,
                                    position=q.position))  # fmt: skip
    # A programme closed before the default free-text question existed has none: its copy, a
    # new programme, asks it as any new one does.
    if not any(is_note(q) for q in copied):
        session.add(note_question(copy.id))
    log(session, lead, programme, "copy", f"Copied the programme as the draft {title(copy)}.")
    await session.flush()
    return copy


DRAFT_FIRST = "The programme is a draft: open it for applications first."


def _not_draft(programme: Programme) -> None:
    if programme.status == ProgrammeStatus.draft.value:
        raise ProgrammeError("action", DRAFT_FIRST)


def visible(user: User | None, programme: Programme) -> bool:
    """A draft is seen by its lead and administrators only; any other programme by anyone."""
    return programme.status != ProgrammeStatus.draft.value or leads(user, programme)


async def programmes_list(
    session: AsyncSession, viewer: User | None = None
) -> list[tuple[Programme, int]]:
    """Every programme the viewer may see (drafts: their lead and administrators only), with
    its number of accepted participants: those taking applications first, then the running
    ones, the drafts, and the closed ones last (a probe found closed programmes among the open
    ones), each group newest first."""
    accepted = (
        select(Application.programme_id, func.count(func.distinct(Application.user_id)).label("n"))
        .where(Application.status == ApplicationStatus.accepted.value)
        .group_by(Application.programme_id)
        .subquery()
    )
    rows = await session.execute(
        select(Programme, func.coalesce(accepted.c.n, 0))
        .outerjoin(accepted, accepted.c.programme_id == Programme.id)
        .where(_visible_to(viewer))
        .order_by(_LISTED_ORDER, Programme.id.desc())
        .limit(200)
    )
    return [(p, int(n)) for p, n in rows]


_LISTED_ORDER = case(
    {ProgrammeStatus.open.value: 0, ProgrammeStatus.published.value: 1,
     ProgrammeStatus.draft.value: 2},
    value=Programme.status, else_=3,
)  # fmt: skip

PURPOSE_LINE = 140


def purpose_line(purpose: str, limit: int = PURPOSE_LINE) -> str:
    """A programme's purpose on one line, as plain text, for the programmes list: its first
    `limit` characters or so (cut at a word, with an ellipsis, when longer)."""
    text = " ".join(purpose.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"


def _visible_to(viewer: User | None) -> Any:
    """Drafts only to their lead and administrators (a where clause)."""
    if viewer is not None and viewer.is_admin:
        return true()
    not_draft = Programme.status != ProgrammeStatus.draft.value
    return not_draft if viewer is None else or_(not_draft, Programme.lead_id == viewer.id)


@dataclass
class MyProgramme:
    """One programme as a member sees their part in it on the programmes list."""

    programme: Programme
    applications: list[Application]
    partners: list[str]  # the usernames of the partners in pairs still running
    leads: bool
    # Sides accepted on but left out of the published pairs (see `unpaired_sides`).
    unpaired: set[str] = field(default_factory=set)
    # What pairing made of each application, by application id (see `pairing_standing`):
    # "paired", "left" or "ended"; absent when the application's own status says it.
    standing: dict[int, str] = field(default_factory=dict)


async def my_programmes(session: AsyncSession, user: User) -> list[MyProgramme]:
    """The programmes the member applied to or leads, newest first: each application's side
    and status, and their running partners' names (nobody else's applications or pairs)."""
    mine = list(
        await session.scalars(
            select(Application).where(Application.user_id == user.id).order_by(Application.id)
        )
    )
    every = list(
        await session.scalars(
            select(Pair).where(or_(Pair.junior_id == user.id, Pair.senior_id == user.id))
        )
    )
    pairs = [p for p in every if p.status == PairStatus.active.value]
    ids = {a.programme_id for a in mine} | {p.programme_id for p in pairs}
    led = select(Programme.id).where(Programme.lead_id == user.id)
    programmes = list(
        await session.scalars(
            select(Programme)
            .where(or_(Programme.id.in_(ids), Programme.id.in_(led)), _visible_to(user))
            .order_by(Programme.id.desc())
            .limit(200)
        )
    )
    names = await usernames(
        session, {i for p in pairs for i in (p.junior_id, p.senior_id)} - {user.id}
    )
    return [
        MyProgramme(
            programme=programme,
            applications=[a for a in mine if a.programme_id == programme.id],
            partners=sorted(
                names[i]
                for p in pairs
                if p.programme_id == programme.id
                for i in (p.junior_id, p.senior_id)
                if i != user.id and i in names
            ),
            leads=programme.lead_id == user.id,
            unpaired=unpaired_sides(
                programme, mine, [p for p in every if p.programme_id == programme.id], user.id
            ),
            standing={
                a.id: standing
                for a in mine
                if a.programme_id == programme.id
                for standing, _ in [pairing_standing(a, every)]
                if standing
            },
        )
        for programme in programmes
    ]


def pairing_standing(application: Application, pairs: list[Pair]) -> tuple[str, list[int]]:
    """What pairing made of an application, which its own status does not say: "paired"
    (with the partners' ids) while a pair on its side runs; "left" when its member ended
    that pair by leaving the programme (the application reads "withdrawn", but withdrawing
    an application and leaving a pair are different things); "ended" when the pair was
    ended otherwise (the partner left, or the lead ended it); "" when in no pair."""
    junior = application.side == Side.junior.value
    own = [
        p for p in pairs
        if p.programme_id == application.programme_id
        and (p.junior_id if junior else p.senior_id) == application.user_id
    ]  # fmt: skip
    running = [p for p in own if p.status == PairStatus.active.value]
    if running:
        return "paired", [p.senior_id if junior else p.junior_id for p in running]
    if any(p.ended_by == application.user_id for p in own):
        return "left", []
    return ("ended", []) if own else ("", [])


async def training_articles(session: AsyncSession, programme: Programme) -> list[Article]:
    ids = [int(i) for i in lines(programme.training) if ID_RE.fullmatch(i)]
    if not ids:
        return []
    found = {a.id: a for a in await session.scalars(select(Article).where(Article.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


async def acknowledged(session: AsyncSession, programme: Programme, user_id: int) -> set[int]:
    rows = await session.scalars(
        select(TrainingAck.article_id).where(
            TrainingAck.programme_id == programme.id, TrainingAck.user_id == user_id
        )
    )
    return set(rows)


async def acknowledge(
    session: AsyncSession, settings: Settings, user: User, programme: Programme, article_id: int
) -> None:
    if article_id not in {a.id for a in await training_articles(session, programme)}:
        raise ProgrammeError("article", "That article is not part of this programme's training.")
    await check_rate(session, settings, user)
    if article_id not in await acknowledged(session, programme, user.id):
        session.add(TrainingAck(programme_id=programme.id, user_id=user.id,
                                article_id=article_id, created_at=utcnow()))  # fmt: skip
        await session.flush()


# --- applications -----------------------------------------------------------------------------


@dataclass
class ApplicationForm:
    side: str = ""
    job_title: str = ""
    department: str = ""
    seniority: str = "0"
    teaches: list[str] | None = None
    learns: list[str] | None = None
    free_text: str = ""
    availability: list[str] | None = None
    avoid: str = ""
    reporting_line: str = ""
    # The training articles the member ticks "I have read" on the form (their ids as sent).
    training: list[str] | None = None


TRAINING_UNREAD = "Tick “I have read” for each training article before you apply."
SENIORITY_MISSING = (
    "Give your seniority in years (0 to 60): pairing compares it, and an empty one would "
    "count as 0."
)


def _seniority(value: str) -> int:
    """Seniority is required: left empty it would count as 0 years, a senior scored as a
    junior."""
    if not value.strip():
        raise ProgrammeError("seniority", SENIORITY_MISSING)
    return _int(value, "seniority", 0, 60, "Seniority (years)")


def sides_for(programme: Programme, side: str) -> list[str]:
    if programme.kind == Kind.peer.value and side == "both":
        return [Side.junior.value, Side.senior.value]
    if side in (Side.junior.value, Side.senior.value):
        return [side]
    raise ProgrammeError("side", "Choose the side you apply for.")


def _chosen(values: list[str] | None, allowed: list[str], field: str) -> str:
    chosen = [v for v in (values or []) if v in allowed]
    if len(chosen) != len(values or []):
        raise ProgrammeError(field, "Choose from the programme's list.")
    return "\n".join(dict.fromkeys(chosen))


async def _usernames(session: AsyncSession, text: str, field: str, user: User) -> str:
    names = lines(text.replace(",", "\n"))
    if len(names) > LIST_MAX:
        raise ProgrammeError(field, f"Name at most {LIST_MAX} members.")
    kept: list[str] = []
    for raw in names:
        name = raw.lstrip("@")[:30]
        # Members only: an unconfirmed registration or a deleted account is nobody to avoid.
        found = await session.scalar(
            select(User.username).where(
                User.username_key == name.lower(),
                User.email_confirmed_at.is_not(None),
                User.status != UserStatus.deleted.value,
            )
        )
        if found is None:
            raise ProgrammeError(field, f"There is no member called “{name}”.")
        if found != user.username:
            kept.append(found)
    return "\n".join(kept)


async def apply(
    session: AsyncSession,
    settings: Settings,
    user: User,
    programme: Programme,
    form: ApplicationForm,
) -> list[Application]:
    if programme.status == ProgrammeStatus.draft.value:
        raise ProgrammeError("side", "This programme does not take applications yet.")
    if programme.status != ProgrammeStatus.open.value:
        raise ProgrammeError("side", "This programme no longer takes applications.")
    if programme.lead_id == user.id:
        # The lead reads the check-ins: paired, they would read their partner's answers.
        raise Forbidden("side", "You lead this programme: its lead does not apply to it.")
    # Every field at fault is said at once (`FormErrors`): an empty form names the side, the
    # seniority and any training not ticked together, not one a time.
    check = _Checks()
    no_sides: list[str] = []
    sides = check(lambda: sides_for(programme, form.side), no_sides)
    # The training is acknowledged on the form itself ("I have read …", one box an article),
    # or was before (the acknowledgement button of earlier versions).
    ticked = {int(i) for i in form.training or [] if ID_RE.fullmatch(i)}
    done = await acknowledged(session, programme, user.id)
    missing = [a for a in await training_articles(session, programme)
               if a.id not in done and a.id not in ticked]  # fmt: skip
    if missing:
        check.errors.setdefault("training", TRAINING_UNREAD)
    topics, slots = lines(programme.topics), lines(programme.slots)

    # An applicant describes themselves ("I feel too inexperienced to comment on design
    # reviews" is no put-down): only stock put-downs, stated plainly, are refused here.
    def strict(value: str, field: str, label: str) -> str:
        return _shown(value, field, label, "the programme's lead reads it", cues.STOCK)

    profile = {
        "job_title": check(
            lambda: strict(clean_line(form.job_title)[:100], "job_title", "The job title"), ""
        ),
        "department": check(
            lambda: strict(clean_line(form.department)[:100], "department", "The department"),
            "",
        ),
        "seniority": check(lambda: _seniority(form.seniority), 0),
        "teaches": check(lambda: _chosen(form.teaches, topics, "teaches"), ""),
        "learns": check(lambda: _chosen(form.learns, topics, "learns"), ""),
        "free_text": check(
            lambda: strict(
                _text(form.free_text, "free_text", "What else you can teach or want"),
                "free_text",
                "What you wrote",
            ),
            "",
        ),
        "availability": check(lambda: _chosen(form.availability, slots, "availability"), ""),
        "avoid": await check.wait(_usernames(session, form.avoid, "avoid", user), ""),
        "reporting_line": await check.wait(
            _usernames(session, form.reporting_line, "reporting_line", user), ""
        ),
    }
    check.done()
    existing = {
        a.side: a
        for a in await session.scalars(
            select(Application).where(
                Application.programme_id == programme.id, Application.user_id == user.id
            )
        )
    }
    live = (ApplicationStatus.pending.value, ApplicationStatus.accepted.value)
    if any(a.status in live for side, a in existing.items() if side in sides):
        raise ProgrammeError("side", "You have already applied to this programme.")
    await check_rate(session, settings, user)
    for article in await training_articles(session, programme):
        if article.id in ticked and article.id not in done:
            session.add(TrainingAck(programme_id=programme.id, user_id=user.id,
                                    article_id=article.id, created_at=utcnow()))  # fmt: skip
    made = []
    for side in sides:
        # A declined or withdrawn member applies again: the same application, pending anew.
        application = existing.get(side)
        if application is None:
            application = Application(programme_id=programme.id, user_id=user.id, side=side)
            session.add(application)
        for key, value in profile.items():
            setattr(application, key, value)
        application.status = ApplicationStatus.pending.value
        application.created_at = utcnow()
        application.decided_at = None
        application.decline_reason = ""
        made.append(application)
    # The lead is told of the application, by the member's name, leading to the page where
    # they decide it (a few times a day at most per member: `tell_lead`).
    await tell_lead(
        session, programme, user,
        f"{user.username} applied to {title(programme)} "
        f"({' and '.join(a.side for a in made)} side)",
    )  # fmt: skip
    await session.flush()
    return made


async def applications(
    session: AsyncSession, programme: Programme, user_id: int | None = None
) -> list[tuple[Application, str]]:
    query = (
        select(Application, User.username)
        .join(User, User.id == Application.user_id)
        .where(Application.programme_id == programme.id)
        .order_by(Application.side, Application.id)
    )
    if user_id is not None:
        query = query.where(Application.user_id == user_id)
    return [(a, name) for a, name in await session.execute(query)]


async def pending_count(session: AsyncSession, programme: Programme) -> int:
    """Applications waiting for the lead's decision."""
    return int(
        await session.scalar(
            select(func.count(Application.id)).where(
                Application.programme_id == programme.id,
                Application.status == ApplicationStatus.pending.value,
            )
        )
        or 0
    )


REASON_MAX = 500  # a decline's reason: a few sentences at most


def decline_reason(value: str) -> str:
    """The lead's optional reason for a decline, as the applicant will read it: one paragraph,
    within REASON_MAX characters, and no put-down."""
    reason = " ".join(value.split())
    if len(reason) > REASON_MAX:
        raise ProgrammeError(
            "reason",
            f"The reason can have at most {REASON_MAX} characters (it has {len(reason)}): "
            "shorten it.",
        )
    return _shown(reason, "reason", "The reason", "the applicant reads it", cues.STOCK)


def _told_reason(sentence: str, reason: str) -> str:
    """The decline's notification with the lead's reason, shortened to fit a notification
    (its link leads to the whole reason)."""
    if not reason:
        return sentence
    room = 200 - len(sentence) - len(": “”")
    if room < 20:
        return sentence
    shown = reason if len(reason) <= room else reason[: room - 1].rstrip() + "…"
    return f"{sentence}: “{shown}”"


async def decide(
    session: AsyncSession,
    settings: Settings,
    lead: User,
    programme: Programme,
    application_id: int,
    accept: bool,
    reason: str = "",
) -> Application:
    """The lead accepts or declines an application; a decline may say why (`reason`, read by
    the applicant, on their page and in the notification, and by the lead)."""
    require_lead(lead, programme)
    application = await session.get(Application, application_id)
    if application is None or application.programme_id != programme.id:
        raise ProgrammeError("application", "There is no such application.", status=404)
    if programme.status != ProgrammeStatus.open.value:
        raise ProgrammeError("decision", "Applications are decided while the programme is open.")
    if application.status == ApplicationStatus.withdrawn.value:
        raise ProgrammeError("decision", "The member withdrew this application.")
    reason = "" if accept else decline_reason(reason)
    await check_rate(session, settings, lead)
    status = (ApplicationStatus.accepted if accept else ApplicationStatus.declined).value
    if application.status == status:
        return application
    application.status = status
    application.decided_at = utcnow()
    application.decline_reason = reason
    name = (await usernames(session, {application.user_id})).get(application.user_id, "someone")
    verb = "Accepted" if accept else "Declined"
    # (The reason stays out of the audit log: only the applicant and the lead read it.)
    log(session, lead, programme, "accept" if accept else "decline",
        f"{verb} {name}'s application ({application.side} side)"
        f"{' with a reason' if reason else ''}.")  # fmt: skip
    sentence = (
        f"Your application to {title(programme)} ({application.side} side) was "
        f"{'accepted' if accept else 'declined'}"
    )
    tell(
        session, application.user_id, NoteKind.programme, _told_reason(sentence, reason),
        path("programme", programme_id=programme.id) + "#application",
    )  # fmt: skip
    return application


def form_from(applications: list[Application]) -> ApplicationForm:
    """A fresh application form holding the member's previous answers (their declined or
    withdrawn application, the newest): applying again starts from what they sent. A first
    form is blank, its seniority too (required: never a silent 0)."""
    if not applications:
        return ApplicationForm(seniority="")
    last = max(applications, key=lambda a: (a.created_at, a.id))
    sides = {a.side for a in applications}
    return ApplicationForm(
        side="both" if len(sides) > 1 else last.side,
        job_title=last.job_title,
        department=last.department,
        seniority=str(last.seniority),
        teaches=lines(last.teaches),
        learns=lines(last.learns),
        free_text=last.free_text,
        availability=lines(last.availability),
        avoid=", ".join(lines(last.avoid)),
        reporting_line=", ".join(lines(last.reporting_line)),
    )


# --- pairing ----------------------------------------------------------------------------------


def edits_of(programme: Programme) -> dict[str, list[list[int]]]:
    try:
        data = json.loads(programme.edits or "{}")
    except ValueError:
        data = {}
    return {
        "fixed": [list(map(int, p)) for p in data.get("fixed", [])],
        "forbidden": [list(map(int, p)) for p in data.get("forbidden", [])],
    }


CRITERIA_DEFAULTS: dict[str, float] = {
    "overlap": 1.0, "availability": 1.0, "department": 1.0, "gap": 1.0, "gap_min": 0,
    "gap_max": 40,
}  # fmt: skip


def criteria_of(programme: Programme) -> dict[str, float]:
    try:
        data = json.loads(programme.criteria or "{}")
    except ValueError:
        data = {}
    return {k: float(data.get(k, v)) for k, v in CRITERIA_DEFAULTS.items()}


async def set_criteria(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme,
    values: dict[str, str],
) -> None:  # fmt: skip
    require_lead(lead, programme)
    criteria: dict[str, float] = {}
    for key in ("overlap", "availability", "department", "gap"):
        try:
            weight = float(values.get(key, "1") or "0")
        except ValueError:
            raise ProgrammeError(key, "Weights are numbers from 0 to 10.") from None
        if not 0 <= weight <= 10:
            raise ProgrammeError(key, "Weights are numbers from 0 to 10.")
        # In tenths, as the form's number boxes step (a finer weight would not be sent back).
        criteria[key] = round(weight, 1)
    criteria["gap_min"] = _int(values.get("gap_min", "0"), "gap_min", 0, 60, "The smallest gap")
    criteria["gap_max"] = _int(values.get("gap_max", "40"), "gap_max", 0, 60, "The largest gap")
    if criteria["gap_max"] < criteria["gap_min"]:
        raise ProgrammeError("gap_max", "The largest gap cannot be below the smallest.")
    await check_rate(session, settings, lead)
    programme.criteria = json.dumps(criteria)
    log(session, lead, programme, "criteria",
        "Changed the pairing criteria: weights " + ", ".join(
            f"{k} {criteria[k]:g}" for k in ("overlap", "availability", "department", "gap"))
        + f"; seniority gap {criteria['gap_min']:g} to {criteria['gap_max']:g} years.")  # fmt: skip


async def edit_pairs(
    session: AsyncSession,
    settings: Settings,
    lead: User,
    programme: Programme,
    action: str,
    pairs: list[tuple[int, int]],
) -> PairingJob:
    """The lead fixes or forbids pairs (a swap fixes the two exchanged pairs), or clears the
    edits; the proposal is then run again."""
    require_lead(lead, programme)
    _not_draft(programme)
    if programme.status != ProgrammeStatus.open.value:
        raise ProgrammeError("action", "The pairs are already published.")
    edits = edits_of(programme)
    people = {(a.user_id, a.side) for a, _ in await applications(session, programme)
              if a.status == ApplicationStatus.accepted.value}  # fmt: skip
    for junior, senior in pairs:
        if (junior, Side.junior.value) not in people or (senior, Side.senior.value) not in people:
            raise ProgrammeError("action", "Those members are not accepted participants.")
    if action in ("fix", "swap"):
        # A fix the pairing must refuse would be dropped from the proposal without a word.
        why = await unfixable(session, programme, pairs)
        if why is not None:
            raise ProgrammeError("pair", why)
        for pair in pairs:
            edits["forbidden"] = [p for p in edits["forbidden"] if p != list(pair)]
            # A member is fixed to one partner at a time: a new fix replaces theirs.
            edits["fixed"] = [p for p in edits["fixed"] if p[0] != pair[0] and p[1] != pair[1]]
            edits["fixed"].append(list(pair))
    elif action == "forbid":
        for pair in pairs:
            edits["fixed"] = [p for p in edits["fixed"] if p != list(pair)]
            if list(pair) not in edits["forbidden"]:
                edits["forbidden"].append(list(pair))
    elif action == "clear":
        edits = {"fixed": [], "forbidden": []}
    else:
        raise ProgrammeError("action", "Unknown action.")
    programme.edits = json.dumps(edits)
    names = await usernames(session, {i for pair in pairs for i in pair})
    said = " and ".join(f"{names.get(j, '?')} with {names.get(s, '?')}" for j, s in pairs)
    words = {
        "swap": f"Swapped partners: now {said}.", "fix": f"Fixed the pair {said}.",
        "forbid": f"Forbade the pair {said}.", "clear": "Cleared every fixed and forbidden pair.",
    }[action]  # fmt: skip
    return await request_proposal(
        session, settings, lead, programme, why=f"{words} The proposal runs again.", action=action
    )


async def request_proposal(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme, *,
    why: str | None = "Asked for a pairing proposal.", action: str = "rerun",
) -> PairingJob:  # fmt: skip
    """Queue a pairing run (`why`: what the History says; None: said by the caller)."""
    require_lead(lead, programme)
    _not_draft(programme)
    if programme.status != ProgrammeStatus.open.value:
        raise ProgrammeError("action", "The pairs are already published.")
    await check_rate(session, settings, lead)
    if why is not None:
        log(session, lead, programme, action, why)
    job = PairingJob(programme_id=programme.id, status=JobStatus.queued.value,
                     requested_at=utcnow(), result="")  # fmt: skip
    session.add(job)
    await session.flush()
    return job


async def latest_job(session: AsyncSession, programme: Programme) -> PairingJob | None:
    return await session.scalar(
        select(PairingJob)
        .where(PairingJob.programme_id == programme.id)
        .order_by(PairingJob.id.desc())
        .limit(1)
    )


async def _profiles(session: AsyncSession, programme: Programme) -> list[dict[str, Any]]:
    """The accepted applications as the pairing reads them (`pairing.Person`'s fields): the
    people each asked to avoid and their reporting lines (both ways) as user ids."""
    rows = [(a, n) for a, n in await applications(session, programme)
            if a.status == ApplicationStatus.accepted.value]  # fmt: skip
    names = {n.lower(): a.user_id for a, n in rows}
    extra = {x.lower() for a, _ in rows for x in lines(a.avoid) + lines(a.reporting_line)}
    for uid, key in await session.execute(
        select(User.id, User.username_key).where(User.username_key.in_(extra - set(names)))
    ):
        names[key] = uid

    def ids(text: str) -> frozenset[int]:
        return frozenset(names[x.lower()] for x in lines(text) if x.lower() in names)

    by_user: dict[int, list[Application]] = {}
    for a, _ in rows:
        by_user.setdefault(a.user_id, []).append(a)
    # Reporting lines go both ways: if A names B, B is in A's line and A in B's.
    line: dict[int, set[int]] = {}
    for a, _ in rows:
        for other in ids(a.reporting_line):
            line.setdefault(a.user_id, set()).add(other)
            line.setdefault(other, set()).add(a.user_id)
    # A block is an "avoid" of both members (the lead reads it as asked not to be paired): the
    # pair could not write in its space (a probe's lead paired a member by hand with someone
    # she had blocked, and his first message was refused).
    members = list(by_user)
    blocks: dict[int, set[int]] = {}
    for blocker, blocked in await session.execute(
        select(Block.blocker_id, Block.blocked_id).where(
            Block.blocker_id.in_(members), Block.blocked_id.in_(members)
        )
    ):
        blocks.setdefault(blocker, set()).add(blocked)
        blocks.setdefault(blocked, set()).add(blocker)
    return [
        dict(
            id=a.user_id, side=a.side, department=a.department, seniority=a.seniority,
            teaches=frozenset(lines(a.teaches)), learns=frozenset(lines(a.learns)),
            availability=frozenset(lines(a.availability)),
            # Nobody is paired with themselves (a peer programme's member is on both sides).
            avoid=ids(a.avoid) | {a.user_id} | frozenset(blocks.get(a.user_id, set())),
            reporting_line=frozenset(line.get(a.user_id, set())), capacity=1,
        )
        for a, _ in rows
    ]  # fmt: skip


async def _people(
    session: AsyncSession, programme: Programme, pairing: Any
) -> tuple[list[Any], list[Any]]:
    juniors: list[Any] = []
    seniors: list[Any] = []
    for profile in await _profiles(session, programme):
        person = pairing.Person(**profile)
        (juniors if person.side == Side.junior.value else seniors).append(person)
    return juniors, seniors


async def unfixable(
    session: AsyncSession, programme: Programme, pairs: list[tuple[int, int]],
    doing: str = "fixed",
) -> str | None:  # fmt: skip
    """Why one of `pairs` (junior, senior) cannot be fixed, in words, or None. A fix overrides
    the lead's own "forbid" (it replaces it), never a member's constraint: the pairing refuses
    the same person, a reporting line either way, and someone either side asked to avoid
    (`pairing.refusal`), and would leave such a fix out of every proposal."""
    profiles = {(p["id"], p["side"]): p for p in await _profiles(session, programme)}
    names = await usernames(session, {i for pair in pairs for i in pair})
    for junior_id, senior_id in pairs:
        junior = profiles.get((junior_id, Side.junior.value))
        senior = profiles.get((senior_id, Side.senior.value))
        if junior is None or senior is None:
            return "Those members are not accepted participants."
        j, s = names.get(junior_id, "?"), names.get(senior_id, "?")
        if junior_id == senior_id:
            why = f"{j} cannot be paired with themselves"
        elif senior_id in junior["reporting_line"] or junior_id in senior["reporting_line"]:
            why = f"{j} and {s} are in the same reporting line"
        elif senior_id in junior["avoid"]:
            why = f"{j} asked not to be paired with {s}"
        elif junior_id in senior["avoid"]:
            why = f"{s} asked not to be paired with {j}"
        else:
            continue
        return (
            f"{j} with {s} cannot be {doing}: {why}. Members' constraints are never broken; "
            "choose another pair."
        )
    return None


async def run_job(session: AsyncSession, job: PairingJob, pairing: Any) -> dict[str, Any]:
    """Run one pairing job with `pairing` (forum.programmes.pairing, or a stand-in in tests):
    the proposal is stored on the job as JSON for the lead's page."""
    programme = await session.get(Programme, job.programme_id)
    assert programme is not None
    juniors, seniors = await _people(session, programme, pairing)
    c = criteria_of(programme)
    criteria = pairing.Criteria(
        overlap=c["overlap"], availability=c["availability"], department=c["department"],
        gap=c["gap"], gap_min=int(c["gap_min"]), gap_max=int(c["gap_max"]),
    )  # fmt: skip
    e = edits_of(programme)
    edits = pairing.Edits(
        fixed=frozenset((j, s) for j, s in e["fixed"]),
        forbidden=frozenset((j, s) for j, s in e["forbidden"]),
    )
    proposal = pairing.propose(juniors, seniors, criteria, edits)
    result = {
        "total": float(proposal.total),
        "pairs": [
            {"junior_id": p.junior_id, "senior_id": p.senior_id, "fixed": bool(p.fixed),
             "total": float(p.score.total),
             "parts": {k: float(v) for k, v in p.score.parts.items()},
             "notes": dict(p.score.notes)}
            for p in proposal.pairs
        ],
        "unmatched": [
            {"person_id": u.person_id, "side": u.side, "reason": u.reason}
            for u in proposal.unmatched
        ],
        # Fixes the pairing could not place (an application changed since the fix): the
        # proposal page says which and why.
        "refused_fixed": [
            {"junior_id": r.junior_id, "senior_id": r.senior_id, "reason": r.reason}
            for r in getattr(proposal, "refused_fixed", [])
        ],
    }  # fmt: skip
    job.result = json.dumps(result)
    job.status = JobStatus.done.value
    job.finished_at = utcnow()
    return result


async def run_queued(session: AsyncSession, pairing: Any, limit: int = 5) -> int:
    """The worker's and the CLI's call: run the oldest queued jobs (each programme's newest
    only; older ones are superseded)."""
    jobs = list(
        await session.scalars(
            select(PairingJob)
            .where(PairingJob.status == JobStatus.queued.value)
            .order_by(PairingJob.id)
            .limit(limit)
        )
    )
    done = 0
    for job in jobs:
        newest = await session.scalar(
            select(func.max(PairingJob.id)).where(PairingJob.programme_id == job.programme_id)
        )
        if newest != job.id:
            job.status = JobStatus.failed.value
            job.result = json.dumps({"superseded": True})
            continue
        await run_job(session, job, pairing)
        done += 1
    return done


async def run_for_programme(session: AsyncSession, programme_id: int, pairing: Any) -> PairingJob:
    """`candor programmes pair PROGRAMME_ID`: run the programme's queued job, or a new one."""
    programme = await session.get(Programme, programme_id)
    if programme is None:
        raise ProgrammeError("programme", "There is no such programme.", status=404)
    job = await latest_job(session, programme)
    if job is None or job.status != JobStatus.queued.value:
        job = PairingJob(programme_id=programme.id, status=JobStatus.queued.value,
                         requested_at=utcnow(), result="")  # fmt: skip
        session.add(job)
        await session.flush()
    await run_job(session, job, pairing)
    return job


def proposal_of(job: PairingJob | None) -> dict[str, Any] | None:
    if job is None or job.status != JobStatus.done.value:
        return None
    data: dict[str, Any] = json.loads(job.result)
    return data


def over_pilot(programme: Programme, proposal: dict[str, Any] | None) -> int:
    """How many pairs the proposal has beyond the pilot size (0: within it)."""
    if proposal is None:
        return 0
    return max(len(proposal["pairs"]) - programme.pilot_size, 0)


# What an accepted member the published pairs left out may expect (told, and on their pages).
UNPAIRED_NEXT = "the lead may pair you later, or in the next round"


def unpaired_sides(
    programme: Programme, applications: list[Application], pairs: list[Pair], user_id: int
) -> set[str]:
    """The sides on which the member was accepted but is in no pair (running or ended) of a
    programme whose pairs are published: they were not paired this round."""
    if programme.status == ProgrammeStatus.open.value:
        return set()
    paired = {Side.junior.value for p in pairs if p.junior_id == user_id} | {
        Side.senior.value for p in pairs if p.senior_id == user_id
    }
    return {
        a.side for a in applications
        if a.user_id == user_id and a.programme_id == programme.id
        and a.status == ApplicationStatus.accepted.value and a.side not in paired
    }  # fmt: skip


async def _open_pair(
    session: AsyncSession, programme: Programme, junior: User, senior: User,
    score: dict[str, Any], now: datetime,
) -> Pair:  # fmt: skip
    """A running pair: its private conversation (only the two of them take part), and both
    told, leading to it."""
    # The space is left with the pair, on the programme's page (never on its own).
    conversation = Conversation(
        subject=f"{programme.name}: {junior.username} and {senior.username}"[:200],
        created_by=None, created_at=now, last_message_at=now,
        leave_via=path("programme", programme_id=programme.id),
    )  # fmt: skip
    session.add(conversation)
    await session.flush()
    for member in (junior, senior):
        session.add(Participant(conversation_id=conversation.id, user_id=member.id,
                                joined_at=now, last_read_id=0))  # fmt: skip
    pair = Pair(programme_id=programme.id, junior_id=junior.id, senior_id=senior.id,
                status="active", score=json.dumps(score), conversation_id=conversation.id,
                created_at=now)  # fmt: skip
    session.add(pair)
    await session.flush()
    # Told leading to the pair's page: who the partner is, the programme's purpose and ground
    # rules and the first steps, with the way into the private space (a probe's pair landed in
    # the space, empty and unexplained).
    for member, partner in ((junior, senior), (senior, junior)):
        tell(
            session, member.id, NoteKind.programme,
            f"You are paired with {partner.username} in {title(programme)}: your private "
            "space is open",
            path("programme_pair", programme_id=programme.id, pair_id=pair.id),
        )  # fmt: skip
    return pair


def no_common_slot(pair: dict[str, Any]) -> bool:
    """A proposed pair whose members both gave time slots, none of them in common: proposed
    and published all the same, with a warning (a probe's pair had "availability: 0.0")."""
    notes = pair.get("notes")
    return isinstance(notes, dict) and notes.get("availability") == NO_COMMON_SLOT


@dataclass
class PublishPlan:
    """What publishing the newest proposal does, as its confirmation page says it: the pairs,
    the accepted members it leaves out (user id: sides), and who is told."""

    proposal: dict[str, Any]
    left_out: dict[int, list[str]]

    @property
    def pairs(self) -> list[dict[str, Any]]:
        return list(self.proposal["pairs"])

    @property
    def no_common_slot(self) -> list[dict[str, Any]]:
        """The pairs whose members share no time slot (they will have to find one)."""
        return [p for p in self.pairs if no_common_slot(p)]

    @property
    def told(self) -> int:
        """How many members are told: each paired member, and each one left out."""
        paired = {i for p in self.pairs for i in (p["junior_id"], p["senior_id"])}
        return len(paired | set(self.left_out))


async def publish_plan(session: AsyncSession, programme: Programme) -> PublishPlan:
    """What publishing would do now (refused, saying why, when it cannot be published)."""
    if programme.status != ProgrammeStatus.open.value:
        raise ProgrammeError("action", "The pairs are already published.")
    proposal = proposal_of(await latest_job(session, programme))
    if proposal is None or not proposal["pairs"]:
        raise ProgrammeError("action", "There is no finished proposal to publish yet.")
    accepted = {
        (user_id, side)
        for user_id, side in await session.execute(
            select(Application.user_id, Application.side).where(
                Application.programme_id == programme.id,
                Application.status == ApplicationStatus.accepted.value,
            )
        )
    }
    for p in proposal["pairs"]:
        if (p["junior_id"], Side.junior.value) not in accepted or (
            p["senior_id"], Side.senior.value) not in accepted:  # fmt: skip
            raise ProgrammeError(
                "action", "Someone in this proposal withdrew since it was made: propose pairs "
                "again before publishing.",
            )  # fmt: skip
    paired = {(p["junior_id"], Side.junior.value) for p in proposal["pairs"]} | {
        (p["senior_id"], Side.senior.value) for p in proposal["pairs"]
    }
    left_out: dict[int, list[str]] = {}
    for user_id, side in sorted(accepted - paired):
        left_out.setdefault(user_id, []).append(side)
    return PublishPlan(proposal=proposal, left_out=left_out)


async def publish(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme,
    confirm_over_pilot: bool = False,
) -> list[Pair]:  # fmt: skip
    """Publish the newest proposal: each pair gets a private conversation (only the two of
    them take part; moderators see it only when a message is reported) and both are told.
    More pairs than the pilot size are published only when the lead confirms it."""
    require_lead(lead, programme)
    plan = await publish_plan(session, programme)
    proposal = plan.proposal
    count = len(proposal["pairs"])
    if over_pilot(programme, proposal) and not confirm_over_pilot:
        raise ProgrammeError(
            "over_pilot",
            f"This proposal has {counted(count, 'pair')}, more than the pilot size of "
            f"{programme.pilot_size}: tick the box to confirm, or fix fewer pairs.",
        )
    await check_rate(session, settings, lead)
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(
        {p["junior_id"] for p in proposal["pairs"]} | {p["senior_id"] for p in proposal["pairs"]}
    )))}  # fmt: skip
    made = []
    now = utcnow()
    for p in proposal["pairs"]:
        junior, senior = users[p["junior_id"]], users[p["senior_id"]]
        made.append(await _open_pair(session, programme, junior, senior, p, now))
    # Accepted members the proposal left out are told too, not left waiting on "accepted".
    for user_id, sides in plan.left_out.items():
        tell(
            session, user_id, NoteKind.programme,
            f"You were not paired in {title(programme)} this round ({' and '.join(sides)} "
            f"side): {UNPAIRED_NEXT}",
            path("programme", programme_id=programme.id),
        )  # fmt: skip
    programme.status = ProgrammeStatus.published.value
    programme.published_at = now
    listed = "; ".join(
        f"{users[p['junior_id']].username} with {users[p['senior_id']].username}"
        for p in proposal["pairs"]
    )
    beyond = (f" (more than the pilot size of {programme.pilot_size}, confirmed)"
              if over_pilot(programme, proposal) else "")  # fmt: skip
    words = f"Published {counted(count, 'pair')}{beyond}: {listed}."
    log(session, lead, programme, "publish", words)
    await session.flush()
    return made


async def hand_choices(
    session: AsyncSession, programme: Programme, proposal: dict[str, Any] | None = None
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Whom the lead may pair by hand, by name: the accepted juniors in no pair, and the
    accepted seniors with a free place (each takes one partner). Before publishing, in no
    pair of the `proposal`; after, in no running pair."""
    if programme.status == ProgrammeStatus.closed.value:
        return [], []
    if programme.status == ProgrammeStatus.open.value:
        taken = [(p["junior_id"], p["senior_id"]) for p in (proposal or {}).get("pairs", [])]
    else:
        taken = [(p.junior_id, p.senior_id) for p in await pairs_of(session, programme)
                 if p.status == PairStatus.active.value]  # fmt: skip
    busy = {(j, Side.junior.value) for j, _ in taken} | {(s, Side.senior.value) for _, s in taken}
    free = sorted(
        ((a.side, name.casefold(), a.user_id, name)
         for a, name in await applications(session, programme)
         if a.status == ApplicationStatus.accepted.value and (a.user_id, a.side) not in busy),
    )  # fmt: skip
    return (
        [(uid, name) for side, _, uid, name in free if side == Side.junior.value],
        [(uid, name) for side, _, uid, name in free if side == Side.senior.value],
    )


async def pair_of_message(session: AsyncSession, user: User, message_id: int) -> Pair | None:
    """The pair whose private space holds message `message_id`, when `user` is one of its two
    members (else None: nobody else learns the space exists)."""
    conversation_id = await session.scalar(
        select(Message.conversation_id).where(Message.id == message_id)
    )
    if conversation_id is None:
        return None
    return await pair_of_space(session, user, conversation_id)


async def pair_of_space(session: AsyncSession, user: User, conversation_id: int) -> Pair | None:
    """The pair whose private space is conversation `conversation_id`, when `user` is one of
    its two members (else None)."""
    return await session.scalar(
        select(Pair).where(
            Pair.conversation_id == conversation_id,
            or_(Pair.junior_id == user.id, Pair.senior_id == user.id),
        )
    )


async def pair_by_hand(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme,
    junior_id: int, senior_id: int,
) -> Pair:  # fmt: skip
    """After publishing, the lead pairs an accepted junior in no running pair with an accepted
    senior with a free place: a running pair as publishing makes one (its private space, both
    told), on the same checks (members' constraints, the lead's own forbidden pairs). Before
    publishing, pairing by hand fixes the pair in the proposal (`edit_pairs`)."""
    require_lead(lead, programme)
    if programme.status == ProgrammeStatus.open.value:
        raise ProgrammeError("hand", "The pairs are not published yet: pair by hand in the "
                             "proposal, where the pair is fixed.")  # fmt: skip
    if programme.status != ProgrammeStatus.published.value:
        raise ProgrammeError("hand", "The programme is closed: it takes no new pairs.")
    juniors, seniors = await hand_choices(session, programme)
    names = await usernames(session, {junior_id, senior_id})
    j, s = names.get(junior_id, "?"), names.get(senior_id, "?")
    accepted = {(a.user_id, a.side) for a, _ in await applications(session, programme)
                if a.status == ApplicationStatus.accepted.value}  # fmt: skip
    if (junior_id, Side.junior.value) not in accepted or (
        senior_id, Side.senior.value) not in accepted:  # fmt: skip
        raise ProgrammeError(
            "hand", "Choose an accepted member on each side: the junior side, then the senior."
        )
    if junior_id not in dict(juniors):
        raise ProgrammeError("hand", f"{j} is already in a running pair (junior side).")
    if senior_id not in dict(seniors):
        raise ProgrammeError("hand", f"{s} is already in a running pair (senior side).")
    why = await unfixable(session, programme, [(junior_id, senior_id)], doing="paired")
    if why is not None:
        raise ProgrammeError("hand", why)
    if [junior_id, senior_id] in edits_of(programme)["forbidden"]:
        raise ProgrammeError("hand", f"You forbade the pair {j} with {s} in the proposal.")
    before = await session.scalar(
        select(Pair.id).where(Pair.programme_id == programme.id, Pair.junior_id == junior_id,
                              Pair.senior_id == senior_id)
    )  # fmt: skip
    if before is not None:
        raise ProgrammeError(
            "hand", f"{j} and {s} were paired before, and that pair has ended: choose another "
            "partner.",
        )  # fmt: skip
    await check_rate(session, settings, lead)
    users = {u.id: u for u in await session.scalars(
        select(User).where(User.id.in_([junior_id, senior_id])))}  # fmt: skip
    pair = await _open_pair(
        session, programme, users[junior_id], users[senior_id],
        {"junior_id": junior_id, "senior_id": senior_id, "fixed": True, "by_hand": True},
        utcnow(),
    )  # fmt: skip
    log(
        session,
        lead,
        programme,
        "pair",
        f"Paired {j} with {s} by hand after publishing: a new pair, its private space open.",
    )
    await session.flush()
    return pair


@dataclass(frozen=True)
class PairSpace:
    """A pair's private conversation as moderation sees it: who stands where on the
    programme's ladder. `years` are the seniority fields of the applications each member was
    paired on."""

    programme_id: int
    pair_id: int
    kind: str
    junior_id: int
    senior_id: int
    junior_years: int
    senior_years: int

    def partner_of(self, user_id: int) -> int:
        return self.senior_id if user_id == self.junior_id else self.junior_id

    def gap_years(self, writer_id: int) -> int:
        """How many years of seniority the writer stands above their partner (negative: below).
        In a reverse or traditional programme the sides say who is senior: the senior side
        never writes up, the junior side never down. A peer programme goes by the years."""
        if self.kind == Kind.peer.value:
            gap = self.senior_years - self.junior_years
        else:
            gap = max(self.senior_years - self.junior_years, 0)
        return gap if writer_id == self.senior_id else -gap

    def describe(self, writer_id: int) -> dict[str, Any]:
        """What the moderation result records of the context used."""
        writer_side = Side.senior.value if writer_id == self.senior_id else Side.junior.value
        years = {self.junior_id: self.junior_years, self.senior_id: self.senior_years}
        return {
            "source": "programme", "programme_id": self.programme_id, "pair_id": self.pair_id,
            "kind": self.kind, "writer_side": writer_side,
            "writer_years": years[writer_id], "target_years": years[self.partner_of(writer_id)],
            "gap_years": self.gap_years(writer_id),
        }  # fmt: skip


async def pair_space(session: AsyncSession, conversation_id: int) -> PairSpace | None:
    """The pair whose private space `conversation_id` is, if it is one."""
    found = (
        await session.execute(
            select(Pair, Programme.kind)
            .join(Programme, Programme.id == Pair.programme_id)
            .where(Pair.conversation_id == conversation_id)
            .limit(1)
        )
    ).first()
    if found is None:
        return None
    pair, kind = found
    years = {
        (uid, side): seniority
        for uid, side, seniority in await session.execute(
            select(Application.user_id, Application.side, Application.seniority).where(
                Application.programme_id == pair.programme_id,
                Application.user_id.in_([pair.junior_id, pair.senior_id]),
            )
        )
    }
    return PairSpace(
        programme_id=pair.programme_id, pair_id=pair.id, kind=kind,
        junior_id=pair.junior_id, senior_id=pair.senior_id,
        junior_years=years.get((pair.junior_id, Side.junior.value), 0),
        senior_years=years.get((pair.senior_id, Side.senior.value), 0),
    )  # fmt: skip


# What each side is called, by the programme's kind: a reverse programme's junior mentors.
ROLES = {
    Kind.reverse.value: {Side.junior.value: "junior mentor", Side.senior.value: "senior mentee"},
    Kind.traditional.value: {
        Side.junior.value: "junior mentee",
        Side.senior.value: "senior mentor",
    },
    Kind.peer.value: {Side.junior.value: "junior side", Side.senior.value: "senior side"},
}


def role(programme: Programme, side: str) -> str:
    return ROLES.get(programme.kind, ROLES[Kind.peer.value]).get(side, side)


@dataclass(frozen=True)
class PairGuide:
    """What a member of a pair reads about it (the pair's page: a probe found the private space
    opened empty and unexplained): the partner and each one's side, the slots both chose, and
    whether anything is written in the space yet."""

    pair: Pair
    side: str  # the member's own
    partner_side: str
    partner: str  # the partner's username ("a former member": the account is gone)
    role: str  # the member's own, in words ("junior mentor")
    partner_role: str
    learns: str  # what the member's side learns (the programme's words)
    shared_slots: list[str]  # availability slots both partners chose
    messages: int  # messages in the space the member sees


async def pair_guide(
    session: AsyncSession, user: User, programme: Programme, pair_id: int
) -> PairGuide | None:
    """The guide to a pair for one of its two members; None for anyone else (nobody else learns
    of the pair's space from it)."""
    pair = await session.get(Pair, pair_id)
    if pair is None or pair.programme_id != programme.id:
        return None
    if user.id not in (pair.junior_id, pair.senior_id):
        return None
    junior = user.id == pair.junior_id
    side, partner_side = Side.junior.value, Side.senior.value
    if not junior:
        side, partner_side = partner_side, side
    partner_id = pair.senior_id if junior else pair.junior_id
    partner = (await usernames(session, {partner_id})).get(partner_id, "a former member")
    slots = {
        (a.user_id, a.side): lines(a.availability)
        for a in await session.scalars(
            select(Application).where(
                Application.programme_id == programme.id,
                Application.user_id.in_([pair.junior_id, pair.senior_id]),
            )
        )
    }
    mine = slots.get((user.id, side), [])
    theirs = set(slots.get((partner_id, partner_side), []))
    messages = 0
    if pair.conversation_id is not None:
        messages = int(
            await session.scalar(
                select(func.count(Message.id)).where(
                    Message.conversation_id == pair.conversation_id,
                    Message.state.in_(VISIBLE_STATES) | (Message.sender_id == user.id),
                )
            )
            or 0
        )
    return PairGuide(
        pair=pair, side=side, partner_side=partner_side, partner=partner,
        role=role(programme, side), partner_role=role(programme, partner_side),
        learns=programme.junior_learns if junior else programme.senior_learns,
        shared_slots=[s for s in mine if s in theirs], messages=messages,
    )  # fmt: skip


async def pairs_of(session: AsyncSession, programme: Programme) -> list[Pair]:
    return list(
        await session.scalars(
            select(Pair).where(Pair.programme_id == programme.id).order_by(Pair.id)
        )
    )


async def my_pair(
    session: AsyncSession, programme: Programme, user_id: int, active: bool = False
) -> list[Pair]:
    """The member's pairs in the programme (only those still running when `active`)."""
    return [
        p for p in await pairs_of(session, programme)
        if user_id in (p.junior_id, p.senior_id)
        and (not active or p.status == PairStatus.active.value)
    ]  # fmt: skip


# --- check-ins --------------------------------------------------------------------------------


def starts_at(programme: Programme) -> datetime | None:
    """When the pairs' programme begins: publication, or the start date if that is later
    (pairs published ahead of the start date wait for it). None: not published."""
    if programme.published_at is None:
        return None
    return _starts_if_published(programme, programme.published_at)


def _starts_if_published(programme: Programme, published: datetime) -> datetime:
    if programme.starts_on is None:
        return published
    return max(published, datetime.combine(programme.starts_on, time(), UTC))


def has_started(programme: Programme, now: datetime | None = None) -> bool:
    """Published, and its start date (if any) has come."""
    start = starts_at(programme)
    return start is not None and (now or utcnow()) >= start


def _interval(programme: Programme) -> timedelta:
    return timedelta(days=max(programme.checkin_days or 0, 1))


def round_opens_at(programme: Programme, round_: int) -> datetime | None:
    """When check-in `round_` opens: round 1 one interval after the start (pairs meet
    before they are asked how it is going: with checkin_days 14, 14 days after it), each
    next one an interval later. None: not published. (A programme that had started when
    migration 0032 came, `checkins_from_start`, opened round 1 at the start: its answers
    are stored by those rounds' numbers, and keep them.)"""
    start = starts_at(programme)
    if start is None:
        return None
    waits = round_ - 1 if programme.checkins_from_start else round_
    return start + _interval(programme) * waits


def round_closes_at(programme: Programme, round_: int) -> datetime | None:
    """When check-in `round_` stops taking answers (the next one opens); None: not published.
    Closing the programme closes its round early (see `closed_rounds`)."""
    return round_opens_at(programme, round_ + 1)


def round_at(programme: Programme, when: datetime) -> int:
    """The check-in round open at `when` (0: before the first one opens), whether or not the
    programme has closed since."""
    first = round_opens_at(programme, 1)
    if first is None or when < first:
        return 0
    return (when - first) // _interval(programme) + 1


def current_round(programme: Programme, now: datetime | None = None) -> int:
    """The check-in round open now (see `round_opens_at`); once closed, the one that was open
    when it closed (no later one opens). 0: none has opened, and no check-in is asked."""
    return round_at(programme, programme.closed_at or now or utcnow())


def closed_rounds(programme: Programme, now: datetime | None = None) -> int:
    """How many check-in rounds are over: their answers can no longer be sent or replaced.
    Every round once the programme is closed (check-ins stop), else all but the open one.
    A programme closed before its first check-in opened has none."""
    if programme.status == ProgrammeStatus.closed.value:
        return current_round(programme, now)
    return max(current_round(programme, now) - 1, 0)


def phase(programme: Programme, now: datetime | None = None) -> str:
    """The programme's state in words, as its pages show it."""
    if programme.status == ProgrammeStatus.closed.value:
        return "closed"
    if programme.status == ProgrammeStatus.published.value:
        start = starts_at(programme)
        if start is None or has_started(programme, now):
            return "running"
        return f"paired, starting on {start:%d %B %Y}"
    if programme.status == ProgrammeStatus.draft.value:
        return "a draft, not yet open for applications"
    return "taking applications"


def first_checkin_message(programme: Programme) -> str:
    """When a published programme's first check-in opens, in words."""
    first = round_opens_at(programme, 1)
    if first is None:
        return "The first check-in opens once the pairs are published."
    return f"The first check-in opens on {first:%d %B %Y}."


def first_checkin_if_published(programme: Programme, now: datetime | None = None) -> str:
    """When the first check-in would open were the pairs published `now`, in words (the
    publishing confirmation says it)."""
    first = _starts_if_published(programme, now or utcnow()) + _interval(programme)
    return (
        f"The first check-in opens {counted(programme.checkin_days, 'day')} after the "
        f"programme starts, on {first:%d %B %Y}: pairs meet before they are asked how it goes."
    )


def not_started_message(programme: Programme) -> str:
    """A programme paired ahead of its start date: what begins when."""
    start = starts_at(programme)
    if start is None:
        return "The programme starts once its pairs are published."
    if round_opens_at(programme, 1) == start:
        return f"The programme starts on {start:%d %B %Y}: check-ins and meetings begin then."
    return (
        f"The programme starts on {start:%d %B %Y}: meetings begin then. "
        + first_checkin_message(programme)
    )


def before_checkins_message(programme: Programme, now: datetime | None = None) -> str:
    """What a running programme with no check-in open yet says: when it starts (paired
    ahead of the start date), else when the first check-in opens."""
    if not has_started(programme, now):
        return not_started_message(programme)
    return first_checkin_message(programme)


async def questions(
    session: AsyncSession, programme: Programme, side: str | None = None,
    closing: bool | None = False,
) -> list[CheckinQuestion]:  # fmt: skip
    """The questions asked of `side`: the regular check-in's (closing False), the closing
    survey's (True: those the lead marked, and the frankness question), or all (None)."""
    query = select(CheckinQuestion).where(CheckinQuestion.programme_id == programme.id)
    if closing is not None:
        query = query.where(
            (CheckinQuestion.closing == closing) | CheckinQuestion.frankness.is_(True)
        )
    if side is not None:
        query = query.where(CheckinQuestion.side.in_([side, "both"]))
    return list(await session.scalars(query.order_by(CheckinQuestion.position,
                                                     CheckinQuestion.id)))  # fmt: skip


async def add_question(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme,
    prompt: str, kind: str, side: str, closing: bool = False,
) -> CheckinQuestion:  # fmt: skip
    require_lead(lead, programme)
    if programme.status == ProgrammeStatus.closed.value:
        raise ProgrammeError("prompt", "The programme is closed: its questions are settled.")
    prompt = clean_line(prompt)
    if not prompt or len(prompt) > 300:
        raise ProgrammeError("prompt", "Write the question (at most 300 characters).")
    _shown(prompt, "prompt", "The question")
    if kind not in ("scale", "text"):
        raise ProgrammeError("kind", "Choose a scale or free text.")
    if side not in ("junior", "senior", "both"):
        raise ProgrammeError("side", "Choose who is asked.")
    count = await session.scalar(
        select(func.count(CheckinQuestion.id)).where(CheckinQuestion.programme_id == programme.id)
    )
    if (count or 0) >= 20:
        raise ProgrammeError("prompt", "A check-in can have at most 20 questions.")
    await check_rate(session, settings, lead)
    question = CheckinQuestion(programme_id=programme.id, prompt=prompt, kind=kind, side=side,
                               frankness=False, closing=closing,
                               position=(count or 0) + 1)  # fmt: skip
    session.add(question)
    await session.flush()
    return question


async def answer_counts(session: AsyncSession, programme: Programme) -> dict[int, int]:
    """How many answers (check-ins and closing survey) each of the programme's questions has."""
    rows = await session.execute(
        select(CheckinAnswer.question_id, func.count(CheckinAnswer.id))
        .where(CheckinAnswer.programme_id == programme.id)
        .group_by(CheckinAnswer.question_id)
    )
    return {qid: int(n) for qid, n in rows}


FRANKNESS_FIXED = (
    "The frankness question is asked in every programme, so that programmes can be compared: "
    "it cannot be changed or removed."
)


def question_answered(n: int) -> str:
    return (
        f"This question has {counted(n, 'answer')}: it can no longer be reworded or removed "
        "(its answers were given to these words, and its figures would be lost). Add a new "
        "question instead."
    )


async def change_question(
    session: AsyncSession, settings: Settings, lead: User, programme: Programme,
    question_id: int, action: str, prompt: str = "",
) -> CheckinQuestion | None:  # fmt: skip
    """The lead rewords (`action` "edit") or removes ("remove") a check-in question. Rules: the
    frankness question never changes (every programme asks it); any other question, the
    default "Anything you would like the programme's lead to know?" included, is reworded or
    removed only while nobody has answered it (answers belong to the words they answered, and
    a removed question's figures would go with it). A closed programme's questions are settled.
    Returns the reworded question (None: removed)."""
    require_lead(lead, programme)
    field = f"question-{question_id}"
    question = await session.get(CheckinQuestion, question_id)
    if question is None or question.programme_id != programme.id:
        raise ProgrammeError("question", "There is no such question.", status=404)
    if programme.status == ProgrammeStatus.closed.value:
        raise ProgrammeError(field, "The programme is closed: its questions are settled.")
    if action not in ("edit", "remove"):
        raise ProgrammeError(field, "Choose to reword or to remove the question.")
    if question.frankness:
        raise ProgrammeError(field, FRANKNESS_FIXED)
    answers = (await answer_counts(session, programme)).get(question.id, 0)
    if answers:
        raise ProgrammeError(field, question_answered(answers))
    if action == "edit":
        new = clean_line(prompt)
        if not new or len(new) > 300:
            raise ProgrammeError(field, "Write the question (at most 300 characters).")
        _shown(new, field, "The question")
        await check_rate(session, settings, lead)
        if new != question.prompt:
            log(session, lead, programme, "question",
                f"Reworded a check-in question: “{question.prompt}” is now “{new}”.")  # fmt: skip
            question.prompt = new
        await session.flush()
        return question
    await check_rate(session, settings, lead)
    log(session, lead, programme, "question", f"Removed the check-in question “{question.prompt}”.")
    await session.delete(question)
    await session.flush()
    return None


async def participant_sides(session: AsyncSession, programme: Programme, user_id: int) -> set[str]:
    """The sides on which the member is in a running pair (a pair that ended answers no more)."""
    return {
        Side.junior.value if p.junior_id == user_id else Side.senior.value
        for p in await my_pair(session, programme, user_id, active=True)
    }


def parse_answers(
    asked: list[CheckinQuestion], values: dict[int, str]
) -> dict[int, tuple[int | None, str]]:
    parsed: dict[int, tuple[int | None, str]] = {}
    for q in asked:
        raw = values.get(q.id, "").strip()
        if q.kind == "scale":
            if raw not in {"1", "2", "3", "4", "5"}:
                raise ProgrammeError(f"q{q.id}", f"Answer “{q.prompt}” from 1 to 5.")
            parsed[q.id] = (int(raw), "")
        else:
            parsed[q.id] = (None, _text(raw, f"q{q.id}", "An answer"))
    return parsed


async def own_answers(
    session: AsyncSession, programme: Programme, user: User, side: str, round_: int
) -> tuple[dict[int, str], datetime | None]:
    """What `user` answered on `side` in check-in `round_` (as the form's fields hold it), and
    when; ({}, None) if they have not answered it."""
    rows = (
        await session.scalars(
            select(CheckinAnswer).where(
                CheckinAnswer.programme_id == programme.id, CheckinAnswer.user_id == user.id,
                CheckinAnswer.side == side, CheckinAnswer.round == round_,
            )
        )
    ).all()  # fmt: skip
    values = {a.question_id: (a.text or "") if a.value is None else str(a.value) for a in rows}
    return values, max((a.created_at for a in rows), default=None)


async def answer_checkin(
    session: AsyncSession, settings: Settings, user: User, programme: Programme, side: str,
    values: dict[int, str],
) -> int:  # fmt: skip
    """Record a participant's answers for the current round (again: replaced)."""
    if side not in await participant_sides(session, programme, user.id):
        raise Forbidden("side", "Only the programme's participants answer its check-ins.")
    if programme.status != ProgrammeStatus.published.value:
        raise ProgrammeError("side", "The programme is closed: check-ins have stopped.")
    round_ = current_round(programme)
    if round_ == 0:
        raise ProgrammeError("side", before_checkins_message(programme))
    parsed = parse_answers(await questions(session, programme, side), values)
    await check_rate(session, settings, user)
    old = await session.scalars(
        select(CheckinAnswer).where(
            CheckinAnswer.user_id == user.id, CheckinAnswer.round == round_,
            CheckinAnswer.question_id.in_(list(parsed)),
        )
    )  # fmt: skip
    for answer in old:
        await session.delete(answer)
    await session.flush()
    for qid, (value, text) in parsed.items():
        session.add(CheckinAnswer(programme_id=programme.id, question_id=qid, user_id=user.id,
                                  side=side, round=round_, value=value, text=text,
                                  created_at=utcnow()))  # fmt: skip
    # The reminder is done with: it no longer shows as new (a probe's member answered and
    # still had an unread "Check-in 3 is open").
    await session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == user.id,
            Notification.kind == NoteKind.checkin.value,
            Notification.link == path("programme_checkin", programme_id=programme.id),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return round_


async def answered(session: AsyncSession, programme: Programme, user_id: int) -> set[int]:
    """The rounds in which this member answered."""
    return set(
        await session.scalars(
            select(CheckinAnswer.round).where(
                CheckinAnswer.programme_id == programme.id, CheckinAnswer.user_id == user_id
            )
        )
    )


async def remind_due(session: AsyncSession, limit: int = 200) -> int:
    """The worker's call: when a check-in round opens, each participant who has not answered
    it yet gets a reminder (a notification: in the app, and by e-mail unless they chose
    otherwise), once per round; none before round 1 opens, one interval after the start.
    Returns the pairs reminded."""
    done = 0
    running = await session.scalars(
        select(Programme).where(Programme.status == ProgrammeStatus.published.value)
    )
    for programme in list(running):
        round_ = current_round(programme)
        if round_ == 0:
            continue  # the first check-in has not opened: nobody is asked yet
        due = list(
            await session.scalars(
                select(Pair)
                .where(Pair.programme_id == programme.id, Pair.status == "active",
                       Pair.reminded_round < round_)
                .limit(limit - done)
            )
        )  # fmt: skip
        if not due:
            continue
        ids = {p.junior_id for p in due} | {p.senior_id for p in due}
        answered = set(
            await session.scalars(
                select(CheckinAnswer.user_id).where(
                    CheckinAnswer.programme_id == programme.id, CheckinAnswer.round == round_,
                    CheckinAnswer.user_id.in_(ids),
                )
            )
        )  # fmt: skip
        users = await usernames(session, ids)
        link = path("programme_checkin", programme_id=programme.id)
        for pair in due:
            for uid in (pair.junior_id, pair.senior_id):
                if uid not in answered and uid in users:
                    tell(
                        session, uid, NoteKind.checkin,
                        f"Check-in {round_} of {title(programme)} is open: a few short "
                        "questions that only the lead reads, never your partner",
                        link,
                    )  # fmt: skip
            pair.reminded_round = round_
            done += 1
        if done >= limit:
            break
    return done


# --- meetings --------------------------------------------------------------------------------


def member_today(member: User | None, now: datetime | None = None) -> date:
    """Today on the member's own clock (their `time_zone`; "" is UTC): a member ahead of
    UTC logs today's meeting on their own date, and nobody logs one dated tomorrow."""
    return timezones.local(now or utcnow(), timezones.zone_of(member)).date()


def meeting_days(
    programme: Programme, pair: Pair, now: datetime | None = None, member: User | None = None
) -> tuple[date, date]:
    """The first and the last day a meeting of the pair may be logged for: from the pair's
    start (publication, or the programme's start date) to today, both days on the member's
    own clock (a member behind UTC on the pair's first day was offered no day at all)."""
    start = starts_at(programme) or pair.created_at
    first = timezones.local(max(start, pair.created_at), timezones.zone_of(member)).date()
    return first, member_today(member, now)


async def _own_running_pair(
    session: AsyncSession, user: User, programme: Programme, pair_id: int, doing: str
) -> Pair:
    pair = await session.get(Pair, pair_id)
    if pair is None or pair.programme_id != programme.id or user.id not in (
        pair.junior_id, pair.senior_id,
    ):  # fmt: skip
        raise Forbidden("meeting", f"Only the pair's two members {doing} its meetings.")
    if pair.status != PairStatus.active.value or (
        programme.status != ProgrammeStatus.published.value
    ):
        raise ProgrammeError("meeting", "This pair has ended: meetings are no longer logged.")
    return pair


async def meetings(session: AsyncSession, pair_ids: list[int]) -> dict[int, list[Meeting]]:
    """Each pair's dated meetings, newest first."""
    found: dict[int, list[Meeting]] = {i: [] for i in pair_ids}
    if pair_ids:
        for m in await session.scalars(
            select(Meeting).where(Meeting.pair_id.in_(pair_ids))
            .order_by(Meeting.met_on.desc(), Meeting.id.desc())
        ):  # fmt: skip
            found[m.pair_id].append(m)
    return found


async def log_meeting(
    session: AsyncSession, settings: Settings, user: User, programme: Programme, pair_id: int,
    met_on: str, now: datetime | None = None,
) -> Meeting:  # fmt: skip
    """A pair's member logs that the pair met on a day: not before the pair started, not in
    the future, and once a day per pair (both partners logging it count one meeting)."""
    pair = await _own_running_pair(session, user, programme, pair_id, "log")
    if not has_started(programme, now):
        raise ProgrammeError("meeting", not_started_message(programme))
    first, last = meeting_days(programme, pair, now, user)
    # An empty day is today (the member's), as the form proposes it.
    day = _date(met_on, "meeting") or last
    if day > last:
        raise ProgrammeError("meeting", "That day has not come yet: log a meeting once it is held.")
    if day < first:
        raise ProgrammeError(
            "meeting", f"Your pair started on {first:%d %B %Y}: choose that day or a later one."
        )
    logged = await session.scalar(
        select(Meeting).where(Meeting.pair_id == pair.id, Meeting.met_on == day)
    )
    if logged is not None:
        who = "you" if logged.logged_by == user.id else "your partner"
        raise ProgrammeError(
            "meeting", f"A meeting on {day:%d %B %Y} is already logged for your pair (by {who})."
        )
    await check_rate(session, settings, user)
    meeting = Meeting(pair_id=pair.id, met_on=day, logged_by=user.id, created_at=utcnow())
    try:
        async with session.begin_nested():  # both partners logging the day at once: one wins
            session.add(meeting)
            await session.flush()
    except IntegrityError:
        raise ProgrammeError(
            "meeting", f"A meeting on {day:%d %B %Y} is already logged for your pair."
        ) from None
    return meeting


async def remove_meeting(
    session: AsyncSession, settings: Settings, user: User, programme: Programme, pair_id: int,
    meeting_id: int,
) -> Meeting:  # fmt: skip
    """The member who logged a meeting removes it (logged by mistake)."""
    pair = await _own_running_pair(session, user, programme, pair_id, "remove")
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.pair_id != pair.id:
        raise ProgrammeError("meeting", "There is no such meeting.", status=404)
    if meeting.logged_by != user.id:
        raise Forbidden("meeting", "Only the member who logged a meeting removes it.")
    await check_rate(session, settings, user)
    await session.delete(meeting)
    await session.flush()
    return meeting
