"""Programmes (#18): the lead role, creating a programme, training before applying, the
lead's decisions, pairing jobs run outside the web process (here with the stand-in pairing),
edits, publishing into private pair spaces, and check-ins read by the lead only."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.services import set_role
from forum.articles.services import publish as publish_article
from forum.core.db import Database
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.messages.models import Block, Conversation, Participant
from forum.messages.services import reply
from forum.notifications.fanout import Notifier
from forum.notifications.models import Notification
from forum.notifications.paths import worker_paths
from forum.programmes import dashboard as dash
from forum.programmes import pairing
from forum.programmes import services as svc
from forum.programmes.models import Application, CheckinAnswer, PairingJob, Programme
from forum.review.models import Report, ReportReason
from tests.helpers import login, make_user, post_form


async def deliver(settings: Settings, database: Database) -> None:
    """The worker's fan-out: recorded notifications become rows (and e-mail, as chosen)."""
    notifier = Notifier(settings, database, worker_paths())
    while await notifier.fan_out():
        pass


async def notes(db: AsyncSession, user: User) -> list[Notification]:
    return list(
        await db.scalars(
            select(Notification)
            .where(Notification.recipient_id == user.id)
            .order_by(Notification.id)
            .execution_options(populate_existing=True)
        )
    )


def programme_form(**overrides: str) -> svc.ProgrammeForm:
    values = {
        "name": "Reverse pilot", "kind": "reverse", "purpose": "Seniors learn from juniors.",
        "evaluation": "Frankness and a closing survey at twelve weeks.", "pilot_size": "8",
        "topics": "AI tools\nSocial media\nBudgeting", "slots": "mon-am\ntue-pm",
        "checkin_days": "14",
    }  # fmt: skip
    values.update(overrides)
    return svc.ProgrammeForm(**values)


async def make_programme(
    db: AsyncSession, settings: Settings, lead: User, **overrides: str
) -> Programme:
    return await svc.create_programme(db, settings, lead, programme_form(**overrides))


async def enrol(
    db: AsyncSession, settings: Settings, programme: Programme, user: User, side: str, **kw: str
) -> Application:
    form = svc.ApplicationForm(side=side, department=kw.get("department", "Sales"),
                               seniority=kw.get("seniority", "2" if side == "junior" else "20"),
                               teaches=[kw.get("teaches", "AI tools")],
                               learns=[kw.get("learns", "Budgeting")],
                               availability=["mon-am"],
                               reporting_line=kw.get("reporting_line", ""))  # fmt: skip
    (application,) = await svc.apply(db, settings, user, programme, form)
    return application


async def test_admin_grants_programme_lead_and_only_leads_create(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    admin = await make_user(db, settings, username="boss", role="admin")
    lead = await make_user(db, settings, username="leader")
    await make_user(db, settings, username="plain")
    assert not lead.is_programme_lead
    await set_role(db, admin, lead, "programme_lead", None)
    assert lead.is_programme_lead
    await db.commit()
    await login(client, "plain")
    refused = await post_form(client, "/programmes/new", {"name": "X"}, token_from="/programmes")
    assert refused.status_code == 403
    assert await db.scalar(select(Programme.id)) is None


async def test_lead_creates_a_programme_and_bad_input_keeps_the_form(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="leader", role="programme_lead")
    await db.commit()
    await login(client, "leader")
    page = await client.get("/programmes/new")
    assert page.status_code == 200 and "six to twelve pairs" in page.text
    fields = {"name": "Reverse pilot", "kind": "reverse", "purpose": "",
              "evaluation": "Surveys", "pilot_size": "8", "checkin_days": "14",
              "ground_rules": "Listen first, my typed rules"}  # fmt: skip
    bad = await post_form(client, "/programmes/new", fields, token_from="/programmes/new")
    assert bad.status_code == 400
    assert "The purpose is required." in bad.text and "Listen first, my typed rules" in bad.text
    fields["purpose"] = "Seniors learn from juniors."
    made = await post_form(client, "/programmes/new", fields, token_from="/programmes/new")
    assert made.status_code == 303
    programme = await db.scalar(select(Programme))
    assert programme is not None and programme.ground_rules == "Listen first, my typed rules"
    asked = await svc.questions(db, programme, "junior")
    assert [q.prompt for q in asked] == [svc.FRANKNESS, svc.NOTE]
    assert [q.frankness for q in await svc.questions(db, programme, "senior")] == [True, False]
    listing = await client.get("/programmes")
    assert "Reverse pilot" in listing.text


async def test_a_programme_text_stating_a_put_down_is_refused_and_kept(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe published "Juniors, you are too junior to get this" as a programme's ground
    rules: programme texts pass no moderation, and juniors read them. Refused now, saying
    which phrase, with the form kept; advice against the phrase and quotes of it pass."""
    await make_user(db, settings, username="leader", role="programme_lead")
    await db.commit()
    await login(client, "leader")
    rules = "Juniors, you are too junior to get this. Come back when you have 20 years in."
    fields = {"name": "Reverse pilot", "kind": "reverse", "purpose": "Seniors learn.",
              "evaluation": "Surveys", "pilot_size": "8", "checkin_days": "14",
              "ground_rules": rules}  # fmt: skip
    bad = await post_form(client, "/programmes/new", fields, token_from="/programmes/new")
    assert bad.status_code == 400 and "reads as a put-down of junior colleagues" in bad.text
    assert "Come back when you have 20 years in." in bad.text  # the form is kept
    assert await db.scalar(select(Programme)) is None
    fields["ground_rules"] = "The senior listens first. Never tell a junior to know their place."
    made = await post_form(client, "/programmes/new", fields, token_from="/programmes/new")
    assert made.status_code == 303
    programme = await db.scalar(select(Programme))
    assert programme is not None
    # Disguised as the probe wrote them: digits for letters, Markdown or a hyphen inside a
    # word; and topics, which the apply form lists.
    for field, text in (("name", "Cohort three: you are t00 junior to get this"),
                        ("ground_rules", "You are too *junior* to get this."),
                        ("ground_rules", "You are too ju-nior to get this."),
                        ("topics", "AI tools\nKnow your place, kid")):  # fmt: skip
        with pytest.raises(svc.ProgrammeError, match="reads as a put-down"):
            await make_programme(db, settings, await db.get(User, programme.lead_id),  # type: ignore[arg-type]
                                 **{field: text})  # fmt: skip
    with pytest.raises(svc.ProgrammeError, match="reads as a put-down"):
        await svc.add_question(db, settings, await db.get(User, programme.lead_id),
                               programme, "Know your place this fortnight?", "text", "junior")  # type: ignore[arg-type]  # fmt: skip


async def test_an_application_stating_a_put_down_is_refused(
    db: AsyncSession, settings: Settings
) -> None:
    """A probe put "you're too junior to get this" in an application's job title and free
    text, which the lead reads word for word."""
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    applicant = await make_user(db, settings, username="applicant")
    programme = await make_programme(db, settings, lead)
    for field in ("job_title", "department", "free_text"):
        form = svc.ApplicationForm(side="senior", seniority="20", teaches=["AI tools"],
                                   **{field: "You're too junior to get this. Come back when "
                                               "you have 20 years in."})  # fmt: skip
        with pytest.raises(svc.ProgrammeError, match="the programme's lead reads it"):
            await svc.apply(db, settings, applicant, programme, form)
    # An applicant describing themselves is no put-down (a review found these refused).
    fine = svc.ApplicationForm(side="senior", seniority="20", teaches=["AI tools"],
                               job_title="Head of Finance",
                               free_text="I was told I was too junior to get it, once. I feel "
                                         "too inexperienced to comment on design reviews.")  # fmt: skip
    assert len(await svc.apply(db, settings, applicant, programme, fine)) == 1


async def test_members_who_blocked_each_other_are_not_paired(
    db: AsyncSession, settings: Settings
) -> None:
    """A probe's lead paired a member by hand with someone she had blocked: his first message
    in their space was refused. A block is an "asked not to be paired", both ways."""
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    junior = await make_user(db, settings, username="blocker_j")
    senior = await make_user(db, settings, username="blocked_s")
    for member, side in ((junior, "junior"), (senior, "senior")):
        application = await enrol(db, settings, programme, member, side)
        await svc.decide(db, settings, lead, programme, application.id, True)
    db.add(Block(blocker_id=junior.id, blocked_id=senior.id))
    await db.flush()
    why = await svc.unfixable(db, programme, [(junior.id, senior.id)], doing="paired")
    assert why is not None and "asked not to be paired" in why


async def test_training_is_acknowledged_before_applying(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    editor = await make_user(db, settings, username="editor1", role="editor")
    article = await publish_article(db, settings, editor, "Train first", "Summary here.", "Body")
    programme = await make_programme(db, settings, lead, training=article.slug)
    await make_user(db, settings, username="junior1")
    await db.commit()
    await login(client, "junior1")
    page = f"/programmes/{programme.id}"
    data = {"side": "junior", "seniority": "2", "teaches": "AI tools"}
    early = await post_form(client, f"{page}/apply", data, token_from=page)
    assert early.status_code == 400 and "I have read" in early.text
    assert await db.scalar(select(Application)) is None
    data["training"] = str(article.id)  # the form's "I have read" box
    off_list = await post_form(client, f"{page}/apply", {**data, "teaches": "Knitting"},
                               token_from=page)  # fmt: skip
    assert off_list.status_code == 400 and "Choose from the programme" in off_list.text
    ok = await post_form(client, f"{page}/apply", data, token_from=page)
    assert ok.status_code == 303
    application = await db.scalar(select(Application))
    assert application is not None and application.status == "pending"
    assert application.teaches == "AI tools"


async def test_a_suspended_member_sends_no_programme_form(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    import pytest

    from forum.accounts.models import UserStatus
    from forum.core.db import utcnow

    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    junior = await make_user(db, settings, username="junior1")
    junior.status = UserStatus.suspended.value
    junior.suspended_until = utcnow() + timedelta(days=1)
    await db.commit()
    await login(client, "junior1")
    page = await client.get(f"/programmes/{programme.id}")
    assert "you cannot apply now" in page.text and "/apply" not in page.text
    with pytest.raises(svc.Forbidden, match="suspended"):
        await enrol(db, settings, programme, junior, "junior")
    assert await db.scalar(select(svc.Application.id)) is None
    junior.status, junior.suspended_until = "active", None  # lifted: the same form goes
    await enrol(db, settings, programme, junior, "junior")


async def test_only_the_lead_reads_and_decides_applications(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    await make_user(db, settings, username="other_lead", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    junior = await make_user(db, settings, username="junior1")
    application = await enrol(db, settings, programme, junior, "junior")
    await db.commit()
    path = f"/programmes/{programme.id}/applications"
    await login(client, "other_lead")
    assert (await client.get(path)).status_code == 403
    refused = await post_form(client, f"{path}/{application.id}", {"decision": "accept"},
                              token_from="/programmes")  # fmt: skip
    assert refused.status_code == 403
    await db.refresh(application)
    assert application.status == "pending"
    client.cookies.clear()
    await login(client, "leader")
    assert "junior1" in (await client.get(path)).text
    ok = await post_form(client, f"{path}/{application.id}", {"decision": "accept"},
                         token_from=path)  # fmt: skip
    assert ok.status_code == 303
    await db.refresh(application)
    assert application.status == "accepted"


async def _accepted_group(
    db: AsyncSession, settings: Settings, lead: User, programme: Programme
) -> dict[str, User]:
    people = {}
    for name in ("jun1", "jun2", "sen1", "sen2"):
        people[name] = await make_user(db, settings, username=name)
    for name in ("jun1", "jun2", "sen1", "sen2"):
        side = "junior" if name.startswith("j") else "senior"
        dept = {"jun1": "Sales", "jun2": "Sales", "sen1": "Ops", "sen2": "Sales"}[name]
        # jun1 reports to sen1: they must never be paired, though their score would be best.
        line = "sen1" if name == "jun1" else ""
        application = await enrol(db, settings, programme, people[name], side,
                                  department=dept, reporting_line=line)  # fmt: skip
        await svc.decide(db, settings, lead, programme, application.id, True)
    return people


async def test_pairing_respects_reporting_lines_swaps_and_publishes_private_spaces(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _accepted_group(db, settings, lead, programme)
    ids = {name: u.id for name, u in people.items()}
    await svc.request_proposal(db, settings, lead, programme)
    assert await svc.run_queued(db, pairing) == 1
    proposal = svc.proposal_of(await svc.latest_job(db, programme))
    assert proposal is not None
    pairs = {(p["junior_id"], p["senior_id"]) for p in proposal["pairs"]}
    assert pairs == {(ids["jun1"], ids["sen2"]), (ids["jun2"], ids["sen1"])}
    assert (ids["jun1"], ids["sen1"]) not in pairs
    await db.commit()
    await login(client, "leader")
    page = await client.get(f"/programmes/{programme.id}/proposal")
    assert page.status_code == 200 and "jun1" in page.text and "overlap" in page.text
    # The lead swaps partners; the swap asks for jun1-sen1, which the reporting line forbids:
    # refused, saying why, with the lead's choice kept, and nothing changed or queued.
    chosen = [f"{ids['jun1']}-{ids['sen2']}", f"{ids['jun2']}-{ids['sen1']}"]
    swap = await post_form(
        client, f"/programmes/{programme.id}/edit", {"action": "swap", "pair": chosen},  # type: ignore[dict-item]
        token_from=f"/programmes/{programme.id}/proposal",
    )  # fmt: skip
    assert swap.status_code == 400
    assert "jun1 with sen1 cannot be fixed: jun1 and sen1 are in the same reporting line" in (
        swap.text
    )
    assert all(re.search(rf'value="{c}" id="pair-\d+" checked', swap.text) for c in chosen)
    await db.refresh(programme)
    assert svc.edits_of(programme) == {"fixed": [], "forbidden": []}
    assert await svc.run_queued(db, pairing) == 0
    # Fixing jun2 with sen2 is allowed: jun1, whose only other senior is in their reporting
    # line, is left unmatched.
    fix = await post_form(
        client, f"/programmes/{programme.id}/edit",
        {"action": "fix", "pair": f"{ids['jun2']}-{ids['sen2']}"},
        token_from=f"/programmes/{programme.id}/proposal",
    )  # fmt: skip
    assert fix.status_code == 303
    await db.refresh(programme)
    assert svc.edits_of(programme)["fixed"] == [[ids["jun2"], ids["sen2"]]]
    assert await svc.run_queued(db, pairing) == 1
    proposal = svc.proposal_of(await svc.latest_job(db, programme))
    assert proposal is not None
    pairs = {(p["junior_id"], p["senior_id"]) for p in proposal["pairs"]}
    assert (ids["jun1"], ids["sen1"]) not in pairs
    assert (ids["jun2"], ids["sen2"]) in pairs
    await db.commit()
    published = await post_form(client, f"/programmes/{programme.id}/publish",
                                {"confirm": "yes"},
                                token_from=f"/programmes/{programme.id}/proposal")  # fmt: skip
    assert published.status_code == 303
    made = await svc.pairs_of(db, programme)
    assert {(p.junior_id, p.senior_id) for p in made} == pairs
    for pair in made:
        members = set(await db.scalars(select(Participant.user_id).where(
            Participant.conversation_id == pair.conversation_id)))  # fmt: skip
        assert members == {pair.junior_id, pair.senior_id}
    await deliver(settings, database)
    mailed = set(await db.scalars(select(OutboxMessage.to_address).where(
        OutboxMessage.subject.like("You are paired with %"))))  # fmt: skip
    assert {"jun2@example.org", "sen2@example.org"} <= mailed
    assert "jun1@example.org" not in mailed  # unmatched: not told of a partner
    # In the app too: who the partner is, leading to the pair space.
    pair22 = next(p for p in made if p.junior_id == ids["jun2"])
    (told,) = [n for n in await notes(db, people["jun2"]) if n.kind == "programme"
               and "paired" in n.detail]  # fmt: skip
    assert "sen2" in told.detail and told.link == f"/programmes/{programme.id}/pairs/{pair22.id}"
    # The unmatched member is told they were not paired this round, never of a partner.
    assert [n.detail[:24] for n in await notes(db, people["jun1"]) if "paired" in n.detail] == [
        "You were not paired in “"
    ]
    # A third member cannot open a pair space.
    client.cookies.clear()
    await make_user(db, settings, username="outsider")
    await db.commit()
    await login(client, "outsider")
    assert (await client.get(f"/messages/{made[0].conversation_id}")).status_code == 404


async def test_checkin_answers_reach_the_lead_never_the_partner(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    await svc.add_question(db, settings, lead, programme, "What went well?", "text", "both")
    people = await _accepted_group(db, settings, lead, programme)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await svc.publish(db, settings, lead, programme)
    end_round(programme)  # the first interval has passed: check-in 1 is open
    pair = next(p for p in await svc.pairs_of(db, programme) if p.junior_id == people["jun2"].id)
    partner = "sen1" if pair.senior_id == people["sen1"].id else "sen2"
    await db.commit()
    page = f"/programmes/{programme.id}/checkin"
    await login(client, "jun2")
    form = await client.get(page)
    assert svc.FRANKNESS in form.text and "What went well?" in form.text
    missing = await post_form(client, page, {"side": "junior"}, token_from=page)
    assert missing.status_code == 400
    questions = {q.prompt: q.id for q in await svc.questions(db, programme, "junior")}
    secret = "My senior talked over me, secret-7731"
    sent = await post_form(
        client, page,
        {"side": "junior", f"q{questions[svc.FRANKNESS]}": "2",
         f"q{questions['What went well?']}": secret},
        token_from=page,
    )  # fmt: skip
    assert sent.status_code == 303
    answers = list(await db.scalars(select(CheckinAnswer)))
    assert {a.value for a in answers} == {2, None} and any(a.text == secret for a in answers)
    # Opened again, the form holds the answers and says that sending replaces them.
    again = await client.get(page)
    assert "You answered check-in 1 on" in again.text and secret in again.text
    assert 'value="2" checked' in again.text
    # No page of the partner's shows the answer.
    client.cookies.clear()
    await login(client, partner)
    theirs = await client.get(page)
    assert theirs.status_code == 200
    for path in [page, f"/programmes/{programme.id}", f"/messages/{pair.conversation_id}",
                 f"/programmes/{programme.id}/proposal", "/programmes",
                 f"/programmes/{programme.id}/dashboard",
                 f"/programmes/{programme.id}/dashboard.csv"]:  # fmt: skip
        assert secret not in (await client.get(path)).text
    # Answering as the other side is refused.
    forged = await post_form(client, page, {"side": "junior"}, token_from=page)
    assert forged.status_code == 403


async def test_worker_and_cli_run_pairing_outside_the_web_process(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    await _accepted_group(db, settings, lead, programme)
    old = await svc.request_proposal(db, settings, lead, programme)
    new = await svc.request_proposal(db, settings, lead, programme)
    assert await svc.run_queued(db, pairing) == 1
    assert old.status == "failed" and new.status == "done"
    job = await svc.run_for_programme(db, programme.id, pairing)
    assert job.id != new.id and len(json.loads(job.result)["pairs"]) == 2
    assert await db.scalar(select(PairingJob.id).where(PairingJob.status == "queued")) is None


def end_round(programme: Programme) -> None:
    """The open check-in round ends (the next opens), as if a round's days had passed; in the
    first interval (no round open yet), round 1 opens."""
    assert programme.published_at is not None
    programme.published_at -= timedelta(days=programme.checkin_days)


async def _published(
    db: AsyncSession, settings: Settings, lead: User, programme: Programme, n: int,
    first_round_open: bool = True,
) -> list[tuple[User, User]]:  # fmt: skip
    """`n` pairs published; with `first_round_open`, dated one interval back: the first
    check-in opens one interval after the start, so round 1 is open (as if the pairs had
    met for their first weeks)."""
    made = []
    for i in range(n):
        junior = await make_user(db, settings, username=f"junior{i}")
        senior = await make_user(db, settings, username=f"senior{i}")
        for user, side in ((junior, "junior"), (senior, "senior")):
            application = await enrol(db, settings, programme, user, side)
            await svc.decide(db, settings, lead, programme, application.id, True)
        made.append((junior, senior))
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await svc.publish(db, settings, lead, programme)
    if first_round_open:
        end_round(programme)
        assert svc.current_round(programme) == 1
    return made


async def test_dashboard_withholds_small_aggregates_and_only_the_lead_reads_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 6)
    (frank,) = [q for q in await svc.questions(db, programme, "junior") if q.frankness]
    for junior, _ in people[:5]:
        await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: "4"})
    for _, senior in people[:4]:  # four answers: withheld
        await svc.answer_checkin(db, settings, senior, programme, "senior", {frank.id: "5"})
    board = await dash.build(db, programme)
    assert board.pairs_active == 6 and board.response_rates == [(1, 9, 12)]
    # A question's written answers show once five participants wrote one, in no order of who
    # answered; before, they are withheld.
    written = await svc.add_question(db, settings, lead, programme, "What went well?", "text",
                                     "both")  # fmt: skip
    words = ("Zest", "Agenda", "Mirror", "Budget", "Coffee")
    for word, (junior, _) in zip(words, people, strict=False):
        await svc.answer_checkin(db, settings, junior, programme, "junior",
                                 {frank.id: "4", written.id: word})  # fmt: skip
    # Round 1 is open (answers may still come, or be replaced): none of its figures show.
    board = await dash.build(db, programme)
    assert board.open_round == 1 and board.closed == 0 and board.response_rates == [(1, 9, 12)]
    assert board.frankness == {"junior": {}, "senior": {}} and board.texts == []
    assert board.texts_open == ["What went well?"] and not board.texts_withheld
    assert "<circle" not in dash.frankness_svg(board)
    end_round(programme)
    board = await dash.build(db, programme)
    assert board.open_round == 2 and board.closed == 1
    assert [t for _r, _q, t in board.texts] == sorted(words) and not board.texts_withheld
    assert board.frankness["junior"][1].mean == 4.0
    assert board.frankness["senior"][1].mean is None and board.frankness["senior"][1].n == 4
    svg = dash.frankness_svg(board)
    assert "<script" not in svg and "href" not in svg and "<circle" in svg
    await db.commit()
    path = f"/programmes/{programme.id}/dashboard"
    await login(client, people[0][1].username)
    (first,) = await svc.my_pair(db, programme, people[0][1].id)
    logged = await post_form(client, f"/programmes/{programme.id}/pairs/{first.id}/meeting", {},
                             token_from=f"/programmes/{programme.id}")  # fmt: skip
    assert logged.status_code == 303
    other_pair = f"/programmes/{programme.id}/pairs/{first.id + 1}/meeting"
    assert (await post_form(client, other_pair, {}, token_from="/programmes")).status_code == 403
    assert (await client.get(path)).status_code == 403
    assert (await client.get(f"{path}.csv")).status_code == 403
    client.cookies.clear()
    await login(client, "leader")
    page = await client.get(path)
    assert page.status_code == 200 and "<svg" in page.text and "withheld (4 answers)" in page.text
    assert "Meetings logged: <strong>1</strong>" in page.text
    exported = await client.get(f"{path}.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = exported.text.splitlines()
    assert any(",frankness,junior,5,4.00" in r for r in rows)
    assert any(",frankness,senior,4," in r and r.endswith(",") for r in rows)


async def test_written_answers_of_a_round_few_answered_are_withheld(
    db: AsyncSession, settings: Settings
) -> None:
    # One answer in a round is its writer's: a probe read a lone answer, whoever wrote it.
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 2)
    written = await svc.add_question(db, settings, lead, programme, "What went well?", "text",
                                     "both")  # fmt: skip
    (frank,) = [q for q in await svc.questions(db, programme, "senior") if q.frankness]
    await svc.answer_checkin(db, settings, people[0][1], programme, "senior",
                             {frank.id: "3", written.id: "She is too junior for this, frankly."})  # fmt: skip
    end_round(programme)
    board = await dash.build(db, programme)
    assert board.texts == [] and board.texts_withheld == [(1, "What went well?")]


async def test_one_click_dismissive_report_reaches_moderators_and_the_lead(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, senior),) = await _published(db, settings, lead, programme, 1)
    (pair,) = await svc.pairs_of(db, programme)
    conversation = await db.get(Conversation, pair.conversation_id)
    assert conversation is not None
    message = await reply(db, settings, senior, conversation, "Juniors never get this.")
    message.state = "clear"
    await make_user(db, settings, username="outsider")
    await db.commit()
    page = f"/programmes/{programme.id}"
    action = f"{page}/pairs/{pair.id}/dismissive"
    await login(client, "outsider")
    assert (await post_form(client, action, {"confirm": "yes"}, token_from=page)).status_code == 403
    assert (await client.get(action)).status_code == 403
    client.cookies.clear()
    await login(client, junior.username)
    shown = await client.get(page)
    assert "This felt dismissive" in shown.text and "may infer" in shown.text
    # One click does not report: a page shows the message and asks to confirm.
    unconfirmed = await post_form(client, action, {}, token_from=page)
    assert unconfirmed.status_code == 400 and "Nothing was reported" in unconfirmed.text
    confirm = await client.get(action)
    assert confirm.status_code == 200 and "Juniors never get this." in confirm.text
    assert f'name="message_id" value="{message.id}"' in confirm.text
    assert await db.scalar(select(Report.id)) is None
    done = await post_form(client, action, {"confirm": "yes", "message_id": str(message.id)},
                           token_from=page)  # fmt: skip
    assert done.status_code == 303
    report = await db.scalar(select(Report).where(Report.message_id == message.id))
    assert report is not None and report.reason == ReportReason.dismissive.value
    assert report.reporter_id == junior.id
    await db.commit()
    await deliver(settings, database)
    (told,) = [n for n in await notes(db, lead) if "applied to" not in n.detail]
    assert told.kind == "programme_lead"
    # The lead learns which pair, not which partner reported; the partner is told nothing.
    assert told.actor_id is None and "dismissive" in told.detail
    assert told.link == f"/programmes/{programme.id}/dashboard#reports"
    assert not [n for n in await notes(db, senior) if "dismissive" in n.detail]
    subjects = list(await db.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.to_address == "leader@example.org")))  # fmt: skip
    assert any("dismissive" in s for s in subjects)


async def test_check_in_reminders_go_once_per_round_to_those_who_have_not_answered(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, senior),) = await _published(db, settings, lead, programme, 1)
    (frank,) = [q for q in await svc.questions(db, programme, "junior") if q.frankness]
    await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: "3"})

    async def reminded() -> list[str]:
        await db.commit()
        await deliver(settings, database)
        return list(await db.scalars(
            select(OutboxMessage.to_address).where(OutboxMessage.subject.like("Check-in %"))))  # fmt: skip

    assert await svc.remind_due(db) == 1
    assert await reminded() == [senior.email]
    (note,) = [n for n in await notes(db, senior) if n.kind == "checkin"]
    assert note.kind == "checkin" and note.link == f"/programmes/{programme.id}/checkin"
    assert await svc.remind_due(db) == 0  # once per round
    programme.published_at = programme.published_at - timedelta(days=15)  # type: ignore[operator]
    assert await svc.remind_due(db) == 1
    assert sorted(await reminded()) == sorted([senior.email, senior.email, junior.email])


async def test_member_text_on_programme_pages_is_escaped(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    evil = '<script>alert("x")</script>'
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, name=f"Pilot {evil}",
                                     purpose=evil, topics=f"AI tools\n{evil}")  # fmt: skip
    member = await make_user(db, settings, username="junior1")
    form = svc.ApplicationForm(side="junior", free_text=evil, teaches=[evil])
    await svc.apply(db, settings, member, programme, form)
    await db.commit()
    await login(client, "leader")
    for path in ["/programmes", f"/programmes/{programme.id}",
                 f"/programmes/{programme.id}/applications",
                 f"/programmes/{programme.id}/proposal", f"/programmes/{programme.id}/dashboard"]:  # fmt: skip
        page = await client.get(path)
        assert page.status_code == 200, path
        assert evil not in page.text, path
    assert "&lt;script&gt;" in (await client.get(f"/programmes/{programme.id}/applications")).text


async def test_the_programmes_list_shows_a_members_own_applications_and_partner_only(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A member found their application only by opening each programme again: the list now
    has "Your programmes" (side, status, partner), with no one else's applications."""
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    running = await make_programme(db, settings, lead, name="Running pilot")
    (junior0, senior0), (junior1, senior1) = await _published(db, settings, lead, running, 2)
    waiting = await make_programme(db, settings, lead, name="Waiting pilot")
    await enrol(db, settings, waiting, junior0, "junior")
    await make_programme(db, settings, lead, name="Untouched pilot")
    outsider = await make_user(db, settings, username="outsider")
    await enrol(db, settings, waiting, outsider, "senior")
    await db.commit()
    pairs = {p.junior_id: p.senior_id for p in await svc.pairs_of(db, running)}
    partner = {senior0.id: "senior0", senior1.id: "senior1"}[pairs[junior0.id]]
    stranger = {"senior0", "senior1"} - {partner}

    await login(client, "junior0")
    page = (await client.get("/programmes")).text
    yours = page[page.index("Your programmes") : page.index("All programmes")]
    assert "Running pilot" in yours and "Waiting pilot" in yours
    assert "Untouched pilot" not in yours  # listed below, under all programmes
    assert "applied as junior: paired" in yours and "applied as junior: pending" in yours
    assert f">{partner}</a>" in yours
    assert not any(name in page for name in stranger | {"outsider", "junior1"})

    client.cookies.clear()
    await login(client, "leader")
    yours = (await client.get("/programmes")).text.split("All programmes")[0]
    assert yours.count("you lead it") == 3 and "applied as" not in yours
    client.cookies.clear()
    # A visitor, or a member in no programme, sees the plain list.
    assert "Your programmes" not in (await client.get("/programmes")).text
    await login(client, "outsider")
    yours = (await client.get("/programmes")).text.split("All programmes")[0]
    assert "Waiting pilot" in yours and "Running pilot" not in yours
    assert "applied as senior: pending" in yours
