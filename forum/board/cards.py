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

CardFn = Callable[
    [PostView, AuthorView, str, int, bool, bool, bool, bool, bool, bool, str, bool, bool, str],
    Markup,
]


# Where the viewer's CSRF token goes in a cached card: NUL characters, which no stored text can
# hold (clean_line and clean_block drop control characters), so nothing a member wrote can
# be mistaken for it.
TOKEN_SLOT = "\x00csrf\x00"


def post_cards(env: Environment, size: int) -> CardFn:
    """`card(post, author, rank, thread_id, can_reply, can_edit, can_report, can_react,
    accepted, can_accept, token, can_delete, delete_kept, zone)` -> HTML (`delete_kept`: the
    viewer's opening post, no longer theirs to delete since others replied; `zone`: the
    viewer's time zone, forum.core.timezones). The post's
    reaction counts (and the viewer's own) are in `post`; `token` is the viewer's CSRF token
    for the card's forms ("" when it has none). The cached card holds TOKEN_SLOT in its
    place, filled in per request, so members share cards as visitors do."""
    macro = env.get_template("board/_post.html").module.post_card  # type: ignore[attr-defined]

    def render(
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
        with_token: bool,
        can_delete: bool,
        delete_kept: bool,
        zone: str,
    ) -> str:
        return str(
            macro(
                post, author, rank, thread_id, can_reply, can_edit, can_report, can_react,
                accepted, can_accept, TOKEN_SLOT if with_token else "", can_delete, delete_kept,
                zone,
            )
        )  # fmt: skip

    cached = functools.lru_cache(maxsize=size)(render) if size > 0 else render

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
        can_delete: bool = False,
        delete_kept: bool = False,
        zone: str = "",
    ) -> Markup:
        html = cached(
            post, author, rank, thread_id, can_reply, can_edit, can_report, can_react,
            accepted, can_accept, bool(token), can_delete, delete_kept, zone,
        )  # fmt: skip
        # The token is hex (forum.core.csrf): nothing to escape.
        return Markup(html.replace(TOKEN_SLOT, token) if token else html)

    card.cached = cached  # type: ignore[attr-defined]
    return card
