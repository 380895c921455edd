"""Categories, threads, posts, the author panel, points and ranks, moderators' thread actions."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import PointsEntry, User
from forum.accounts.services import load_ranks, recount_points
from forum.board import viewcount
from forum.board.models import ModerationState, Post, PostRevision, Thread
from forum.board.posting import create_reply, set_post_state
from forum.board.threads import delete_thread, recount_post_counts
from forum.board.viewcount import ViewCounter
from forum.core.audit import AuditEntry
from forum.core.settings import Settings
from forum.review.queue import open_item
from forum.review.services import decide
from tests.helpers import (
    CSRF_RE,
    login,
    make_category,
    make_thread,
    make_user,
    parse_tags,
    post_form,
    url,
)


async def test_breadcrumbs_and_category_listing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    hr = await make_category(db, "Human Resources")
    er = await make_category(db, "Employee Relations", parent=hr)
    thread, _ = await make_thread(db, settings, author, er, title="Ending a pairing", replies=2)
    page = await client.get(f"/c/{er.slug}")
    assert page.status_code == 200
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', page.text, re.S)
    assert (
        crumbs
        and re.sub(r"<[^>]+>|\s+", " ", crumbs.group(0)).split()
        == "Home » Human Resources » Employee Relations".split()
    )
    assert "Ending a pairing" in page.text
    row = re.search(r"Ending a pairing.*?</tr>", page.text, re.S)
    assert row and '<td class="num">2</td>' in row.group(0)  # replies
    thread_page = await client.get(f"/t/{thread.id}")
    assert (
        'Human Resources</a> <span aria-hidden="true">»</span> '
        '<a href="/c/employee-relations">Employee Relations' in thread_page.text
    )
    home = await client.get("/")
    assert "Employee Relations" in home.text


async def test_author_panel_shows_every_field(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="panelist", location="Harrogate")
    category = await make_category(db)
    thread, posts = await make_thread(db, settings, author, category, replies=1)
    page = await client.get(f"/t/{thread.id}")
    article = re.search(
        rf'<article class="post" id="p{posts[0].id}"[^>]*>.*?</article>', page.text, re.S
    )
    assert article
    text = re.sub(r"<[^>]+>", " ", article.group(0))
    text = " ".join(text.split())
    await db.refresh(author)
    assert author.post_count == 2 and author.points == 10
    for expected in [
        "panelist",
        "Rank Newcomer",
        "Points 10",
        "Total posts 2",
        f"Joined {author.joined_at:%d %b %Y}",
        "Location Harrogate",
        "Posted ",
    ]:
        assert expected in text, expected
    # Each post is named by a heading a screen reader jumps to (shown to no one).
    assert f'aria-labelledby="p{posts[0].id}-heading"' in article.group(0)
    assert text.startswith("Post by panelist, ")


async def test_points_ledger_and_ranks_37_posts_is_185_points_executive(
    db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    category = await make_category(db)
    await make_thread(db, settings, author, category, replies=36)
    await db.refresh(author)
    assert (author.post_count, author.points) == (37, 185)
    ledger = await db.scalar(
        select(func.sum(PointsEntry.delta)).where(PointsEntry.user_id == author.id)
    )
    assert ledger == 185
    ranks = await load_ranks(db)
    assert ranks.rank_for(author.points) == "Executive"
    assert [ranks.rank_for(p) for p in (0, 49, 50, 149, 150, 499, 500, 1499, 1500)] == [
        "Newcomer",
        "Newcomer",
        "Associate",
        "Associate",
        "Executive",
        "Executive",
        "Senior Executive",
        "Senior Executive",
        "Director",
    ]
    # Recount from the ledger and live posts reproduces the running counters.
    author.points = 0
    author.post_count = 0
    await db.flush()
    await recount_points(db)
    await recount_post_counts(db)
    await db.refresh(author)
    assert (author.post_count, author.points) == (37, 185)


async def test_points_per_post_is_configurable(db: AsyncSession, settings: Settings) -> None:
    custom = settings.model_copy(update={"points_per_post": 3})
    author = await make_user(db, custom)
    await make_thread(db, custom, author, await make_category(db), replies=1)
    await db.refresh(author)
    assert author.points == 6


async def test_posts_out_of_view_earn_no_points_nor_count(
    db: AsyncSession, settings: Settings
) -> None:
    """A post held or hidden by moderation earns its author nothing until it is shown: rank
    (and the weight of a member's reports) cannot be farmed with posts nobody sees."""
    author = await make_user(db, settings)
    mod = await make_user(db, settings, role="moderator")
    category = await make_category(db)
    thread, posts = await make_thread(db, settings, author, category, replies=2)

    async def totals(member: User) -> tuple[int, int]:
        await db.refresh(member)
        ledger = await db.scalar(
            select(func.sum(PointsEntry.delta)).where(PointsEntry.user_id == member.id)
        )
        assert (ledger or 0) == member.points  # the ledger explains the total
        return member.post_count, member.points

    assert await totals(author) == (3, 15)
    # A moderator hides a reply from the review queue: its points and count go.
    item = await open_item(db, posts[2].id, ["DISMISSIVE"], verdict="flag", priority=1)
    await db.flush()
    await decide(db, settings, mod, item.id, item.version, "hide", "put-down", url=url)
    assert await totals(author) == (2, 10)
    # The worker holds an edited reply; a moderator approves it: they come back.
    await set_post_state(db, posts[1], ModerationState.held, "held",
                         points=settings.points_per_post)  # fmt: skip
    assert await totals(author) == (1, 5)
    await set_post_state(db, posts[1], ModerationState.clear, points=settings.points_per_post)
    await set_post_state(db, posts[1], ModerationState.flagged, points=settings.points_per_post)
    assert await totals(author) == (2, 10)  # flagged posts stay on view, and count
    # A member on pre-moderation earns a post's points once it is approved.
    newcomer = await make_user(db, settings)
    newcomer.premoderated = True
    waiting = await create_reply(db, settings, newcomer, thread, "My first reply")
    assert waiting.moderation_state == ModerationState.held.value
    assert await totals(newcomer) == (0, 0)
    await set_post_state(db, waiting, ModerationState.clear, points=settings.points_per_post)
    assert await totals(newcomer) == (1, 5)
    # Deleting the thread takes back only what its posts earned (the hidden reply earned none).
    await delete_thread(db, settings, mod, thread)
    assert await totals(author) == (0, 0) and await totals(newcomer) == (0, 0)
    author.post_count = 7
    await recount_post_counts(db)
    assert await totals(author) == (0, 0)


async def test_thread_pagination_oldest_first(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    thread, posts = await make_thread(db, settings, author, await make_category(db), replies=24)
    page1 = await client.get(f"/t/{thread.id}")
    ids1 = [int(i) for i in re.findall(r'<article class="post[^"]*" id="p(\d+)"', page1.text)]
    assert ids1 == [p.id for p in posts[:20]]
    page2 = await client.get(f"/t/{thread.id}?page=2")
    ids2 = [int(i) for i in re.findall(r'<article class="post[^"]*" id="p(\d+)"', page2.text)]
    assert ids2 == [p.id for p in posts[20:]]
    last = await client.get(f"/t/{thread.id}?page=last")
    assert "Reply number 24" in last.text
    assert (await client.get(f"/t/{thread.id}?page=99")).status_code == 200  # clamps to the end
    assert (await client.get(f"/t/{thread.id}?page=abc")).status_code == 400
    link = await client.get(f"/p/{posts[22].id}")
    assert link.headers["location"] == f"/t/{thread.id}?page=2#p{posts[22].id}"


async def test_category_pagination_and_pinned_first(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    category = await make_category(db)
    threads = []
    for i in range(27):
        t, _ = await make_thread(db, settings, author, category, title=f"Thread number {i:02d}")
        threads.append(t)
    threads[0].is_pinned = True
    await db.commit()
    page1 = await client.get(f"/c/{category.slug}")
    titles = re.findall(r'class="title" href="/t/\d+">(Thread number \d+)</a>', page1.text)
    assert len(titles) == 25 and titles[0] == "Thread number 00" and titles[1] == "Thread number 26"
    page2 = await client.get(f"/c/{category.slug}?page=2")
    assert len(re.findall(r'class="title" href="/t/', page2.text)) == 2


async def test_a_new_thread_is_posted_with_its_markdown_rendered(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="olga")
    category = await make_category(db, "Mentoring")
    await db.commit()
    await login(client, "olga")
    new = f"/c/{category.slug}/new"
    r = await post_form(
        client, new, {"title": "Our first cohort", "body": "We start in **May**."}, new
    )
    assert r.status_code == 303
    thread_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = await client.get(f"/t/{thread_id}")
    assert "Our first cohort" in page.text and "<strong>May</strong>" in page.text


async def test_a_quoted_reply_is_prefilled_and_records_what_it_answers(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    olga = await make_user(db, settings, username="olga")
    await make_user(db, settings, username="pete")
    category = await make_category(db, "Mentoring")
    thread, (first,) = await make_thread(db, settings, olga, category, body="We start in May.")
    await login(client, "pete")
    quote_form = await client.get(f"/t/{thread.id}/reply?quote={first.id}")
    assert "&gt; **olga** wrote:" in quote_form.text
    body = "> **olga** wrote:\n> We start in May.\n\nGood luck!"
    reply_url = f"/t/{thread.id}/reply"
    r = await post_form(client, reply_url, {"body": body, "reply_to": str(first.id)}, reply_url)
    assert r.status_code == 303 and "page=last" in r.headers["location"]
    reply = await db.scalar(
        select(Post).where(Post.thread_id == thread.id).order_by(Post.id.desc())
    )
    assert reply is not None and reply.reply_to_id == first.id
    assert "<blockquote>" in reply.body_html


async def test_an_edit_keeps_the_earlier_text_as_a_revision_and_is_scored_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    pete = await make_user(db, settings, username="pete")
    category = await make_category(db, "Mentoring")
    _thread, (post,) = await make_thread(db, settings, pete, category, body="Good luck!")
    await login(client, "pete")
    edit = f"/p/{post.id}/edit"
    r = await post_form(client, edit, {"body": "Good luck with the cohort!"}, edit)
    assert r.status_code == 303
    await db.refresh(post)
    assert post.body_source == "Good luck with the cohort!" and post.edit_count == 1
    assert post.moderation_state == "pending" and post.needs_scoring
    revs = (await db.scalars(select(PostRevision).where(PostRevision.post_id == post.id))).all()
    assert len(revs) == 1 and revs[0].body_source == "Good luck!"
    history = await client.get(f"/p/{post.id}/revisions")
    assert history.status_code == 200 and "Good luck!" in history.text


async def test_the_threads_author_retitles_it_through_the_opening_post(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    olga = await make_user(db, settings, username="olga")
    category = await make_category(db, "Mentoring")
    thread, (first,) = await make_thread(db, settings, olga, category, title="Our first cohort")
    await login(client, "olga")
    edit = f"/p/{first.id}/edit"
    form = {"title": "Our first cohort (2027)", "body": "We start in **June**."}
    assert (await post_form(client, edit, form, edit)).status_code == 303
    await db.refresh(thread)
    assert thread.title == "Our first cohort (2027)"
    # The revisions page shows the title before the edit, and the current one.
    history = (await client.get(f"/p/{first.id}/revisions")).text
    assert "<strong>Title:</strong> Our first cohort (2027)" in history
    assert "<strong>Title:</strong> Our first cohort</p>" in history


async def test_markdown_is_sanitised(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings)
    body = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
        '[ok](https://example.org) <a href="javascript:alert(4)">x</a>'
    )
    thread, posts = await make_thread(db, settings, author, await make_category(db), body=body)
    html = posts[0].body_html
    tags = parse_tags(html)
    assert {t for t, _ in tags} <= {"p", "a"}
    hrefs = [dict(attrs).get("href") for t, attrs in tags if t == "a"]
    assert hrefs == ["https://example.org"]
    assert '<a href="https://example.org" rel="nofollow noopener ugc">ok</a>' in html
    page = await client.get(f"/t/{thread.id}")
    assert "<script>alert(1)</script>" not in page.text


async def test_bad_input_to_posting_gives_clear_errors_and_stores_nothing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="quinn")
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, author, category)
    await login(client, "quinn")
    posts_before = await db.scalar(select(func.count(Post.id)))
    threads_before = await db.scalar(select(func.count(Thread.id)))
    new = f"/c/{category.slug}/new"
    for data, status, message in [
        ({"title": "", "body": "text"}, 400, "at least 3"),
        ({"title": "  \u200b  ", "body": "text"}, 400, "at least 3"),
        ({"title": "x" * 151, "body": "text"}, 400, "at most 150"),
        ({"title": "A fine title", "body": "   "}, 400, "empty"),
        ({"title": "A fine title", "body": "b" * 20_001}, 400, "at most 20,000"),
        ({"title": "A fine title", "body": "b" * 200_000}, 413, "far too long"),
        ({"title": "t" * 700, "body": "Some text"}, 413, "far too long"),
    ]:
        r = await post_form(client, new, data, new)
        assert r.status_code == status, data
        assert message in r.text, data
        if status == 413:  # refused unread, but what was typed is shown back in full
            assert data["title"] in r.text and data["body"] in r.text and "readonly" in r.text
    # The form keeps what the member typed.
    r = await post_form(client, new, {"title": "A fine title", "body": ""}, new)
    assert 'value="A fine title"' in r.text
    for data, status in [
        ({"body": ""}, 400),
        ({"body": "x", "reply_to": "abc"}, 400),
        ({"body": "x", "reply_to": "99999999999999"}, 400),
    ]:
        r = await post_form(client, f"/t/{thread.id}/reply", data, new)
        assert r.status_code == status, data
    assert await db.scalar(select(func.count(Post.id))) == posts_before
    assert await db.scalar(select(func.count(Thread.id))) == threads_before


async def test_unknown_ids_and_malformed_requests_are_4xx(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="rita")
    await db.commit()
    for path in [
        "/t/999999",
        "/t/99999999999999999999",
        "/p/999999",
        "/p/999999/edit",
        "/c/no-such-category",
        "/u/ghost",
        "/nowhere",
        "/t/abc",
    ]:
        r = await client.get(path)
        assert r.status_code in (404, 303), path
    await login(client, "rita")
    for path in ["/t/999999/reply", "/p/999999/edit", "/c/nope/new"]:
        assert (await client.get(path)).status_code == 404, path
    # Malformed bodies: wrong content type, broken multipart, undecodable bytes.
    token = re.search(r'name="csrftoken" value="([^"]+)"', (await client.get("/")).text).group(1)  # type: ignore[union-attr]
    r = await client.post(
        "/login", content=b"\xff\xfe", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code in (400, 403)
    r = await client.post(
        "/login", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data"}
    )
    assert r.status_code in (400, 403)
    r = await client.post(
        "/login", content=b"{}", headers={"content-type": "application/json", "x-csrftoken": token}
    )
    assert r.status_code == 400
    r = await client.put("/login")
    assert r.status_code in (403, 405)


async def test_member_cannot_edit_anothers_post_or_use_moderator_actions(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await make_user(db, settings, username="sara")
    await make_user(db, settings, username="tim")
    category = await make_category(db)
    other_category = await make_category(db)
    thread, posts = await make_thread(db, settings, owner, category)
    await login(client, "tim")
    assert (await client.get(f"/p/{posts[0].id}/edit")).status_code == 403
    r = await post_form(client, f"/p/{posts[0].id}/edit", {"body": "hijacked"}, "/")
    assert r.status_code == 403
    for action, extra in [
        ("lock", {}),
        ("pin", {}),
        ("delete", {"reason": "x"}),
        ("move", {"category_id": str(other_category.id)}),
    ]:
        r = await post_form(client, f"/t/{thread.id}/{action}", extra, "/")
        assert r.status_code == 403, action
    assert (await client.get("/mod/log")).status_code == 403
    await db.refresh(posts[0])
    await db.refresh(thread)
    assert posts[0].body_source == "We have 20 mentees."
    assert not thread.is_locked and not thread.is_pinned and not thread.is_deleted
    assert thread.category_id == category.id
    page = await client.get(f"/t/{thread.id}")
    assert "Moderator tools" not in page.text and f"/p/{posts[0].id}/edit" not in page.text


async def test_anonymous_visitors_are_sent_to_log_in(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    owner = await make_user(db, settings)
    category = await make_category(db)
    thread, _ = await make_thread(db, settings, owner, category)
    r = await client.get(f"/t/{thread.id}/reply")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = await post_form(client, f"/t/{thread.id}/reply", {"body": "hello"}, "/login")
    assert r.status_code == 401


async def test_moderators_lock_pin_move_delete_with_audit(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="uma")
    await make_user(db, settings, username="victor", role="moderator")
    category = await make_category(db, "Coaching")
    target = await make_category(db, "Mentoring")
    thread, _ = await make_thread(db, settings, member, category, replies=2)
    group = await make_category(db, "A group")
    grouped = await make_category(db, "A grouped forum", parent=group)
    await login(client, "victor")
    page = (await client.get(f"/t/{thread.id}")).text
    assert "Moderator tools" in page
    # The move list groups forums as the home page does; a group is not a place for threads.
    assert (
        f'<optgroup label="A group"><option value="{grouped.id}">A grouped forum</option>' in page
    )
    assert f'<option value="{group.id}">' not in page
    into_group = await post_form(client, f"/t/{thread.id}/move",
                                 {"category_id": str(group.id)}, "/")  # fmt: skip
    assert into_group.status_code == 400 and "is a group of forums" in into_group.text
    for action, extra in [("lock", {}), ("pin", {}), ("move", {"category_id": str(target.id)})]:
        r = await post_form(client, f"/t/{thread.id}/{action}", extra, "/")
        assert r.status_code == 303, action
    await db.refresh(thread)
    assert thread.is_locked and thread.is_pinned and thread.category_id == target.id
    # A locked thread takes no replies from members (the form comes back with the text).
    await login(client, "uma")
    r = await post_form(client, f"/t/{thread.id}/reply", {"body": "one more"}, "/")
    assert r.status_code == 403 and "locked" in r.text and ">one more</textarea>" in r.text
    await login(client, "victor")
    # The author is told why: a deletion needs a reason (a probe deleted one without).
    r = await post_form(client, f"/t/{thread.id}/delete", {"reason": "  "}, "/")
    assert r.status_code == 400 and "Give a reason" in r.text
    await db.refresh(thread)
    assert not thread.is_deleted
    r = await post_form(client, f"/t/{thread.id}/delete", {"reason": "duplicate"}, "/")
    assert r.status_code == 303
    await db.refresh(thread)
    await db.refresh(member)
    assert thread.is_deleted
    assert (member.post_count, member.points) == (0, 0)  # deleted posts no longer count
    await login(client, "uma")
    assert (await client.get(f"/t/{thread.id}")).status_code == 404
    actions = (await db.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions == ["lock", "pin", "move", "delete"]
    # The log names the categories a thread moved between (it gave their numbers).
    moved = await db.scalar(select(AuditEntry.detail).where(AuditEntry.action == "move"))
    assert moved == "from “Coaching” to “Mentoring”"
    bad = await post_form(client, f"/t/{thread.id}/frobnicate", {}, "/")
    assert bad.status_code in (403, 404)


async def test_moderator_edit_of_anothers_post_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await make_user(db, settings, username="wendy")
    await make_user(db, settings, username="xavier", role="moderator")
    thread, posts = await make_thread(db, settings, member, await make_category(db))
    await login(client, "xavier")
    r = await post_form(client, f"/p/{posts[0].id}/edit", {"body": "Edited by a moderator."}, "/")
    assert r.status_code == 303
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "edit"))
    assert entry is not None and entry.target_id == posts[0].id


async def test_suspended_members_cannot_post(db: AsyncSession, settings: Settings) -> None:
    from datetime import timedelta

    from forum.board.posting import BoardError
    from forum.core.db import utcnow

    author = await make_user(db, settings)
    thread, _ = await make_thread(db, settings, author, await make_category(db))
    author.status = "suspended"
    author.suspended_until = utcnow() + timedelta(days=1)
    try:
        await create_reply(db, settings, author, thread, "still here")
    except BoardError as exc:
        assert "suspended" in exc.message
    else:
        raise AssertionError("a suspended member posted")
    author.suspended_until = utcnow() - timedelta(seconds=1)
    await create_reply(db, settings, author, thread, "back again")


async def test_user_columns_are_exact_after_http_posting(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="yara")
    category = await make_category(db)
    await db.commit()
    await login(client, "yara")
    new = f"/c/{category.slug}/new"
    r = await post_form(client, new, {"title": "Counting posts", "body": "one"}, new)
    thread_id = r.headers["location"].rsplit("/", 1)[1]
    for i in range(3):
        await post_form(client, f"/t/{thread_id}/reply", {"body": f"reply {i}"}, new)
    user = await db.scalar(select(User).where(User.username_key == "yara"))
    thread = await db.get(Thread, int(thread_id))
    assert user is not None and thread is not None
    await db.refresh(user)
    await db.refresh(thread)
    assert (user.post_count, user.points, thread.post_count, thread.reply_count) == (4, 20, 4, 3)


async def test_views_are_counted_in_batches(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    author = await make_user(db, settings)
    thread, _ = await make_thread(db, settings, author, await make_category(db))
    for _ in range(3):
        await client.get(f"/t/{thread.id}")
    # One viewer's reloads count once (per REPEAT_SECONDS); other viewers count each.
    assert await app.state.views.flush(app.state.database) == 1
    await login(client, author.username)
    await client.get(f"/t/{thread.id}")
    await client.get(f"/t/{thread.id}")
    assert app.state.views.add(thread.id, "a203.0.113.9")
    assert await app.state.views.flush(app.state.database) == 2
    await db.refresh(thread)
    assert thread.view_count == 3
    assert await app.state.views.flush(app.state.database) == 0


def test_a_viewer_counts_again_after_a_while_and_old_viewers_are_forgotten() -> None:
    counter = ViewCounter(repeat_seconds=0.0)
    assert counter.add(1, "u1") and counter.add(1, "u1") and counter.pending[1] == 2
    counter = ViewCounter()
    assert counter.add(1, "u1") and not counter.add(1, "u1") and counter.add(2, "u1")
    assert counter.add(1, "") and counter.add(1, "")  # no viewer named: every view counts
    for n in range(viewcount.REMEMBERED + 5):
        counter.add(3, f"a{n}")
    assert len(counter._seen) == viewcount.REMEMBERED and counter.add(3, "a0")


async def test_nul_bytes_in_addresses_are_refused(client: httpx.AsyncClient) -> None:
    # Found by the form fuzzer: PostgreSQL refuses NUL in text, which used to surface as a 500.
    for path in ["/u/%00admin", "/search?q=%00", "/c/%00", "/login?next=%00"]:
        r = await client.get(path)
        assert r.status_code == 400, path


def _one_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Limits count in fixed windows: one instant, so a test never straddles a new window."""
    from forum.core import ratelimit
    from forum.core.db import utcnow

    now = utcnow()
    monkeypatch.setattr(ratelimit, "utcnow", lambda: now)


async def test_posting_is_rate_limited_per_account_and_per_address(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    _one_instant(monkeypatch)
    app.state.settings = settings.model_copy(
        update={"posts_max_per_minute": 2, "posts_max_per_minute_ip": 3}
    )
    a = await make_user(db, settings, username="speedy")
    await make_user(db, settings, username="speedy2")
    thread, _ = await make_thread(db, settings, a, await make_category(db))
    await login(client, "speedy")
    for n in range(2):  # (different words: the same twice is one post, a double submit)
        assert (
            await post_form(client, f"/t/{thread.id}/reply", {"body": f"quick {n}"}, "/")
        ).status_code == 303
    r = await post_form(client, f"/t/{thread.id}/reply", {"body": "too quick"}, "/")
    assert r.status_code == 429 and "posting very quickly" in r.text
    assert 0 < int(r.headers["Retry-After"]) <= 60  # the minute's window ends within a minute
    await login(client, "speedy2")  # another account from the same address
    assert (
        await post_form(client, f"/t/{thread.id}/reply", {"body": "ok"}, "/")
    ).status_code == 303
    r = await post_form(client, f"/t/{thread.id}/reply", {"body": "one too many"}, "/")
    assert r.status_code == 429 and "from your network" in r.text
    posts = await db.scalar(select(func.count(Post.id)).where(Post.thread_id == thread.id))
    assert posts == 4  # the opening post and the three accepted replies


async def test_characters_written_an_hour_are_budgeted_for_posts_and_edits(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """The worker reads every character: the longest posts, back to back (or edited again and
    again), are refused past the hourly budget, with the text kept on the form."""
    _one_instant(monkeypatch)
    app.state.settings = settings.model_copy(update={"text_max_chars_per_hour": 2_500})
    a = await make_user(db, settings, username="wordy")
    thread, _ = await make_thread(db, settings, a, await make_category(db))
    await login(client, "wordy")
    reply = f"/t/{thread.id}/reply"
    # A post refused as it stands (past the length allowed) costs nothing of the budget.
    for _ in range(3):
        too_long = await post_form(client, reply, {"body": "z" * 20_001}, "/")
        assert too_long.status_code == 400 and "at most 20,000" in too_long.text
    assert (await post_form(client, reply, {"body": "a" * 1_000}, "/")).status_code == 303
    post_id = await db.scalar(select(func.max(Post.id)).where(Post.thread_id == thread.id))
    edit = f"/p/{post_id}/edit"
    # An edit that changes nothing costs nothing; one that changes the text counts in full.
    assert (await post_form(client, edit, {"body": "a" * 1_000}, edit)).status_code == 303
    assert (await post_form(client, edit, {"body": "b" * 1_000}, edit)).status_code == 303
    refused = await post_form(client, edit, {"body": "c" * 1_000}, edit)
    assert refused.status_code == 429 and "characters an hour" in refused.text
    assert "c" * 1_000 in refused.text  # the text is on the form again
    r = await post_form(client, reply, {"body": "short reply " * 60}, "/")
    assert r.status_code == 429 and "short reply short reply" in r.text
    # Within the budget a short reply still goes (400 of the 500 characters left).
    assert (await post_form(client, reply, {"body": "x" * 400}, "/")).status_code == 303
    await db.refresh(await db.get(Post, post_id))
    assert (await db.get(Post, post_id)).body_source == "b" * 1_000  # type: ignore[union-attr]


async def test_a_table_that_would_swell_the_page_is_refused_with_the_text_kept(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """Each table row is padded to its header's width: 20 KB of one-pipe rows under a wide
    header rendered as 0.7 MB. Past 5,000 cells the post is refused; an ordinary table goes."""
    from forum.core.text import excerpt

    author = await make_user(db, settings, username="tabler")
    thread, _ = await make_thread(db, settings, author, await make_category(db))
    await login(client, "tabler")
    header = "|" + "a|" * 20 + "\n|" + "-|" * 20 + "\n"
    swollen = header + "|\n" * 9_000
    r = await post_form(client, f"/t/{thread.id}/reply", {"body": swollen}, "/")
    assert r.status_code == 400 and "180,040 cells" in r.text and "|-|-|" in r.text
    quoted = "> " + header.replace("\n|", "\n> |") + "> |\n" * 300  # inside a quote too
    r = await post_form(client, f"/t/{thread.id}/reply", {"body": quoted}, "/")
    assert r.status_code == 400 and "cells" in r.text
    table = "| Pair | Met |\n|---|---|\n| Ann and Bo | 4 times |\n| Cy and Di | twice |"
    assert (
        await post_form(client, f"/t/{thread.id}/reply", {"body": table}, "/")
    ).status_code == 303
    # Lists show a post's start as text, without building its tables.
    assert excerpt(header + "|\n" * 2_000).startswith("|a|a|a|")


async def test_moderators_edit_members_posts_but_not_a_peers_or_superiors(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    category = await make_category(db)
    posts = {}
    for name, role in (("plainmember", "member"), ("othermod", "moderator"), ("theadmin", "admin")):
        user = await make_user(db, settings, username=name, role=role)
        thread, (first,) = await make_thread(db, settings, user, category, body=f"By {name}.")
        posts[name] = (thread, first)
    await make_user(db, settings, username="editingmod", role="moderator")
    await db.commit()
    await login(client, "editingmod")
    for name, allowed in (("plainmember", True), ("othermod", False), ("theadmin", False)):
        thread, first = posts[name]
        page = await client.get(f"/t/{thread.id}")
        assert (f'href="/p/{first.id}/edit"' in page.text) is allowed, name
        edit = f"/p/{first.id}/edit"
        r = await post_form(client, edit, {"body": "Rewritten."}, f"/t/{thread.id}")
        assert r.status_code == (303 if allowed else 403), name
        await db.refresh(first)
        assert (first.body_source == "Rewritten.") is allowed, name
    await login(client, "theadmin")
    thread, first = posts["othermod"]
    r = await post_form(client, f"/p/{first.id}/edit", {"body": "Fixed a typo."}, "/")
    assert r.status_code == 303


def test_pager_links_show_the_ends_and_the_neighbourhood() -> None:
    from forum.core.pagination import Page

    assert Page(1, 1, 5).links == [1]
    assert Page(2, 3, 50).links == [1, 2, 3]
    assert Page(5, 10, 200).links == [1, None, 3, 4, 5, 6, 7, None, 10]
    assert Page(1, 1000, 20_000).links == [1, 2, 3, None, 1000]
    assert Page(1000, 1000, 20_000).links == [1, None, 998, 999, 1000]


async def test_page_count_follows_what_the_viewer_may_see(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """21 posts, one hidden: others see one page of 20, its author two pages (one query each)."""
    author = await make_user(db, settings)
    hidden_author = await make_user(db, settings)
    thread, posts = await make_thread(db, settings, author, await make_category(db), replies=19)
    hidden = await create_reply(db, settings, hidden_author, thread, "Held for review")
    hidden.moderation_state = "hidden"
    await db.commit()
    anonymous = await client.get(f"/t/{thread.id}")
    ids = [int(i) for i in re.findall(r'<article class="post[^"]*" id="p(\d+)"', anonymous.text)]
    assert ids == [p.id for p in posts] and f"/t/{thread.id}?page=2" not in anonymous.text
    beyond = await client.get(f"/t/{thread.id}?page=7")  # past the end: the last page
    assert beyond.status_code == 200 and f'id="p{posts[-1].id}"' in beyond.text
    await login(client, hidden_author.username)
    own = await client.get(f"/t/{thread.id}")
    assert f"/t/{thread.id}?page=2" in own.text and f'id="p{hidden.id}"' not in own.text
    last = await client.get(f"/t/{thread.id}?page=last")
    ids = [int(i) for i in re.findall(r'<article class="post[^"]*" id="p(\d+)"', last.text)]
    assert ids == [hidden.id] and "Hidden from others" in last.text


async def test_cached_post_cards_follow_every_change(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """Cards are reused across requests and viewers, keyed by what they show: new points, an
    edit, a moderation note and each viewer's own links all appear at once."""
    author = await make_user(db, settings)
    reader = await make_user(db, settings)
    thread, posts = await make_thread(db, settings, author, await make_category(db), replies=1)

    def panel(html: str) -> str:
        card = re.search(
            rf'<article class="post[^"]*" id="p{posts[0].id}"[^>]*>.*?</article>', html, re.S
        )
        assert card is not None
        return card.group(0)

    first = panel((await client.get(f"/t/{thread.id}")).text)
    assert "<dd>10</dd>" in first and "Report" not in first and "Edit" not in first
    assert panel((await client.get(f"/t/{thread.id}")).text) == first  # the same card, reused
    await create_reply(db, settings, author, thread, "A third post")
    await db.commit()
    assert "<dd>15</dd>" in panel((await client.get(f"/t/{thread.id}")).text)  # new points
    await login(client, reader.username)
    as_reader = panel((await client.get(f"/t/{thread.id}")).text)
    assert "Report" in as_reader and "Quote" in as_reader and "Edit" not in as_reader
    post = await db.get(Post, posts[0].id)
    assert post is not None
    post.body_html, post.moderation_state = "<p>Rewritten</p>", "hidden"
    post.moderation_note = "Condescending"
    await db.commit()
    await post_form(client, "/logout", {}, token_from="/")
    await login(client, author.username)
    as_author = panel((await client.get(f"/t/{thread.id}")).text)
    assert "Rewritten" in as_author and "Condescending" in as_author
    assert "Edit" in as_author and "Report" not in as_author


async def test_category_counters_match_the_threads_through_post_move_and_delete(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The home page reads counters kept by the services; after posting, replying, moving and
    deleting they equal a full recount, and the page shows them."""
    from forum.board.categories import refresh_category_stats
    from forum.board.models import Category
    from forum.board.threads import delete_thread, move_thread

    author = await make_user(db, settings)
    mod = await make_user(db, settings, role="moderator")
    hr = await make_category(db, "Human Resources")
    one = await make_category(db, "Pairing", parent=hr)
    two = await make_category(db, "Retention", parent=hr)
    kept, _ = await make_thread(db, settings, author, one, title="Kept thread", replies=2)
    moved, _ = await make_thread(db, settings, author, one, title="Moved thread", replies=1)
    gone, _ = await make_thread(db, settings, author, two, title="Deleted thread", replies=4)
    await move_thread(db, mod, moved, two, "belongs there")
    await delete_thread(db, settings, mod, gone, "duplicate")
    await create_reply(db, settings, author, kept, "A late reply")
    await db.commit()

    async def counters() -> list[tuple[int, int, object]]:
        rows = await db.execute(
            select(Category.thread_count, Category.post_count, Category.last_post_at)
            .where(Category.id.in_([one.id, two.id]))
            .order_by(Category.id)
            .execution_options(populate_existing=True)
        )
        return [tuple(r) for r in rows]

    kept_by_services = await counters()
    assert [(c[0], c[1]) for c in kept_by_services] == [(1, 4), (1, 2)]
    await refresh_category_stats(db)
    assert await counters() == kept_by_services  # equal to a full recount
    home = await client.get("/")
    row = re.search(r">Pairing</a>.*?</tr>", home.text, re.S)
    assert row and re.findall(r'<td class="num">(\d+)</td>', row.group(0)) == ["1", "4"]


async def test_the_quick_reply_answers_the_last_post_read(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # The quick reply at the foot of a thread carries the post it follows, so moderation
    # reads the reply with it (and who answers whom); as "follows", not "reply_to": it is
    # addressed to the thread (tests/notifications: nobody is told "X replied to you").
    author = await make_user(db, settings, username="quickfirst")
    await make_user(db, settings, username="quicksecond")
    thread, posts = await make_thread(db, settings, author, await make_category(db), replies=2)
    await login(client, "quicksecond")
    page = await client.get(f"/t/{thread.id}")
    assert f'name="follows" value="{posts[-1].id}"' in page.text
    assert 'name="reply_to"' not in page.text.split('class="panel composer"')[1]
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    sent = await client.post(
        f"/t/{thread.id}/reply",
        data={"body": "Thanks, that helps.", "follows": str(posts[-1].id), "csrftoken": token},
    )
    assert sent.status_code == 303
    reply = await db.scalar(select(Post).where(Post.body_source == "Thanks, that helps."))
    assert reply is not None and reply.follows_id == posts[-1].id and reply.reply_to_id is None
    # A post of another thread, or one the writer may not see, is not trusted as context.
    other, other_posts = await make_thread(db, settings, author, await make_category(db))
    sent = await client.post(
        f"/t/{thread.id}/reply",
        data={"body": "Odd context.", "follows": str(other_posts[0].id), "csrftoken": token},
    )
    odd = await db.scalar(select(Post).where(Post.body_source == "Odd context."))
    assert sent.status_code == 303 and odd is not None and odd.follows_id is None


async def test_a_new_account_posts_a_limited_number_of_times_an_hour(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from datetime import timedelta

    from forum.core import ratelimit
    from forum.core.db import utcnow

    now = utcnow()
    monkeypatch.setattr(ratelimit, "utcnow", lambda: now)
    app.state.settings = settings.model_copy(update={"posts_new_account_max_per_hour": 2})
    await make_user(db, settings, username="fresh_one")
    seasoned = await make_user(db, settings, username="seasoned_one")
    seasoned.joined_at = now - timedelta(days=2)
    thread, _ = await make_thread(db, settings, seasoned, await make_category(db))
    await db.commit()
    await login(client, "fresh_one")
    for n in range(2):
        reply = {"body": f"fresh reply {n}"}
        assert (await post_form(client, f"/t/{thread.id}/reply", reply, "/")).status_code == 303
    r = await post_form(client, f"/t/{thread.id}/reply", {"body": "a third within the hour"}, "/")
    assert r.status_code == 429 and "New accounts can post" in r.text
    assert "a third within the hour" in r.text  # the text comes back, not lost
    await login(client, "seasoned_one")
    for n in range(3):
        reply = {"body": f"seasoned reply {n}"}
        assert (await post_form(client, f"/t/{thread.id}/reply", reply, "/")).status_code == 303


async def test_a_double_submit_makes_one_post(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # A second click on "Post" sends the form again: the first post stands, and the writer
    # is taken to it (a probe's double submit made two posts, which members cannot delete).
    author = await make_user(db, settings, username="twoclicks")
    category = await make_category(db, "Clicks")
    thread, _ = await make_thread(db, settings, author, category)
    await login(client, "twoclicks")
    reply_url = f"/t/{thread.id}/reply"
    for _ in range(2):
        sent = await post_form(client, reply_url, {"body": "Same words twice."}, reply_url)
        assert sent.status_code == 303
    same = (await db.scalars(select(Post).where(Post.body_source == "Same words twice."))).all()
    assert len(same) == 1 and f"#p{same[0].id}" in sent.headers["location"]
    new = f"/c/{category.slug}/new"
    for _ in range(2):
        sent = await post_form(client, new, {"title": "One thread", "body": "Once."}, new)
        assert sent.status_code == 303
    assert len((await db.scalars(select(Thread).where(Thread.title == "One thread"))).all()) == 1
    # Other words, or the same words in another thread, are another post.
    other, _ = await make_thread(db, settings, author, category)
    assert (await post_form(client, f"/t/{other.id}/reply", {"body": "Same words twice."},
                            reply_url)).status_code == 303  # fmt: skip
    assert (
        len((await db.scalars(select(Post).where(Post.body_source == "Same words twice."))).all())
        == 2
    )
