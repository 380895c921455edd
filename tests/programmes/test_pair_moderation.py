"""Pair spaces are moderated with the pair's seniority gap as context (#18): in a programme
pair's private conversation the worker takes the writer's and the partner's levels from the
two applications' seniority, not from board points or roles, and records what it used."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.db import Database
from forum.core.settings import Settings
from forum.messages import services as pm
from forum.messages.models import Conversation, Message
from forum.programmes import pairing
from forum.programmes import services as svc
from forum.programmes.models import Pair, Programme
from forum.review.models import ModerationResult
from moderation.pipeline import CueStage
from tests.helpers import make_user
from tests.moderation.test_worker import Capture, worker_for
from tests.programmes.test_programmes import enrol, make_programme

# Mildly dismissive: the cue checker scores it below the hold threshold on its own, so who
# writes it to whom decides between a flag and a hold.
MILD = "You will understand when you are older."


async def pair_up(
    db: AsyncSession, settings: Settings, kind: str, junior_years: int, senior_years: int,
    *, junior_role: str = "member",
) -> tuple[Programme, Pair, User, User]:  # fmt: skip
    """A published programme of one pair; the junior side may hold a board role."""
    lead = await make_user(db, settings, role="programme_lead")
    programme = await make_programme(db, settings, lead, kind=kind)
    junior = await make_user(db, settings, role=junior_role)
    senior = await make_user(db, settings)
    for user, side, years in ((junior, "junior", junior_years), (senior, "senior", senior_years)):
        application = await enrol(db, settings, programme, user, side, seniority=str(years))
        await svc.decide(db, settings, lead, programme, application.id, True)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    (pair,) = await svc.publish(db, settings, lead, programme)
    await db.commit()
    return programme, pair, junior, senior


async def write(db: AsyncSession, settings: Settings, pair: Pair, sender: User, body: str) -> int:
    conversation = await db.get(Conversation, pair.conversation_id)
    assert conversation is not None
    message = await pm.reply(db, settings, sender, conversation, body)
    await db.commit()
    return message.id


async def result_of(db: AsyncSession, message_id: int) -> ModerationResult:
    found = await db.scalar(
        select(ModerationResult)
        .where(ModerationResult.message_id == message_id)
        .order_by(ModerationResult.id.desc())
        .limit(1)
    )
    assert found is not None
    return found


@pytest.mark.parametrize("kind", ["reverse", "traditional"])
async def test_the_senior_side_writes_down_the_ladder_by_the_pairs_seniority_gap(
    db: AsyncSession, settings: Settings, database: Database, kind: str
) -> None:
    # The junior side is a board moderator (whose role alone would count as three rank steps
    # over a member): in the pair space only the programme's ladder counts.
    programme, pair, junior, senior = await pair_up(db, settings, kind, 2, 20,
                                                    junior_role="moderator")  # fmt: skip
    down = await write(db, settings, pair, senior, MILD)
    up = await write(db, settings, pair, junior, MILD)
    capture = Capture()  # records what the pipeline is given; scores as the cue stage does
    assert await worker_for(settings, database, CueStage(), capture).score_messages() == 2
    seen = {p.post_id: p for p in capture.seen}
    assert (seen[down].writer_level, seen[down].target_level) == (3, 0)  # 18 years: capped
    assert (seen[up].writer_level, seen[up].target_level) == (0, 3)
    assert seen[up].writer_role == seen[up].target_role == "member"
    assert seen[down].seniority_gap == 3 and seen[up].seniority_gap == 0
    from_senior, from_junior = await result_of(db, down), await result_of(db, up)
    assert from_senior.context["dismissive"] > from_junior.context["dismissive"]
    assert from_senior.verdict == "hold" and from_junior.verdict == "flag"
    assert from_senior.context["seniority_gap"] == 3 and from_junior.context["seniority_gap"] == 0
    ladder = from_senior.context["ladder"]
    assert ladder == {
        "source": "programme", "programme_id": programme.id, "pair_id": pair.id, "kind": kind,
        "writer_side": "senior", "writer_years": 20, "target_years": 2, "gap_years": 18,
        "steps": 3,
    }  # fmt: skip
    assert from_junior.context["ladder"]["writer_side"] == "junior"
    assert from_junior.context["ladder"]["gap_years"] == -18
    held = await db.get(Message, down, populate_existing=True)
    assert held is not None and held.state == "held"


async def test_a_small_gap_counts_as_a_small_step(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    _, pair, _junior, senior = await pair_up(db, settings, "reverse", 4, 7)
    down = await write(db, settings, pair, senior, MILD)
    capture = Capture()
    assert await worker_for(settings, database, CueStage(), capture).score_messages() == 1
    (seen,) = capture.seen
    assert (seen.writer_level, seen.target_level) == (1, 0)
    result = await result_of(db, down)
    assert result.verdict == "flag" and result.context["ladder"]["steps"] == 1


async def test_a_reverse_pair_entered_with_the_junior_more_senior_never_writes_the_junior_down(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    # The sides say who is senior in a reverse or traditional programme; odd years do not
    # turn the junior mentor's message into one written down the ladder.
    _, pair, junior, _senior = await pair_up(db, settings, "reverse", 12, 3)
    up = await write(db, settings, pair, junior, MILD)
    capture = Capture()
    assert await worker_for(settings, database, CueStage(), capture).score_messages() == 1
    (seen,) = capture.seen
    assert seen.seniority_gap == 0
    result = await result_of(db, up)
    assert result.verdict == "flag" and result.context["ladder"]["gap_years"] == 0


async def test_peer_pairs_go_by_the_seniority_fields(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    lead = await make_user(db, settings, role="programme_lead")
    programme = await make_programme(db, settings, lead, kind="peer")
    newer = await make_user(db, settings)
    longer = await make_user(db, settings)
    for user, years in ((newer, "3"), (longer, "12")):
        for application in await svc.apply(
            db, settings, user, programme,
            svc.ApplicationForm(side="both", seniority=years, teaches=["AI tools"],
                                learns=["AI tools"], availability=["mon-am"]),
        ):  # fmt: skip
            await svc.decide(db, settings, lead, programme, application.id, True)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    pairs = await svc.publish(db, settings, lead, programme)
    await db.commit()
    assert pairs
    written: dict[int, str] = {}
    for pair in pairs:  # whichever side each was paired on
        written[await write(db, settings, pair, longer, MILD)] = "down"
        written[await write(db, settings, pair, newer, MILD)] = "up"
    capture = Capture()
    assert await worker_for(settings, database, CueStage(), capture).score_messages() == len(
        written
    )
    for seen in capture.seen:
        levels = (seen.writer_level, seen.target_level)
        assert levels == ((2, 0) if written[seen.post_id] == "down" else (0, 2)), levels
        result = await result_of(db, seen.post_id)
        assert result.context["ladder"]["kind"] == "peer"
        assert result.context["ladder"]["gap_years"] == (9 if written[seen.post_id] == "down"
                                                         else -9)  # fmt: skip


async def test_an_ordinary_conversation_keeps_the_board_ladder(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    writer = await make_user(db, settings, role="moderator")
    member = await make_user(db, settings)
    _, message = await pm.start_conversation(db, settings, writer, [member], "Rota", MILD)
    await db.commit()
    capture = Capture()
    assert await worker_for(settings, database, CueStage(), capture).score_messages() == 1
    (seen,) = capture.seen
    assert seen.ladder is None and seen.writer_role == "moderator"
    result = await result_of(db, message.id)
    assert "ladder" not in result.context and result.context["seniority_gap"] == 3
