"""The composer's nudge on submit, for posts and private messages alike."""

from __future__ import annotations

import asyncio
from typing import Any

from moderation import cues


async def nudge_for(form: Any, body: str, title: str | None = None) -> tuple[list[str], bool]:
    """The cue phrases to point out before posting (in a thread's title or a message's subject
    too, as composer.js sends them), and whether the author saw them and chose to post anyway.

    The composer says it once: an author who saw the nudge and pressed "Post anyway" posts,
    and the phrases are recorded with the post for moderators. The check is pure Python work
    on up to a post's length, so it runs in a thread and other requests go on meanwhile."""
    text = f"{title}\n\n{body}" if title else body
    return await asyncio.to_thread(cues.nudge_phrases, text), form.get("post_anyway") == "1"
