"""`candor demo`: load the demo board through the same services that serve real members."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.passwords import Passwords
from forum.accounts.services import award_points, create_user
from forum.articles.models import Article
from forum.articles.services import publish
from forum.board.categories import create_category
from forum.board.models import Category
from forum.board.posting import create_reply, create_thread
from forum.core.audit import AuditEntry
from forum.core.db import connect, utcnow
from forum.core.settings import Settings
from forum.demo.content import (
    ARTICLES,
    CATEGORIES,
    CLOSED_PROGRAMME,
    CLOSING_QUESTION,
    DEMO_PASSWORD,
    MEMBERS,
    OPEN_APPLICANTS,
    OPEN_PROGRAMME,
    PROGRAMME,
    PROGRAMME_JUNIORS,
    PROGRAMME_SENIORS,
    QA_CATEGORIES,
    THREADS,
)
from forum.messages.models import Conversation
from forum.notifications.models import RECORDED_KINDS, NotificationWork
from forum.programmes import lifecycle
from forum.programmes import services as programmes
from forum.programmes.models import (
    CLOSING_ROUND,
    Application,
    CheckinAnswer,
    PairingJob,
    Programme,
    TrainingAck,
)


async def populate(session: AsyncSession, settings: Settings) -> None:
    now = utcnow()
    passwords = Passwords(settings)
    members: dict[str, User] = {}
    for username, email, role, location, joined_days, carried in MEMBERS:
        user = await create_user(
            session,
            passwords,
            username=username,
            email=email,
            password=DEMO_PASSWORD,
            role=role,
            location=location,
            joined_at=now - timedelta(days=joined_days),
        )
        await session.flush()
        if carried:
            await award_points(session, user.id, carried, "carried_over", at=user.joined_at)
        members[username] = user
    categories: dict[str, Category] = {}
    for position, (name, description, children) in enumerate(CATEGORIES):
        root = await create_category(session, name, description=description, position=position)
        categories[name] = root
        for child_position, (child, child_description) in enumerate(children):
            categories[child] = await create_category(
                session, child, parent=root, description=child_description, position=child_position
            )
    for name in QA_CATEGORIES:
        categories[name].is_qa = True
    for category_name, title, days_ago, posts in THREADS:
        start = now - timedelta(days=days_ago)
        first_author, _offset, first_body = posts[0]
        thread, _ = await create_thread(
            session,
            settings,
            members[first_author],
            categories[category_name],
            title,
            first_body,
            now=start,
        )
        for author, hours, body in posts[1:]:
            await create_reply(
                session,
                settings,
                members[author],
                thread,
                body,
                now=min(start + timedelta(hours=hours), now),
            )
        # A thread read for a while has been viewed: a few dozen readers a reply, older ones
        # more (a new board whose every thread showed "0 views" looked deserted).
        thread.view_count = int(9 + 23 * len(posts) + 2 * min(days_ago, 60))
    training = None
    for author, days_ago, title, summary, body in ARTICLES:
        article = await publish(session, settings, members[author], title, summary, body)
        article.created_at = now - timedelta(days=days_ago)
        if title == "How to start a reverse-mentoring pilot":
            training = article
    await _pilot(session, settings, members, training)
    await _closed_trial(session, settings, members)
    await _open_cohort(session, settings, members, training)
    # The demo's history is old news: nobody is greeted with a rank they reached "just now",
    # nor told (and mailed, dated today) of replies, mentions, messages or programme decisions
    # from weeks ago; only grace_w's closing survey waits.
    await session.execute(update(User).values(rank_notice=None))
    await session.execute(
        delete(NotificationWork).where(
            ~(
                (NotificationWork.source.in_([k.value for k in RECORDED_KINDS]))
                & (NotificationWork.recipient_id == members["grace_w"].id)
                & NotificationWork.link.endswith("/closing")
            ),
        )
    )
    await session.flush()


async def _pilot(
    session: AsyncSession, settings: Settings, members: dict[str, User], training: Article | None
) -> None:
    """The running pilot: created, applied to, paired and published through the services,
    then dated as if it started seven weeks ago, with two rounds of check-ins answered and the
    third open (the first check-in opens one interval, two weeks, after the start)."""
    lead = members["rosa_lead"]
    form = programmes.ProgrammeForm(
        kind="reverse", pilot_size="8", checkin_days="14",
        training=str(training.id) if training else "", **PROGRAMME,
    )  # fmt: skip
    programme = await programmes.create_programme(session, settings, lead, form)
    for side, rows in (("junior", PROGRAMME_JUNIORS), ("senior", PROGRAMME_SENIORS)):
        for username, department, seniority, teaches, learns, slot in rows:
            member = members[username]
            if training is not None:
                await programmes.acknowledge(session, settings, member, programme, training.id)
            application_form = programmes.ApplicationForm(
                side=side, department=department, seniority=str(seniority), teaches=[teaches],
                learns=[learns], availability=[slot],
            )  # fmt: skip
            for application in await programmes.apply(
                session, settings, member, programme, application_form
            ):
                await programmes.decide(session, settings, lead, programme, application.id, True)
    job = await programmes.request_proposal(session, settings, lead, programme)
    from forum.programmes import pairing  # numpy and scipy: the CLI's side, never the web's

    await programmes.run_job(session, job, pairing)
    await programmes.publish(session, settings, lead, programme)
    # Rounds open 14, 28 and 42 days after the start: round 3 is open now, for a week more.
    started = utcnow() - timedelta(days=49)
    await _dated(session, programme, started)
    questions = await programmes.questions(session, programme)
    frank = next(q for q in questions if q.frankness)
    for i, pair in enumerate(await programmes.pairs_of(session, programme)):
        for round_ in (1, 2):
            for user_id, side in ((pair.junior_id, "junior"), (pair.senior_id, "senior")):
                if (i + round_) % 7 == 0:
                    continue  # a few missed a check-in
                value = min(5, 2 + round_ + (i % 2)) if side == "junior" else 4 + (i % 2)
                session.add(CheckinAnswer(
                    programme_id=programme.id, question_id=frank.id, user_id=user_id,
                    side=side, round=round_, value=value, text="",
                    created_at=_last_day_of(programme, round_),
                ))  # fmt: skip
    await session.flush()


def _last_day_of(programme: Programme, round_: int) -> datetime:
    """A moment in check-in `round_`'s last day (when most answers come in)."""
    closes = programmes.round_closes_at(programme, round_)
    assert closes is not None
    return closes - timedelta(days=1)


async def _dated(session: AsyncSession, programme: Programme, published: datetime) -> None:
    """Date a programme loaded just now as if its pairs were published at `published`: the
    programme, its applications and training read in the weeks before, the pairing run the
    day before, its pairs and their spaces from then on (a pair's meetings are logged from
    its start), and the lead's decisions in its History when they were taken."""
    await session.flush()
    programme.published_at = published
    programme.created_at = published - timedelta(days=28)
    before = published - timedelta(days=21)
    dated: list[tuple[Any, Any, dict[str, datetime]]] = [
        (Application, Application.programme_id == programme.id, {"created_at": before}),
        (TrainingAck, TrainingAck.programme_id == programme.id, {"created_at": before}),
        (
            PairingJob,
            PairingJob.programme_id == programme.id,
            {"requested_at": published - timedelta(days=1), "finished_at": published},
        ),
    ]
    mine = (AuditEntry.target_type == "programme") & (AuditEntry.target_id == programme.id)
    dated += [
        (AuditEntry, mine, {"created_at": published - timedelta(days=7)}),
        (AuditEntry, mine & (AuditEntry.action == "programme_publish"), {"created_at": published}),
    ]
    if programme.closed_at is not None:
        closed = mine & (AuditEntry.action == "programme_close")
        dated.append((AuditEntry, closed, {"created_at": programme.closed_at}))
    for model, where, values in dated:
        await session.execute(update(model).where(where).values(**values))
    for pair in await programmes.pairs_of(session, programme):
        pair.created_at = published
        conversation = await session.get(Conversation, pair.conversation_id)
        if conversation is not None:
            conversation.created_at = conversation.last_message_at = published
    await session.flush()


async def _open_cohort(
    session: AsyncSession, settings: Settings, members: dict[str, User], training: Article | None
) -> None:
    """The next cohort, taking applications (starting in a month), two of them waiting."""
    lead = members["rosa_lead"]
    today = utcnow().date()
    form = programmes.ProgrammeForm(
        kind="reverse", pilot_size="10", checkin_days="14",
        starts_on=(today + timedelta(days=30)).isoformat(),
        ends_on=(today + timedelta(days=30 + 84)).isoformat(),
        training=str(training.id) if training else "", **OPEN_PROGRAMME,
    )  # fmt: skip
    programme = await programmes.create_programme(session, settings, lead, form)
    for username, side, department, seniority, teaches, learns, slot in OPEN_APPLICANTS:
        member = members[username]
        if training is not None:
            await programmes.acknowledge(session, settings, member, programme, training.id)
        await programmes.apply(
            session, settings, member, programme,
            programmes.ApplicationForm(
                side=side, department=department, seniority=str(seniority), teaches=[teaches],
                learns=[learns], availability=[slot],
            ),
        )  # fmt: skip
    programme.created_at = utcnow() - timedelta(days=6)
    await session.flush()


async def _closed_trial(
    session: AsyncSession, settings: Settings, members: dict[str, User]
) -> None:
    """An earlier trial, closed: six pairs, a closing question, and most closing surveys
    answered (enough for the lead's dashboard to show them)."""
    lead = members["rosa_lead"]
    form = programmes.ProgrammeForm(kind="reverse", pilot_size="6", checkin_days="14",
                                    **CLOSED_PROGRAMME)  # fmt: skip
    programme = await programmes.create_programme(session, settings, lead, form)
    for side, rows in (("junior", PROGRAMME_JUNIORS[:6]), ("senior", PROGRAMME_SENIORS[:6])):
        for username, department, seniority, teaches, learns, slot in rows:
            application_form = programmes.ApplicationForm(
                side=side, department=department, seniority=str(seniority), teaches=[teaches],
                learns=[learns], availability=[slot],
            )  # fmt: skip
            for application in await programmes.apply(
                session, settings, members[username], programme, application_form
            ):
                await programmes.decide(session, settings, lead, programme, application.id, True)
    question = await programmes.add_question(
        session, settings, lead, programme, CLOSING_QUESTION, "scale", "both", closing=True
    )
    job = await programmes.request_proposal(session, settings, lead, programme)
    from forum.programmes import pairing  # numpy and scipy: the CLI's side, never the web's

    await programmes.run_job(session, job, pairing)
    await programmes.publish(session, settings, lead, programme)
    await lifecycle.close(session, settings, lead, programme, now=utcnow() - timedelta(days=64))
    await _dated(session, programme, utcnow() - timedelta(days=120))
    assert programme.closed_at is not None
    frank = next(q for q in await programmes.questions(session, programme) if q.frankness)
    for i, pair in enumerate(await programmes.pairs_of(session, programme)):
        for user_id, side in ((pair.junior_id, "junior"), (pair.senior_id, "senior")):
            if user_id == members["grace_w"].id:
                continue  # her closing survey is still waiting for her
            for q, value in ((frank, 3 + (i % 3) if side == "junior" else 4),
                             (question, 4 + (i % 2))):  # fmt: skip
                session.add(CheckinAnswer(
                    programme_id=programme.id, question_id=q.id, user_id=user_id, side=side,
                    round=CLOSING_ROUND, value=min(value, 5), text="",
                    created_at=programme.closed_at + timedelta(days=2),
                ))  # fmt: skip
    await session.flush()


async def load_demo(settings: Settings, if_empty: bool = False) -> bool:
    database = connect(settings.database_url)
    try:
        async with database.sessionmaker() as session, session.begin():
            if await session.scalar(select(func.count(Category.id))):
                if if_empty:
                    return False
                raise SystemExit("the board already has categories; use an empty database")
            await populate(session, settings)
        return True
    finally:
        await database.dispose()
