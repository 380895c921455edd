"""What the board announces (forum.core.events) for the domains built on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PostCreated:
    post_id: int
    thread_id: int
    author_id: int
    # The author is on pre-moderation: nobody else sees the post until a moderator approves.
    premoderated: bool


@dataclass(frozen=True)
class PostEdited:
    post_id: int
    thread_id: int
    editor_id: int
    # The author is on pre-moderation: the new text waits for a moderator, like a new post.
    premoderated: bool = False


@dataclass(frozen=True)
class ThreadDeleted:
    """A moderator deleted a thread: its author is told, with the reason."""

    thread_id: int
    author_id: int
    actor_id: int
    title: str
    reason: str


@dataclass(frozen=True)
class ThreadKept:
    """Asked before a member deletes a thread they opened: why it must stay, if it must (a
    sentence from each answering domain, or None; an article's discussion stays with its
    article)."""

    thread_id: int


@dataclass(frozen=True)
class NewThreadsRefused:
    """Asked before a member starts a thread in a category, and before a moderator moves a
    thread (`thread_id`) into one: why threads may not be started there, if they may not (a
    sentence from each answering domain, or None; the article discussions hold only the
    articles' own threads, each opened by its article's first comment)."""

    category: Any  # forum.board.models.Category
    thread_id: int | None = None


@dataclass(frozen=True)
class ThreadPageExtras:
    """Asked by the thread page: what else to show under the thread (a dict of template
    values from each answering domain; the related domain lists related discussions)."""

    thread: Any  # forum.board.queries.ThreadView
    viewer: Any  # forum.accounts.models.User | None


@dataclass(frozen=True)
class CategoryPageExtras:
    """Asked by the category page: what else to show on it (a dict of template values from
    each answering domain; notifications add the watching control)."""

    category: Any  # forum.board.models.Category
    viewer: Any  # forum.accounts.models.User | None


@dataclass(frozen=True)
class ReactionAdded:
    """A member reacted to a post (announced after the reaction is stored)."""

    reaction_id: int
    post_id: int
    actor_id: int
    kind: str


@dataclass(frozen=True)
class ThreadsRead:
    """Members' read marks were written (forum.board.reading, in a batch every few seconds):
    each (user id, thread id) read up to a post id. Announced in the batch's transaction
    (forum.notifications marks read what those posts were notified as)."""

    marks: tuple[tuple[int, int, int], ...]  # (user_id, thread_id, post_id)
