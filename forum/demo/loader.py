"""`candor demo`: load the demo board through the same services that serve real members."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.passwords import Passwords
from forum.accounts.services import award_points, create_user
from forum.articles.services import publish
from forum.board.categories import create_category
from forum.board.models import Category
from forum.board.posting import create_reply, create_thread
from forum.core.db import connect, utcnow
from forum.core.settings import Settings
from forum.demo.content import (
    ARTICLES,
    CATEGORIES,
    DEMO_PASSWORD,
    MEMBERS,
    QA_CATEGORIES,
    THREADS,
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
    for author, days_ago, title, summary, body in ARTICLES:
        article = await publish(session, settings, members[author], title, summary, body)
        article.created_at = now - timedelta(days=days_ago)
    # The demo's history is old news: nobody is greeted with a rank they reached "just now".
    await session.execute(update(User).values(rank_notice=None))
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
