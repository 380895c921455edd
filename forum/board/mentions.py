"""@mentions in posts: links to the members named, a cap per post, a limit per member per hour,
and the composer's typeahead of usernames.

Which names a post mentions is `forum.core.text.mentioned_names` (outside code and quotes);
the Markdown pipeline links those that are members (`render_markdown(source, links)`), so the
links go through the sanitiser like everything else a member writes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User, UserStatus
from forum.board.profiles import routes as profile_routes
from forum.core import ratelimit
from forum.core.errors import DomainError
from forum.core.settings import Settings
from forum.core.text import mentioned_names

SUGGEST_MAX = 8
PREFIX_MAX = 30


def profile_path(username: str) -> str:
    """The member's page (built from the route's name, like every other URL)."""
    route = next(r for r in profile_routes if r.name == "profile")
    return str(route.url_path_for("profile", username=username))


class TooManyMentions(DomainError):
    """A post names more members than the cap allows."""


def check_mention_cap(settings: Settings, body: str) -> list[str]:
    """The names `body` mentions; refused past the cap (the form keeps the text)."""
    names = mentioned_names(body)
    cap = settings.mentions_max_per_post
    if len(names) > cap:
        raise TooManyMentions(
            "body",
            f"A post can mention at most {cap} members; this one mentions {len(names)}. "
            "Remove some of the @names and post again.",
        )
    return names


async def mention_links(
    session: AsyncSession,
    settings: Settings,
    author: User,
    body: str,
    previous: str = "",
    counted: bool = True,
) -> dict[str, str]:
    """Lowercased username -> profile path for each member `body` mentions. Mentions of
    members not mentioned in `previous` (the text before an edit) count against the author's
    hourly limit (moderators have none; `counted=False` for text published by the board)."""
    names = check_mention_cap(settings, body)
    if not names:
        return {}
    rows = await session.execute(
        select(User.username_key, User.username).where(
            User.username_key.in_(names), User.email_confirmed_at.is_not(None)
        )
    )
    links = {key: profile_path(username) for key, username in rows.all()}
    new = set(links) - set(mentioned_names(previous)) - {author.username_key}
    if counted and new and not author.is_moderator:
        limit = ratelimit.limits(settings).mention_account
        if await ratelimit.record(session, limit, author.id, len(new)) > limit.max:
            raise ratelimit.RateLimited(limit)
    return links


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def suggest_usernames(session: AsyncSession, prefix: str) -> list[str]:
    """Active members whose names start with `prefix` (case-insensitive), at most
    SUGGEST_MAX, shortest first: the composer's typeahead."""
    key = prefix.strip().lstrip("@").lower()[:PREFIX_MAX]
    if not key:
        return []
    rows = await session.scalars(
        select(User.username)
        .where(
            User.username_key.like(_like_escape(key) + "%", escape="\\"),
            User.status == UserStatus.active.value,
            User.email_confirmed_at.is_not(None),
        )
        .order_by(func.length(User.username_key), User.username_key)
        .limit(SUGGEST_MAX)
    )
    return list(rows.all())
