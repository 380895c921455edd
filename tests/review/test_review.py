"""People in the loop: the nudge, reports and their weights, pre-moderation, the review queue
with its version check and audit log, and members kept out of every /mod route."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Route

from forum.accounts.models import User
from forum.accounts.services import load_ranks
from forum.board.models import ModerationState, Post, PostRevision
from forum.board.posting import create_reply, edit_post, moderated_text, set_post_state
from forum.core.audit import AuditEntry
from forum.core.db import utcnow
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from forum.review import views
from forum.review.models import ModerationResult, Report, ReviewItem
from forum.review.queue import open_item
from forum.review.services import report_weight
from moderation import cues
from tests.helpers import CSRF_RE, login, make_category, make_thread, make_user, post_form

PUT_DOWN = "Come back when you have 20 years in, kid."


async def flagged_post(db: AsyncSession, settings: Settings, author_name: str = "author1"):  # type: ignore[no-untyped-def]
    author = await make_user(db, settings, username=author_name)
    thread, posts = await make_thread(db, settings, author, await make_category(db), body=PUT_DOWN)
    post = posts[0]
    # Evidence offsets point into what the worker scored: an opening post with its title.
    start = moderated_text(PUT_DOWN, thread.title).index(PUT_DOWN)
    db.add(ModerationResult(
        post_id=post.id, verdict="flag", reasons=["DISMISSIVE_OF_JUNIORS"],
        scores={"cues": {"dismissive": 0.9}}, models={"cues": "cues-1"}, failed_stages={},
        complete=True, nudge_phrases=[], context={"dismissive": 0.9},
        evidence=[{"stage": "cues", "label": "come_back_when", "start": start, "end": start + 23,
                   "text": PUT_DOWN[:23]}],
    ))  # fmt: skip
    item = await open_item(db, post.id, ["DISMISSIVE_OF_JUNIORS"], verdict="flag", priority=25)
    await db.commit()
    return author, thread, post, item


async def test_nudge_without_javascript_then_post_anyway(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="nudged")
    thread, _ = await make_thread(db, settings, author, await make_category(db))
    await login(client, "nudged")
    page = await client.get(f"/t/{thread.id}/reply")
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    first = await client.post(f"/t/{thread.id}/reply", data={"body": PUT_DOWN, "csrftoken": token})
    assert first.status_code == 200
    assert "may read as dismissive of junior colleagues" in first.text
    assert "Come back when you have" in first.text and 'name="post_anyway"' in first.text
    assert PUT_DOWN in first.text  # the draft is kept for rephrasing
    # The note names the form's real buttons (it said "the form's usual button").
    assert "press “Post reply” to have it checked again" in first.text
    assert "with “Post anyway”" in first.text
    # Before sending, the live note (no "Post anyway" yet) says a confirmation will follow.
    thread_page = (await client.get(f"/t/{thread.id}")).text
    assert "press “Post reply” as it is: you will be asked to confirm" in thread_page
    count = len((await db.scalars(select(Post).where(Post.thread_id == thread.id))).all())
    assert count == 1  # nothing posted yet
    second = await client.post(
        f"/t/{thread.id}/reply", data={"body": PUT_DOWN, "csrftoken": token, "post_anyway": "1"}
    )
    assert second.status_code == 303
    post = await db.scalar(select(Post).where(Post.thread_id == thread.id).order_by(Post.id.desc()))
    assert post is not None and post.body_source == PUT_DOWN
    assert "Come back when you have" in post.nudge_phrases
    # Posted anyway, it waits out of sight for the worker's reading (a probe read such a post
    # while logged out in the second before the check held it).
    assert post.moderation_state == "checking"
    await client.post("/logout", data={"csrftoken": token})
    assert PUT_DOWN not in (await client.get(f"/t/{thread.id}")).text
    await login(client, "nudged")
    token = CSRF_RE.search((await client.get(f"/t/{thread.id}/reply")).text).group(1)  # type: ignore[union-attr]
    # A rephrased reply goes straight through.
    third = await client.post(f"/t/{thread.id}/reply",
                              data={"body": "Happy to share what worked for us.", "csrftoken": token})  # fmt: skip
    assert third.status_code == 303


async def test_an_edit_into_a_put_down_is_nudged_as_a_new_post_is(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="editor1")
    thread, (post,) = await make_thread(db, settings, author, await make_category(db))
    await login(client, "editor1")
    page = await client.get(f"/p/{post.id}/edit")
    assert "data-composer=" in page.text and "composer.js" in page.text  # the live nudge
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    first = await client.post(f"/p/{post.id}/edit", data={"body": PUT_DOWN, "csrftoken": token,
                                                         "title": thread.title})  # fmt: skip
    assert first.status_code == 200
    assert "may read as dismissive of junior colleagues" in first.text
    assert 'name="post_anyway"' in first.text and PUT_DOWN in first.text
    await db.refresh(post)
    assert post.body_source != PUT_DOWN  # nothing saved yet
    second = await client.post(f"/p/{post.id}/edit", data={
        "body": PUT_DOWN, "csrftoken": token, "title": thread.title, "post_anyway": "1"})  # fmt: skip
    assert second.status_code == 303
    await db.refresh(post)
    assert post.body_source == PUT_DOWN and "Come back when you have" in post.nudge_phrases
    assert post.moderation_state == "checking"  # out of sight until the worker has read it


async def test_a_nudged_edit_of_an_answered_opening_post_leaves_the_thread_on_view(
    db: AsyncSession, settings: Settings
) -> None:
    # An opening post others answered stays on view while its edit is read: waiting out of
    # sight would take the thread, and their replies, off the board (a review's finding).

    author = await make_user(db, settings, username="opener_nudged")
    other = await make_user(db, settings, username="answerer_nudged")
    thread, (first,) = await make_thread(db, settings, author, await make_category(db))
    await create_reply(db, settings, other, thread, "Thanks for starting this.")
    await edit_post(db, settings, author, first, thread, PUT_DOWN, nudged=["Come back when"])
    assert first.moderation_state == "pending"
    # A reply edited after the nudge waits.
    reply = await create_reply(db, settings, author, thread, "A second thought.")
    await edit_post(db, settings, author, reply, thread, PUT_DOWN, nudged=["Come back when"])
    assert reply.moderation_state == "checking"


async def test_a_put_down_for_a_title_or_subject_is_nudged_too(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="titler")
    await make_user(db, settings, username="titled_to")
    category = await make_category(db)
    await db.commit()
    await login(client, "titler")
    page = await client.get(f"/c/{category.slug}/new")
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    title = "Juniors: know your place, come back in 20 years"
    body = "Thoughts on the rota welcome."
    first = await client.post(f"/c/{category.slug}/new",
                              data={"title": title, "body": body, "csrftoken": token})  # fmt: skip
    assert first.status_code == 200 and 'name="post_anyway"' in first.text
    assert "know your place" in first.text.lower()
    assert await db.scalar(select(func.count(Post.id))) == 0  # nothing posted yet
    # A private message's subject, the same.
    sent = await client.post("/messages/new", data={
        "to": "titled_to", "subject": title, "body": body, "csrftoken": token})  # fmt: skip
    assert sent.status_code == 200 and 'name="post_anyway"' in sent.text
    # The live check reads the title with the body (composer.js sends both).
    r = await client.post("/api/cues", json={"text": f"{title}\n\n{body}"},
                          headers={"X-CSRFToken": token})  # fmt: skip
    assert r.status_code == 200 and r.json()["phrases"]


async def test_live_nudge_endpoint(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="typist")
    await db.commit()
    await login(client, "typist")
    token = CSRF_RE.search((await client.get("/")).text).group(1)  # type: ignore[union-attr]
    r = await client.post("/api/cues", json={"text": "Know your place, intern."},
                          headers={"x-csrftoken": token})  # fmt: skip
    assert r.status_code == 200 and r.json()["phrases"] == ["Know your place"]
    ok = await client.post("/api/cues", json={"text": "Thanks!"}, headers={"x-csrftoken": token})
    assert ok.json() == {"phrases": []}
    bad = await client.post("/api/cues", content=b"{", headers={"x-csrftoken": token,
                                                                "content-type": "application/json"})  # fmt: skip
    assert bad.status_code == 400
    assert (await client.post("/api/cues", json={"text": "x"})).status_code == 403  # no token


async def test_members_are_refused_every_mod_route(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    _, _, _, item = await flagged_post(db, settings)
    await make_user(db, settings, username="plainmember")
    await db.commit()
    await login(client, "plainmember")
    token = CSRF_RE.search((await client.get("/")).text).group(1)  # type: ignore[union-attr]
    mod_routes = [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/mod")]
    assert len(mod_routes) >= 5
    for route in mod_routes:
        path = route.path.replace("{item_id:id}", str(item.id)).replace("{phrase_id:id}", "1")
        for method in sorted(route.methods - {"HEAD"}):
            data = {"csrftoken": token, "action": "hide", "reason": "x", "version": "1",
                    "phrase": "abc"}  # fmt: skip
            r = await client.request(method, path, data=data if method == "POST" else None)
            assert r.status_code == 403, (method, path)
    await db.refresh(item)
    assert item.status == "open"


async def test_queue_item_evidence_and_hide_with_reason(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author, thread, post, item = await flagged_post(db, settings, "harsh")
    await make_user(db, settings, username="mod1", role="moderator")
    await make_user(db, settings, username="bystander")
    await db.commit()
    await login(client, "mod1")
    queue = await client.get("/mod")
    assert queue.status_code == 200 and f"/mod/items/{item.id}" in queue.text
    page = await client.get(f"/mod/items/{item.id}")
    assert (
        '<mark class="evidence" title="come_back_when">Come back when you have</mark>' in page.text
    )
    assert "Likely" in page.text and "Author history" in page.text
    # The post as members see it, evidence marked; no decision chosen for the moderator.
    assert '<div class="post-body as-seen"' in page.text
    assert '<mark class="evidence">Come back when you have</mark>' in page.text
    assert " checked" not in page.text.split('class="decision-form"')[1]
    unchosen = await post_form(client, f"/mod/items/{item.id}",
                               {"reason": "x", "version": str(item.version)}, "/mod")  # fmt: skip
    assert unchosen.status_code == 400 and "Choose a decision." in unchosen.text
    r = await post_form(client, f"/mod/items/{item.id}",
                        {"action": "hide", "reason": "Talking down to a junior colleague.",
                         "version": str(item.version)}, "/mod")  # fmt: skip
    assert r.status_code == 303
    assert "Decision recorded: hidden." in (await client.get(r.headers["location"])).text
    await db.refresh(post)
    await db.refresh(item)
    assert post.moderation_state == "hidden" and item.status == "closed" and item.decision == "hide"
    audit = await db.scalar(select(AuditEntry).where(AuditEntry.action == "hide"))
    assert audit is not None and audit.reason == "Talking down to a junior colleague."
    mail = await db.scalar(select(OutboxMessage).where(OutboxMessage.to_address == author.email))
    assert mail is not None and "Talking down to a junior colleague." in mail.body
    assert f"{settings.base_url.rstrip('/')}/p/{post.id}\n" in mail.body  # a link that works
    # The author sees the post and the reason; another member sees neither.
    await login(client, "harsh")
    own = await client.get(f"/t/{thread.id}")
    assert "Hidden by a moderator" in own.text and "Talking down to a junior colleague." in own.text
    await login(client, "bystander")
    other = await client.get(f"/t/{thread.id}")
    assert PUT_DOWN not in other.text
    assert (await client.get(f"/p/{post.id}")).status_code == 404
    log = await login(client, "mod1")
    assert log.status_code == 303
    words = (await client.get("/mod/log")).text
    assert "Talking down to a junior colleague." in words
    # The log speaks in words: what was done, to whose post, in which thread.
    assert "Hid" in words and f"harsh's post in “{thread.title}”" in words
    assert f"post {post.id}" not in words
    # Decisions in words on the queue's Decided list and the item ("warn" read as code).
    assert "Hidden<br>" in (await client.get("/mod?status=closed")).text
    assert "Decided: <strong>hidden</strong>" in (await client.get(f"/mod/items/{item.id}")).text


async def test_hiding_a_post_queues_the_replies_that_quote_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """An attacker probe quoted a flagged put-down and wrote "Seconded.": once a moderator hid
    the original, the replies still showed it in full, and nobody was asked to look."""
    author, thread, post, item = await flagged_post(db, settings, "harsh2")
    await set_post_state(db, post, ModerationState.flagged)
    fan = await make_user(db, settings, username="seconder")
    other = await make_user(db, settings, username="unrelated")
    quoting = await create_reply(
        db, settings, fan, thread, f"> {PUT_DOWN}\n\nSeconded.", reply_to_id=post.id
    )
    quoting_loose = await create_reply(db, settings, other, thread, f"> {PUT_DOWN[:30]}\n\nYep.")
    plain = await create_reply(db, settings, other, thread, "> Welcome aboard!\n\nHello.")
    # The second probe's: the quote split into short lines, in capitals, with emphasis.
    split = await create_reply(
        db, settings, other, thread, "> Come back when\n> you have *20 years*\n> in, kid.\n\nYes."
    )
    shouted = await create_reply(db, settings, other, thread, f"> {PUT_DOWN.upper()}\n\nThis.")
    for reply in (quoting, quoting_loose, plain, split, shouted):
        await set_post_state(db, reply, ModerationState.clear)
    await make_user(db, settings, username="mod_q", role="moderator")
    await db.commit()
    await login(client, "mod_q")
    r = await post_form(client, f"/mod/items/{item.id}",
                        {"action": "hide", "reason": "Talking down to juniors.",
                         "version": str(item.version)}, "/mod")  # fmt: skip
    assert r.status_code == 303
    items = {
        i.post_id: i.reasons
        for i in await db.scalars(
            select(ReviewItem).where(ReviewItem.post_id.in_([quoting.id, quoting_loose.id,
                                                             plain.id, split.id, shouted.id]))
        )
    }  # fmt: skip
    assert items == {
        reply.id: ["QUOTES_HIDDEN"] for reply in (quoting, quoting_loose, split, shouted)
    }
    queue = (await client.get("/mod")).text
    assert "quotes a post a moderator hid" in queue


async def test_rewriting_a_hidden_post_asks_a_moderator_to_look_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The newcomer probe's member rewrote a hidden post politely, was told "saved", and the
    post stayed hidden with nobody asked to look at it again."""
    from forum.review.queue import EDITED_WHILE_HIDDEN
    from forum.review.services import decide
    from tests.helpers import url

    _author, _thread, post, item = await flagged_post(db, settings, "rewriter")
    moderator = await make_user(db, settings, username="mod_again", role="moderator")
    await decide(db, settings, moderator, item.id, item.version, "hide", "Talking down.", url=url)
    await db.commit()
    await db.refresh(item)
    assert item.status == "closed"
    await login(client, "rewriter")
    edited = await post_form(client, f"/p/{post.id}/edit",
                             {"body": "I was too blunt: your idea deserves a proper look."},
                             f"/p/{post.id}/edit")  # fmt: skip
    assert edited.status_code == 303
    shown = (await client.get(edited.headers["location"], follow_redirects=True)).text
    assert "stays out of view until a moderator has looked at it again" in shown
    await db.refresh(item)
    await db.refresh(post)
    assert post.moderation_state == "hidden"  # still out of view ...
    assert item.status == "open" and EDITED_WHILE_HIDDEN in item.reasons  # ... and in the queue
    assert "DISMISSIVE_OF_JUNIORS" in item.reasons  # (what it was about stays with it)
    # Looked at and kept hidden: one more edit does not put it back in the queue at once.
    await decide(db, settings, moderator, item.id, item.version, "hide", "Still no.", url=url)
    await db.commit()
    again = await post_form(client, f"/p/{post.id}/edit", {"body": "Sorry, truly."},
                            f"/p/{post.id}/edit")  # fmt: skip
    assert again.status_code == 303
    await db.refresh(item)
    assert item.status == "closed"


async def test_the_queue_previews_the_flagged_sentence_not_the_quote(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="quoter")
    thread, (first,) = await make_thread(db, settings, author, await make_category(db))
    body = "> Our pilot pairs twelve people.\n\nGreat news. **Come back** when you have run one."
    reply = await create_reply(db, settings, author, thread, body)
    start = body.index("Come back")
    db.add(ModerationResult(
        post_id=reply.id, verdict="flag", reasons=["DISMISSIVE_OF_JUNIORS"], scores={},
        models={}, failed_stages={"toxicity": "OSError: no weights at /x"}, complete=False,
        nudge_phrases=[], context={},
        evidence=[{"stage": "cues", "label": "come_back_when", "start": start,
                   "end": start + 13, "text": body[start : start + 13]}],
    ))  # fmt: skip
    item = await open_item(db, reply.id, ["DISMISSIVE_OF_JUNIORS"], verdict="flag", priority=20)
    await make_user(db, settings, username="mod9", role="moderator")
    await db.commit()
    await login(client, "mod9")
    queue = (await client.get("/mod")).text
    # The sentence as members read it: its Markdown marks not shown.
    assert "Come back when you have run one." in queue and "twelve people" not in queue
    assert "**Come" not in queue
    page = (await client.get(f"/mod/items/{item.id}")).text
    # A stage that did not load is pointed to, not dumped on every item.
    assert "OSError" not in page and "Not scored by the toxicity stage" in page
    assert "scored again once the stage loads" in page
    # A stage switched off in the settings will not load: the item does not promise it.
    result = await db.scalar(select(ModerationResult).where(ModerationResult.post_id == reply.id))
    assert result is not None
    result.failed_stages = {"toxicity": "RuntimeError: switched off in settings (x=off)"}
    await db.commit()
    off = (await client.get(f"/mod/items/{item.id}")).text
    assert "switched off in this board's settings" in off and "once the stage loads" not in off


async def test_the_item_page_names_each_reading_and_rates_none_on_the_wrong_scale(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="scored")
    _thread, (post,) = await make_thread(db, settings, author, await make_category(db))
    db.add(ModerationResult(
        post_id=post.id, verdict="flag", reasons=["DISMISSIVE_OF_JUNIORS"],
        scores={"dismissive": {"dismissive": 0.89, "probability": 0.48},
                "cues": {"dismissive": 0.0, "title": 0.0}},
        models={}, failed_stages={}, complete=True, nudge_phrases=[],
        context={"dismissive": 0.89}, evidence=[],
    ))  # fmt: skip
    item = await open_item(db, post.id, ["DISMISSIVE_OF_JUNIORS"], verdict="flag", priority=20)
    await make_user(db, settings, username="mod8", role="moderator")
    await db.commit()
    await login(client, "mod8")
    page = (await client.get(f"/mod/items/{item.id}")).text
    table = page.split('<table class="scores">')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]*)</td><td[^>]*>([^<]*)</td>", table)
    assert dict(rows) == {
        "Dismissive of juniors (combined)": "Likely",
        "Model: put-down score (with its context)": "Likely",
        # On its own scale (the model's flag is not 0.5 there): a figure, no word.
        views.SCORE_NAMES[("dismissive", "probability")]: "",
        "Stock phrases": "Unlikely",
        "Stock phrases in the title": "Unlikely",
    }
    # One sentence says what the readings come to, with the board's thresholds.
    assert (
        'Overall: <strong class="likely">Likely</strong> a put-down (0.89 on the board\'s scale'
        in page
    )


async def test_two_moderators_cannot_overwrite_each_other(
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    _, _, post, item = await flagged_post(db, settings)
    await make_user(db, settings, username="moda", role="moderator")
    await make_user(db, settings, username="modb", role="admin")
    await db.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as a, \
            httpx.AsyncClient(transport=transport, base_url="http://t") as b:  # fmt: skip
        await login(a, "moda")
        await login(b, "modb")
        page_a = await a.get(f"/mod/items/{item.id}")
        page_b = await b.get(f"/mod/items/{item.id}")
        version = re.search(r'name="version" value="(\d+)"', page_a.text).group(1)  # type: ignore[union-attr]
        assert version == re.search(r'name="version" value="(\d+)"', page_b.text).group(1)  # type: ignore[union-attr]
        token_a = CSRF_RE.search(page_a.text).group(1)  # type: ignore[union-attr]
        token_b = CSRF_RE.search(page_b.text).group(1)  # type: ignore[union-attr]
        first = await a.post(
            f"/mod/items/{item.id}",
            data={"action": "approve", "reason": "", "version": version, "csrftoken": token_a},
        )
        assert first.status_code == 303
        second = await b.post(
            f"/mod/items/{item.id}",
            data={
                "action": "hide",
                "reason": "too harsh",
                "version": version,
                "csrftoken": token_b,
            },
        )
        assert second.status_code == 409 and "Another moderator" in second.text
    await db.refresh(item)
    await db.refresh(post)
    assert item.decision == "approve" and post.moderation_state == "clear"
    assert len((await db.scalars(select(AuditEntry))).all()) == 1


async def test_decisions_need_reasons_and_suspend_stops_posting(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author, thread, post, item = await flagged_post(db, settings, "repeat")
    await make_user(db, settings, username="mod2", role="moderator")
    await db.commit()
    await login(client, "mod2")
    no_reason = await post_form(client, f"/mod/items/{item.id}",
                                {"action": "hide", "reason": "", "version": str(item.version)}, "/mod")  # fmt: skip
    assert no_reason.status_code == 400 and "Give a reason" in no_reason.text
    # The choice is kept and the error said at the form as well as at the top.
    assert 'value="hide" required checked' in no_reason.text
    assert no_reason.text.count("Give a reason") == 2
    no_length = await post_form(client, f"/mod/items/{item.id}",
                                {"action": "suspend", "reason": "Third time this week.",
                                 "version": str(item.version)}, "/mod")  # fmt: skip
    assert no_length.status_code == 400 and ">Third time this week.</textarea>" in no_length.text
    # The refusal sits at the reason box; a rewrite refused stays open, not folded away.
    form = no_length.text.split('class="decision-form"')[1]
    assert form.index('id="decision-error"') < form.index('id="duration"')
    rewrite = await post_form(client, f"/mod/items/{item.id}",
                              {"action": "edit_approve", "reason": "", "body": "Kinder words.",
                               "version": str(item.version)}, "/mod")  # fmt: skip
    assert rewrite.status_code == 400 and ">Kinder words.</textarea>" in rewrite.text
    assert "<details open><summary>Edit the text" in rewrite.text
    await db.refresh(item)
    ok = await post_form(client, f"/mod/items/{item.id}", {
        "action": "suspend", "reason": "Third warning", "duration": "72h",
        "version": str(item.version)}, "/mod")  # fmt: skip
    assert ok.status_code == 303
    await db.refresh(author)
    assert author.status == "suspended" and author.suspended_until is not None
    await login(client, "repeat")
    r = await post_form(client, f"/t/{thread.id}/reply", {"body": "hello"}, "/")
    assert r.status_code == 403 and "suspended" in r.text  # the form again, with the text


async def test_edit_and_approve_keeps_a_revision(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, _, post, item = await flagged_post(db, settings, "editme")
    await make_user(db, settings, username="mod3", role="moderator")
    await db.commit()
    await login(client, "mod3")
    r = await post_form(client, f"/mod/items/{item.id}", {
        "action": "edit_approve", "reason": "Softened the wording.", "version": str(item.version),
        "body": "I think more experience would help here."}, "/mod")  # fmt: skip
    assert r.status_code == 303
    await db.refresh(post)
    assert post.body_source == "I think more experience would help here."
    assert post.moderation_state == "clear" and post.edit_count == 1


async def test_an_opening_post_edited_into_a_put_down_is_restored_with_its_thread(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """An author edits the opening post of a thread others answered (title and text) into a
    put-down, and the worker holds it, which hides the thread. The item says so, shows the
    version before the edit, and "restore" brings it back, title too, keeping the put-down as
    a revision; the thread and the replies are in view again."""
    author = await make_user(db, settings, username="opener")
    other = await make_user(db, settings, username="answerer")
    thread, (opening,) = await make_thread(
        db, settings, author, await make_category(db), title="Planning the pilot",
        body="How should we pair people for the pilot?",
    )  # fmt: skip
    await create_reply(db, settings, other, thread, "Pair across departments, I'd say.")
    await edit_post(db, settings, author, opening, thread, PUT_DOWN, "Juniors, know your place")
    await set_post_state(db, opening, ModerationState.held, "held by the worker",
                         points=settings.points_per_post)  # fmt: skip
    item = await open_item(db, opening.id, ["DISMISSIVE_OF_JUNIORS"], verdict="hold",
                           priority=30)  # fmt: skip
    await make_user(db, settings, username="mod5", role="moderator")
    await db.commit()
    assert (await client.get(f"/t/{thread.id}")).status_code == 404  # the thread is hidden
    await login(client, "mod5")
    page = await client.get(f"/mod/items/{item.id}")
    assert "hides the whole thread, with 1 reply by other members" in page.text
    assert 'value="restore"' in page.text and "How should we pair people" in page.text
    assert 'name="title"' in page.text  # edit-and-approve may change an opening post's title
    r = await post_form(client, f"/mod/items/{item.id}", {
        "action": "restore", "reason": "Put the question back.", "version": str(item.version),
    }, "/mod")  # fmt: skip
    assert r.status_code == 303
    for row in (opening, thread, item):
        await db.refresh(row)
    assert opening.body_source == "How should we pair people for the pilot?"
    assert thread.title == "Planning the pilot" and opening.moderation_state == "clear"
    assert item.decision == "restore" and not opening.needs_scoring
    kept = (await db.scalars(select(PostRevision).where(PostRevision.post_id == opening.id)
                             .order_by(PostRevision.id))).all()  # fmt: skip
    assert kept[-1].body_source == PUT_DOWN and kept[-1].title == "Juniors, know your place"
    await login(client, "answerer")
    shown = await client.get(f"/t/{thread.id}")
    assert shown.status_code == 200 and "Pair across departments" in shown.text


async def test_restore_needs_an_earlier_version_and_edit_approve_retitles(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, thread, post, item = await flagged_post(db, settings, "unedited")
    await make_user(db, settings, username="mod6", role="moderator")
    await db.commit()
    await login(client, "mod6")
    page = await client.get(f"/mod/items/{item.id}")
    assert 'value="restore"' not in page.text  # never edited: nothing to restore
    r = await post_form(client, f"/mod/items/{item.id}", {
        "action": "restore", "reason": "x", "version": str(item.version)}, "/mod")  # fmt: skip
    assert r.status_code == 400 and "no earlier version" in r.text
    await db.refresh(item)
    r = await post_form(client, f"/mod/items/{item.id}", {
        "action": "edit_approve", "reason": "Reworded.", "version": str(item.version),
        "title": "A question about experience", "body": "More experience would help here.",
    }, "/mod")  # fmt: skip
    assert r.status_code == 303
    await db.refresh(thread)
    await db.refresh(post)
    assert thread.title == "A question about experience"
    assert post.body_source == "More experience would help here."


async def test_the_item_names_the_stock_sentence_reading_in_words(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    _, _, post, item = await flagged_post(db, settings, "padded")
    result = await db.scalar(select(ModerationResult).where(ModerationResult.post_id == post.id))
    assert result is not None
    result.scores = {**result.scores, "dismissive": {"dismissive": 0.02, "sentence": 0.91}}
    await make_user(db, settings, username="mod7", role="moderator")
    await db.commit()
    await login(client, "mod7")
    page = await client.get(f"/mod/items/{item.id}")
    assert "the stock phrase&#39;s sentence alone" in page.text and "0.91" in page.text


async def test_a_moderators_report_weighs_more_than_a_newcomers(
    db: AsyncSession, settings: Settings
) -> None:
    newcomer = await make_user(db, settings, username="newbie")
    mod = await make_user(db, settings, username="trusted", role="moderator")
    ranks = await load_ranks(db)
    assert await report_weight(db, settings, mod, ranks) > 2 * await report_weight(
        db, settings, newcomer, ranks
    )


async def test_a_reporter_whose_reports_were_upheld_weighs_more(
    db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="reported")
    careful = await make_user(db, settings, username="careful")
    careless = await make_user(db, settings, username="careless")
    other = (await make_thread(db, settings, author, await make_category(db), body="x"))[1][0]
    db.add(Report(post_id=other.id, reporter_id=careful.id, reason="spam", weight=1, upheld=True))
    db.add(Report(post_id=other.id, reporter_id=careless.id, reason="spam", weight=1, upheld=False))
    await db.commit()
    ranks = await load_ranks(db)
    assert await report_weight(db, settings, careful, ranks) > await report_weight(
        db, settings, careless, ranks
    )


async def _reported_post(db: AsyncSession, settings: Settings) -> Post:
    """A post, and reporters of standing: two members of a month with five accepted posts
    each (named newbie0 and newbie1 for their rank), and a moderator."""
    category = await make_category(db)
    for i in range(2):
        member = await make_user(db, settings, username=f"newbie{i}")
        member.joined_at = utcnow() - timedelta(days=30)
        await make_thread(db, settings, member, category, replies=4)
    await make_user(db, settings, username="trusted", role="moderator")
    author = await make_user(db, settings, username="reported")
    _thread, (post,) = await make_thread(db, settings, author, category, body="**Hmm**, t&#111;o.")
    await db.commit()
    return post


async def _report(client: httpx.AsyncClient, post: Post, reason: str) -> httpx.Response:
    path = f"/p/{post.id}/report"
    return await post_form(client, path, {"reason": reason, "note": "rude"}, path)


async def test_a_member_reports_a_post_once_with_a_known_reason(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    post = await _reported_post(db, settings)
    await login(client, "newbie1")
    # The form shows the post as members read it, not its Markdown.
    form_page = (await client.get(f"/p/{post.id}/report")).text
    assert "Hmm, too." in form_page and "**Hmm**" not in form_page
    assert (await _report(client, post, "harassment")).status_code == 303
    again = await _report(client, post, "spam")
    assert again.status_code == 400 and "already reported" in again.text
    await login(client, "newbie0")
    assert (await _report(client, post, "nonsense")).status_code == 400
    item = await db.scalar(select(ReviewItem).where(ReviewItem.post_id == post.id))
    assert item is not None and "USER_REPORTS" in item.reasons


async def test_one_report_does_not_hide_a_post_but_enough_weight_does(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    post = await _reported_post(db, settings)
    await login(client, "newbie1")
    await _report(client, post, "harassment")
    await db.refresh(post)
    assert post.moderation_state != "held"  # one newcomer's report does not hide a post
    for reporter in ("trusted", "newbie0"):
        await login(client, reporter)
        await _report(client, post, "dismissive of juniors")
    item = await db.scalar(select(ReviewItem).where(ReviewItem.post_id == post.id))
    assert item is not None
    await db.refresh(item)
    await db.refresh(post)
    assert item.report_weight >= settings.report_hide_weight
    assert post.moderation_state == "held"


async def test_twenty_fresh_accounts_cannot_hide_a_post(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    author = await make_user(db, settings, username="target")
    _thread, (post,) = await make_thread(db, settings, author, await make_category(db))
    brigade = [await make_user(db, settings, username=f"fresh{i}") for i in range(20)]
    await db.commit()
    for member in brigade:
        await login(client, member.username)
        assert (await _report(client, post, "harassment")).status_code == 303
    item = await db.scalar(select(ReviewItem).where(ReviewItem.post_id == post.id))
    await db.refresh(post)
    assert item is not None and item.report_weight < settings.report_hide_weight
    assert post.moderation_state != "held"  # moderators still see every report in the queue


async def test_fresh_accounts_with_farmed_posts_cannot_hide_a_post_alone(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe made eight accounts before the post (so no brigade factor), gave each ten
    trivial accepted posts (full standing by posts) and reported a director's frank post:
    3.4 of weight, and it was hidden. Fresh accounts now hide nothing alone: half the weight
    that hides must come from established reporters."""
    category = await make_category(db)
    brigade = []
    for i in range(8):
        member = await make_user(db, settings, username=f"farm{i}")
        member.points = 50  # Associate, as ten cleared posts made them
        await make_thread(db, settings, member, category, replies=9)
        brigade.append(member)
    veteran = await make_user(db, settings, username="veteran")
    veteran.joined_at, veteran.points = utcnow() - timedelta(days=60), 150  # an Executive
    await make_thread(db, settings, veteran, category, replies=4)
    author = await make_user(db, settings, username="director_x")
    _thread, (post,) = await make_thread(db, settings, author, category, body="Frank words.")
    await db.commit()
    for member in brigade:
        await login(client, member.username)
        assert (await _report(client, post, "dismissive of juniors")).status_code == 303
    item = await db.scalar(select(ReviewItem).where(ReviewItem.post_id == post.id))
    assert item is not None
    await db.refresh(item)
    await db.refresh(post)
    assert item.report_weight >= settings.report_hide_weight  # the weight the probe reached
    assert post.moderation_state != "held"  # yet still on view, waiting for a moderator
    # One established member's report (weight 1.0) is not half of 3.0 either; once established
    # reporters carry that much, members' reports hide it as before.
    await login(client, "veteran")
    await _report(client, post, "dismissive of juniors")
    await db.refresh(post)
    assert post.moderation_state != "held"
    reporter = await make_user(db, settings, username="veteran2")
    reporter.joined_at, reporter.points = utcnow() - timedelta(days=60), 150
    await make_thread(db, settings, reporter, category, replies=4)
    await db.commit()
    await login(client, "veteran2")
    await _report(client, post, "dismissive of juniors")
    await db.refresh(post)
    assert post.moderation_state == "held"


async def test_established_reports_a_moderator_rejected_do_not_back_a_brigade(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """Established members reported a post, a moderator kept it (their reports rejected), and
    fresh accounts then reported it: the rejected reports still counted as established
    support, and the brigade hid the post the moderator had kept."""
    category = await make_category(db)
    for i in range(3):
        veteran = await make_user(db, settings, username=f"elder{i}")
        veteran.joined_at, veteran.points = utcnow() - timedelta(days=60), 150
        await make_thread(db, settings, veteran, category, replies=4)
    brigade = []
    for i in range(8):
        member = await make_user(db, settings, username=f"fresh_farm{i}")
        member.points = 50
        await make_thread(db, settings, member, category, replies=9)
        brigade.append(member)
    await make_user(db, settings, username="keeper", role="moderator")
    author = await make_user(db, settings, username="kept_author")
    _thread, (post,) = await make_thread(db, settings, author, category, body="Frank words.")
    await db.commit()
    for i in range(3):
        await login(client, f"elder{i}")
        await _report(client, post, "harassment")
    await db.refresh(post)
    assert post.moderation_state == "held"  # established reporters may hide it
    item = await db.scalar(select(ReviewItem).where(ReviewItem.post_id == post.id))
    assert item is not None
    await login(client, "keeper")
    kept = await post_form(client, f"/mod/items/{item.id}",
                           {"action": "approve", "reason": "Fair comment.",
                            "version": str(item.version)}, "/mod")  # fmt: skip
    assert kept.status_code == 303
    await db.refresh(post)
    assert post.moderation_state == "clear"
    for member in brigade:
        await login(client, member.username)
        assert (await _report(client, post, "harassment")).status_code == 303
    await db.refresh(post)
    assert post.moderation_state == "clear"  # the moderator's decision stands


async def test_members_reports_never_hide_a_staff_members_post(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    post = await _reported_post(db, settings)
    staff = await make_user(db, settings, username="staffer", role="moderator")
    _thread, (staff_post,) = await make_thread(
        db, settings, staff, await make_category(db), body="A moderator's post."
    )
    await db.commit()
    assert post.id != staff_post.id
    for reporter in ("newbie0", "newbie1", "trusted"):
        await login(client, reporter)
        await _report(client, staff_post, "harassment")
    await db.refresh(staff_post)
    assert staff_post.moderation_state != "held"


async def test_members_cannot_report_their_own_posts(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    post = await _reported_post(db, settings)
    await login(client, "reported")
    own = await _report(client, post, "spam")
    assert own.status_code == 400 and "your own post" in own.text


async def test_premoderation_visibility(
    client: httpx.AsyncClient,
    app,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    app.state.settings = settings.model_copy(update={"premoderate_first_posts": 1})
    veteran = await make_user(db, settings, username="veteran")
    thread, _ = await make_thread(db, settings, veteran, await make_category(db))
    await make_user(db, settings, username="fresh")
    await make_user(db, settings, username="mod4", role="moderator")
    await db.commit()
    await login(client, "fresh")
    r = await post_form(client, f"/t/{thread.id}/reply", {"body": "My first post here!"}, "/")
    assert r.status_code == 303
    assert "My first post here!" in (await client.get(f"/t/{thread.id}")).text
    assert "Not yet visible to others" in (await client.get(f"/t/{thread.id}")).text
    await login(client, "veteran")
    assert "My first post here!" not in (await client.get(f"/t/{thread.id}")).text
    await post_form(client, "/logout", {}, "/")
    assert "My first post here!" not in (await client.get(f"/t/{thread.id}")).text
    await login(client, "mod4")
    assert "My first post here!" in (await client.get(f"/t/{thread.id}")).text
    item = await db.scalar(
        select(ReviewItem).where(ReviewItem.reasons.is_not(None)).order_by(ReviewItem.id.desc())
    )
    assert item is not None and item.reasons == ["PREMODERATION"]
    r = await post_form(client, f"/mod/items/{item.id}",
                        {"action": "approve", "reason": "", "version": str(item.version)}, "/mod")  # fmt: skip
    assert r.status_code == 303
    await login(client, "veteran")
    assert "My first post here!" in (await client.get(f"/t/{thread.id}")).text
    # A member a moderator placed on pre-moderation waits again, however many posts they have.
    fresh = await db.scalar(select(User).where(User.username_key == "fresh"))
    assert fresh is not None
    fresh.premoderated = True
    await db.commit()
    await login(client, "fresh")
    await post_form(client, f"/t/{thread.id}/reply", {"body": "Second post."}, "/")
    await login(client, "veteran")
    assert "Second post." not in (await client.get(f"/t/{thread.id}")).text


async def test_watched_phrases_and_status_page(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await make_user(db, settings, username="mod5", role="moderator")
    await db.commit()
    await login(client, "mod5")
    r = await post_form(
        client, "/mod/phrases", {"phrase": "Ideas Above Their Station"}, "/mod/phrases"
    )
    assert r.status_code == 303
    page = await client.get("/mod/phrases")
    assert "ideas above their station" in page.text
    dup = await post_form(
        client, "/mod/phrases", {"phrase": "ideas above their station"}, "/mod/phrases"
    )
    assert dup.status_code == 400
    short = await post_form(client, "/mod/phrases", {"phrase": "a"}, "/mod/phrases")
    assert short.status_code == 400
    status = await client.get("/mod/status")
    assert status.status_code == 200
    assert "No worker has reported yet" in status.text and "insult (flag)" in status.text


async def test_reporting_is_rate_limited(
    app,
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    app.state.settings = settings.model_copy(update={"reports_max_per_hour": 1})
    author = await make_user(db, settings, username="prolific")
    thread, posts = await make_thread(db, settings, author, await make_category(db), replies=2)
    await make_user(db, settings, username="reporter9")
    await make_user(db, settings, username="reporter10")
    await db.commit()
    await login(client, "reporter9")
    ok = await post_form(client, f"/p/{posts[0].id}/report", {"reason": "spam"}, "/")
    assert ok.status_code == 303
    r = await post_form(client, f"/p/{posts[1].id}/report", {"reason": "spam"}, "/")
    assert r.status_code == 429 and "many reports" in r.text
    # Per address: another account on the same network is stopped too.
    app.state.settings = settings.model_copy(
        update={"reports_max_per_hour": 5, "reports_max_per_hour_ip": 2}
    )
    await login(client, "reporter10")
    assert (
        await post_form(client, f"/p/{posts[0].id}/report", {"reason": "spam"}, "/")
    ).status_code == 303
    r = await post_form(client, f"/p/{posts[1].id}/report", {"reason": "spam"}, "/")
    assert r.status_code == 429 and "from your network" in r.text
    assert len((await db.scalars(select(Report))).all()) == 2


async def test_an_edit_by_a_premoderated_author_waits_for_approval_again(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    from forum.board.models import ModerationState
    from forum.board.posting import edit_post, set_post_state

    author = await make_user(db, settings, username="sneaky")
    thread, (post,) = await make_thread(db, settings, author, await make_category(db))
    await set_post_state(db, post, ModerationState.clear)
    author.premoderated = True
    await db.flush()
    await edit_post(db, settings, author, post, thread, "Know your place, intern.")
    await db.commit()
    assert post.moderation_state == "held"
    item = await db.scalar(select(ReviewItem).where(ReviewItem.post_id == post.id))
    assert item is not None and item.status == "open" and "PREMODERATION" in item.reasons
    page = await client.get(f"/t/{thread.id}")
    assert "Know your place" not in page.text


async def test_cue_checks_do_not_hold_up_other_requests(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cue checker is linear (tests/core/test_text_is_linear.py) and runs beside the event
    # loop: while one check is still working, other requests are answered.
    await make_user(db, settings, username="slowcue")
    await db.commit()
    await login(client, "slowcue")
    token = CSRF_RE.search((await client.get("/")).text).group(1)  # type: ignore[union-attr]
    started, release = threading.Event(), threading.Event()
    real = cues.nudge_phrases

    def slow(text: str, threshold: float = 0.5) -> list[str]:
        started.set()
        release.wait(10)
        return real(text, threshold)

    monkeypatch.setattr(cues, "nudge_phrases", slow)
    check = asyncio.create_task(
        client.post("/api/cues", json={"text": PUT_DOWN}, headers={"x-csrftoken": token})
    )
    assert await asyncio.to_thread(started.wait, 10)
    assert (await client.get("/healthz")).status_code == 200  # answered while the check works
    assert not check.done()
    release.set()
    response = await check
    assert response.status_code == 200 and response.json()["phrases"]
