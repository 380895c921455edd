"""Who sees what of the board: the one rule per kind of thing (a category, a thread, a post),
used by every page, list, count, search and related list that shows one.

- A staff-only category, and every thread in it, is seen by moderators only.
- A deleted thread is seen by moderators only; so is a thread whose opening post the viewer
  may not see (held, hidden or pre-moderated): its title and author stay out of listings,
  headings and search, except for its own author.
- A post that is deleted is seen by nobody; one that is held or hidden (pre-moderation,
  a hold by the worker, members' reports, a moderator's decision) by its author and
  moderators only.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, true
from sqlalchemy.orm import aliased

from forum.accounts.models import User
from forum.board.models import Category, Post, Thread, shown_to_all

ViewerKind = Literal["anonymous", "member", "staff"]


def viewer_kind(viewer: User | None) -> ViewerKind:
    if viewer is None:
        return "anonymous"
    return "staff" if viewer.is_moderator else "member"


def is_staff(viewer: User | None) -> bool:
    return viewer is not None and viewer.is_moderator


def can_see_category(category: Category, viewer: User | None) -> bool:
    return not category.staff_only or is_staff(viewer)


def may_see_thread(is_deleted: bool, staff_only: bool, viewer: User | None) -> bool:
    return not (is_deleted or staff_only) or is_staff(viewer)


def visible_posts(table: Any, kind: ViewerKind, viewer_id: int | None = None) -> Any:
    """The posts of `table` (Post or an alias of it) a kind of viewer sees. A member's own id
    is bound as `viewer_id` unless given (prebuilt statements bind it per request)."""
    live: Any = table.is_deleted.is_(False)
    if kind == "staff":
        return live
    shown: Any = shown_to_all(table.moderation_state)
    if kind == "member":
        own: Any = bindparam("viewer_id") if viewer_id is None else viewer_id
        shown = or_(shown, table.author_id == own)
    return and_(live, shown)


def opening_post_visible(kind: ViewerKind, viewer_id: int | None = None) -> ColumnElement[bool]:
    """Whether the viewer may see the thread's opening post (a condition on Thread): a thread
    is seen only with it. One indexed probe per thread."""
    first = aliased(Post)
    condition: ColumnElement[bool] = or_(
        Thread.first_post_id.is_(None),
        exists().where(first.id == Thread.first_post_id, visible_posts(first, kind, viewer_id)),
    )
    return condition


def thread_visibility(viewer: User | None) -> ColumnElement[bool]:
    """The threads `viewer` may see, as a condition on Thread (joined with its Category)."""
    kind = viewer_kind(viewer)
    viewer_id = viewer.id if viewer is not None else None
    live: ColumnElement[bool] = true() if kind == "staff" else Thread.is_deleted.is_(False)
    return and_(live, category_visibility(viewer), opening_post_visible(kind, viewer_id))


def post_visibility(viewer: User | None) -> ColumnElement[bool]:
    """The posts `viewer` may see, as a condition on Post."""
    condition: ColumnElement[bool] = visible_posts(
        Post, viewer_kind(viewer), viewer.id if viewer is not None else None
    )
    return condition


def staff_only_category() -> ColumnElement[bool]:
    """Whether a category (Category) is for staff: marked so, or under a group marked so (the
    Categories page keeps a staff-only group's sub-forums staff-only; this holds whatever the
    rows say)."""
    group = aliased(Category)
    condition: ColumnElement[bool] = or_(
        Category.staff_only.is_(True),
        exists().where(group.id == Category.parent_id, group.staff_only.is_(True)),
    )
    return condition


def category_visibility(viewer: User | None) -> ColumnElement[bool]:
    """The categories `viewer` may see, as a condition on Category."""
    return true() if is_staff(viewer) else ~staff_only_category()
