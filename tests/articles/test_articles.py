"""Articles: editors publish and edit, members comment, bad input is refused cleanly."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.articles.models import Article
from forum.articles.services import DISCUSSIONS, add_comment, publish
from forum.board.models import ModerationState, Post, Thread
from forum.board.posting import set_post_state
from forum.core.settings import Settings
from forum.review.models import Report
from forum.review.services import report_post
from tests.helpers import login, make_category, make_thread, make_user, post_form

ARTICLE = {"title": "Running a first cohort", "summary": "What we learned from twelve pairs.",
           "body": "Start **small**. <script>alert(1)</script>"}  # fmt: skip


async def test_editor_publishes_member_comments(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="editor0", role="editor")
    await make_user(db, settings, username="reader1")
    await db.commit()
    await login(client, "reader1")
    assert (await client.get("/articles/new")).status_code == 403
    refused = await post_form(client, "/articles/new", ARTICLE, "/")
    assert refused.status_code == 403
    await login(client, "editor0")
    r = await post_form(client, "/articles/new", ARTICLE, "/articles/new")
    assert r.status_code == 303
    article_id = int(r.headers["location"].rsplit("/", 1)[1])
    page_of = f"/articles/{article_id}"
    page = await client.get(f"/articles/{article_id}")
    assert "<strong>small</strong>" in page.text and "<script>alert(1)</script>" not in page.text
    assert "What we learned from twelve pairs." in page.text and "You May Also Like" in page.text
    listing = await client.get("/articles")
    assert "Running a first cohort" in listing.text and "0 comments" in listing.text
    await login(client, "reader1")
    c = await post_form(
        client,
        f"/articles/{article_id}/comments",
        {"body": "Very useful, thanks."},
        f"/articles/{article_id}",
    )
    assert c.status_code == 303
    assert "Very useful, thanks." in (await client.get(f"/articles/{article_id}")).text
    empty = await post_form(
        client, f"/articles/{article_id}/comments", {"body": "  "}, f"/articles/{article_id}"
    )
    assert empty.status_code == 400 and "empty" in empty.text
    # Preview and the composer's nudge, as a reply's: nothing is posted by either.
    comments = f"/articles/{article_id}/comments"
    shown = await post_form(client, comments, {"body": "A **bold** idea", "preview": "1"}, page_of)
    assert shown.status_code == 200 and "<strong>bold</strong>" in shown.text
    assert "(not posted yet)" in shown.text and "A **bold** idea" in shown.text
    nudged = await post_form(client, comments, {"body": "Know your place, intern."}, page_of)
    assert nudged.status_code == 200 and "may read as dismissive" in nudged.text
    assert "Know your place, intern." in nudged.text  # the text is kept in the form
    anyway = await post_form(
        client, comments, {"body": "Know your place, intern.", "post_anyway": "1"}, page_of
    )
    assert anyway.status_code == 303
    # The comment is a reply in the article's discussion thread (its opening post is the summary).
    article = await db.get(Article, article_id)
    assert article is not None
    await db.refresh(article)
    thread = await db.get(Thread, article.thread_id)
    assert thread is not None and thread.title == "Running a first cohort"
    bodies = (
        await db.scalars(
            select(Post.body_source).where(Post.thread_id == thread.id).order_by(Post.id)
        )
    ).all()
    assert len(bodies) == 3 and bodies[1] == "Very useful, thanks."
    assert "[Read the article](/articles/" in bodies[0]
    # The comment posted anyway after the nudge waits out of sight for the check.
    assert "1 comment" in (await client.get("/articles")).text
    waiting = await db.scalar(select(Post).where(Post.body_source == "Know your place, intern."))
    assert waiting is not None and waiting.moderation_state == "checking"
    # Only the article's editor (or an admin) may change it.
    assert (await client.get(f"/articles/{article_id}/edit")).status_code == 403


async def test_article_bad_input_and_edit(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="ed2", role="editor")
    await make_user(db, settings, username="ed3", role="editor")
    await db.commit()
    await login(client, "ed2")
    for field, value, message in [
        ("title", "", "at least 3"),
        ("summary", "short", "at least 10"),
        ("summary", "s" * 501, "at most 500"),
        ("body", "", "empty"),
    ]:
        r = await post_form(client, "/articles/new", {**ARTICLE, field: value}, "/articles/new")
        assert r.status_code in (400, 413) and (message in r.text or r.status_code == 413), field
    assert await db.scalar(select(func.count(Article.id))) == 0
    r = await post_form(client, "/articles/new", ARTICLE, "/articles/new")
    article_id = int(r.headers["location"].rsplit("/", 1)[1])
    edited = await post_form(client, f"/articles/{article_id}/edit",
                             {**ARTICLE, "title": "Running a first cohort, revised"}, f"/articles/{article_id}/edit")  # fmt: skip
    assert edited.status_code == 303
    article = await db.get(Article, article_id)
    assert article is not None
    await db.refresh(article)
    assert article.title == "Running a first cohort, revised" and article.needs_related
    await login(client, "ed3")
    other = await post_form(client, f"/articles/{article_id}/edit", ARTICLE, "/")
    assert other.status_code == 403
    for path in ["/articles/99999", "/articles/99999/edit", "/articles/abc"]:
        assert (await client.get(path)).status_code in (404, 303)


async def test_comments_take_the_posts_moderation_path(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # Comments used to be public at once and beyond reports, hiding and deleting (#14, item 5).
    editor = await make_user(db, settings, username="ed5", role="editor")
    watched = await make_user(db, settings, username="watched5")
    watched.premoderated = True
    await make_user(db, settings, username="reader5")
    article = await publish(db, settings, editor, **ARTICLE)
    await db.commit()
    page = f"/articles/{article.id}"
    await login(client, "watched5")
    r = await post_form(client, f"{page}/comments", {"body": "Cute. Leave strategy to us."}, page)
    assert r.status_code == 303
    comment = await db.scalar(select(Post).where(Post.author_id == watched.id))
    assert comment is not None and comment.moderation_state == "held" and comment.needs_scoring
    own = await client.get(page)
    assert (
        "Cute. Leave strategy to us." in own.text and "approval" in own.text
    )  # its author sees it
    await login(client, "reader5")
    assert "Cute. Leave strategy to us." not in (await client.get(page)).text
    client.cookies.clear()
    anonymous = await client.get(page)
    assert "Cute. Leave strategy to us." not in anonymous.text and "Comments (0)" in anonymous.text
    assert "0 comments" in (await client.get("/articles")).text
    # Approved: public and counted, and then reportable like any post.
    await set_post_state(db, comment, ModerationState.clear)
    await db.commit()
    assert "Cute. Leave strategy to us." in (await client.get(page)).text
    assert "1 comment" in (await client.get("/articles")).text
    await login(client, "reader5")
    reported = await post_form(
        client,
        f"/p/{comment.id}/report",
        {"reason": "dismissive of juniors"},
        f"/p/{comment.id}/report",
    )
    assert reported.status_code == 303
    assert await db.scalar(select(func.count(Report.id)).where(Report.post_id == comment.id)) == 1
    # A moderator's hide takes it out of the article page and its count.
    await db.refresh(comment)
    await set_post_state(db, comment, ModerationState.hidden, "Hidden by a moderator.")
    await db.commit()
    client.cookies.clear()
    hidden = await client.get(page)
    assert "Cute. Leave strategy to us." not in hidden.text and "Comments (0)" in hidden.text


async def test_a_discussion_others_cannot_see_takes_no_comments_and_shows_no_count(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    editor = await make_user(db, settings, username="ed6", role="editor")
    member = await make_user(db, settings, username="reader6")
    readers = [await make_user(db, settings, username=f"reporter6{i}") for i in range(6)]
    for r in readers:  # established members, whose reports weigh fully
        r.joined_at = r.joined_at.replace(year=2020)
    article = await publish(db, settings, editor, **ARTICLE)
    await add_comment(db, settings, member, article, "A first comment.")
    await db.commit()
    await db.refresh(article)
    thread = await db.get(Thread, article.thread_id)
    assert thread is not None and thread.first_post_id is not None
    # Members' reports never hide the summary that opens the discussion (it would hide all).
    summary = await db.get(Post, thread.first_post_id)
    assert summary is not None
    for r in readers:
        await report_post(db, settings, r, summary, "spam", "")
    await db.refresh(summary)
    assert summary.moderation_state == "clear"
    # A discussion moved where members cannot see it takes no comments from them and shows
    # no count to the public.
    staff = await make_category(db, "Staff room")
    staff.staff_only = True
    thread.category_id = staff.id
    await db.commit()
    await login(client, "reader6")
    page = f"/articles/{article.id}"
    refused = await post_form(client, f"{page}/comments", {"body": "Still here?"}, page)
    assert refused.status_code == 400 and "closed" in refused.text
    client.cookies.clear()
    assert "0 comments" in (await client.get("/articles")).text


async def test_article_discussions_take_no_new_threads_but_comments_still_open_them(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A tester started an arbitrary thread at /c/article-discussions/new: that category holds
    each article's comment thread, opened by its first comment, and nothing else."""
    editor = await make_user(db, settings, username="ed7", role="editor")
    member = await make_user(db, settings, username="reader7")
    await make_user(db, settings, username="mod7", role="moderator")
    article = await publish(db, settings, editor, **ARTICLE)
    await add_comment(db, settings, member, article, "A first comment on pairing.")
    elsewhere = await make_category(db, "Mentoring")
    await db.commit()
    await db.refresh(article)
    discussion = await db.get(Thread, article.thread_id)
    assert discussion is not None
    category = "/c/article-discussions"

    async def threads_there() -> int:
        return int(
            await db.scalar(
                select(func.count(Thread.id)).where(Thread.category_id == discussion.category_id)
            )
            or 0
        )

    # No "New thread" (nor "Log in to start a thread"): the page says where comments go.
    for who in (None, "reader7"):
        if who:
            await login(client, who)
        page = await client.get(category)
        assert page.status_code == 200 and f"{category}/new" not in page.text, who
        assert "Comment on an article from its page" in page.text
    assert f'href="/c/{elsewhere.slug}/new"' in (await client.get(f"/c/{elsewhere.slug}")).text
    # Typed in the address, refused (403) with the reason; a sent form keeps its text.
    form = await client.get(f"{category}/new")
    assert form.status_code == 403 and "Comment on an article from its page" in form.text
    before = await threads_there()
    typed = {"title": "An arbitrary thread", "body": "Posted where it does not belong."}
    sent = await post_form(client, f"{category}/new", typed, "/")
    assert sent.status_code == 403 and "Comment on an article from its page" in sent.text
    assert "Posted where it does not belong." in sent.text  # shown back, not lost
    assert (await post_form(client, f"{category}/draft", typed, "/")).status_code == 403
    assert await threads_there() == before
    # Comments still work: on this article, and the first one on another opens its thread.
    page_of = f"/articles/{article.id}"
    r = await post_form(client, f"{page_of}/comments", {"body": "Second comment."}, page_of)
    assert r.status_code == 303
    other = await publish(db, settings, editor, "Another article", "Another summary here.", "B")
    await db.commit()
    r = await post_form(
        client, f"/articles/{other.id}/comments", {"body": "First here."}, f"/articles/{other.id}"
    )
    assert r.status_code == 303 and await threads_there() == before + 1
    # Moderators cannot move another thread in; an article's discussion may go out and back.
    await login(client, "mod7")
    loose, _ = await make_thread(db, settings, member, elsewhere, title="A loose thread")
    await db.commit()
    # Its move menu does not offer the article discussions; the discussion's own does.
    offered = f'<option value="{discussion.category_id}"'
    assert offered not in (await client.get(f"/t/{loose.id}")).text
    assert offered in (await client.get(f"/t/{discussion.id}")).text
    move_in = {"category_id": str(discussion.category_id), "reason": "tidy"}
    refused = await post_form(client, f"/t/{loose.id}/move", move_in, "/")
    assert refused.status_code == 403 and "own discussions: move this thread" in refused.text
    out = {"category_id": str(elsewhere.id), "reason": "out"}
    assert (await post_form(client, f"/t/{discussion.id}/move", out, "/")).status_code == 303
    back = await post_form(client, f"/t/{discussion.id}/move", move_in, "/")
    assert back.status_code == 303


async def test_article_comments_can_be_searched_by_their_category(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The search form keeps Article discussions among its categories: comments are posts,
    and that choice finds what members said about the articles, and only that."""
    editor = await make_user(db, settings, username="ed8", role="editor")
    member = await make_user(db, settings, username="reader8")
    article = await publish(db, settings, editor, **ARTICLE)
    await add_comment(db, settings, member, article, "Our cohort tried shadowing days.")
    await make_thread(
        db, settings, member, await make_category(db, "Mentoring"), title="Shadowing days",
        body="Shadowing days worked for us too.",
    )  # fmt: skip
    await db.commit()
    form = await client.get("/search")
    assert '<option value="article-discussions">' in form.text
    found = await client.get("/search", params={"q": "shadowing", "category": DISCUSSIONS})
    assert found.status_code == 200 and "1 result" in found.text
    assert ARTICLE["title"] in found.text and "cohort tried <mark>shadowing</mark>" in found.text
    assert "worked for us too" not in found.text
