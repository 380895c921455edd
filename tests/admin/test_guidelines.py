"""The guidelines at /guidelines: a default code of conduct with stable section anchors,
edited by administrators (previewed, sanitised, audited), linked from registration and from
the composer's nudge."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.admin.guidelines import DEFAULT_GUIDELINES, JUNIORS_ANCHOR, render_guidelines
from forum.admin.models import Guidelines
from forum.core.audit import AuditEntry
from forum.core.settings import Settings
from tests.helpers import login, make_category, make_thread, make_user, parse_tags, post_form

SECTIONS = ["speak-frankly", "juniors", "ideas-not-people", "privacy", "moderators", "reporting"]


async def test_the_default_guidelines_are_served_with_stable_anchors(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/guidelines")
    assert page.status_code == 200
    ids = re.findall(r'<h2 id="([^"]+)">', page.text)
    assert ids == SECTIONS
    assert "{#" not in page.text  # the anchor markers are not shown
    assert "Criticise ideas, not people</h2>" in page.text
    assert "Edit the guidelines" not in page.text  # for administrators only


def test_anchors_are_the_authors_or_made_from_the_words_and_unique() -> None:
    html = render_guidelines(
        "## Be kind {#kind}\n\n## Be kind\n\n## Be kind\n\n### Odd {#Bad Id!}\n\n"
        '## Sneaky {#x" onclick="alert(1)}\n\ntext'
    )
    ids = re.findall(r'<h[23] id="([^"]+)"', html)
    assert ids[:3] == ["kind", "be-kind", "be-kind-2"]
    assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)
    attributes = {name for _tag, attrs in parse_tags(html) for name, _ in attrs}
    assert attributes == {"id"}  # the would-be onclick stayed text


def test_guidelines_are_sanitised_like_posts() -> None:
    html = render_guidelines(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n"
        '<a href="https://e.example" onclick="x">y</a>\n\n**fine**'
    )
    tags = parse_tags(html)
    assert {tag for tag, _ in tags} == {"p", "strong"}  # no script, no link, no raw <a>
    assert [attrs for _, attrs in tags if attrs] == []
    assert "<strong>fine</strong>" in html


async def test_an_admin_previews_then_saves_and_the_change_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="ruler", role="admin")
    await db.commit()
    await login(client, "ruler")
    form = await client.get("/admin/guidelines")
    assert form.status_code == 200 and "{#juniors}" in form.text  # the source, anchors and all
    text = "## Be frank {#speak-frankly}\n\nSay it **plainly**.\n\n<script>alert(1)</script>"
    preview = await post_form(
        client, "/admin/guidelines", {"body": text, "action": "preview"}, "/admin/guidelines"
    )
    assert preview.status_code == 200 and "<strong>plainly</strong>" in preview.text
    assert "<script>alert" not in preview.text
    assert await db.scalar(select(Guidelines.id)) is None  # a preview saves nothing
    saved = await post_form(
        client, "/admin/guidelines", {"body": text, "action": "save"}, "/admin/guidelines"
    )
    assert saved.status_code == 303
    page = (await client.get("/guidelines")).text
    assert (
        '<h2 id="speak-frankly">Be frank</h2>' in page and "Say it <strong>plainly</strong>" in page
    )
    assert "<script>alert" not in page and "No condescension" not in page
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "edit_guidelines"))
    assert entry is not None and entry.target_type == "guidelines"
    again = await post_form(
        client, "/admin/guidelines", {"body": text + "\n\nMore.", "action": "save"},
        "/admin/guidelines",
    )  # fmt: skip
    assert again.status_code == 303
    assert len((await db.scalars(select(Guidelines))).all()) == 1  # one text, edited


async def test_empty_guidelines_are_refused_and_keep_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="ruler2", role="admin")
    await db.commit()
    await login(client, "ruler2")
    r = await post_form(
        client, "/admin/guidelines", {"body": "  \n ", "action": "save"}, "/admin/guidelines"
    )
    assert r.status_code == 400 and "cannot be empty" in r.text
    assert await db.scalar(select(Guidelines.id)) is None


async def test_only_admins_edit_the_guidelines(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="modx", role="moderator")
    await db.commit()
    await login(client, "modx")
    assert (await client.get("/admin/guidelines")).status_code == 403
    r = await post_form(client, "/admin/guidelines", {"body": "Mine now", "action": "save"}, "/")
    assert r.status_code == 403
    assert await db.scalar(select(Guidelines.id)) is None


async def test_registration_and_the_composers_nudge_link_to_the_guidelines(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    assert 'href="/guidelines"' in (await client.get("/register")).text
    assert f"{{#{JUNIORS_ANCHOR}}}" in DEFAULT_GUIDELINES
    member = await make_user(db, settings, username="nudged")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, member, category)
    await login(client, "nudged")
    # The nudge shown on submit (no JavaScript) and the live one's hidden box both link there.
    r = await post_form(
        client, f"/t/{thread.id}/reply",
        {"body": "You're too junior to understand this, come back when you have 20 years in."},
        f"/t/{thread.id}/reply",
    )  # fmt: skip
    assert r.status_code == 200 and "Post anyway" in r.text
    assert f'href="/guidelines#{JUNIORS_ANCHOR}"' in r.text
    assert f'href="/guidelines#{JUNIORS_ANCHOR}"' in (await client.get(f"/t/{thread.id}")).text


async def test_the_guidelines_say_whom_to_write_to_and_the_suspension_banner_leads_there(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A suspended member was sent to "the guidelines page's contact details", which did not
    exist (the newcomer probe): the page now lists the moderators, each with a link to write."""
    from datetime import timedelta

    from forum.accounts.services import suspend
    from forum.core.db import utcnow

    await make_user(db, settings, username="gl_mod", role="moderator")
    await make_user(db, settings, username="gl_admin", role="admin")
    member = await make_user(db, settings, username="gl_member")
    # A moderator suspended now is not listed; one whose suspension has run out is (the
    # status stays "suspended" until something lifts it: an attacker probe).
    away = await make_user(db, settings, username="gl_away", role="moderator")
    back = await make_user(db, settings, username="gl_back", role="moderator")
    suspend(away, "7d")
    suspend(back, "24h")
    back.suspended_until = utcnow() - timedelta(hours=1)
    await db.commit()
    visitor = (await client.get("/guidelines")).text
    assert "gl_back" in visitor and "gl_away" not in visitor
    assert '<h2 id="contact">Contact the moderators</h2>' in visitor
    assert "gl_admin" in visitor and "gl_mod" in visitor and "Log in</a> to write" in visitor
    suspend(member, "24h")
    await db.commit()
    await login(client, "gl_member")
    home = (await client.get("/")).text
    assert 'href="/guidelines#contact">write to the moderators</a>' in home
    page = (await client.get("/guidelines")).text
    assert "while suspended, you can write to them and to no one else" in page
    assert 'href="/messages/new?to=gl_mod"' in page
    assert 'href="/messages/new?to=gl_admin%2C%20gl_back%2C%20gl_mod">Write to all of them' in page
    # The link's composer names the moderator, and the suspended member may write to them.
    composer = (await client.get("/messages/new?to=gl_mod")).text
    assert 'value="gl_mod"' in composer
