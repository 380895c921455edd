"""Domains react to lower domains' events, and answer their questions, once subscribed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.events import PostCreated
from forum.core import events
from forum.core.settings import Settings
from forum.review.models import ReviewItem
from tests.helpers import make_category, make_thread, make_user


@dataclass(frozen=True)
class Pinged:
    n: int


async def test_subscribers_hear_announcements_in_order(db: AsyncSession) -> None:
    heard: list[str] = []

    async def first(session: AsyncSession, event: Pinged) -> None:
        heard.append(f"first {event.n}")

    async def second(session: AsyncSession, event: Pinged) -> None:
        heard.append(f"second {event.n}")

    events.subscribe(Pinged, first)
    events.subscribe(Pinged, second)
    events.subscribe(Pinged, first)  # subscribing twice changes nothing
    await events.announce(db, Pinged(1))
    assert heard == ["first 1", "second 1"]


async def test_a_question_gets_every_answer(db: AsyncSession) -> None:
    @dataclass(frozen=True)
    class Asked:
        text: str

    async def upper(session: AsyncSession, question: Asked) -> str:
        return question.text.upper()

    assert await events.ask(db, Asked("x")) == []  # nobody answers yet
    events.answer(Asked, upper)
    assert await events.ask(db, Asked("x")) == ["X"]


async def test_the_review_queue_subscribes_to_new_posts(
    db: AsyncSession, settings: Settings
) -> None:
    """With the app's wiring, a pre-moderated author's post opens its review item."""
    assert events.subscribers(PostCreated), "forum.app.wire() subscribes the review queue"
    strict = settings.model_copy(update={"premoderate_first_posts": 1})
    author = await make_user(db, strict)
    _thread, (post,) = await make_thread(db, strict, author, await make_category(db))
    item = await db.scalar(select(ReviewItem).where(ReviewItem.post_id == post.id))
    assert item is not None and item.reasons == ["PREMODERATION"]
    assert post.moderation_state == "held"
