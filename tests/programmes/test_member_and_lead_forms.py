"""What members and the lead are offered and asked: a pair space left only with the pair,
leaving and reporting confirmed on a page of their own, only the actions a pair's state
allows, the lead named where members are told to ask them, counts in words, and the lead's
refused forms given back with what was typed."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.settings import Settings
from forum.core.text import counted
from forum.messages.models import Conversation, Message
from forum.messages.services import membership, reply
from forum.programmes import dashboard as dash
from forum.programmes import lifecycle as life
from forum.programmes import services as svc
from forum.programmes.models import CheckinQuestion, Pair
from forum.review.models import Report
from tests.helpers import login, make_user, post_form
from tests.programmes.test_programmes import end_round, enrol, make_programme
from tests.programmes.test_schedule_and_meetings import publish_pairs


async def _members(db: AsyncSession, pair: Pair) -> tuple[User, User]:
    junior = await db.get(User, pair.junior_id)
    senior = await db.get(User, pair.senior_id)
    assert junior is not None and senior is not None
    return junior, senior


async def test_a_pair_space_is_left_with_the_pair_not_on_its_own(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior, _ = await _members(db, pair)
    await db.commit()
    page = f"/programmes/{programme.id}"
    space = f"/messages/{pair.conversation_id}"
    await login(client, junior.username)
    shown = await client.get(space)
    assert shown.status_code == 200 and "Leave this conversation" not in shown.text
    assert f'href="{page}"' in shown.text
    refused = await post_form(client, f"{space}/leave", {}, space)
    assert refused.status_code == 403 and "leave the programme on its page" in refused.text
    # The programme's link to the space still leads to it.
    assert f'href="{space}"' in (await client.get(page)).text
    assert (await client.get(space)).status_code == 200
    assert pair.conversation_id is not None
    assert await membership(db, pair.conversation_id, junior.id) is not None


async def test_leaving_the_programme_is_confirmed_on_a_page_of_its_own(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior, senior = await _members(db, pair)
    await make_user(db, settings, username="outsider")
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, "outsider")
    nothing = await client.get(f"{page}/leave")
    assert nothing.status_code == 400 and "not in a running pair" in nothing.text
    client.cookies.clear()
    await login(client, junior.username)
    assert f'href="{page}/leave"' in (await client.get(page)).text
    asked = await client.get(f"{page}/leave")
    assert asked.status_code == 200 and "cannot be undone" in asked.text
    assert senior.username in asked.text and 'name="confirm" value="yes"' in asked.text
    # One click without the confirmation changes nothing.
    unconfirmed = await post_form(client, f"{page}/leave", {}, page)
    assert unconfirmed.status_code == 400 and "Nothing has changed" in unconfirmed.text
    await db.refresh(pair)
    assert pair.status == "active"
    # Nor does a confirmation without the form's token.
    assert (await client.post(f"{page}/leave", data={"confirm": "yes"})).status_code == 403
    await db.refresh(pair)
    assert pair.status == "active"
    left = await post_form(client, f"{page}/leave", {"confirm": "yes"}, page)
    assert left.status_code == 303
    await db.refresh(pair)
    assert pair.status == "ended"


async def _two_pairs(db: AsyncSession, settings: Settings) -> tuple[Any, ...]:
    """leader's programme with two published pairs: the first pair's programme, pair, junior,
    senior and space, and the other pair's junior."""
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair, other) = await publish_pairs(db, settings, lead, programme, 2)
    junior, senior = await _members(db, pair)
    other_junior, _ = await _members(db, other)
    conversation = await db.get(Conversation, pair.conversation_id)
    assert conversation is not None
    return programme, pair, junior, senior, other_junior, conversation


async def test_a_dismissive_report_is_about_the_message_confirmed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    programme, pair, junior, senior, other_junior, conversation = await _two_pairs(db, settings)
    first = await reply(db, settings, senior, conversation, "Juniors never get strategy.")
    first.state = "clear"
    await db.commit()
    page = f"/programmes/{programme.id}"
    action = f"{page}/pairs/{pair.id}/dismissive"
    await login(client, junior.username)
    assert "Juniors never get strategy." in (await client.get(action)).text
    # A newer message arrives meanwhile: the report is still about the one confirmed.
    newer = await reply(db, settings, senior, conversation, "See you Thursday.")
    newer.state = "clear"
    await db.commit()
    sent = await post_form(client, action, {"confirm": "yes", "message_id": str(first.id)}, page)
    assert sent.status_code == 303
    assert await db.scalar(select(Report.message_id)) == first.id
    # Not a message of the partner (the member's own, or another pair's): refused.
    mine = await reply(db, settings, junior, conversation, "I disagree.")
    mine.state = "clear"
    await db.commit()
    own = await post_form(client, action, {"confirm": "yes", "message_id": str(mine.id)}, page)
    assert own.status_code == 400 and "not written anything you could report" in own.text
    client.cookies.clear()
    await login(client, other_junior.username)
    assert (await client.get(action)).status_code == 403
    assert await db.scalar(select(func.count(Report.id))) == 1
    assert await db.scalar(select(func.count(Message.id))) == 3


async def test_an_earlier_message_is_reported_from_the_pair_space(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's junior could report only the partner's latest message, from the programme
    page: each of the partner's messages in the space has its own link now."""
    programme, pair, junior, senior, other_junior, conversation = await _two_pairs(db, settings)
    first = await reply(db, settings, senior, conversation, "Juniors never get strategy.")
    newer = await reply(db, settings, senior, conversation, "See you Thursday.")
    first.state = newer.state = "clear"
    await db.commit()
    await login(client, junior.username)
    space = (await client.get(f"/messages/{conversation.id}")).text
    link = f"/programmes/messages/{first.id}/dismissive"
    assert space.count("This felt dismissive") == 2 and f'href="{link}"' in space
    went = await client.get(link)
    assert went.status_code == 303 and went.headers["location"].endswith(f"?message={first.id}")
    page = (await client.get(went.headers["location"])).text
    assert "Juniors never get strategy." in page and "See you Thursday." not in page
    assert f'name="message_id" value="{first.id}"' in page
    # Nobody outside the pair learns of the space through the link.
    client.cookies.clear()
    await login(client, other_junior.username)
    assert (await client.get(link)).status_code == 404


async def test_a_member_whose_pair_ended_is_offered_no_withdraw_and_told_whom_to_ask(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="rosa_lead", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    (pair,) = await publish_pairs(db, settings, lead, programme)
    junior, senior = await _members(db, pair)
    await life.leave(db, settings, senior, programme)
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, junior.username)
    shown = (await client.get(page)).text
    assert "This pair has ended" in shown
    assert "Withdraw my application" not in shown and "Leave the programme" not in shown
    assert "This felt dismissive" not in shown and "Log the meeting" not in shown
    lead_link = '<a href="/u/rosa_lead">rosa_lead</a>'
    assert f"Ask its lead, {lead_link}, if you would like a new partner" in shown
    assert f"Ask its lead, {lead_link}, about the next round" in shown
    assert f"led by {lead_link}" in shown
    refused = await post_form(client, f"{page}/withdraw", {}, page)
    assert refused.status_code == 400 and "Your pair has ended" in refused.text


async def test_counts_are_in_the_singular_for_one(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    assert counted(1, "year") == "1 year" and counted(0, "year") == "0 years"
    assert counted(2, "wish", "wishes") == "2 wishes"
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead, pilot_size="1")
    member = await make_user(db, settings, username="one_year")
    await enrol(db, settings, programme, member, "junior", seniority="1")
    await db.commit()
    page = f"/programmes/{programme.id}"
    await login(client, "leader")
    assert "a pilot of 1 pair" in (await client.get(page)).text
    assert "; 1 year." in (await client.get(f"{page}/applications")).text
    # A published pair and one answer: "Published 1 pair", "withheld (1 answer)".
    other = await make_programme(db, settings, lead, name="Second")
    (pair,) = await publish_pairs(db, settings, lead, other)
    end_round(other)  # the first interval: check-in 1 opens after it
    junior, _ = await _members(db, pair)
    (frank,) = [q for q in await svc.questions(db, other, "junior") if q.frankness]
    await svc.answer_checkin(db, settings, junior, other, "junior", {frank.id: "4"})
    end_round(other)  # a round's figures show once it is over
    await db.commit()
    board = (await client.get(f"/programmes/{other.id}/dashboard")).text
    assert "withheld (1 answer)" in board and "(2 participants)" in board
    assert "1 answers" not in board
    history = (await client.get(f"/programmes/{other.id}/history")).text
    assert "Published 1 pair:" in history
    built = await dash.build(db, other)
    assert built.frankness["junior"][1].n == 1


async def test_the_leads_refused_forms_come_back_with_what_was_typed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    await make_user(db, settings, username="plain")
    programme = await make_programme(db, settings, lead)
    for i in range(2):
        for side in ("junior", "senior"):
            member = await make_user(db, settings, username=f"{side}{i}")
            application = await enrol(db, settings, programme, member, side)
            await svc.decide(db, settings, lead, programme, application.id, True)
    from forum.programmes import pairing

    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await db.commit()
    page = f"/programmes/{programme.id}/proposal"
    await login(client, "leader")
    typed = "How often did you meet, and was it enough? " * 10  # too long: 430 characters
    asked = await post_form(client, f"/programmes/{programme.id}/questions",
                            {"prompt": typed, "kind": "text", "side": "senior",
                             "when": "closing"}, page)  # fmt: skip
    assert asked.status_code == 400 and "at most 300 characters" in asked.text
    # Back on the check-in questions' own page (they were under "Pairing").
    assert typed.strip() in asked.text and "<h1>Check-in questions</h1>" in asked.text
    assert '<option value="text" selected>' in asked.text
    assert '<option value="senior" selected>' in asked.text
    assert '<option value="closing" selected>' in asked.text
    # The frankness question and the default free-text one only.
    assert await db.scalar(select(func.count(CheckinQuestion.id))) == 2
    proposal = svc.proposal_of(job)
    assert proposal is not None
    one = f"{proposal['pairs'][0]['junior_id']}-{proposal['pairs'][0]['senior_id']}"
    swap = await post_form(client, f"/programmes/{programme.id}/edit",
                           {"action": "swap", "pair": one}, page)  # fmt: skip
    assert swap.status_code == 400 and "Choose two pairs to swap their partners." in swap.text
    assert f'value="{one}" id="pair-1" checked' in swap.text or (
        f'value="{one}" id="pair-2" checked' in swap.text
    )
    bad = await post_form(client, f"/programmes/{programme.id}/edit",
                          {"action": "fix", "pair": "x-1"}, page)  # fmt: skip
    assert bad.status_code == 400 and "Choose a pair from the proposal." in bad.text
    weights = await post_form(client, f"/programmes/{programme.id}/criteria",
                              {"overlap": "lots", "availability": "2", "department": "1",
                               "gap": "1", "gap_min": "0", "gap_max": "40"}, page)  # fmt: skip
    assert weights.status_code == 400 and "Weights are numbers from 0 to 10." in weights.text
    assert 'value="lots"' in weights.text
    # Someone else posting the lead's forms gets a refusal, never the lead's page.
    client.cookies.clear()
    await login(client, "plain")
    for path, data in ((f"/programmes/{programme.id}/questions", {"prompt": "x" * 400}),
                       (f"/programmes/{programme.id}/edit", {"action": "swap", "pair": one})):  # fmt: skip
        refused = await post_form(client, path, data, f"/programmes/{programme.id}")
        assert refused.status_code == 403 and "<h1>Pairing</h1>" not in refused.text, path
        assert "<h1>Check-in questions</h1>" not in refused.text, path
