"""Rendered post cards, reused while nothing they show has changed.

A card (the post with its author panel) is a pure function of the values it shows and of
three flags about the viewer. The cache key is exactly those values, so an edit, a new rank,
a moderation decision or a different viewer's rights simply make a different key: nothing is
ever invalidated and nothing can be stale. The least recently used cards are dropped beyond
`size`. Rendering twenty cards was the largest part of a thread page's CPU time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from jinja2 import Environment
from markupsafe import Markup

from forum.board.queries import AuthorView, PostView

CardFn = Callable[[PostView, AuthorView, str, int, bool, bool, bool], Markup]


def post_cards(env: Environment, size: int) -> CardFn:
    """`card(post, author, rank, thread_id, can_reply, can_edit, can_report)` -> HTML."""
    macro = env.get_template("board/_post.html").module.post_card  # type: ignore[attr-defined]

    def card(
        post: PostView,
        author: AuthorView,
        rank: str,
        thread_id: int,
        can_reply: bool,
        can_edit: bool,
        can_report: bool,
    ) -> Markup:
        return Markup(macro(post, author, rank, thread_id, can_reply, can_edit, can_report))

    return functools.lru_cache(maxsize=size)(card) if size > 0 else card
