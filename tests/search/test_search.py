"""Search on both engines: ranking, filters, visibility, snippets, and bad queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.services import add_comment, publish, update
from forum.board.models import Post
from forum.board.posting import create_reply
from forum.core.db import utcnow
from forum.core.settings import Settings
from forum.search.service import fts5_query
from tests.helpers import login, make_category, make_thread, make_user


async def board(db: AsyncSession, settings: Settings):  # type: ignore[no-untyped-def]
    alice = await make_user(db, settings, username="alice")
    bob = await make_user(db, settings, username="bob")
    mentoring = await make_category(db, "Mentoring")
    coaching = await make_category(db, "Coaching")
    titled, _ = await make_thread(db, settings, alice, mentoring, title="Reverse mentoring pilot results",
                                  body="We finished in June with ten pairs.")  # fmt: skip
    other, _ = await make_thread(db, settings, bob, coaching, title="Budget questions",
                                 body="Our reverse mentoring budget is tiny; how do others fund a pilot?")  # fmt: skip
    await db.commit()
    return alice, bob, mentoring, coaching, titled, other


async def test_title_matches_rank_above_body_matches(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    *_, titled, other = await board(db, settings)
    page = await client.get("/search", params={"q": "reverse mentoring pilot"})
    assert page.status_code == 200
    first = page.text.index("Reverse mentoring pilot results")
    second = page.text.index("Budget questions")
    assert first < second
    assert "2 results" in page.text


async def test_a_page_past_the_last_shows_the_last(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await board(db, settings)
    past = await client.get("/search", params={"q": "reverse mentoring pilot", "page": "7"})
    assert past.status_code == 200
    assert "2 results" in past.text and "Reverse mentoring pilot results" in past.text
    assert "Nothing matched" not in past.text


async def test_filters_by_category_author_and_date(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    alice, bob, mentoring, coaching, titled, other = await board(db, settings)
    by_cat = await client.get("/search", params={"q": "pilot", "category": coaching.slug})
    assert (
        "Budget questions" in by_cat.text and "Reverse mentoring pilot results" not in by_cat.text
    )
    by_author = await client.get("/search", params={"q": "pilot", "author": "ALICE"})
    assert (
        "Reverse mentoring pilot results" in by_author.text
        and "Budget questions" not in by_author.text
    )
    future = (utcnow() + timedelta(days=2)).date().isoformat()
    assert (
        "Nothing matched"
        in (await client.get("/search", params={"q": "pilot", "from": future})).text
    )
    today = utcnow().date().isoformat()
    both = await client.get("/search", params={"q": "pilot", "from": today, "to": today})
    assert "2 results" in both.text
    for params, message in [
        ({"q": "pilot", "from": "31/01/2026"}, "must be a date"),
        ({"q": "pilot", "author": "nobody"}, "no member called"),
        ({"q": "pilot", "category": "nope"}, "no such category"),
    ]:
        r = await client.get("/search", params=params)
        assert r.status_code == 400 and message in r.text


async def test_date_filters_are_the_readers_days(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A post written at 20:00 UTC on 1 March is 05:00 on 2 March in Tokyo: a reader whose
    clock is Tokyo's finds it on the 2nd, a reader on UTC on the 1st."""
    author = await make_user(db, settings, username="nightowl")
    tokyo = await make_user(db, settings, username="tokyoreader")
    tokyo.time_zone = "Asia/Tokyo"
    await make_user(db, settings, username="utcreader")
    _, posts = await make_thread(db, settings, author, await make_category(db),
                                 title="Quokka rota questions", body="quokka")  # fmt: skip
    posts[0].created_at = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    await db.commit()

    async def found(day: str) -> bool:
        r = await client.get("/search", params={"q": "quokka", "from": day, "to": day})
        assert r.status_code == 200
        return "Quokka rota questions" in r.text

    await login(client, "tokyoreader")
    assert await found("2026-03-02") and not await found("2026-03-01")
    await client.post("/logout", data={"csrftoken": client.cookies.get("csrftoken", "")})
    client.cookies.clear()
    await login(client, "utcreader")
    assert await found("2026-03-01") and not await found("2026-03-02")
    r = await client.get("/search", params={"q": "quokka", "from": "0001-01-01"})
    assert r.status_code == 400 and "after the year 1" in r.text


async def test_few_results_for_several_words_offer_the_search_for_any_of_them(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """Every word must match: a newcomer probe's "reverse mentoring feedback senior" missed the
    thread without "senior", with no hint. Few results offer the search for any of them."""
    author = await make_user(db, settings, username="upward")
    category = await make_category(db, "Reverse")
    await make_thread(db, settings, author, category, title="Giving feedback upward",
                      body="How juniors in reverse mentoring can give frank feedback.")  # fmt: skip
    await db.commit()
    r = await client.get("/search", params={"q": "reverse mentoring feedback senior"})
    assert r.status_code == 200 and "Nothing has every word you typed." in r.text
    assert "See the 1 result with any of them" in r.text
    assert "q=reverse+OR+mentoring+OR+feedback+OR+senior" in r.text
    found = await client.get("/search", params={"q": "reverse OR mentoring OR feedback OR senior"})
    assert "Giving feedback upward" in found.text and "with any of them" not in found.text
    # Enough results, or one word: nothing offered.
    assert "with any of them" not in (await client.get("/search", params={"q": "feedback"})).text


async def test_hidden_posts_and_staff_categories_stay_hidden(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    alice = await make_user(db, settings, username="hider")
    await make_user(db, settings, username="reader")
    await make_user(db, settings, username="searchmod", role="moderator")
    thread, posts = await make_thread(db, settings, alice, await make_category(db),
                                      title="Quarterly xylophone review", body="xylophone")  # fmt: skip
    posts[0].moderation_state = "hidden"
    staff = await make_category(db, "Moderators room")
    staff.staff_only = True
    await make_thread(db, settings, alice, staff, title="Private xylophone notes", body="xylophone")
    await db.commit()
    await login(client, "reader")
    r = await client.get("/search", params={"q": "xylophone"})
    assert "Quarterly xylophone review" not in r.text and "Private xylophone notes" not in r.text
    await login(client, "hider")
    assert (
        "Quarterly xylophone review"
        in (await client.get("/search", params={"q": "xylophone"})).text
    )
    await login(client, "searchmod")
    r = await client.get("/search", params={"q": "xylophone"})
    assert "Quarterly xylophone review" in r.text and "Private xylophone notes" in r.text


async def test_snippets_are_highlighted_and_escaped(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    await make_thread(db, settings, author, await make_category(db), title="Escaping test",
                      body="The <script>alert(1)</script> tag near the word marmalade.")  # fmt: skip
    r = await client.get("/search", params={"q": "marmalade"})
    assert "<mark>marmalade</mark>" in r.text
    assert "<script>alert(1)</script>" not in r.text
    # SQLite's snippet keeps the text (escaped on the page); PostgreSQL's ts_headline drops tags.
    assert (
        "&lt;script&gt;" in r.text or "script" not in r.text.split("<main")[1].split("</main>")[0]
    )


async def test_articles_are_found(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    editor = await make_user(db, settings, role="editor")
    article = await publish(db, settings, editor, "Kumquat guide to pairing", "Pairing advice in brief.",
                            "Pair people outside their reporting line.")  # fmt: skip
    await db.commit()
    r = await client.get("/search", params={"q": "kumquat"})
    assert f'href="/articles/{article.id}"' in r.text and "Article by" in r.text
    # Its discussion thread opens with the summary: not a second hit for the same article.
    member = await make_user(db, settings)
    await add_comment(db, settings, member, article, "Thanks, this helped our pilot.")
    await db.commit()
    found = await client.get("/search", params={"q": "pairing advice"})
    assert "1 result" in found.text and "Article by" in found.text


async def test_edits_reach_the_index(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    thread, posts = await make_thread(
        db, settings, author, await make_category(db), body="original words"
    )
    reply = await create_reply(db, settings, author, thread, "a reply about persimmons")
    await db.commit()
    assert "1 result" in (await client.get("/search", params={"q": "persimmons"})).text
    post = await db.get(Post, reply.id)
    assert post is not None
    post.body_source = "now about quinces"
    await db.commit()
    assert "Nothing matched" in (await client.get("/search", params={"q": "persimmons"})).text
    assert "1 result" in (await client.get("/search", params={"q": "quinces"})).text


@pytest.mark.parametrize(
    "query",
    [
        '"unclosed',
        "AND OR NOT",
        "()*:^",
        "-",
        "NEAR(a b)",
        "title:foo",
        "a" * 150,
        "' OR 1=1 --",
        "\u200b\u202e",
        "mentoring -",
        "OR pilot",
        "-foo bar",
        "💥 pilot",
    ],
)
async def test_odd_queries_never_fail(client: httpx.AsyncClient, query: str) -> None:
    r = await client.get("/search", params={"q": query})
    assert r.status_code in (200, 400), query
    assert "Something went wrong" not in r.text


async def test_empty_huge_and_negative_only_queries_get_a_clear_message(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/search")).status_code == 200  # just the form
    for query, message in [
        ("", "Type a word"),
        ("   ", "Type a word"),
        ("x" * 201, "at most 200"),
        ("-foo -bar", "not only exclusions"),
        ("🙂 !!", "Search looks for words"),
    ]:
        r = await client.get("/search", params={"q": query})
        assert r.status_code == 400 and message in r.text, query


def test_fts5_query_quotes_every_term() -> None:
    assert (
        fts5_query('reverse "feedback upward" -survey')
        == '"reverse" AND "feedback upward" NOT "survey"'
    )
    assert fts5_query("pilot OR trial") == '("pilot" OR "trial")'
    assert fts5_query("-only") == ""
    assert fts5_query('"') == ""


async def test_sqlite_search_triggers_exist(backend: str, db: AsyncSession) -> None:
    if backend != "sqlite":
        pytest.skip("FTS5 triggers are SQLite's; PostgreSQL uses expression indexes")
    names = set(
        (await db.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))).scalars()
    )
    assert {
        "posts_fts_ai",
        "posts_fts_au",
        "posts_fts_ad",
        "threads_fts_au",
        "articles_fts_ai",
        "articles_fts_au",
        "articles_fts_ad",
    } <= names


async def test_postgres_search_indexes_exist(backend: str, db: AsyncSession) -> None:
    if backend != "postgresql":
        pytest.skip("GIN indexes are PostgreSQL's")
    names = set(
        (
            await db.execute(
                text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_fts_%'")
            )
        ).scalars()
    )
    assert names == {"ix_fts_posts_body", "ix_fts_threads_title", "ix_fts_articles"}


async def test_article_edits_reach_the_index(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # Rebuilding the articles table in a migration once dropped SQLite's search triggers.
    editor = await make_user(db, settings, role="editor")
    article = await publish(db, settings, editor, "Pairing guide", "Pairing advice in brief.",
                            "Pair people outside their reporting line.")  # fmt: skip
    await db.commit()
    await update(db, settings, editor, article, "Pairing guide", "Pairing advice in brief.",
                 "Pair people by persimmon season.")  # fmt: skip
    await db.commit()
    r = await client.get("/search", params={"q": "persimmon"})
    assert f'href="/articles/{article.id}"' in r.text


async def test_a_new_threads_title_finds_threads_that_may_answer_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The composer asks as the title is typed; only threads the member may read come back."""
    alice, bob, mentoring, coaching, titled, other = await board(db, settings)
    staff_room = await make_category(db, "Staff room")
    staff_room.staff_only = True
    await make_thread(db, settings, alice, staff_room, title="Reverse mentoring pilot secrets")
    await db.commit()
    assert (await client.get("/search/similar", params={"title": "x"})).status_code == 303
    await login(client, "bob")
    found = await client.get(
        "/search/similar", params={"title": "How do we start a reverse mentoring pilot?"}
    )
    assert found.status_code == 200
    titles = [t["title"] for t in found.json()["threads"]]
    assert titles[0] == "Reverse mentoring pilot results" and "Budget questions" in titles
    assert "Reverse mentoring pilot secrets" not in titles
    assert found.json()["threads"][0]["url"].startswith("/p/")
    # Too few telling words, or odd input: nothing, never an error.
    for title in ("How do we?", "", "-" * 5000, '"pilot'):
        answer = await client.get("/search/similar", params={"title": title})
        assert answer.status_code == 200 and answer.json() == {"threads": []}, title
    # A few a second at most from one member: then nothing, with a 429.
    for _ in range(30):
        last = await client.get("/search/similar", params={"title": "pilot results budget"})
    assert last.status_code == 429 and last.json() == {"threads": []}
