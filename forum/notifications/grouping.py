"""Unread notifications of one kind about one thread are one row: a second reply (mention,
quote, watched post) while the first is unread joins its notification instead of adding
another (six fresh accounts replying in turn put ~120 notifications an hour in one member's
bell). The row's `detail`, unused by these kinds, keeps the group: how many posts and the
ids of (up to `MAX_STORED` of) them, so what the member reads is worked out when it is shown,
from the posts they may still see. A row with an empty `detail` is a group of one, its post.

The group's `post_id` is its first post (where it leads) and `actor_id` that post's author;
its time is the latest post's. Once read, the next post starts a new notification, and so does
the post that finds the group full (`has_room`): a group names every post it counts, so what
it says is always worked out from posts the member may see. (Groups written before that kept
only their first and latest ids past the room; they are counted by the ids they keep.)"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, and_, cast, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from forum.accounts.models import User
from forum.board.models import Category, Post, Thread
from forum.board.visibility import post_visibility, thread_visibility, viewer_kind, visible_posts
from forum.messages.models import Block
from forum.notifications.models import Kind, Notification

# The kinds that group: those a post gives (one per member, the most specific).
GROUPED_KINDS = (Kind.mention, Kind.quote, Kind.reply, Kind.post)
PREFIX = "group:"
DETAIL_MAX = 200  # Notification.detail's length
# Post ids kept per group (a few hundred characters at most); past it only the count grows.
MAX_STORED = 16
CHUNK = 500


@dataclass
class Group:
    count: int  # posts in the group, counted as they joined
    posts: list[int]  # the ids kept, ascending: always the first and the latest


def is_group(detail: str | None) -> bool:
    return bool(detail) and str(detail).startswith(PREFIX)


def parse(detail: str | None, post_id: int | None) -> Group:
    """The group a row stands for (a row with no group in its detail: its own post)."""
    alone = Group(1, [post_id] if post_id is not None else [])
    if not is_group(detail):
        return alone
    try:
        count_text, _, ids_text = str(detail)[len(PREFIX) :].partition(":")
        ids = sorted({int(part) for part in ids_text.split(",") if part.strip()})
        count = int(count_text)
    except ValueError:
        return alone
    if post_id is not None and post_id not in ids:
        ids = sorted({*ids, post_id})
    return Group(max(count, len(ids), 1), ids)


def encode(group: Group) -> str:
    """`detail` for a group: "" for a group of one (a plain notification), else the count and
    the ids between commas (",12,15," so a LIKE finds one id exactly). Past the room, the
    ids after the first and before the latest give way (the count keeps them)."""
    ids = sorted(set(group.posts))
    count = max(group.count, len(ids))
    if count <= 1:
        return ""
    while len(ids) > 2 and (len(ids) > MAX_STORED or len(_text(count, ids)) > DETAIL_MAX):
        del ids[-2]
    return _text(count, ids)


def _text(count: int, ids: Sequence[int]) -> str:
    return f"{PREFIX}{count}:," + ",".join(str(i) for i in ids) + ","


def joined(group: Group, post_id: int) -> Group | None:
    """The group with `post_id` added, or None when it is in it already."""
    if post_id in group.posts:
        return None
    return Group(group.count + 1, sorted({*group.posts, post_id}))


def has_room(group: Group, post_id: int) -> bool:
    """Whether `post_id` can join `group` with every id in it kept."""
    after = joined(group, post_id)
    return after is None or parse(encode(after), None).posts == after.posts


def read_up_to(group: Group, post_id: int) -> Group | None:
    """What is left of the group once the member read its thread up to `post_id`: None when
    nothing (the notification is read)."""
    left = [i for i in group.posts if i > post_id]
    if not left:
        return None
    gone = len(group.posts) - len(left)
    return Group(max(group.count - gone, len(left)), left)


def still_visible(viewer: User) -> ColumnElement[bool]:
    """A notification about a post is listed only while the member may still see the post and
    its thread (a moderator may have hidden it, or moved the thread to a staff-only category,
    since); a moderation notice about the member's own post stays. A group is listed while
    any post kept in it is visible to them."""
    member = aliased(Post)
    return or_(
        Notification.post_id.is_(None),
        Notification.kind == Kind.moderation.value,
        exists()
        .where(Post.id == Notification.post_id, post_visibility(viewer))
        .where(Thread.id == Post.thread_id, Category.id == Thread.category_id)
        .where(thread_visibility(viewer)),
        and_(
            Notification.detail.like(f"{PREFIX}%"),
            exists()
            .where(
                member.thread_id == Notification.thread_id,
                member.id > Notification.post_id,
                Notification.detail.like(literal("%,") + cast(member.id, String) + literal(",%")),
                visible_posts(member, viewer_kind(viewer), viewer.id),
            )
            .where(Thread.id == member.thread_id, Category.id == Thread.category_id)
            .where(thread_visibility(viewer)),
        ),
    )


@dataclass
class Summary:
    text: str
    post_id: int  # where it leads: the first post of the group the member may see


def _names(names: list[str], more: bool) -> str:
    """ "grace_w", "grace_w and carlos_v", "grace_w, carlos_v and 1 other", "… and others"."""
    if not names:
        return ""
    shown, others = names[:2], len(names) - 2
    if others > 0 and not more:
        return f"{', '.join(shown)} and {others} other{'s' if others > 1 else ''}"
    if more:
        return f"{', '.join(shown)} and others"
    return " and ".join(shown)


GROUP_LINES = {
    Kind.reply: "{n} new replies{where}",
    Kind.mention: "{n} new mentions of you{where}",
    Kind.quote: "{n} new quotes of your posts{where}",
    Kind.post: "{n} new posts{where}",
}


def group_line(kind: Kind | str, count: int, names: list[str], title: str, more: bool) -> str:
    """ "3 new replies in “Pairing” (from grace_w, carlos_v and 1 other)"."""
    where = f" in “{title}”" if title else ""
    line = GROUP_LINES[Kind(kind)].format(n=count, where=where)
    said = _names(names, more)
    return f"{line} (from {said})" if said else line


async def summaries(
    session: AsyncSession, viewer: User, notes: Iterable[Notification], titles: dict[int, str]
) -> dict[int, Summary | None]:
    """The sentence and target of each grouped notification in `notes`, from the posts the
    viewer may see now, leaving out authors the viewer blocked: a hidden, held or deleted
    post neither counts nor names its author. None for a group with nothing left to show.
    Notifications that are not groups are not in the answer."""
    from forum.notifications.fanout import describe

    groups = {
        n.id: parse(n.detail, n.post_id)
        for n in notes
        if is_group(n.detail) and n.kind in GROUPED_KINDS
    }
    if not groups:
        return {}
    wanted = sorted({i for g in groups.values() for i in g.posts})
    seen: dict[int, tuple[int, str]] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = await session.execute(
            select(Post.id, Post.author_id, User.username)
            .join(User, User.id == Post.author_id)
            .where(
                Post.id.in_(wanted[start : start + CHUNK]),
                visible_posts(Post, viewer_kind(viewer), viewer.id),
            )
        )
        seen.update({post: (author, name) for post, author, name in rows})
    blocked = set(
        await session.scalars(select(Block.blocked_id).where(Block.blocker_id == viewer.id))
    )
    found: dict[int, Summary | None] = {}
    for n in notes:
        group = groups.get(n.id)
        if group is None:
            continue
        shown = [i for i in group.posts if i in seen and seen[i][0] not in blocked]
        # Only posts named in the group count: a post it does not name (an old group past the
        # room) may be one the member cannot see.
        count = len(shown)
        if not shown:
            found[n.id] = None
            continue
        more = group.count > len(group.posts)
        title = titles.get(n.thread_id or 0, "")
        names = list(dict.fromkeys(seen[i][1] for i in shown))
        if count == 1:
            text = describe(n.kind, names[0], title, "")
        else:
            text = group_line(n.kind, count, names, title, more)
        found[n.id] = Summary(text, shown[0])
    return found
