"""The worker scores private messages as it scores posts (#17): with what each answers and
whom it is written to, under a lease, re-scored once a missing stage loads, never dropped."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.db import Database
from forum.core.settings import Settings
from forum.messages import services as pm
from forum.messages.models import Message
from forum.review.models import ModerationResult, ReviewItem
from moderation.pipeline import CueStage
from moderation.signals import own_words
from tests.helpers import make_user
from tests.moderation.test_worker import CannotLoad, Capture, worker_for

PUT_DOWN = "Honestly, know your place. Come back when you have 20 years in."


async def test_each_message_is_scored_with_what_it_answers_and_whom_it_is_written_to(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    junior = await make_user(db, settings)
    senior = await make_user(db, settings, role="moderator")
    conversation, first = await pm.start_conversation(
        db, settings, junior, [senior], "Rota", "My rota idea."
    )
    await db.commit()
    capture = Capture()
    worker = worker_for(settings, database, capture)
    assert await worker.score_messages() == 1
    second = await pm.reply(db, settings, senior, conversation, "Maybe in a few years.")
    await db.commit()
    assert await worker.score_messages() == 1
    third = await pm.reply(db, settings, junior, conversation, "Fair.", reply_to_id=first.id)
    await db.commit()
    assert await worker.score_messages() == 1
    by_id = {p.post_id: p for p in capture.seen}
    # The opening message answers nothing; it is written to the senior.
    assert by_id[first.id].context == "" and by_id[first.id].target_role == "moderator"
    assert by_id[first.id].writer_role == "member"
    # A plain reply answers the message before it, and is written to the junior.
    assert by_id[second.id].context == "My rota idea."
    assert by_id[second.id].writer_role == "moderator" and by_id[second.id].target_role == "member"
    # A quote answers the quoted message (the junior's own: nobody else is aimed at).
    assert by_id[third.id].context == "My rota idea."
    # The first message carries the conversation's subject, read alone as well; no other does.
    assert by_id[first.id].title == "Rota"
    assert by_id[second.id].title == by_id[third.id].title == ""


async def test_a_put_down_for_a_subject_is_not_hidden_by_a_harmless_message(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    senior = await make_user(db, settings)
    junior = await make_user(db, settings)
    _conversation, first = await pm.start_conversation(
        db, settings, senior, [junior], "You are too junior to understand this. Know your place.",
        "See you on Thursday at 10.",
    )  # fmt: skip
    await db.commit()
    assert await worker_for(settings, database).score_messages() == 1
    result = await db.scalar(
        select(ModerationResult).where(ModerationResult.message_id == first.id)
    )
    # Scored by the cues alone here (tests/moderation/test_cues_policy.py weighs the model's
    # reading with theirs): the subject decides, and the message is held.
    assert result is not None and result.scores["cues"]["title"] >= 0.9
    assert result.verdict == "hold" and result.context["title"] >= 0.9


async def test_a_message_scored_without_a_stage_is_scored_again_once_it_loads(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    a = await make_user(db, settings)
    b = await make_user(db, settings)
    _, message = await pm.start_conversation(db, settings, a, [b], "S", PUT_DOWN)
    message_id = message.id
    await db.commit()
    broken = CannotLoad()
    worker = worker_for(settings, database, CueStage(), broken)
    assert await worker.score_messages() == 1
    result = await db.scalar(
        select(ModerationResult).where(ModerationResult.message_id == message_id)
    )
    assert result is not None and not result.complete
    assert await worker.requeue_incomplete() == 0
    broken.available = True
    worker.pipeline.load()
    assert await worker.requeue_incomplete() == 1
    assert await worker.score_messages() == 1
    results = (await db.scalars(select(ModerationResult).where(ModerationResult.message_id == message_id)
                                .order_by(ModerationResult.id))).all()  # fmt: skip
    assert len(results) == 2 and results[-1].complete


async def test_a_late_worker_cannot_overwrite_and_a_failing_message_goes_to_review(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    strict = settings.model_copy(update={"worker_max_attempts": 1, "worker_lease_seconds": 60})
    a = await make_user(db, settings)
    b = await make_user(db, settings)
    _, message = await pm.start_conversation(db, strict, a, [b], "S", "Hello there")
    message_id = message.id
    await db.commit()
    worker = worker_for(strict, database)
    (claim,) = await worker.claim_messages()
    # Another claim took over (as after an expired lease): the first one's verdict is dropped.
    await db.execute(update(Message).where(Message.id == message_id).values(mod_claim="newer"))
    await db.commit()
    assert not await worker.finalize_message(claim, None)
    # Past the attempts allowed: to moderators as unscored, and shown (as a post would be).
    await db.execute(
        update(Message).where(Message.id == message_id).values(mod_lease_until=None, mod_claim=None)
    )
    await db.commit()
    assert await worker.score_messages() == 1
    fresh = await db.get(Message, message_id, populate_existing=True)
    assert fresh is not None and fresh.state == "clear" and not fresh.needs_scoring
    item = await db.scalar(select(ReviewItem).where(ReviewItem.message_id == message_id))
    assert item is not None and item.reasons == ["UNSCORED"]


async def test_a_message_quoting_words_nobody_wrote_is_read_as_the_senders_own(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    junior = await make_user(db, settings)
    senior = await make_user(db, settings)
    conversation, first = await pm.start_conversation(
        db, settings, junior, [senior], "Rota", "My rota idea."
    )
    await db.commit()
    capture = Capture()
    worker = worker_for(settings, database, capture)
    assert await worker.score_messages() == 1  # the senior sees it from now on
    real = await pm.reply(db, settings, senior, conversation, "> My rota idea.\n\nLove it.",
                          reply_to_id=first.id)  # fmt: skip
    fabricated = await pm.reply(db, settings, senior, conversation,
                                f"> {PUT_DOWN}\n\nThis. Exactly this.")  # fmt: skip
    await db.commit()
    assert await worker.score_messages() == 2
    seen = {p.post_id: p for p in capture.seen}
    assert own_words(seen[real.id].text) == ("My rota idea.", "Love it.")
    quote, own = own_words(seen[fabricated.id].text)
    assert quote == "" and PUT_DOWN in own
