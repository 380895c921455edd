"""Programme pages: the list, creating one (programme leads and administrators), a
programme's page, training acknowledgements, applying, withdrawing and leaving (members), the
lead's applications, proposal (run by the worker or `candor programmes pair`), edits and
publishing, check-ins, the dashboard with its report follow-ups, closing and the closing
survey, and the History of the lead's decisions.

The lead's pages answer 403 to everyone but the programme's lead and administrators."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.services import is_suspended
from forum.accounts.web import Ctx
from forum.core.ratelimit import RateLimited
from forum.core.text import counted
from forum.core.web import field_int, field_str, view
from forum.programmes import dashboard as dash
from forum.programmes import lifecycle as life
from forum.programmes import services as svc
from forum.programmes.models import JobStatus, PairStatus, Programme, ProgrammeStatus
from forum.programmes.slots import grid as slot_grid
from forum.programmes.slots import slot_code, slot_label, slot_labels

NOT_FOUND = "There is no such programme."
REFRESH_SECONDS = 3  # the pairing page's reload while a proposal is computed
WHY_PILOT = (
    "Start with a pilot of six to twelve pairs: enough to learn what works and to keep "
    "answers anonymous, few enough that the lead can follow every pair closely."
)


async def _programme(ctx: Ctx) -> Programme:
    programme = await ctx.db.get(Programme, ctx.request.path_params["programme_id"])
    # A draft is its lead's and the administrators' only: nobody else finds it.
    if programme is None or not svc.visible(ctx.user, programme):
        raise HTTPException(404, NOT_FOUND)
    return programme


async def _lead_programme(ctx: Ctx) -> Programme:
    programme = await _programme(ctx)
    assert ctx.user is not None
    svc.require_lead(ctx.user, programme)
    return programme


@view()
async def programmes(ctx: Ctx) -> Response:
    rows = await svc.programmes_list(ctx.db, ctx.user)
    mine = await svc.my_programmes(ctx.db, ctx.user) if ctx.user else []
    can_lead = svc.can_lead(ctx.user)
    return ctx.render(
        "programmes/list.html",
        {"rows": rows, "mine": mine, "can_lead": can_lead, "phase": svc.phase,
         "dates_words": svc.dates_words, "purpose_line": svc.purpose_line,
         # A member who cannot lead is told whom to ask (administrators appoint leads).
         "admins": [] if can_lead or ctx.user is None else await svc.admin_names(ctx.db)},
    )  # fmt: skip


FORM_FIELDS = [f for f in svc.ProgrammeForm.__dataclass_fields__]
LISTED = ("training", "slots")  # ticked boxes, one value each


def _programme_form(data: Any) -> svc.ProgrammeForm:
    """The programme form as sent: its ticked articles and slots one a line."""
    values = {f: field_str(data, f, 20_000) for f in FORM_FIELDS if f not in LISTED}
    for f in LISTED:
        values[f] = "\n".join(str(v)[:200] for v in data.getlist(f)[:200])
    return svc.ProgrammeForm(**values)


async def _form_context(ctx: Ctx, form: svc.ProgrammeForm) -> dict[str, Any]:
    """What the programme form shows: the kinds in words, the board's articles and the slot
    grid to tick, with what the form holds ticked (and anything else it holds kept, ticked,
    after the grid or the list)."""
    articles = await svc.published_articles(ctx.db)
    known = {str(a.id) for a in articles} | {a.slug for a in articles}
    chosen_training = svc.lines(form.training)
    grid = slot_grid()
    cells = {code for _day, row in grid for code, _part in row}
    chosen_slots = [slot_code(s) or s for s in svc.lines(form.slots)]
    return {
        "form": form,
        "errors": {},
        "why_pilot": WHY_PILOT,
        "kinds": svc.KINDS,
        "articles": articles,
        "chosen_training": set(chosen_training),
        "other_training": [t for t in chosen_training if t not in known],
        "grid": grid,
        "chosen_slots": set(chosen_slots),
        "other_slots": [s for s in chosen_slots if s not in cells],
        "slot": slot_label,
    }


@view(login=True)
async def new_programme(ctx: Ctx) -> Response:
    assert ctx.user is not None
    if not svc.can_lead(ctx.user):
        return ctx.render("programmes/no_lead.html", {"admins": await svc.admin_names(ctx.db)}, 403)
    if ctx.request.method == "GET":
        return ctx.render("programmes/new.html", await _form_context(ctx, svc.ProgrammeForm()))
    form = _programme_form(await ctx.form())
    try:
        programme = await svc.create_programme(ctx.db, ctx.settings, ctx.user, form, draft=True)
    except (svc.ProgrammeError, RateLimited) as exc:
        await ctx.rollback()
        context = await _form_context(ctx, form)
        # Every field at fault at once (FormErrors), else the one refused.
        context["errors"] = getattr(exc, "errors", None) or {exc.field or "name": exc.message}
        return ctx.render("programmes/new.html", context, exc.status)
    ctx.flash(
        "Draft saved: only you and administrators see it. Add your check-in questions, then "
        "open it for applications."
    )
    return ctx.redirect(ctx.url("programme", programme_id=programme.id))


async def _settings_context(
    ctx: Ctx, programme: Programme, form: svc.ProgrammeForm
) -> dict[str, Any]:
    """The settings form: a draft's in full; an open or running programme's with what members
    applied on (`svc.FROZEN`) shown read-only, as the programme holds it."""
    context = await _form_context(ctx, form)
    context["programme"] = programme
    frozen = programme.status != ProgrammeStatus.draft.value
    context["frozen"] = frozen
    if frozen:
        context["frozen_why"] = svc.FROZEN_WHY
        context["kind_label"] = svc.KINDS.get(programme.kind, (programme.kind, ""))[0]
        context["frozen_training"] = await svc.training_articles(ctx.db, programme)
        context["frozen_topics"] = svc.lines(programme.topics)
        context["frozen_slots"] = slot_labels(svc.lines(programme.slots))
    return context


@view(login=True)
async def programme_settings(ctx: Ctx) -> Response:
    """A programme's settings, changed by its lead (or an administrator): a draft's all of
    them; once open, and while running, all but what members applied on (`svc.FROZEN`). A
    closed programme's are settled."""
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    if programme.status == ProgrammeStatus.closed.value:
        return ctx.render_error(400, svc.CLOSED_SETTINGS)
    if ctx.request.method == "GET":
        context = await _settings_context(ctx, programme, svc.form_of(programme))
        return ctx.render("programmes/new.html", context)
    form = _programme_form(await ctx.form())
    draft = programme.status == ProgrammeStatus.draft.value
    try:
        changed = await svc.update_programme(ctx.db, ctx.settings, ctx.user, programme, form)
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        programme_id = programme.id
        await ctx.rollback()
        found = await ctx.db.get(Programme, programme_id)
        assert found is not None
        if not draft:
            # What members applied on is shown as the programme holds it, not as sent.
            kept = svc.form_of(found)
            form = svc.ProgrammeForm(**{f: getattr(form if f in svc.CHANGEABLE else kept, f)
                                        for f in FORM_FIELDS})  # fmt: skip
        context = await _settings_context(ctx, found, form)
        context["errors"] = getattr(exc, "errors", None) or {exc.field or "name": exc.message}
        return ctx.render("programmes/new.html", context, exc.status)
    if draft:
        ctx.flash("Settings saved. The programme is still a draft.")
    elif not changed:
        ctx.flash("Nothing was changed.")
    elif any(k in svc.SCHEDULE for k in changed):
        ctx.flash("Settings saved. Applicants and participants were told of the new dates or "
                  "check-in interval; the change is in the History.")  # fmt: skip
    else:
        ctx.flash("Settings saved; the change is in the History.")
    return ctx.redirect(ctx.url("programme", programme_id=programme.id))


@view(login=True)
async def open_programme(ctx: Ctx) -> Response:
    """A confirmation page saying what opening does (GET, or a POST without the
    confirmation), then opening the draft for applications."""
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    if programme.status != ProgrammeStatus.draft.value:
        return ctx.render_error(400, "The programme is not a draft: it is open already.")
    confirmed = False
    if ctx.request.method == "POST":
        confirmed = field_str(await ctx.form(), "confirm", 10) == CONFIRM
    if not confirmed:
        return ctx.render(
            "programmes/confirm_open.html",
            {"programme": programme, "refused": ctx.request.method == "POST",
             "training": await svc.training_articles(ctx.db, programme),
             "questions": await svc.questions(ctx.db, programme, closing=None),
             "slot_labels": slot_labels, "lines": svc.lines},
            400 if ctx.request.method == "POST" else 200,
        )  # fmt: skip
    await svc.open_programme(ctx.db, ctx.settings, ctx.user, programme)
    ctx.flash("The programme is open: members see it listed and may apply.")
    return ctx.redirect(ctx.url("programme", programme_id=programme.id))


@view(login=True)
async def copy_programme(ctx: Ctx) -> Response:
    """A new draft with this programme's settings and check-in questions, opened at its
    settings."""
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    await ctx.form()
    copy = await svc.copy_programme(ctx.db, ctx.settings, ctx.user, programme)
    ctx.flash(
        "Copied as a new draft, without dates, applications or pairs. Change what you need, "
        "then open it for applications."
    )
    return ctx.redirect(ctx.url("programme_settings", programme_id=copy.id))


async def _checkin_answered(ctx: Ctx, programme: Programme, pairs: list[Any]) -> dict[str, Any]:
    """When the member answered the current round's check-in, by the side they answer for."""
    user = ctx.user
    if user is None or not pairs or programme.status != ProgrammeStatus.published.value:
        return {}
    round_ = svc.current_round(programme)
    if round_ == 0:
        return {}
    found: dict[str, Any] = {}
    for side in {"junior" if p.junior_id == user.id else "senior" for p in pairs}:
        _before, at = await svc.own_answers(ctx.db, programme, user, side, round_)
        if at is not None:
            found[side] = at
    return found


async def _page_context(ctx: Ctx, programme: Programme) -> dict[str, Any]:
    user = ctx.user
    mine = await svc.applications(ctx.db, programme, user.id) if user else []
    pairs = await svc.my_pair(ctx.db, programme, user.id) if user else []
    live = [a for a, _ in mine if a.status in life.LIVE]
    reportable = await dash.reportable_pairs(ctx.db, user.id, pairs) if user else set()
    closing_due: list[str] = []
    partners: dict[int, str] = {}
    may_withdraw = False
    lead = await svc.usernames(ctx.db, {programme.lead_id} if programme.lead_id else set())
    if user:
        ids = {i for p in pairs for i in (p.junior_id, p.senior_id)} - {user.id}
        partners = await svc.usernames(ctx.db, ids)
        may_withdraw = await life.may_withdraw(ctx.db, programme, user.id)
        if programme.status == ProgrammeStatus.closed.value:
            sides = await svc.participant_sides(ctx.db, programme, user.id)
            closing_due = sorted(sides - await life.closing_answered(ctx.db, programme, user.id))
    return {
        "programme": programme,
        "training": await svc.training_articles(ctx.db, programme),
        "acked": await svc.acknowledged(ctx.db, programme, user.id) if user else set(),
        "mine": mine,
        "my_pairs": pairs,
        "partners": partners,
        # Pending or accepted and not yet paired: may withdraw. Declined or withdrawn only:
        # may apply again while the programme is open.
        "may_withdraw": may_withdraw,
        # The steps of the member's application (applied, accepted, paired), side by side.
        "live": bool(live),
        "paired_sides": {"junior" for p in pairs if user and p.junior_id == user.id}
        | {"senior" for p in pairs if user and p.senior_id == user.id},
        # Paired, left or ended, by application id (see `svc.pairing_standing`).
        "standing": {a.id: svc.pairing_standing(a, pairs)[0] for a, _ in mine},
        # Accepted, but the published pairs left them out: not paired this round.
        "unpaired": svc.unpaired_sides(programme, [a for a, _ in mine], pairs, user.id)
        if user
        else set(),
        "unpaired_next": svc.UNPAIRED_NEXT,
        "may_apply": bool(user) and programme.status == ProgrammeStatus.open.value and not live,
        "suspended": user is not None and is_suspended(user),
        "closing_due": closing_due,
        "leads": svc.leads(user, programme),
        # The programme's own lead: lead actions in place of the member's (no apply form,
        # no training to acknowledge, nobody to ask but themselves).
        "own_lead": user is not None and programme.lead_id == user.id,
        "pending": await svc.pending_count(ctx.db, programme) if svc.leads(user, programme) else 0,
        # The lead members are told to ask, by name (None: the lead's account is gone).
        "lead_name": lead.get(programme.lead_id or 0),
        "phase": svc.phase(programme),
        "started": svc.has_started(programme),
        "not_started": svc.not_started_message(programme),
        # No check-in round open yet (the first opens one interval after the start): when.
        "checkins_open": svc.current_round(programme) > 0,
        "first_checkin": svc.first_checkin_message(programme),
        # Pairs whose partner has written something the member could report as dismissive.
        "reportable": reportable,
        # Their partner's latest message reported already: when, in place of the link.
        "reported": await dash.latest_reported(ctx.db, user.id, pairs, reportable) if user else {},
        "meetings": await svc.meetings(ctx.db, [p.id for p in pairs]),
        # This round's check-in answered already, by side: the link says so (it asked again).
        "checkin_answered": await _checkin_answered(ctx, programme, pairs),
        # Up to the member's today, in their own zone (the form's max and its default).
        "meeting_days": {p.id: svc.meeting_days(programme, p, member=user) for p in pairs},
        "today": svc.member_today(user),
        "meeting_form": {},
        "topics": svc.lines(programme.topics),
        "slots": svc.lines(programme.slots),
        "lines": svc.lines,
        "slot": slot_label,
        "slot_labels": slot_labels,
        "errors": {},
        # Applying again starts from what the member sent before (declined or withdrawn).
        "form": svc.form_from([a for a, _ in mine] if not live else []),
        # Declined, and no application live: the decision (and the lead's reason) comes first,
        # applying again is offered after it (not a fresh form at once).
        "declined": [a for a, _ in mine if a.status == "declined"] if not live else [],
    }


@view()
async def programme(ctx: Ctx) -> Response:
    programme = await _programme(ctx)
    return ctx.render("programmes/programme.html", await _page_context(ctx, programme))


@view(login=True)
async def apply(ctx: Ctx) -> Response:
    programme = await _programme(ctx)
    assert ctx.user is not None
    data = await ctx.form()
    form = svc.ApplicationForm(
        side=field_str(data, "side", 20),
        job_title=field_str(data, "job_title", 200),
        department=field_str(data, "department", 200),
        seniority=field_str(data, "seniority", 20),
        teaches=[str(v)[:200] for v in data.getlist("teaches")][:100],
        learns=[str(v)[:200] for v in data.getlist("learns")][:100],
        free_text=field_str(data, "free_text", 10_000),
        availability=[str(v)[:200] for v in data.getlist("availability")][:100],
        avoid=field_str(data, "avoid", 3000),
        reporting_line=field_str(data, "reporting_line", 3000),
        training=[str(v)[:20] for v in data.getlist("training")][:100],
    )
    try:
        await svc.apply(ctx.db, ctx.settings, ctx.user, programme, form)
    except (svc.ProgrammeError, RateLimited) as exc:
        programme_id = programme.id
        await ctx.rollback()
        found = await ctx.db.get(Programme, programme_id)
        assert found is not None
        context = await _page_context(ctx, found)
        context["form"] = form
        # Every field at fault at once (FormErrors), else the one refused.
        context["errors"] = getattr(exc, "errors", None) or {exc.field or "side": exc.message}
        return ctx.render("programmes/programme.html", context, exc.status)
    ctx.flash("Application sent. The programme's lead will accept or decline it.")
    return ctx.redirect(ctx.url("programme", programme_id=programme.id))


@view(login=True)
async def withdraw(ctx: Ctx) -> Response:
    """A confirmation page saying what withdrawing does (GET), then withdrawing (POST, from
    that page's form or any form posting here)."""
    programme = await _programme(ctx)
    assert ctx.user is not None
    if ctx.request.method == "GET":
        live = await life.withdrawable(ctx.db, programme, ctx.user)
        lead = await svc.usernames(ctx.db, {programme.lead_id} if programme.lead_id else set())
        return ctx.render(
            "programmes/confirm_withdraw.html",
            {"programme": programme, "applications": live,
             "lead_name": lead.get(programme.lead_id or 0)},
        )  # fmt: skip
    await ctx.form()
    await life.withdraw(ctx.db, ctx.settings, ctx.user, programme)
    ctx.flash(
        "Your application is withdrawn and the lead was told."
        + (" You may apply again while the programme takes applications."
           if programme.status == ProgrammeStatus.open.value else "")
    )  # fmt: skip
    return ctx.redirect(ctx.url("programme", programme_id=programme.id))


CONFIRM = "yes"


@view(login=True)
async def leave(ctx: Ctx) -> Response:
    """A confirmation page (GET, or a POST without the confirmation), then leaving: it
    cannot be undone."""
    programme = await _programme(ctx)
    assert ctx.user is not None
    pairs = await life.leaving_pairs(ctx.db, programme, ctx.user)
    confirmed, reason, error = False, "", ""
    if ctx.request.method == "POST":
        data = await ctx.form()
        confirmed = field_str(data, "confirm", 10) == CONFIRM
        reason = field_str(data, "reason", 5000)
        if len(" ".join(reason.split())) > life.LEAVE_REASON_MAX:
            confirmed, error = False, life.LEAVE_REASON_TOO_LONG
    if not confirmed:
        partners = await svc.usernames(
            ctx.db, {p.senior_id if p.junior_id == ctx.user.id else p.junior_id for p in pairs}
        )
        return ctx.render(
            "programmes/confirm_leave.html",
            {"programme": programme, "partners": sorted(partners.values()),
             "refused": ctx.request.method == "POST" and not error, "reason": reason,
             "errors": {"reason": error} if error else {},
             "reason_max": life.LEAVE_REASON_MAX},
            400 if ctx.request.method == "POST" else 200,
        )  # fmt: skip
    await life.leave(ctx.db, ctx.settings, ctx.user, programme, reason)
    ctx.flash(
        "You have left the programme. Your pair has ended; your partner and the lead were "
        "told. Your private space stays readable. You cannot join this programme again."
    )
    return ctx.redirect(ctx.url("programme", programme_id=programme.id))


# An application's status in words (the lead's table, the member's own page).
STATUSES = {"pending": "Waiting for a decision", "accepted": "Accepted", "declined": "Declined",
            "withdrawn": "Withdrawn"}  # fmt: skip


async def _applications_page(
    ctx: Ctx, programme: Programme, errors: dict[Any, str] | None = None,
    typed: dict[int, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    """The lead's applications; a refused decline comes back with its error and the reason
    typed, by application id."""
    rows = await svc.applications(ctx.db, programme)
    # Paired, left or ended: what pairing made of each application (its status does not say).
    pairs = await svc.pairs_of(ctx.db, programme)
    standing = {a.id: svc.pairing_standing(a, pairs) for a, _ in rows}
    partners = await svc.usernames(ctx.db, {i for _, ids in standing.values() for i in ids})
    return ctx.render(
        "programmes/applications.html",
        {
            "programme": programme,
            "rows": rows,
            "standing": standing,
            "partners": partners,
            "lines": svc.lines,
            "statuses": STATUSES,
            "slot_labels": slot_labels,
            "reason_max": svc.REASON_MAX,
            "errors": errors or {},
            "typed": typed or {},
        },
        status,
    )


@view(login=True)
async def applications(ctx: Ctx) -> Response:
    programme = await _lead_programme(ctx)
    return await _applications_page(ctx, programme)


@view(login=True)
async def decide(ctx: Ctx) -> Response:
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    data = await ctx.form()
    decision = field_str(data, "decision", 20)
    if decision not in ("accept", "decline"):
        return ctx.render_error(400, "Choose accept or decline.")
    reason = field_str(data, "reason", svc.REASON_MAX) if decision == "decline" else ""
    application_id = ctx.request.path_params["application_id"]
    try:
        application = await svc.decide(
            ctx.db, ctx.settings, ctx.user, programme, application_id, decision == "accept",
            reason,
        )  # fmt: skip
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        if exc.field != "reason":
            raise
        programme_id = programme.id
        await ctx.rollback()
        found = await ctx.db.get(Programme, programme_id)
        assert found is not None
        return await _applications_page(
            ctx, found, {application_id: exc.message}, {application_id: reason}, exc.status
        )
    name = (await svc.usernames(ctx.db, {application.user_id})).get(application.user_id, "")
    done = "Accepted" if decision == "accept" else "Declined"
    told = " They can read your reason on the programme's page." if reason else ""
    ctx.flash(
        (f"{done}: {name}'s application ({application.side} side)." if name else f"{done}.") + told
    )
    return ctx.redirect(ctx.url("programme_applications", programme_id=programme.id))


@view(login=True)
async def accept_selected(ctx: Ctx) -> Response:
    """Accept the ticked applications at once: each as one accept is (its applicant told)."""
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    data = await ctx.form()
    raw = [str(v)[:20] for v in data.getlist("application")[:500]]
    ids = list(dict.fromkeys(int(v) for v in raw if svc.ID_RE.fullmatch(v)))
    if not ids or len(ids) != len(dict.fromkeys(raw)):
        return await _applications_page(
            ctx, programme, {"selected": "Tick the applications to accept."}, status=400
        )
    pending = {a.id for a, _ in await svc.applications(ctx.db, programme) if a.status == "pending"}
    try:
        for application_id in ids:
            if application_id not in pending:
                raise svc.ProgrammeError(
                    "selected", "an application ticked is no longer waiting for a decision."
                )
            await svc.decide(ctx.db, ctx.settings, ctx.user, programme, application_id, True)
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        programme_id = programme.id
        await ctx.rollback()
        found = await ctx.db.get(Programme, programme_id)
        assert found is not None
        return await _applications_page(
            ctx, found, {"selected": f"Nothing was accepted: {exc.message}"}, status=exc.status
        )
    ctx.flash(f"Accepted {counted(len(ids), 'application')}; each applicant was told.")
    return ctx.redirect(ctx.url("programme_applications", programme_id=programme.id))


async def _names(ctx: Ctx, programme: Programme) -> dict[int, str]:
    return {a.user_id: name for a, name in await svc.applications(ctx.db, programme)}


async def _proposal_page(
    ctx: Ctx, programme: Programme, errors: dict[str, str] | None = None, status: int = 200,
    typed: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    """The lead's pairing page; a refused form comes back with `errors` and what was typed
    (`typed`: "question", "chosen" pairs, "criteria")."""
    job = await svc.latest_job(ctx.db, programme)
    proposal = svc.proposal_of(job)
    asked = await svc.questions(ctx.db, programme, closing=None)
    response = ctx.render(
        "programmes/proposal.html",
        {
            "programme": programme,
            "job": job,
            "proposal": proposal,
            "over_pilot": svc.over_pilot(programme, proposal),
            "no_common_slot": svc.no_common_slot,
            "slotless": [p for p in (proposal or {}).get("pairs", []) if svc.no_common_slot(p)],
            "names": await _names(ctx, programme),
            "criteria": svc.criteria_of(programme),
            "edits": svc.edits_of(programme),
            "pairs": await svc.pairs_of(ctx.db, programme),
            "hand": await svc.hand_choices(ctx.db, programme, proposal),
            "questions": asked,
            # The default free-text question, said in words when the programme asks it (one
            # closed before it existed does not).
            "note": svc.NOTE if any(svc.is_note(q) for q in asked) else None,
            "errors": errors or {},
            "typed": typed or {},
        },
        status,
    )
    # While the worker computes a proposal, the page reloads itself (no script: the CSP
    # allows none inline); never over a refused form, which holds what the lead typed.
    if job is not None and job.status == JobStatus.queued.value and status == 200:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


async def _refused(
    ctx: Ctx, programme: Programme, exc: svc.ProgrammeError | RateLimited, field: str,
    typed: dict[str, Any], page: Callable[..., Awaitable[Response]],
) -> Response:  # fmt: skip
    """A lead's form refused: what the request wrote is dropped, and `page` (the proposal's,
    the questions') is shown again with the error at its field and what was typed."""
    programme_id = programme.id
    await ctx.rollback()
    found = await ctx.db.get(Programme, programme_id)
    assert found is not None
    return await page(ctx, found, {exc.field or field: exc.message}, exc.status, typed)


@view(login=True)
async def proposal(ctx: Ctx) -> Response:
    return await _proposal_page(ctx, await _lead_programme(ctx))


@view(login=True)
async def propose(ctx: Ctx) -> Response:
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    await svc.request_proposal(ctx.db, ctx.settings, ctx.user, programme)
    ctx.flash("Pairing requested: the proposal appears here in a moment.")
    return ctx.redirect(ctx.url("programme_proposal", programme_id=programme.id))


def _pair(raw: str) -> tuple[int, int]:
    junior, _, senior = raw.partition("-")
    if not (svc.ID_RE.fullmatch(junior) and svc.ID_RE.fullmatch(senior)):
        raise svc.ProgrammeError("pair", "Choose a pair from the proposal.")
    return int(junior), int(senior)


@view(login=True)
async def edit(ctx: Ctx) -> Response:
    """Fix or forbid one pair, swap the partners of two pairs, or clear the edits; then the
    proposal runs again."""
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    data = await ctx.form()
    action = field_str(data, "action", 20)
    raw = [str(v)[:30] for v in data.getlist("pair")[:50]]
    hand = {k: field_str(data, k, 20) for k in ("junior", "senior")}
    try:
        if action == "hand":
            # Pairing by hand before publishing: the two are fixed in the proposal.
            junior, senior = field_int(data, "junior"), field_int(data, "senior")
            if junior is None or senior is None:
                raise svc.ProgrammeError("hand", "Choose a junior and a senior to pair.")
            try:
                await svc.edit_pairs(ctx.db, ctx.settings, ctx.user, programme, "fix",
                                     [(junior, senior)])  # fmt: skip
            except svc.ProgrammeError as exc:
                if isinstance(exc, svc.Forbidden):
                    raise
                # Said at the "Pair by hand" form, where the two were chosen.
                raise svc.ProgrammeError("hand", exc.message, status=exc.status) from None
        else:
            chosen = [_pair(v) for v in raw]
            if action == "swap":
                if len(chosen) != 2 or chosen[0] == chosen[1]:
                    raise svc.ProgrammeError("pair", "Choose two pairs to swap their partners.")
                (j1, s1), (j2, s2) = chosen
                chosen = [(j1, s2), (j2, s1)]
            elif action in ("fix", "forbid") and not chosen:
                raise svc.ProgrammeError("pair", f"Choose a pair to {action}.")
            elif action in ("fix", "forbid") and len(chosen) != 1:
                raise svc.ProgrammeError("pair", f"Choose one pair only to {action}.")
            await svc.edit_pairs(ctx.db, ctx.settings, ctx.user, programme, action, chosen)
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        field = "hand" if action == "hand" else "pair"
        return await _refused(
            ctx, programme, exc, field, {"chosen": raw, "hand": hand}, _proposal_page
        )
    ctx.flash("Changed. The proposal is being run again.")
    return ctx.redirect(ctx.url("programme_proposal", programme_id=programme.id))


@view(login=True)
async def criteria(ctx: Ctx) -> Response:
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    data = await ctx.form()
    values = {k: field_str(data, k, 20) for k in svc.CRITERIA_DEFAULTS}
    try:
        await svc.set_criteria(ctx.db, ctx.settings, ctx.user, programme, values)
        await svc.request_proposal(ctx.db, ctx.settings, ctx.user, programme, why=None)
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        return await _refused(ctx, programme, exc, "criteria", {"criteria": values}, _proposal_page)
    ctx.flash("Criteria saved. The proposal is being run again.")
    return ctx.redirect(ctx.url("programme_proposal", programme_id=programme.id))


@view(login=True)
async def publish(ctx: Ctx) -> Response:
    """A confirmation page saying what publishing does (GET, or a POST without the
    confirmation), then publishing: it cannot be undone (it was one click)."""
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    confirmed, over = False, False
    if ctx.request.method == "POST":
        data = await ctx.form()
        confirmed = field_str(data, "confirm", 10) == CONFIRM
        over = data.get("over_pilot") == "on"
    try:
        plan = await svc.publish_plan(ctx.db, programme)
        if confirmed:
            made = await svc.publish(ctx.db, ctx.settings, ctx.user, programme,
                                     confirm_over_pilot=over)  # fmt: skip
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        if exc.field != "over_pilot":
            programme_id = programme.id
            await ctx.rollback()
            found = await ctx.db.get(Programme, programme_id)
            assert found is not None
            return await _proposal_page(ctx, found, {exc.field or "action": exc.message},
                                        exc.status)  # fmt: skip
        errors = {exc.field: exc.message}
    else:
        if confirmed:
            ctx.flash(
                f"Published {counted(len(made), 'pair')}. Each has a private space; both "
                "partners were told."
            )
            return ctx.redirect(ctx.url("programme", programme_id=programme.id))
        errors = {}
    names = await _names(ctx, programme)
    return ctx.render(
        "programmes/confirm_publish.html",
        {"programme": programme, "plan": plan, "names": names, "errors": errors,
         "over_pilot": svc.over_pilot(programme, plan.proposal),
         "pending": await svc.pending_count(ctx.db, programme),
         "first_checkin": svc.first_checkin_if_published(programme),
         "refused": ctx.request.method == "POST" and not errors},
        400 if ctx.request.method == "POST" else 200,
    )  # fmt: skip


@view(login=True)
async def pair_by_hand(ctx: Ctx) -> Response:
    """After publishing: the lead pairs an accepted member left unmatched (or whose pair
    ended) with a free partner; the pair starts as a published one does."""
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    data = await ctx.form()
    hand = {k: field_str(data, k, 20) for k in ("junior", "senior")}
    junior, senior = field_int(data, "junior"), field_int(data, "senior")
    try:
        if junior is None or senior is None:
            raise svc.ProgrammeError("hand", "Choose a junior and a senior to pair.")
        pair = await svc.pair_by_hand(ctx.db, ctx.settings, ctx.user, programme, junior, senior)
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        return await _refused(ctx, programme, exc, "hand", {"hand": hand}, _proposal_page)
    names = await svc.usernames(ctx.db, {pair.junior_id, pair.senior_id})
    ctx.flash(
        f"Paired {names.get(pair.junior_id, '?')} with {names.get(pair.senior_id, '?')}: "
        "their private space is open, and both were told."
    )
    return ctx.redirect(ctx.url("programme_proposal", programme_id=programme.id) + "#by-hand")


async def _answers(
    ctx: Ctx, programme: Programme, sides: list[str], *, closing: bool
) -> Response | tuple[Programme, str, dict[int, str], dict[str, str], int]:
    """A check-in's or the closing survey's form: on a POST, the answers are stored and the
    member sent back to the programme, or the form comes back with what they typed and why
    it was refused. Returns the redirect, or what the page shows."""
    assert ctx.user is not None
    side = ctx.request.query_params.get("side", sides[0])
    errors: dict[str, str] = {}
    values: dict[int, str] = {}
    status = 200
    if ctx.request.method == "POST":
        data = await ctx.form()
        side = field_str(data, "side", 20)
        for q in await svc.questions(ctx.db, programme, side, closing=closing):
            values[q.id] = field_str(data, f"q{q.id}", 5000)
        answer = life.answer_closing if closing else svc.answer_checkin
        try:
            await answer(ctx.db, ctx.settings, ctx.user, programme, side, values)
        except (svc.ProgrammeError, RateLimited) as exc:
            programme_id = programme.id
            await ctx.rollback()
            found = await ctx.db.get(Programme, programme_id)
            assert found is not None
            programme = found
            errors, status = {exc.field or "side": exc.message}, exc.status
        else:
            ctx.flash("Thank you. Only the programme's lead reads your answers.")
            return ctx.redirect(ctx.url("programme", programme_id=programme.id))
    if side not in sides:
        side = sides[0]
    return programme, side, values, errors, status


@view(login=True)
async def checkin(ctx: Ctx) -> Response:
    programme = await _programme(ctx)
    assert ctx.user is not None
    sides = sorted(await svc.participant_sides(ctx.db, programme, ctx.user.id))
    if not sides:
        return ctx.render_error(403, "Only the programme's participants answer its check-ins.")
    if programme.status == ProgrammeStatus.closed.value:
        return ctx.render_error(
            400, "The programme is closed: check-ins have stopped. Answer its closing survey."
        )
    if svc.current_round(programme) == 0:
        # No round open yet (paired ahead of the start date, or in the first interval, before
        # the pairs are asked how it is going): a page saying when the first check-in opens.
        return ctx.render(
            "programmes/checkin.html",
            {"programme": programme, "not_started": True,
             "started": svc.has_started(programme),
             "first_checkin": svc.first_checkin_message(programme),
             "not_started_words": svc.not_started_message(programme)},
            400 if ctx.request.method == "POST" else 200,
        )  # fmt: skip
    answered = await _answers(ctx, programme, sides, closing=False)
    if isinstance(answered, Response):
        return answered
    programme, side, values, errors, status = answered
    round_ = svc.current_round(programme)
    # Answered already: the form holds those answers, and says that sending replaces them.
    before, answered_at = await svc.own_answers(ctx.db, programme, ctx.user, side, round_)
    return ctx.render(
        "programmes/checkin.html",
        {
            "programme": programme,
            "side": side,
            "sides": sides,
            "questions": await svc.questions(ctx.db, programme, side),
            "values": values or before,
            "errors": errors,
            "round": round_,
            "answered_at": answered_at,
            "min_answers": dash.MIN_ANSWERS,
        },
        status,
    )


@view(login=True)
async def add_question(ctx: Ctx) -> Response:
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    data = await ctx.form()
    typed = {k: field_str(data, k, 1000 if k == "prompt" else 20)
             for k in ("prompt", "kind", "side", "when")}  # fmt: skip
    when = typed["when"] or "checkin"
    try:
        if when not in ("checkin", "closing"):
            raise svc.ProgrammeError("when", "Choose the check-ins or the closing survey.")
        await svc.add_question(
            ctx.db, ctx.settings, ctx.user, programme, typed["prompt"], typed["kind"],
            typed["side"], closing=when == "closing",
        )  # fmt: skip
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        return await _refused(ctx, programme, exc, "prompt", {"question": typed}, _questions_page)
    ctx.flash("Question added to the closing survey." if when == "closing"
              else "Question added to the check-in.")  # fmt: skip
    return ctx.redirect(ctx.url("programme_questions", programme_id=programme.id))


async def _questions_page(
    ctx: Ctx, programme: Programme, errors: dict[str, str] | None = None, status: int = 200,
    typed: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    """The lead's check-in questions: each with what may be done with it (reworded or removed
    while unanswered; the frankness question never), and the form adding one."""
    asked = await svc.questions(ctx.db, programme, closing=None)
    return ctx.render(
        "programmes/questions.html",
        {"programme": programme, "questions": asked,
         "answers": await svc.answer_counts(ctx.db, programme),
         "note": svc.NOTE if any(svc.is_note(q) for q in asked) else None,
         "is_note": svc.is_note, "errors": errors or {}, "typed": typed or {}},
        status,
    )  # fmt: skip


@view(login=True)
async def questions(ctx: Ctx) -> Response:
    return await _questions_page(ctx, await _lead_programme(ctx))


@view(login=True)
async def change_question(ctx: Ctx) -> Response:
    """Reword or remove one check-in question (see `svc.change_question` for the rules)."""
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    data = await ctx.form()
    question_id = field_int(data, "question")
    action = field_str(data, "action", 20)
    prompt = field_str(data, "prompt", 1000)
    if question_id is None:
        return ctx.render_error(400, "Choose a question to reword or remove.")
    try:
        changed = await svc.change_question(
            ctx.db, ctx.settings, ctx.user, programme, question_id, action, prompt
        )
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        if exc.status == 404:
            raise
        return await _refused(
            ctx,
            programme,
            exc,
            f"question-{question_id}",
            {"edit": {question_id: prompt}},
            _questions_page,
        )
    ctx.flash("Question removed." if changed is None else "Question saved.")
    return ctx.redirect(ctx.url("programme_questions", programme_id=programme.id))


@view(login=True)
async def dashboard(ctx: Ctx) -> Response:
    programme = await _lead_programme(ctx)
    board = await dash.build(ctx.db, programme)
    return ctx.render(
        "programmes/dashboard.html",
        {"programme": programme, "board": board, "svg": Markup(dash.frankness_svg(board)),
         "min_answers": dash.MIN_ANSWERS, "reports": await life.reports(ctx.db, programme),
         "before_checkins": svc.before_checkins_message(programme),
         "follow_ups": life.FOLLOW_UPS},
    )  # fmt: skip


@view(login=True)
async def follow_up(ctx: Ctx) -> Response:
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    data = await ctx.form()
    await life.follow_up(
        ctx.db, ctx.settings, ctx.user, programme, ctx.request.path_params["report_id"],
        field_str(data, "action", 20), field_str(data, "note", 5000),
    )  # fmt: skip
    ctx.flash("Your follow-up is recorded in the programme's history.")
    return ctx.redirect(ctx.url("programme_dashboard", programme_id=programme.id) + "#reports")


@view(login=True)
async def close(ctx: Ctx) -> Response:
    """A confirmation page (GET, or a POST without the confirmation), then closing: it cannot
    be undone (a lead closed a cohort still taking applications with one click)."""
    programme = await _lead_programme(ctx)
    assert ctx.user is not None
    if programme.status == ProgrammeStatus.closed.value:
        return ctx.render_error(400, "The programme is already closed.")
    confirmed = False
    if ctx.request.method == "POST":
        confirmed = field_str(await ctx.form(), "confirm", 10) == CONFIRM
    if not confirmed:
        return ctx.render(
            "programmes/confirm_close.html",
            {"programme": programme, "refused": ctx.request.method == "POST",
             "undecided": await svc.pending_count(ctx.db, programme),
             "pairs": sum(p.status == PairStatus.active.value
                          for p in await svc.pairs_of(ctx.db, programme))},
            400 if ctx.request.method == "POST" else 200,
        )  # fmt: skip
    asked = await life.close(ctx.db, ctx.settings, ctx.user, programme)
    ctx.flash(
        f"The programme is closed; {counted(asked, 'participant was', 'participants were')} "
        "asked the closing survey."
    )
    return ctx.redirect(ctx.url("programme_dashboard", programme_id=programme.id))


@view(login=True)
async def closing(ctx: Ctx) -> Response:
    """The closing survey: once per participant (per side), read by the lead only."""
    programme = await _programme(ctx)
    assert ctx.user is not None
    sides = sorted(await svc.participant_sides(ctx.db, programme, ctx.user.id))
    if not sides:
        return ctx.render_error(403, "Only the programme's participants answer its closing survey.")
    if programme.status != ProgrammeStatus.closed.value:
        return ctx.render_error(400, "The closing survey opens when the lead closes the programme.")
    answered = await _answers(ctx, programme, sides, closing=True)
    if isinstance(answered, Response):
        return answered
    programme, side, values, errors, status = answered
    done = await life.closing_answered(ctx.db, programme, ctx.user.id)
    return ctx.render(
        "programmes/closing.html",
        {
            "programme": programme,
            "side": side,
            "sides": sides,
            "done": side in done,
            "questions": await svc.questions(ctx.db, programme, side, closing=True),
            "values": values,
            "errors": errors,
        },
        status,
    )


@view(login=True)
async def history(ctx: Ctx) -> Response:
    programme = await _lead_programme(ctx)
    rows, pager = await life.history(ctx.db, programme, ctx.param_int("page"))
    return ctx.render(
        "programmes/history.html", {"programme": programme, "rows": rows, "pager": pager}
    )


@view(login=True)
async def dashboard_csv(ctx: Ctx) -> Response:
    programme = await _lead_programme(ctx)
    board = await dash.build(ctx.db, programme)
    return Response(
        dash.csv_export(programme, board),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="programme-{programme.id}.csv"'},
    )


@view(login=True)
async def dismissive_in_space(ctx: Ctx) -> Response:
    """A message's "This felt dismissive" link in a pair's private space: on to the report's
    confirmation page with that message (the programme page's link reports the partner's
    latest, and a probe's junior could not report an earlier one once the partner wrote
    again). Anyone but the pair's two members finds nothing here."""
    assert ctx.user is not None
    message_id = ctx.request.path_params["message_id"]
    pair = await svc.pair_of_message(ctx.db, ctx.user, message_id)
    if pair is None:
        raise HTTPException(404, "There is no such message in a pair's space of yours.")
    target = ctx.url("programme_dismissive", programme_id=pair.programme_id, pair_id=pair.id)
    return ctx.redirect(f"{target}?message={message_id}")


@view(login=True)
async def dismissive(ctx: Ctx) -> Response:
    """A confirmation page showing the message to be reported (GET, or a POST without the
    confirmation), then the report."""
    programme = await _programme(ctx)
    assert ctx.user is not None
    pair_id = ctx.request.path_params["pair_id"]
    # (A message chosen in the pair's space: its "This felt dismissive" link.)
    message_id: int | None = ctx.param_int("message")
    confirmed = False
    if ctx.request.method == "POST":
        data = await ctx.form()
        confirmed = field_str(data, "confirm", 10) == CONFIRM
        message_id = field_int(data, "message_id")
    pair, message = await dash.dismissive_target(ctx.db, ctx.user, programme, pair_id, message_id)
    reported = await dash.reported_at(ctx.db, ctx.user, message.id)
    if reported is not None:
        # Reported already (the pair space's link stays under the message): said kindly, with
        # the way back, not a bare refusal. Nothing is reported twice.
        return ctx.render(
            "programmes/reported_already.html",
            {"programme": programme, "pair": pair, "message": message, "reported": reported},
            409 if ctx.request.method == "POST" else 200,
        )
    if not confirmed:
        partner = pair.senior_id if ctx.user.id == pair.junior_id else pair.junior_id
        names = await svc.usernames(ctx.db, {partner})
        return ctx.render(
            "programmes/confirm_dismissive.html",
            {"programme": programme, "pair": pair, "message": message,
             "partner": names.get(partner, "a former member"),
             "refused": ctx.request.method == "POST", "chosen": message_id is not None},
            400 if ctx.request.method == "POST" else 200,
        )  # fmt: skip
    await dash.report_dismissive(ctx.db, ctx.settings, ctx.user, programme, pair.id, message.id)
    ctx.flash(
        "Reported. Moderators and the programme's lead have been told; the lead chooses how "
        "to follow up."
    )
    return ctx.redirect(ctx.url("programme", programme_id=programme.id))


@view(login=True)
async def pair_page(ctx: Ctx) -> Response:
    """A pair's page, for its two members: who the partner is and on which side, the
    programme's purpose and ground rules, the first steps, and the way into the private
    space. In full while nothing is written in the space, folded after. Anyone else finds
    nothing here (404), as with the space itself."""
    programme = await _programme(ctx)
    assert ctx.user is not None
    guide = await svc.pair_guide(ctx.db, ctx.user, programme, ctx.request.path_params["pair_id"])
    if guide is None:
        raise HTTPException(404, "There is no such pair of yours.")
    lead = await svc.usernames(ctx.db, {programme.lead_id} if programme.lead_id else set())
    return ctx.render(
        "programmes/pair.html",
        {
            "programme": programme,
            "guide": guide,
            "pair": guide.pair,
            "lead_name": lead.get(programme.lead_id or 0),
            "started": svc.has_started(programme),
            "not_started": svc.not_started_message(programme),
            "first_checkin": svc.first_checkin_message(programme),
            "slot_labels": slot_labels,
            "round": svc.current_round(programme),
        },
    )


@view(login=True)
async def pair_of_space(ctx: Ctx) -> Response:
    """From a pair's private space (a conversation, which knows nothing of programmes) to its
    pair page: for the pair's two members only (404 for anyone else)."""
    assert ctx.user is not None
    pair = await svc.pair_of_space(ctx.db, ctx.user, ctx.request.path_params["conversation_id"])
    if pair is None:
        raise HTTPException(404, "There is no such pair of yours.")
    return ctx.redirect(ctx.url("programme_pair", programme_id=pair.programme_id, pair_id=pair.id))


async def _programme_page_refused(
    ctx: Ctx, programme: Programme, exc: svc.ProgrammeError | RateLimited, extra: dict[str, Any]
) -> Response:
    """The programme's page again, with why a member's form was refused."""
    programme_id = programme.id
    await ctx.rollback()
    found = await ctx.db.get(Programme, programme_id)
    assert found is not None
    context = await _page_context(ctx, found)
    context.update(extra)
    return ctx.render("programmes/programme.html", context, exc.status)


@view(login=True)
async def meeting(ctx: Ctx) -> Response:
    programme = await _programme(ctx)
    assert ctx.user is not None
    pair_id = ctx.request.path_params["pair_id"]
    met_on = field_str(await ctx.form(), "met_on", 20)
    try:
        logged = await svc.log_meeting(ctx.db, ctx.settings, ctx.user, programme, pair_id, met_on)
    except svc.Forbidden:
        raise
    except (svc.ProgrammeError, RateLimited) as exc:
        return await _programme_page_refused(
            ctx, programme, exc,
            {"errors": {f"meeting-{pair_id}": exc.message}, "meeting_form": {pair_id: met_on}},
        )  # fmt: skip
    ctx.flash(f"Meeting on {logged.met_on:%d %B %Y} logged.")
    return ctx.redirect(ctx.url("programme", programme_id=programme.id) + f"#pair-{pair_id}")


@view(login=True)
async def remove_meeting(ctx: Ctx) -> Response:
    programme = await _programme(ctx)
    assert ctx.user is not None
    pair_id = ctx.request.path_params["pair_id"]
    removed = await svc.remove_meeting(
        ctx.db, ctx.settings, ctx.user, programme, pair_id, ctx.request.path_params["meeting_id"]
    )
    ctx.flash(f"The meeting on {removed.met_on:%d %B %Y} is removed.")
    return ctx.redirect(ctx.url("programme", programme_id=programme.id) + f"#pair-{pair_id}")


routes = [
    Route("/programmes", programmes, methods=["GET"], name="programmes"),
    Route("/programmes/new", new_programme, methods=["GET", "POST"], name="new_programme"),
    Route("/programmes/{programme_id:id}", programme, methods=["GET"], name="programme"),
    Route("/programmes/{programme_id:id}/settings", programme_settings, methods=["GET", "POST"],
          name="programme_settings"),
    Route("/programmes/{programme_id:id}/open", open_programme, methods=["GET", "POST"],
          name="programme_open"),
    Route("/programmes/{programme_id:id}/copy", copy_programme, methods=["POST"],
          name="programme_copy"),
    Route("/programmes/{programme_id:id}/apply", apply, methods=["POST"],
          name="programme_apply"),
    Route("/programmes/{programme_id:id}/withdraw", withdraw, methods=["GET", "POST"],
          name="programme_withdraw"),
    Route("/programmes/{programme_id:id}/leave", leave, methods=["GET", "POST"],
          name="programme_leave"),
    Route("/programmes/{programme_id:id}/applications", applications, methods=["GET"],
          name="programme_applications"),
    Route("/programmes/{programme_id:id}/applications/accept", accept_selected,
          methods=["POST"], name="programme_accept_selected"),
    Route("/programmes/{programme_id:id}/applications/{application_id:id}", decide,
          methods=["POST"], name="programme_decide"),
    Route("/programmes/{programme_id:id}/proposal", proposal, methods=["GET"],
          name="programme_proposal"),
    Route("/programmes/{programme_id:id}/propose", propose, methods=["POST"],
          name="programme_propose"),
    Route("/programmes/{programme_id:id}/edit", edit, methods=["POST"], name="programme_edit"),
    Route("/programmes/{programme_id:id}/criteria", criteria, methods=["POST"],
          name="programme_criteria"),
    Route("/programmes/{programme_id:id}/publish", publish, methods=["GET", "POST"],
          name="programme_publish"),
    Route("/programmes/{programme_id:id}/pairs/new", pair_by_hand, methods=["POST"],
          name="programme_pair_by_hand"),
    Route("/programmes/{programme_id:id}/questions", add_question, methods=["POST"],
          name="programme_question"),
    Route("/programmes/{programme_id:id}/questions", questions, methods=["GET"],
          name="programme_questions"),
    Route("/programmes/{programme_id:id}/questions/change", change_question, methods=["POST"],
          name="programme_question_change"),
    Route("/programmes/{programme_id:id}/checkin", checkin, methods=["GET", "POST"],
          name="programme_checkin"),
    Route("/programmes/{programme_id:id}/dashboard", dashboard, methods=["GET"],
          name="programme_dashboard"),
    Route("/programmes/{programme_id:id}/dashboard.csv", dashboard_csv, methods=["GET"],
          name="programme_csv"),
    Route("/programmes/messages/{message_id:id}/dismissive", dismissive_in_space,
          methods=["GET"], name="programme_message_dismissive"),
    Route("/programmes/{programme_id:id}/pairs/{pair_id:id}", pair_page, methods=["GET"],
          name="programme_pair"),
    Route("/programmes/spaces/{conversation_id:id}", pair_of_space, methods=["GET"],
          name="programme_pair_of_space"),
    Route("/programmes/{programme_id:id}/pairs/{pair_id:id}/dismissive", dismissive,
          methods=["GET", "POST"], name="programme_dismissive"),
    Route("/programmes/{programme_id:id}/pairs/{pair_id:id}/meeting", meeting,
          methods=["POST"], name="programme_meeting"),
    Route("/programmes/{programme_id:id}/pairs/{pair_id:id}/meetings/{meeting_id:id}/remove",
          remove_meeting, methods=["POST"], name="programme_meeting_remove"),
    Route("/programmes/{programme_id:id}/reports/{report_id:id}/follow-up", follow_up,
          methods=["POST"], name="programme_follow_up"),
    Route("/programmes/{programme_id:id}/close", close, methods=["GET", "POST"],
          name="programme_close"),
    Route("/programmes/{programme_id:id}/closing", closing, methods=["GET", "POST"],
          name="programme_closing"),
    Route("/programmes/{programme_id:id}/history", history, methods=["GET"],
          name="programme_history"),
]  # fmt: skip
