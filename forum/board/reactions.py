"""Reactions to posts: a small fixed set (Thanks, Helpful, Agree), one per member per kind,
never on one's own posts or on posts the member cannot see.

Whether a reaction earns its post's author points is a setting (`reaction_points`, 0 = none),
and reactions from accounts younger than `reaction_points_min_account_days` never do. Points
go through the ledger (award_points) and the reaction keeps the points it earned, so taking
it back reverses exactly those and `candor db recount` stays exact."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.services import award_points, is_suspended
from forum.board.events import ReactionAdded
from forum.board.models import HIDDEN_STATES, REACTION_LABELS, Post, Reaction
from forum.core import events, ratelimit
from forum.core.db import utcnow
from forum.core.errors import DomainError
from forum.core.settings import Settings

# How many names the "who reacted" page lists per kind.
WHO_MAX = 200


def check_may_react(actor: User, post: Post, kind: str) -> None:
    if kind not in REACTION_LABELS:
        raise DomainError("kind", "There is no such reaction.", status=404)
    if post.is_deleted:
        raise DomainError("kind", "This post has been deleted.", status=403)
    if post.moderation_state in HIDDEN_STATES:
        raise DomainError("kind", "This post is not visible to everyone yet.", status=403)
    if post.author_id == actor.id:
        raise DomainError("kind", "You cannot react to your own posts.", status=403)
    if is_suspended(actor):
        raise DomainError("kind", "Your account is suspended.", status=403)


def earns_points(settings: Settings, actor: User) -> int:
    """The points a reaction by `actor` earns (none from accounts younger than the setting)."""
    if settings.reaction_points <= 0:
        return 0
    if actor.younger_than(timedelta(days=settings.reaction_points_min_account_days)):
        return 0
    return settings.reaction_points


async def add_reaction(
    session: AsyncSession, settings: Settings, actor: User, post: Post, kind: str
) -> bool:
    """Store the reaction (nothing if the member already reacted so); True if it is new.
    `post` must be one the actor may see (the view loads it through the visibility rules)."""
    check_may_react(actor, post, kind)
    await ratelimit.hit(session, ratelimit.limits(settings).reaction_account, actor.id)
    points = earns_points(settings, actor)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt: Any = insert(Reaction).values(
        post_id=post.id, user_id=actor.id, kind=kind, points=points, created_at=utcnow()
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["post_id", "kind", "user_id"]).returning(
        Reaction.id
    )
    reaction_id = (await session.execute(stmt)).scalar()
    if reaction_id is None:  # already there (a second click, or two at once)
        return False
    if points:
        await award_points(
            session, post.author_id, points, "reaction", post.id,
            ranks_cache_seconds=settings.cache_seconds,
        )  # fmt: skip
    await events.announce(session, ReactionAdded(reaction_id, post.id, actor.id, kind))
    return True


async def remove_reaction(
    session: AsyncSession, settings: Settings, actor: User, post: Post, kind: str
) -> bool:
    """Take the member's reaction back (and the points it earned); True if there was one."""
    if kind not in REACTION_LABELS:
        raise DomainError("kind", "There is no such reaction.", status=404)
    await ratelimit.hit(session, ratelimit.limits(settings).reaction_account, actor.id)
    removed = await session.execute(
        delete(Reaction)
        .where(Reaction.post_id == post.id, Reaction.kind == kind, Reaction.user_id == actor.id)
        .returning(Reaction.points)
    )
    row = removed.first()
    if row is None:
        return False
    if row.points:
        await award_points(
            session, post.author_id, -row.points, "reaction_removed", post.id,
            ranks_cache_seconds=settings.cache_seconds,
        )  # fmt: skip
    return True


async def who_reacted(session: AsyncSession, post_id: int) -> dict[str, list[str]]:
    """kind -> the names of the members who reacted so (oldest first, at most WHO_MAX)."""
    who: dict[str, list[str]] = {kind: [] for kind in REACTION_LABELS}
    for kind in REACTION_LABELS:
        rows = await session.scalars(
            select(User.username)
            .join(Reaction, Reaction.user_id == User.id)
            .where(Reaction.post_id == post_id, Reaction.kind == kind)
            .order_by(Reaction.id)
            .limit(WHO_MAX)
        )
        who[kind] = list(rows.all())
    return who


async def reaction_counts(session: AsyncSession, post_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Reaction.kind, func.count(Reaction.id))
        .where(Reaction.post_id == post_id)
        .group_by(Reaction.kind)
    )
    counts = dict.fromkeys(REACTION_LABELS, 0)
    counts.update({kind: n for kind, n in rows.all()})
    return counts


async def own_reactions(session: AsyncSession, post_id: int, user_id: int) -> set[str]:
    rows = await session.scalars(
        select(Reaction.kind).where(Reaction.post_id == post_id, Reaction.user_id == user_id)
    )
    return set(rows.all())
