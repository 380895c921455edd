"""A programme over time (#18 follow-up): notifications in the app for programme events,
withdrawing and applying again, leaving after publishing (the pair ends), the lead's
decisions in the History, following up a dismissive report, the pilot-size confirmation,
closing and the closing survey with its withheld small aggregates."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.audit import AuditEntry
from forum.core.db import Database
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.messages.models import Conversation
from forum.messages.services import MessageError, reply
from forum.notifications.fanout import target_path
from forum.notifications.models import Kind as NoteKind
from forum.programmes import dashboard as dash
from forum.programmes import lifecycle as life
from forum.programmes import pairing
from forum.programmes import services as svc
from forum.programmes.models import Application, CheckinAnswer, DismissiveReport, Pair, Programme
from tests.helpers import login, make_user, post_form, url
from tests.programmes.test_programmes import deliver, enrol, make_programme, notes


async def _group(
    db: AsyncSession, settings: Settings, lead: User, programme: Programme, n: int
) -> list[tuple[User, User]]:
    made = []
    for i in range(n):
        junior = await make_user(db, settings, username=f"jun{i}")
        senior = await make_user(db, settings, username=f"sen{i}")
        for user, side in ((junior, "junior"), (senior, "senior")):
            application = await enrol(db, settings, programme, user, side)
            await svc.decide(db, settings, lead, programme, application.id, True)
        made.append((junior, senior))
    return made


async def _publish(db: AsyncSession, settings: Settings, lead: User, programme: Programme) -> None:
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await svc.publish(db, settings, lead, programme, confirm_over_pilot=True)


async def test_decisions_are_notifications_in_the_app_leading_to_the_programme(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    accepted = await make_user(db, settings, username="yes_member")
    declined = await make_user(db, settings, username="no_member")
    a = await enrol(db, settings, programme, accepted, "junior")
    b = await enrol(db, settings, programme, declined, "senior")
    await svc.decide(db, settings, lead, programme, a.id, True)
    await svc.decide(db, settings, lead, programme, a.id, True)  # again: no second notice
    await svc.decide(db, settings, lead, programme, b.id, False)
    await db.commit()
    await deliver(settings, database)
    (yes,) = await notes(db, accepted)
    (no,) = await notes(db, declined)
    assert yes.kind == no.kind == NoteKind.programme.value
    assert "(junior side) was accepted" in yes.detail and "was declined" in no.detail
    assert yes.link == no.link == f"/programmes/{programme.id}#application"
    # E-mail at once by default, with the link on this board.
    mail = await db.scalar(select(OutboxMessage).where(OutboxMessage.to_address == accepted.email))
    assert mail is not None and f"http://testserver/programmes/{programme.id}" in mail.body
    # The bell's list shows the sentence; opening it leads to the programme.
    await login(client, "yes_member")
    listed = await client.get("/notifications")
    assert "was accepted" in listed.text
    opened = await post_form(client, f"/notifications/{yes.id}/open", {}, "/notifications")
    assert opened.status_code == 303
    assert opened.headers["location"].endswith(f"/programmes/{programme.id}#application")


async def test_members_choose_how_programme_notifications_reach_them(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    from forum.notifications.models import NotificationPreference

    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    quiet = await make_user(db, settings, username="quiet")
    app_only = await make_user(db, settings, username="app_only")
    db.add(NotificationPreference(user_id=quiet.id, kind="programme", delivery="off"))
    db.add(NotificationPreference(user_id=app_only.id, kind="programme", delivery="app"))
    for member in (quiet, app_only):
        application = await enrol(db, settings, programme, member, "junior")
        await svc.decide(db, settings, lead, programme, application.id, True)
    await db.commit()
    await deliver(settings, database)
    assert await notes(db, quiet) == []
    assert len(await notes(db, app_only)) == 1
    mailed = set(await db.scalars(select(OutboxMessage.to_address)))
    assert quiet.email not in mailed and app_only.email not in mailed


def test_a_recorded_link_never_leads_off_the_board() -> None:
    for bad in ("https://evil.example/x", "//evil.example/x", "/\\evil.example", "", "x"):
        assert target_path(url, "programme", None, None, "", None, bad) == "/notifications"
    assert target_path(url, "checkin", None, None, "", None, "/programmes/3/checkin") == (
        "/programmes/3/checkin"
    )


async def test_withdraw_and_apply_again_while_open(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    member = await make_user(db, settings, username="changer")
    await make_user(db, settings, username="other")
    application = await enrol(db, settings, programme, member, "junior")
    await db.commit()
    page = f"/programmes/{programme.id}"
    # Someone else cannot withdraw it: they have no application of their own (400), and
    # the member's stays pending.
    await login(client, "other")
    assert (await post_form(client, f"{page}/withdraw", {}, page)).status_code == 400
    client.cookies.clear()
    await login(client, "changer")
    shown = await client.get(page)
    assert "Withdraw my application" in shown.text
    # Without the form's token: refused, nothing changes.
    forged = await client.post(f"{page}/withdraw", data={})
    assert forged.status_code == 403
    await db.refresh(application)
    assert application.status == "pending"
    done = await post_form(client, f"{page}/withdraw", {}, page)
    assert done.status_code == 303
    await db.refresh(application)
    assert application.status == "withdrawn"
    assert (await post_form(client, f"{page}/withdraw", {}, page)).status_code == 400
    # The lead is told, and cannot decide a withdrawn application.
    await deliver(settings, database)
    (told,) = [n for n in await notes(db, lead) if "withdrew" in n.detail]
    assert told.kind == "programme_lead" and "changer withdrew" in told.detail
    assert told.link == f"/programmes/{programme.id}/applications"
    try:
        await svc.decide(db, settings, lead, programme, application.id, True)
    except svc.ProgrammeError as exc:
        assert "withdrew" in exc.message
    else:
        raise AssertionError("a withdrawn application was decided")
    # Applying again: the same application, pending anew, with the new profile.
    again = await client.get(page)
    assert "You may apply again." in again.text
    sent = await post_form(client, f"{page}/apply",
                           {"side": "junior", "seniority": "3", "department": "Legal"}, page)  # fmt: skip
    assert sent.status_code == 303
    rows = list(await db.scalars(select(Application).where(Application.user_id == member.id)
                                 .execution_options(populate_existing=True)))  # fmt: skip
    assert [(a.id, a.status, a.department) for a in rows] == [(application.id, "pending", "Legal")]
    twice = await post_form(client, f"{page}/apply", {"side": "junior", "seniority": "3"}, page)
    assert twice.status_code == 400 and "already applied" in twice.text
    # A declined member applies again too.
    await svc.decide(db, settings, lead, programme, application.id, False)
    await db.commit()
    assert (
        await post_form(client, f"{page}/apply", {"side": "junior", "seniority": "3"}, page)
    ).status_code == 303
    assert {a.user_id for a in await db.scalars(select(Application))} == {member.id}


async def test_a_peer_member_applies_for_the_other_side_separately(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, kind="peer")
    member = await make_user(db, settings, username="peer1")
    await svc.apply(db, settings, member, programme, svc.ApplicationForm(side="junior"))
    await svc.apply(db, settings, member, programme, svc.ApplicationForm(side="senior"))
    try:
        await svc.apply(db, settings, member, programme, svc.ApplicationForm(side="both"))
    except svc.ProgrammeError as exc:
        assert "already applied" in exc.message
    else:
        raise AssertionError("applied twice for one side")
    sides = sorted(a.side for a in await db.scalars(select(Application)))
    assert sides == ["junior", "senior"]


async def test_applying_again_is_rate_limited_like_applying(
    db: AsyncSession, settings: Settings
) -> None:
    from forum.core.ratelimit import RateLimited

    tight = settings.model_copy(update={"programme_writes_max_per_hour": 3})
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    member = await make_user(db, settings, username="churner")
    form = svc.ApplicationForm(side="junior")
    await svc.apply(db, tight, member, programme, form)  # 1
    await life.withdraw(db, tight, member, programme)  # 2
    await svc.apply(db, tight, member, programme, form)  # 3
    await life.withdraw(db, settings, member, programme)
    try:
        await svc.apply(db, tight, member, programme, form)
    except RateLimited:
        pass
    else:
        raise AssertionError("applying again was not rate limited")


async def test_an_accepted_but_unpaired_member_withdraws_a_paired_one_must_leave(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, senior),) = await _group(db, settings, lead, programme, 1)
    spare = await make_user(db, settings, username="spare")
    application = await enrol(db, settings, programme, spare, "junior")
    await svc.decide(db, settings, lead, programme, application.id, True)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    # The spare withdraws after the proposal was made: publishing it refuses to pair them.
    await life.withdraw(db, settings, spare, programme)
    await svc.publish(db, settings, lead, programme)
    assert await svc.my_pair(db, programme, spare.id) == []
    try:
        await life.withdraw(db, settings, junior, programme)
    except svc.ProgrammeError as exc:
        assert "leave the programme instead" in exc.message
    else:
        raise AssertionError("a paired member withdrew without leaving")


async def test_publishing_a_proposal_with_a_withdrawn_member_is_refused(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, _),) = await _group(db, settings, lead, programme, 1)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await life.withdraw(db, settings, junior, programme)
    try:
        await svc.publish(db, settings, lead, programme)
    except svc.ProgrammeError as exc:
        assert "withdrew since it was made" in exc.message
    else:
        raise AssertionError("a withdrawn member was paired")
    assert await svc.pairs_of(db, programme) == []


async def test_leaving_ends_the_pair_tells_partner_and_lead_and_the_space_stays_readable(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair1, pair2) = await _group(db, settings, lead, programme, 2)
    await _publish(db, settings, lead, programme)
    (pair,) = await svc.my_pair(db, programme, pair1[0].id)
    partner = next(u for u in (*pair1, *pair2) if u.id == pair.senior_id)
    conversation = await db.get(Conversation, pair.conversation_id)
    assert conversation is not None
    message = await reply(db, settings, partner, conversation, "Welcome, looking forward.")
    message.state = "clear"
    await db.commit()
    await deliver(settings, database)
    page = f"/programmes/{programme.id}"
    # Someone outside every pair has nothing to leave.
    await login(client, "leader")
    assert (await post_form(client, f"{page}/leave", {}, page)).status_code == 400
    client.cookies.clear()
    await login(client, pair1[0].username)
    assert "Leave the programme" in (await client.get(page)).text
    left = await post_form(client, f"{page}/leave", {"confirm": "yes"}, page)
    assert left.status_code == 303
    await db.refresh(pair)
    assert pair.status == "ended" and pair.ended_by == pair1[0].id and pair.ended_at
    assert "left the programme" in pair.ended_reason
    (other,) = await svc.my_pair(db, programme, pair2[0].id)
    assert other.status == "active"
    # The space stays readable to both; the page says the pair has ended.
    shown = await client.get(page)
    assert "This pair has ended" in shown.text and "Leave the programme" not in shown.text
    space = await client.get(f"/messages/{pair.conversation_id}")
    assert space.status_code == 200 and "looking forward" in space.text
    # ... but takes no new messages, from either side; a refused message is given back.
    assert "read-only" in space.text and 'name="body"' not in space.text
    sent = await post_form(
        client, f"/messages/{pair.conversation_id}/reply", {"body": "One last thing."},
        f"/messages/{pair.conversation_id}",
    )  # fmt: skip
    assert sent.status_code == 403 and "read-only" in sent.text and "One last thing." in sent.text
    await db.refresh(conversation)
    try:
        await reply(db, settings, partner, conversation, "Are you still there?")
    except MessageError as exc:
        assert exc.status == 403 and "The pair ended on" in exc.message
    else:
        raise AssertionError("an ended pair's space took a message")
    assert (await post_form(client, f"{page}/leave", {"confirm": "yes"}, page)).status_code == 400
    assert (await post_form(client, f"{page}/pairs/{pair.id}/meeting", {}, page)).status_code == 400
    # Check-ins stop for both partners of the ended pair.
    assert (await client.get(f"{page}/checkin")).status_code == 403
    await deliver(settings, database)
    said = [n for n in await notes(db, partner) if "left" in n.detail]
    assert len(said) == 1 and "your pair has ended" in said[0].detail
    (told,) = [n for n in await notes(db, lead) if " left " in n.detail]
    assert told.kind == "programme_lead"
    assert f"{pair1[0].username} left" in told.detail and partner.username in told.detail
    # The lead sees it on the dashboard.
    client.cookies.clear()
    await login(client, "leader")
    board = await client.get(f"{page}/dashboard")
    assert "Pairs ended: <strong>1</strong>" in board.text
    assert f"{pair1[0].username} left the programme" in board.text
    assert "Pairs active: <strong>1</strong>" in board.text


async def test_the_history_records_the_leads_decisions_in_words_for_the_lead_only(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, pilot_size="1")
    (first, second) = await _group(db, settings, lead, programme, 2)
    refused = await make_user(db, settings, username="refused")
    application = await enrol(db, settings, programme, refused, "junior")
    await svc.decide(db, settings, lead, programme, application.id, False)
    await svc.set_criteria(db, settings, lead, programme,
                           {"overlap": "2", "availability": "1", "department": "0", "gap": "1",
                            "gap_min": "0", "gap_max": "30"})  # fmt: skip
    await svc.edit_pairs(db, settings, lead, programme, "forbid", [(first[0].id, first[1].id)])
    await svc.edit_pairs(db, settings, lead, programme, "swap",
                         [(first[0].id, second[1].id), (second[0].id, first[1].id)])  # fmt: skip
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await svc.publish(db, settings, lead, programme, confirm_over_pilot=True)
    await life.close(db, settings, lead, programme)
    await make_user(db, settings, username="nosy", role="programme_lead")
    await db.commit()
    path = f"/programmes/{programme.id}/history"
    await login(client, "nosy")
    assert (await client.get(path)).status_code == 403
    client.cookies.clear()
    await login(client, "leader")
    page = await client.get(path)
    assert page.status_code == 200
    for words in [
        f"Accepted {first[0].username}'s application (junior side).",
        "Declined refused's application (junior side).",
        "Changed the pairing criteria: weights overlap 2, availability 1, department 0, gap 1",
        f"Forbade the pair {first[0].username} with {first[1].username}.",
        f"Swapped partners: now {first[0].username} with {second[1].username} and "
        f"{second[0].username} with {first[1].username}.",
        "Asked for a pairing proposal.",
        "Published 2 pairs (more than the pilot size of 1, confirmed):",
        "Closed the programme; 4 participants were asked the closing survey.",
    ]:
        assert words.replace("'", "&#39;") in page.text, words
    assert page.text.count("leader") >= 8  # who, on every row
    entries = list(await db.scalars(select(AuditEntry).where(AuditEntry.target_id == programme.id)))
    assert {e.action for e in entries} >= {
        "programme_accept", "programme_decline", "programme_criteria", "programme_forbid",
        "programme_swap", "programme_rerun", "programme_publish", "programme_close",
    }  # fmt: skip
    # Administrators read it in the moderation log too, in words.
    admin = await make_user(db, settings, username="boss", role="admin")
    await db.commit()
    assert admin.is_admin
    client.cookies.clear()
    await login(client, "boss")
    assert "Declined refused&#39;s application" in (await client.get(path)).text
    assert "Closed a programme" in (await client.get("/mod/log")).text


async def test_more_pairs_than_the_pilot_size_need_the_leads_confirmation(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, pilot_size="2")
    await _group(db, settings, lead, programme, 3)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await db.commit()
    page = f"/programmes/{programme.id}/proposal"
    await login(client, "leader")
    assert "more pairs than the pilot size of 2" in (await client.get(page)).text
    shown = await client.get(f"/programmes/{programme.id}/publish")
    assert "Publish 3 pairs, more than the pilot size of 2" in shown.text
    silent = await post_form(client, f"/programmes/{programme.id}/publish", {"confirm": "yes"},
                             page)  # fmt: skip
    assert silent.status_code == 400 and 'id="over_pilot-error"' in silent.text
    await db.refresh(programme)
    assert programme.status == "open" and await svc.pairs_of(db, programme) == []
    confirmed = await post_form(client, f"/programmes/{programme.id}/publish",
                                {"confirm": "yes", "over_pilot": "on"}, page)  # fmt: skip
    assert confirmed.status_code == 303
    assert len(await svc.pairs_of(db, programme)) == 3


async def test_within_the_pilot_size_no_confirmation_is_asked(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, pilot_size="2")
    await _group(db, settings, lead, programme, 2)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await db.commit()
    page = f"/programmes/{programme.id}/proposal"
    await login(client, "leader")
    assert "more than the pilot size" not in (await client.get(page)).text
    assert (
        "more than the pilot size"
        not in (await client.get(f"/programmes/{programme.id}/publish")).text
    )
    published = await post_form(client, f"/programmes/{programme.id}/publish",
                                {"confirm": "yes"}, page)  # fmt: skip
    assert published.status_code == 303


async def published_pair_with_message(
    db: AsyncSession, settings: Settings, text: str, senior_writes: bool = True
):  # type: ignore[no-untyped-def]
    """leader's programme with one pair published, and a message on view in its space:
    (lead, programme, junior, senior, pair)."""
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, senior),) = await _group(db, settings, lead, programme, 1)
    await _publish(db, settings, lead, programme)
    (pair,) = await svc.pairs_of(db, programme)
    conversation = await db.get(Conversation, pair.conversation_id)
    assert conversation is not None
    message = await reply(db, settings, senior if senior_writes else junior, conversation, text)
    message.state = "clear"
    await db.commit()
    return lead, programme, junior, senior, pair


async def test_following_up_a_dismissive_report_never_names_the_reporter(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead, programme, junior, senior, pair = await published_pair_with_message(
        db, settings, "You would not understand."
    )
    await deliver(settings, database)
    earlier = {n.id for n in await notes(db, senior)}
    await dash.report_dismissive(db, settings, junior, programme, pair.id)
    (report,) = await db.scalars(select(DismissiveReport))
    await db.commit()
    board = f"/programmes/{programme.id}/dashboard"
    action = f"/programmes/{programme.id}/reports/{report.id}/follow-up"
    # Only the lead follows up.
    await login(client, senior.username)
    assert (await post_form(client, action, {"action": "word"}, "/programmes")).status_code == 403
    client.cookies.clear()
    await login(client, "leader")
    shown = await client.get(board)
    assert "Follow-up of the report" in shown.text and "never which partner reported" in shown.text
    bad = await post_form(client, action, {"action": "shout"}, board)
    assert bad.status_code == 400
    done = await post_form(client, action, {"action": "change", "note": "Re-pair next round."},
                           board)  # fmt: skip
    assert done.status_code == 303
    await db.refresh(report)
    await db.refresh(pair)
    assert report.follow_up == "change" and report.followed_up_by == lead.id
    assert pair.status == "ended" and pair.ended_reason == "Ended by the programme's lead"
    again = await post_form(client, action, {"action": "word"}, board)
    assert again.status_code == 400
    history = await client.get(f"/programmes/{programme.id}/history")
    assert "Followed up a dismissive report in the pair" in history.text
    assert "ended the pair (a change of pair). Note: Re-pair next round." in history.text
    # The partner's notifications never say who reported, nor mention a report.
    await deliver(settings, database)
    (ended,) = [n for n in await notes(db, senior) if n.id not in earlier]
    assert ended.kind == "programme" and "ended your pair" in ended.detail
    assert "report" not in ended.detail and junior.username not in ended.detail
    assert ended.actor_id is None


async def test_closing_asks_the_closing_survey_once_and_the_dashboard_withholds_small_counts(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _group(db, settings, lead, programme, 3)
    closing_q = await svc.add_question(db, settings, lead, programme, "Would you recommend it?",
                                       "scale", "both", closing=True)  # fmt: skip
    text_q = await svc.add_question(db, settings, lead, programme, "One thing to change?",
                                    "text", "both", closing=True)  # fmt: skip
    regular = await svc.add_question(db, settings, lead, programme, "How often did you meet?",
                                     "scale", "both")  # fmt: skip
    await _publish(db, settings, lead, programme)
    # Closing questions are not in the regular check-in; the frankness question is in both.
    asked = {q.id for q in await svc.questions(db, programme, "junior")}
    assert regular.id in asked and closing_q.id not in asked and text_q.id not in asked
    closing_asked = {q.id for q in await svc.questions(db, programme, "junior", closing=True)}
    assert closing_asked == {closing_q.id, text_q.id} | {
        q.id for q in await svc.questions(db, programme) if q.frankness
    }
    (frank,) = [q for q in await svc.questions(db, programme) if q.frankness]
    junior, senior = people[0]
    await db.commit()
    page = f"/programmes/{programme.id}/closing"
    await login(client, junior.username)
    early = await client.get(page)
    assert early.status_code == 400 and "opens when the lead closes" in early.text
    client.cookies.clear()
    await login(client, "leader")
    # Closing is confirmed on a page of its own (one click closed a cohort still taking
    # applications): the page says what happens, a POST without the confirmation changes
    # nothing.
    confirm = await client.get(f"/programmes/{programme.id}/close")
    assert confirm.status_code == 200 and "This cannot be undone." in confirm.text
    unconfirmed = await post_form(client, f"/programmes/{programme.id}/close", {},
                                  f"/programmes/{programme.id}/close")  # fmt: skip
    assert unconfirmed.status_code == 400 and "Nothing has changed" in unconfirmed.text
    await db.refresh(programme)
    assert programme.status != "closed"
    closed = await post_form(client, f"/programmes/{programme.id}/close", {"confirm": "yes"},
                             f"/programmes/{programme.id}/close")  # fmt: skip
    assert closed.status_code == 303
    await db.refresh(programme)
    assert programme.status == "closed" and programme.closed_at is not None
    # The pairs' spaces close with it: kept to read, no new messages (a probe wrote in one).
    from forum.messages.models import Conversation

    spaces = (await db.scalars(select(Conversation).join(Pair, Pair.conversation_id == Conversation.id)
                               .where(Pair.programme_id == programme.id)
                               .execution_options(populate_existing=True))).all()  # fmt: skip
    assert spaces and all(c.closed_at is not None and "programme closed" in c.closed_note
                          for c in spaces)  # fmt: skip
    await deliver(settings, database)
    for j, s in people:
        for member in (j, s):
            (asked_note,) = [n for n in await notes(db, member) if "closing survey" in n.detail]
            assert asked_note.link == page
    # Check-ins, meetings and new questions stop.
    try:
        await svc.answer_checkin(db, settings, junior, programme, "junior", {frank.id: "3"})
    except svc.ProgrammeError as exc:
        assert "closed" in exc.message
    else:
        raise AssertionError("a check-in was answered after closing")
    try:
        await svc.add_question(db, settings, lead, programme, "Late?", "scale", "both", True)
    except svc.ProgrammeError:
        pass
    else:
        raise AssertionError("a question was added after closing")
    # Outsiders cannot answer.
    outsider = await make_user(db, settings, username="outsider")
    await db.commit()
    assert outsider.id
    client.cookies.clear()
    await login(client, "outsider")
    assert (await client.get(page)).status_code == 403
    client.cookies.clear()
    await login(client, junior.username)
    assert "Answer the closing survey" in (await client.get(f"/programmes/{programme.id}")).text
    stopped = await client.get(f"/programmes/{programme.id}/checkin")
    assert stopped.status_code == 400 and "check-ins have stopped" in stopped.text
    form = await client.get(page)
    assert "Would you recommend it?" in form.text and "How often did you meet?" not in form.text
    missing = await post_form(client, page, {"side": "junior"}, page)
    assert missing.status_code == 400
    secret = "The senior never listened, secret-4417"
    answers = {"side": "junior", f"q{frank.id}": "2", f"q{closing_q.id}": "4",
               f"q{text_q.id}": secret}  # fmt: skip
    assert (await post_form(client, page, answers, page)).status_code == 303
    twice = await post_form(client, page, {**answers, f"q{frank.id}": "5"}, page)
    assert twice.status_code == 400 and "already answered" in twice.text
    assert "You have answered the closing survey" in (await client.get(page)).text
    stored = list(await db.scalars(select(CheckinAnswer).where(CheckinAnswer.user_id == junior.id)))
    assert sorted((a.round, a.value or 0, a.text) for a in stored) == [
        (0, 0, secret),
        (0, 2, ""),
        (0, 4, ""),
    ]
    # Answering as the other side is refused.
    forged = await post_form(client, page, {**answers, "side": "senior"}, page)
    assert forged.status_code == 403
    # The partner never sees it.
    client.cookies.clear()
    await login(client, senior.username)
    for path in [page, f"/programmes/{programme.id}", f"/messages/{(await svc.my_pair(db, programme, senior.id))[0].conversation_id}"]:  # fmt: skip
        assert secret not in (await client.get(path)).text
    # One answer: the dashboard withholds the aggregate and the written answer.
    board = await dash.build(db, programme)
    assert board.closing is not None and board.closing.answered == 1 and board.closing.asked == 6
    assert board.closing.frankness["junior"].mean is None
    assert board.closing.texts == [] and board.closing.texts_waiting == 1
    # Five answers, but three juniors and two seniors: each side's answers count in fives, so
    # nothing shows (a figure over both sides would hold a side's few answers).
    for j, s in people[1:]:
        await life.answer_closing(db, settings, j, programme, "junior",
                                  {frank.id: "4", closing_q.id: "5", text_q.id: "More time"})  # fmt: skip
        await life.answer_closing(db, settings, s, programme, "senior",
                                  {frank.id: "5", closing_q.id: "3", text_q.id: ""})  # fmt: skip
    board = await dash.build(db, programme)
    assert board.closing is not None and board.closing.answered == 5
    assert board.closing.frankness["junior"].mean is None  # three junior answers
    (cell,) = [c for q, c in board.closing.questions if q.id == closing_q.id]
    assert cell.n == 5 and cell.mean is None and cell.counted == 0
    assert board.closing.texts == [] and board.closing.texts_waiting == 3
    await db.commit()
    client.cookies.clear()
    await login(client, "leader")
    shown = await client.get(f"/programmes/{programme.id}/dashboard")
    assert "Answered by <strong>5</strong> of 6 participants" in shown.text
    assert "withheld (3 answers)" in shown.text and "Close the programme" not in shown.text
    assert "withheld (5 answers)" in shown.text and secret not in shown.text
    assert "3 written answers wait for more to come in" in shown.text
    exported = await client.get(f"/programmes/{programme.id}/dashboard.csv")
    assert any(r.endswith(",closing,Would you recommend it?,both,5,")
               for r in exported.text.splitlines())  # fmt: skip
    assert secret not in exported.text
    again = await post_form(client, f"/programmes/{programme.id}/close", {"confirm": "yes"},
                            f"/programmes/{programme.id}/dashboard")  # fmt: skip
    assert again.status_code == 400


async def test_only_the_lead_closes(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    await make_user(db, settings, username="other_lead", role="programme_lead")
    await db.commit()
    await login(client, "other_lead")
    refused = await post_form(client, f"/programmes/{programme.id}/close", {"confirm": "yes"},
                              "/programmes")  # fmt: skip
    assert refused.status_code == 403
    assert (await client.get(f"/programmes/{programme.id}/close")).status_code == 403
    await db.refresh(programme)
    assert programme.status == "open"
    assert await db.scalar(select(Pair.id)) is None


def test_the_export_states_a_response_rate_as_a_share() -> None:
    from types import SimpleNamespace

    from forum.programmes.dashboard import Dashboard, csv_export

    board = Dashboard(pairs_active=8, participants=16, rounds=2,
                      response_rates=[(1, 12, 16), (2, 0, 0)])  # fmt: skip
    rows = csv_export(SimpleNamespace(name="Pilot"), board).splitlines()  # type: ignore[arg-type]
    assert rows[0] == "programme,round,measure,side,answers,value"
    assert "Pilot,1,response rate,all,12,0.75" in rows
    assert "Pilot,2,response rate,all,0," in rows  # nobody asked: no rate, not a zero


async def test_the_page_says_why_there_is_no_form_to_apply(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, role="admin")
    await make_user(db, settings, username="onlooker")
    programme = await make_programme(db, settings, lead)
    await db.commit()
    page = url("programme", programme_id=programme.id)
    # Open, to a visitor: log in or register to apply.
    anonymous = (await client.get(page)).text
    assert "to apply." in anonymous and 'action="/login' not in anonymous
    assert f"/login?next={page}" in anonymous
    await login(client, "onlooker")
    assert 'name="side"' in (await client.get(page)).text
    for status, words in (("published", "is running"), ("closed", "has closed")):
        programme.status = status
        await db.commit()
        text = (await client.get(page)).text
        assert f"This programme {words}" in text and "takes no more applications" in text
        assert 'name="side"' not in text


async def test_closing_declines_the_applications_nobody_decided_and_tells_their_members(
    client: httpx.AsyncClient, db: AsyncSession, database: Database, settings: Settings
) -> None:
    """A lead closed a cohort still taking applications: one stayed "pending" for good and
    its member was told nothing. Now it is declined and they are told; decided ones stay."""
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, name="Autumn cohort")
    waiting = await make_user(db, settings, username="waiting_w")
    accepted = await make_user(db, settings, username="accepted_a")
    pending = await enrol(db, settings, programme, waiting, "junior")
    decided = await enrol(db, settings, programme, accepted, "senior")
    await svc.decide(db, settings, lead, programme, decided.id, True)
    await db.commit()
    await login(client, "leader")
    page = await client.get(f"/programmes/{programme.id}/close")
    assert "1 application you have not decided is declined" in page.text
    closed = await post_form(client, f"/programmes/{programme.id}/close", {"confirm": "yes"},
                             f"/programmes/{programme.id}/close")  # fmt: skip
    assert closed.status_code == 303
    for application, status in ((pending, "declined"), (decided, "accepted")):
        await db.refresh(application)
        assert application.status == status
    await deliver(settings, database)
    (told,) = [n for n in await notes(db, waiting) if "has closed before" in n.detail]
    assert "Autumn cohort" in told.detail and "declined" in told.detail
    assert not [n for n in await notes(db, accepted) if "has closed before" in n.detail]


async def test_applying_and_withdrawing_in_turn_tells_the_lead_a_few_times_a_day(
    db: AsyncSession, database: Database, settings: Settings
) -> None:
    """A probe applied and withdrew five times: eleven notices, each mailed to the lead at
    once. At most three a day per member and programme now; the applications page still
    shows where things stand."""
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    member = await make_user(db, settings, username="flipper")
    other = await make_user(db, settings, username="steady")
    for _ in range(5):
        await enrol(db, settings, programme, member, "junior")
        await life.withdraw(db, settings, member, programme)
    await enrol(db, settings, programme, other, "senior")
    await db.commit()
    await deliver(settings, database)
    details = [n.detail for n in await notes(db, lead)]
    assert sum("flipper" in d for d in details) == 3
    assert sum("steady applied" in d for d in details) == 1  # another member still tells
