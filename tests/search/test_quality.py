"""Search quality on both engines: plain-text snippets, stems, the category tree, and
"did you mean" built only from what everyone may see."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.services import publish
from forum.board.posting import create_reply
from forum.core.settings import Settings
from forum.search.suggest import edits, similarity
from forum.search.text import highlight, plain_text
from tests.helpers import login, make_category, make_thread, make_user


def main_of(page: str) -> str:
    return page.split("<main", 1)[1].split("</main>", 1)[0]


def snippets(page: str) -> list[str]:
    return re.findall(r'<p class="snippet">(.*?)</p>', page, re.S)


async def test_snippets_are_plain_text_of_the_rendered_post(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    body = (
        "**Write down why.** Then a table:\n\n| Mentor | Mentee |\n|---|---|\n"
        "| Ada | Grace |\n\nA [pairing link](https://example.org/x) and `code` about tangerines."
    )
    await make_thread(db, settings, author, await make_category(db), title="Markdown test",
                      body=body)  # fmt: skip
    r = await client.get("/search", params={"q": "tangerines"})
    [snippet] = snippets(r.text)
    assert "**" not in snippet and "|" not in snippet and "](" not in snippet
    assert "`" not in snippet and "https://example.org" not in snippet
    assert "Write down why." in snippet and "Mentor Mentee Ada Grace" in snippet
    assert "pairing link and code about <mark>tangerines</mark>" in snippet


async def test_snippets_mark_stems_and_escape_member_text(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    await make_thread(db, settings, author, await make_category(db), title="Escapes",
                      body="Mentors said &lt;b&gt; and <script>alert(1)</script> for mentoring.")  # fmt: skip
    r = await client.get("/search", params={"q": "mentor"})
    [snippet] = snippets(r.text)
    assert "<mark>Mentors</mark>" in snippet and "<mark>mentoring</mark>" in snippet
    assert "<script>" not in main_of(r.text) and "<b>" not in snippet


def test_highlight_picks_the_stretch_with_the_matches() -> None:
    words = " ".join(f"w{i}" for i in range(200))
    pieces = highlight(f"{words} pilot results here {words}", "pilot", "porter")
    joined = "".join(p for p, _ in pieces)
    assert pieces[0] == ("…", False) and joined.endswith(" …")
    assert ("pilot", True) in pieces and "w198 w199 pilot" in joined
    assert len(joined.split()) <= 33
    # A short text is shown whole, unmarked where nothing matched.
    assert highlight("short text", "pilot", "porter") == [("short text", False)]
    assert plain_text("<p>a</p><p>b<br>c</p><td>d</td>") == "a b c d"


async def test_stems_match_and_keep_relevance_order(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    category = await make_category(db)
    await make_thread(db, settings, author, category, title="Budget notes",
                      body="One line on mentoring at the end.")  # fmt: skip
    await make_thread(db, settings, author, category, title="Mentoring for new mentors",
                      body="How we train the people mentoring others.")  # fmt: skip
    r = await client.get("/search", params={"q": "mentors"})
    assert "2 results" in r.text
    assert r.text.index("Mentoring for new mentors") < r.text.index("Budget notes")


async def test_category_filter_shows_the_tree(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    zeta = await make_category(db, "Zeta root")
    alpha = await make_category(db, "Alpha root")
    child = await make_category(db, "Zeta child", parent=zeta)
    grandchild = await make_category(db, "Zeta grandchild", parent=child)
    alpha.position, zeta.position = 2, 1
    await db.commit()
    r = await client.get("/search")
    select_html = r.text.split('<select id="category"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select_html)
    slugs = [slug for slug, _ in options]
    order = [slugs.index(c.slug) for c in (zeta, child, grandchild, alpha)]
    assert order == sorted(order) and order[1] == order[0] + 1 and order[2] == order[1] + 1
    labels = dict(options)
    indent = [
        len(labels[c.slug]) - len(labels[c.slug].lstrip("\u00a0"))
        for c in (zeta, child, grandchild)
    ]
    assert indent[0] == 0 < indent[1] < indent[2]
    # Choosing a root finds what is in its sub-categories, at any depth.
    author = await make_user(db, settings)
    await make_thread(db, settings, author, grandchild, title="Deep loquat", body="loquat")
    found = await client.get("/search", params={"q": "loquat", "category": zeta.slug})
    assert "Deep loquat" in found.text
    other = await client.get("/search", params={"q": "loquat", "category": alpha.slug})
    assert "Deep loquat" not in other.text


def did_you_mean(page: str) -> str | None:
    m = re.search(r'Did you mean <a href="([^"]+)">([^<]+)</a>', page)
    return m.group(2) if m else None


async def test_typos_get_a_suggestion_that_runs_the_corrected_query(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    await make_thread(db, settings, author, await make_category(db), title="Reverse mentoring pilot",
                      body="Our reverse mentoring scheme paired juniors with directors.")  # fmt: skip
    # "mentor" shares more trigrams with "mentorng"; "mentoring" is one edit away.
    await make_thread(db, settings, author, await make_category(db), title="A mentor",
                      body="Each mentor met twice.")  # fmt: skip
    r = await client.get("/search", params={"q": "mentorng"})
    assert "Nothing matched" in r.text and did_you_mean(r.text) == "mentoring"
    r = await client.get("/search", params={"q": "revrse mentoring", "author": author.username})
    assert did_you_mean(r.text) == "reverse mentoring"
    href = re.search(r'Did you mean <a href="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    assert href.startswith("/search?") and f"author={author.username}" in href
    followed = await client.get(href.replace("&amp;", "&"))
    assert "1 result" in followed.text and "Reverse mentoring pilot" in followed.text
    # Exclusions stay as typed; a query that finds something gets no suggestion.
    r = await client.get("/search", params={"q": "directrs -juniorz"})
    assert did_you_mean(r.text) == "directors -juniorz"
    assert did_you_mean((await client.get("/search", params={"q": "mentoring"})).text) is None


async def test_suggestions_never_come_from_text_not_everyone_may_see(
    app: Any, client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="secretive")
    await make_user(db, settings, username="staffer", role="moderator")
    public = await make_category(db)
    staff = await make_category(db, "Staff room")
    staff.staff_only = True
    # Each word is written once, where not everyone may see it.
    _, held = await make_thread(db, settings, author, public, title="Ordinary one",
                                body="the codeword is quixotical")  # fmt: skip
    held[0].moderation_state = "held"
    _, hidden = await make_thread(db, settings, author, public, title="Ordinary two",
                                  body="the codeword is zanzibarian")  # fmt: skip
    hidden[0].moderation_state = "hidden"
    thread, _ = await make_thread(db, settings, author, public, title="Ordinary three",
                                  body="nothing to see")  # fmt: skip
    deleted = await create_reply(db, settings, author, thread, "the codeword is brouhahaesque")
    deleted.is_deleted = True
    await make_thread(
        db, settings, author, staff, title="Staff only", body="codeword flibbertigibbet"
    )
    # The control: a word everyone may see is suggested.
    await make_thread(db, settings, author, public, title="Visible", body="codeword marmalading")
    await db.commit()
    vocabulary = await db.execute(text("SELECT 1 FROM search_words LIMIT 1"))
    assert vocabulary.first() is not None
    for viewer in (None, "secretive", "staffer"):
        if viewer:
            await login(client, viewer)
        for typo in ("quixoticall", "zanzibarien", "brouhahaesqe", "flibbertigibet"):
            r = await client.get("/search", params={"q": typo})
            assert did_you_mean(r.text) is None, (viewer, typo)
        r = await client.get("/search", params={"q": "marmaladng"})
        assert did_you_mean(r.text) == "marmalading", viewer
    # A hidden word, typed exactly, is not "known" either: a near public word is offered as for
    # any unknown word, so the answer does not tell that a hidden post has it.
    await make_thread(db, settings, author, public, title="Near", body="zanzibarite put")
    await db.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        for typed in ("zanzibarian", "zanzibarien"):
            r = await anonymous.get("/search", params={"q": typed})
            assert did_you_mean(r.text) == "zanzibarite", typed


async def test_articles_and_titles_feed_the_vocabulary(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    editor = await make_user(db, settings, role="editor")
    await publish(db, settings, editor, "Persimmonade guide", "A summary in brief.", "Body text.")
    author = await make_user(db, settings)
    await make_thread(db, settings, author, await make_category(db), title="Kumquatery plans",
                      body="short")  # fmt: skip
    await db.commit()
    for typo, fixed in (("persimonade", "persimmonade"), ("kumquatry", "kumquatery")):
        r = await client.get("/search", params={"q": typo})
        assert did_you_mean(r.text) == fixed, typo


def test_edits_count_swaps_as_one() -> None:
    assert edits("mentorng", "mentoring") == 1 and edits("mentorng", "mentor") == 2
    assert edits("revrese", "reverse") == 1 and edits("", "abc") == 3 and edits("abc", "abc") == 0


def test_similarity_is_pg_trgm_similarity() -> None:
    assert similarity("revrse", "reverse") == pytest.approx(0.5)
    assert similarity("mentorng", "mentoring") > similarity("mentorng", "mentors")
    assert similarity("abc", "xyz") == 0.0


async def test_vocabulary_triggers_exist(backend: str, db: AsyncSession) -> None:
    if backend == "sqlite":
        rows = await db.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    else:
        rows = await db.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
    names = set(rows.scalars())
    tables = ("posts", "threads", "articles")
    kinds = ("ai", "au") if backend == "sqlite" else ("ins", "upd")
    assert {f"search_words_{t}_{k}" for t in tables for k in kinds} <= names


async def test_a_suggestion_keeps_member_text_escaped(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    # The corrected query finds this post (a suggestion is offered only if it finds something).
    await make_thread(db, settings, author, await make_category(db), title="Plain",
                      body="i onclick x mentoring notes")  # fmt: skip
    r = await client.get("/search", params={"q": "<i onclick=x>mentorng"})
    body = main_of(r.text)
    assert "Did you mean" in body and "<i onclick" not in body
    assert "&lt;i onclick=x&gt;mentoring" in body


async def test_article_snippets_keep_the_summary_as_text(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    editor = await make_user(db, settings, role="editor")
    await publish(db, settings, editor, "Pairing guide", "Use <b> tags for greengage notes.",
                  "**Bold** advice on greengage pairing.")  # fmt: skip
    await db.commit()
    r = await client.get("/search", params={"q": "greengage"})
    [snippet] = snippets(r.text)
    assert "Use &lt;b&gt; tags for <mark>greengage</mark> notes." in snippet
    assert "Bold advice on <mark>greengage</mark> pairing." in snippet
