"""The board's guidelines at /guidelines: a code of conduct in Markdown that administrators
edit (audited, sanitised, previewed before saving). Its sections keep stable anchors
(`## Title {#anchor}`), so links into it (the composer's nudge, moderators' notes) survive
edits to the wording."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.models import Role, User, UserStatus
from forum.accounts.web import Ctx
from forum.admin.models import Guidelines
from forum.core.audit import audit
from forum.core.db import utcnow
from forum.core.text import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES, clean_block
from forum.core.web import field_str, view

GUIDELINES_MAX = 50_000
# The section the composer's dismissive-language nudge links to.
JUNIORS_ANCHOR = "juniors"

DEFAULT_GUIDELINES = """\
Candor is where people running mentoring and reverse-mentoring programmes, and the people
taking part in them, talk about what works. Reverse mentoring only works when the most junior
person in the room can tell the most senior one something unwelcome. These guidelines keep
that possible. Moderators refer to them when they act, by the section names below.

## Speak frankly {#speak-frankly}

Say what you saw and what you think, plainly. Disagreement is welcome here, including
disagreement with someone more senior, more experienced or better known than you. A hard
question asked in good faith is never out of line.

## No condescension toward juniors {#juniors}

Experience is worth sharing; it is not a reason to dismiss someone. Do not wave a point away
because of the writer's age, grade, title or years of service: "you're too junior to
understand", "come back when you've managed a team", "that's a very graduate thing to say".
Answer the point instead. If you think someone is missing context, give them the context.

Before you post, the composer may point out phrases that often read as dismissive. It is a
nudge, not a verdict: you can rephrase, or post as you wrote it. Moderators can see that you
were shown the note.

## Criticise ideas, not people {#ideas-not-people}

Say why a plan, a practice or an argument is wrong. Do not say what is wrong with the person
who made it. No insults, no mockery, no guessing at people's motives, no remarks about
anyone's identity. Quote the words you are answering rather than paraphrasing them uncharitably.

## Privacy and confidentiality {#privacy}

Mentoring conversations depend on trust. Do not post anything that identifies a mentee, a
mentor or a colleague without their permission: names, teams, or details that make them easy to
recognise. Change or leave out details when you share a story. Do not post other people's
contact details, and do not share what was said in a private conversation on the board.

## What moderators do {#moderators}

Moderators read reports and the posts the moderation system sends them. They can approve a
post, edit it before approving it, hide it, warn its author, place an author's posts on
pre-moderation, or suspend an account for a time. Every action is recorded with its reason,
and the author is told the reason, which names the part of these guidelines it concerns.
Moderators act on what was written, not on who wrote it. They never decide on their own posts,
and only administrators act on a moderator's account.

## How to report {#reporting}

If a post or a profile breaks these guidelines, use its **Report** link and say which part.
Reports are confidential: the author is not told who reported them. Many reports from
established members hide a post until a moderator has looked at it; a report is not a vote,
so one clear report is enough to bring a post to a moderator. If you think a decision was
wrong, say so to a moderator rather than posting the same text again.
"""

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
ANCHOR_RE = re.compile(r"\s*\{#([a-z][a-z0-9-]{0,40})\}\s*$")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "section"


def render_guidelines(source: str) -> str:
    """Markdown sanitised as posts are, plus an `id` on every heading: the one its author wrote
    (`## Title {#anchor}`, lower-case letters, digits and hyphens) or one made from its words.
    Ids keep to that alphabet and are unique on the page."""
    tokens = _md.parse(source)
    used: set[str] = set()
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or i + 1 >= len(tokens):
            continue
        inline = tokens[i + 1]
        match = ANCHOR_RE.search(inline.content)
        if match:
            anchor = match.group(1)
            inline.content = inline.content[: match.start()]
            if inline.children:
                last = inline.children[-1]
                if last.type == "text":
                    last.content = ANCHOR_RE.sub("", last.content)
        else:
            anchor = _slug(inline.content)
        base, n = anchor, 2
        while anchor in used:
            anchor, n = f"{base}-{n}", n + 1
        used.add(anchor)
        token.attrSet("id", anchor)
    html = _md.renderer.render(tokens, _md.options, {})
    headings = {f"h{n}" for n in range(1, 7)}
    attributes = {**ALLOWED_ATTRIBUTES, **{h: {"id"} for h in headings}}
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=attributes,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener ugc",
    )


_DEFAULT_HTML = render_guidelines(DEFAULT_GUIDELINES)


async def current(session: AsyncSession) -> tuple[str, str, Guidelines | None]:
    """The guidelines' source and HTML: the saved ones, or the default text."""
    saved = await session.scalar(select(Guidelines).order_by(Guidelines.id).limit(1))
    if saved is None:
        return DEFAULT_GUIDELINES, _DEFAULT_HTML, None
    return saved.body_source, saved.body_html, saved


async def save(session: AsyncSession, admin: User, source: str) -> Guidelines:
    """Store new guidelines (an administrator's; the caller checked) and log it."""
    _old_source, _old_html, saved = await current(session)
    html = render_guidelines(source)
    if saved is None:
        saved = Guidelines(body_source=source, body_html=html, updated_by=admin.id)
        session.add(saved)
        await session.flush()
    else:
        saved.body_source, saved.body_html = source, html
        saved.updated_by, saved.updated_at = admin.id, utcnow()
    before = len(_old_source)
    audit(session, admin, "edit_guidelines", "guidelines", saved.id, "",
          f"{before:,} -> {len(source):,} characters")  # fmt: skip
    return saved


@view()
async def guidelines(ctx: Ctx) -> Response:
    _source, html, saved = await current(ctx.db)
    # Who to write to (a suspended member may write to staff only, and was sent here for
    # "contact details" the page did not have: the newcomer probe).
    staff = list(
        await ctx.db.scalars(
            select(User.username)
            .where(User.role.in_((Role.moderator.value, Role.admin.value)),
                   User.status != UserStatus.deleted.value,
                   or_(User.status != UserStatus.suspended.value,
                       User.suspended_until <= utcnow()))
            .order_by(User.username)
            .limit(STAFF_LISTED)
        )
    )  # fmt: skip
    return ctx.render("admin/guidelines.html", {"html": html, "saved": saved, "staff": staff})


# The moderators the guidelines page lists, at most (a board with more lists the first).
STAFF_LISTED = 12


@view(admin=True)
async def edit_guidelines(ctx: Ctx) -> Response:
    source, _html, _saved = await current(ctx.db)
    if ctx.request.method == "GET":
        return ctx.render("admin/guidelines_edit.html", {"source": source, "preview": None})
    form = await ctx.form()
    source = clean_block(field_str(form, "body", GUIDELINES_MAX))
    error = ""
    if not source:
        error = "The guidelines cannot be empty."
    elif len(source) > GUIDELINES_MAX:
        error = f"Keep the guidelines to {GUIDELINES_MAX:,} characters."
    if error:
        return ctx.render(
            "admin/guidelines_edit.html", {"source": source, "preview": None, "error": error}, 400
        )
    if field_str(form, "action", 10) == "preview":
        return ctx.render(
            "admin/guidelines_edit.html", {"source": source, "preview": render_guidelines(source)}
        )
    assert ctx.user is not None
    await save(ctx.db, ctx.user, source)
    ctx.flash("The guidelines have been saved.")
    return ctx.redirect(ctx.url("guidelines"))


routes = [
    Route("/guidelines", guidelines, methods=["GET"], name="guidelines"),
    Route("/admin/guidelines", edit_guidelines, methods=["GET", "POST"], name="edit_guidelines"),
]
