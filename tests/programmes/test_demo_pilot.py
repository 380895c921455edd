"""The demo board's running pilot: eight pairs, published, with check-ins on the dashboard;
and an earlier trial, closed, with its closing survey on the dashboard."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.accounts.models import User
from forum.core.db import Database, utcnow
from forum.demo.loader import populate
from forum.messages.models import Conversation
from forum.notifications.models import NotificationWork
from forum.programmes import dashboard as dash
from forum.programmes import services as svc
from forum.programmes.models import Programme
from tests.conftest import make_settings


async def test_demo_has_a_running_pilot_with_eight_pairs_and_check_ins(
    fresh_url: str, fresh_database: Database
) -> None:
    settings = make_settings(fresh_url)
    async with fresh_database.sessionmaker() as session:
        await populate(session, settings)
        await session.commit()
    async with fresh_database.sessionmaker() as session:
        listed = (await session.scalars(select(Programme).order_by(Programme.id))).all()
        programme, trial, cohort = listed
        # The next cohort takes applications (a new member has something to apply to), and
        # two wait for the lead's decision.
        assert cohort.status == "open" and svc.has_started(cohort) is False
        assert [a.status for a, _ in await svc.applications(session, cohort)] == ["pending"] * 2
        assert programme.status == "published" and programme.kind == "reverse"
        pairs = await svc.pairs_of(session, programme)
        assert len(pairs) == 8 and all(p.conversation_id for p in pairs)
        board = await dash.build(session, programme)
        assert board.rounds == 3 and board.pairs_active == 8
        # Rounds 1 and 2 are over and show; round 3 is open, its figures shown when it closes.
        assert board.closed == 2 and board.open_round == 3
        assert board.frankness["junior"][1].mean is not None
        assert board.frankness["senior"][2].mean is not None
        assert sorted(board.frankness["junior"]) == [1, 2]
        assert board.response_rates[0][1] >= 12
        assert trial.status == "closed" and len(await svc.pairs_of(session, trial)) == 6
        closed = await dash.build(session, trial)
        assert closed.closing is not None and closed.closing.answered == 11
        assert closed.closing.frankness["junior"].mean is not None
        ((question, cell),) = closed.closing.questions
        # Each side's answers count in fives: five juniors (grace_w has not answered) and five
        # of the six seniors.
        assert question.closing and cell.n == 11 and cell.counted == 10 and cell.mean is not None
        # Old programme news is not sent; grace_w is asked for her closing survey.
        waiting = list(await session.scalars(select(NotificationWork)
                                             .where(NotificationWork.source == "programme")))  # fmt: skip
        assert [w.link for w in waiting] == [f"/programmes/{trial.id}/closing"]


async def test_the_demo_pilots_pairs_started_when_the_pilot_did(
    fresh_url: str, fresh_database: Database
) -> None:
    """A participant logs a meeting held during the pilot's first weeks (their pair did not
    "start" on the day the demo was loaded)."""
    settings = make_settings(fresh_url)
    async with fresh_database.sessionmaker() as session:
        await populate(session, settings)
        await session.commit()
    async with fresh_database.sessionmaker() as session:
        programme = await session.scalar(select(Programme).order_by(Programme.id).limit(1))
        assert programme is not None and programme.published_at is not None
        started = svc.starts_at(programme)
        assert started is not None and started < utcnow() - timedelta(days=28)
        pairs = await svc.pairs_of(session, programme)
        for pair in pairs:
            assert pair.created_at == programme.published_at
            conversation = await session.get(Conversation, pair.conversation_id)
            assert conversation is not None and conversation.created_at <= started
            assert svc.meeting_days(programme, pair)[0] == started.date()
        junior = await session.get(User, pairs[0].junior_id)
        assert junior is not None
        met_on = (started + timedelta(days=3)).date()
        meeting = await svc.log_meeting(
            session, settings, junior, programme, pairs[0].id, met_on.isoformat()
        )
        assert meeting.met_on == met_on
        # The programme and its applications came before the pairs.
        assert programme.created_at < programme.published_at
        for application, _ in await svc.applications(session, programme):
            assert application.created_at < programme.published_at
