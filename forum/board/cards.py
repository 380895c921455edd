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

CardFn = Callable[[PostView, AuthorView, str, int, bool, bool, bool, bool, bool, bool, str], Markup]


def post_cards(env: Environment, size: int) -> CardFn:
    """`card(post, author, rank, thread_id, can_reply, can_edit, can_report, can_react,
    accepted, can_accept, token)` -> HTML. The post's reaction counts (and the viewer's own)
    are in `post`; `token` is the viewer's CSRF token for the card's forms ("" when it has
    none), so a card with forms is only ever reused for the browser it was rendered for."""
    macro = env.get_template("board/_post.html").module.post_card  # type: ignore[attr-defined]

    def card(
        post: PostView,
        author: AuthorView,
        rank: str,
        thread_id: int,
        can_reply: bool,
        can_edit: bool,
        can_report: bool,
        can_react: bool,
        accepted: bool,
        can_accept: bool,
        token: str,
    ) -> Markup:
        return Markup(
            macro(
                post, author, rank, thread_id, can_reply, can_edit, can_report, can_react,
                accepted, can_accept, token,
            )
        )  # fmt: skip

    return functools.lru_cache(maxsize=size)(card) if size > 0 else card
