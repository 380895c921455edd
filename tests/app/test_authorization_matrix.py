"""Every route × anonymous, member, editor, moderator, admin — generated from the route table.
A route with no entry in ACCESS fails the test, so new routes must declare who may use them.
Members acting on other members' objects (IDOR) are refused."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Mount, Route

from forum.articles.services import publish
from forum.core.settings import Settings
from forum.messages.services import start_conversation
from forum.programmes.services import (
    ApplicationForm,
    ProgrammeForm,
    acknowledge,
    create_programme,
)
from forum.programmes.services import apply as apply_to
from forum.review.queue import open_item
from tests.helpers import CSRF_RE, login, make_category, make_thread, make_user

ROLES = ["anonymous", "member", "editor", "moderator", "admin"]
ALL = set(ROLES)
MEMBERS = ALL - {"anonymous"}
EDITORS = {"editor", "admin"}
MODERATORS = {"moderator", "admin"}
ADMINS = {"admin"}
# Who may use each route. Roles are not a ladder: editors publish articles but do not moderate.
ACCESS: dict[str, set[str]] = {
    "home": ALL, "category": ALL, "thread": ALL, "post": ALL,
    # Earlier versions are the author's and moderators' (the post is owner1's).
    "post_revisions": MODERATORS,
    "profile": ALL, "login": ALL, "register": ALL, "register_sent": ALL, "forgot_password": ALL, "reset_password": ALL, "confirm_email": ALL,
    "search": ALL, "similar_threads": MEMBERS, "articles": ALL, "article": ALL, "healthz": ALL, "logout": ALL, "cue_check": MEMBERS,
    "favicon": ALL,
    "new_thread": MEMBERS, "reply": MEMBERS, "thread_draft": MEMBERS, "category_draft": MEMBERS, "change_password": MEMBERS, "edit_profile": MEMBERS, "edit_time_zone": MEMBERS,
    "report_post": MEMBERS, "report_profile": MEMBERS, "article_comment": MEMBERS,
    # The post and article belong to other members: only staff may edit them.
    "edit_post": MODERATORS, "edit_article": ADMINS,
    # Deleting a post is its author's alone (moderators hide through the review queue).
    "delete_post": set(),
    "new_article": EDITORS,
    "thread_action": MODERATORS, "review_queue": MODERATORS, "review_item": MODERATORS,
    "watched_phrases": MODERATORS, "delete_phrase": MODERATORS, "moderation_status": MODERATORS,
    "audit_log": MODERATORS,
    "admin_home": ADMINS,
    "outbox": ADMINS, "admin_member": ADMINS, "admin_ranks": ADMINS, "lift_restriction": MODERATORS,
    # The board's categories (the world's category holds a thread: as_admin's delete is refused, 400).
    "admin_categories": ADMINS, "admin_category": ADMINS, "admin_category_move": ADMINS,
    "admin_category_delete": ADMINS,
    "restrict_member": MODERATORS,
    "use_model": ADMINS,
    "guidelines": ALL, "edit_guidelines": ADMINS,
    "change_email": MEMBERS, "confirm_email_change": MEMBERS, "dismiss_rank_notice": MEMBERS,
    # One's own account only (here without the password: 400; as_admin, the only
    # administrator, is told they may not).
    "delete_account": MEMBERS,
    "latest": ALL, "new_threads": MEMBERS, "unread_threads": MEMBERS, "thread_unread": ALL,
    "latest_feed": ALL, "category_feed": ALL, "thread_feed": ALL, "articles_feed": ALL,
    # Not by role but by address (CANDOR_METRICS_ALLOW, loopback by default; these requests
    # come from 127.0.0.1): tests/app/test_metrics.py checks the refusals.
    "metrics": ALL,
    # forum.notifications: a member's own notifications, preferences and watching levels.
    "notifications": MEMBERS, "notifications_read_all": MEMBERS, "notification_preferences": MEMBERS,
    "notification_open": MEMBERS, "watch_thread": MEMBERS, "watch_category": MEMBERS,
    "watching": MEMBERS,
    # Reactions (not on one's own posts: the post is owner1's), who reacted, the typeahead;
    # marking the answer of owner1's question in a Q&A category: only staff besides owner1.
    "react": MEMBERS, "post_reactions": ALL, "mention_suggest": MEMBERS,
    "accept_answer": MODERATORS, "category_qa": ADMINS,
    # Private messages: members only; others' conversations answer 404 (tests/messages).
    "messages": MEMBERS, "new_conversation": MEMBERS, "conversation": MEMBERS,
    "conversation_reply": MEMBERS, "leave_conversation": MEMBERS, "report_message": MEMBERS,
    "blocks": MEMBERS, "unblock": MEMBERS,
    # Programmes (#18): anyone reads them; members acknowledge training and apply; the
    # programme's lead (prog_lead, not one of these roles) and administrators run it; only
    # its participants answer check-ins (nobody here is one: tests/programmes).
    "programmes": ALL, "programme": ALL, "new_programme": ADMINS,
    "programme_apply": MEMBERS, "programme_applications": ADMINS, "programme_decide": ADMINS,
    "programme_proposal": ADMINS, "programme_propose": ADMINS, "programme_edit": ADMINS,
    "programme_criteria": ADMINS, "programme_publish": ADMINS, "programme_question": ADMINS,
    "programme_checkin": set(), "programme_dismissive": set(),
    # (Anyone but the pair finds nothing: 404.)
    "programme_message_dismissive": MEMBERS,
    # A pair's own page: signed-in members only, and nobody here is in pair 999999 (404).
    "programme_pair": MEMBERS,
    # From a pair's private space to its page: nobody here is in a pair (404), visitors log in.
    "programme_pair_of_space": MEMBERS,
    "programme_meeting": set(),
    "programme_meeting_remove": set(),
    "programme_dashboard": ADMINS, "programme_csv": ADMINS,
    # A draft's settings, opening it for applications and copying a programme: the lead's.
    "programme_settings": ADMINS, "programme_open": ADMINS, "programme_copy": ADMINS,
    # A member withdraws or leaves only their own application or pair (a member without one
    # is told so: 400); the closing survey is its participants' only; following up reports,
    # closing and the History are the lead's.
    "programme_withdraw": MEMBERS, "programme_leave": MEMBERS, "programme_closing": set(),
    "programme_follow_up": ADMINS, "programme_close": ADMINS, "programme_history": ADMINS,
    # Pairing by hand after publishing is the lead's (here the programme is open: 400).
    "programme_pair_by_hand": ADMINS,
    # The check-in questions' own page, and rewording or removing one: the lead's.
    "programme_questions": ADMINS, "programme_question_change": ADMINS,
    # Accepting the ticked applications at once: the lead's.
    "programme_accept_selected": ADMINS,
}  # fmt: skip


def routes(app) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    found = []
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        name = route.name or route.endpoint.__name__
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            found.append((name, route.path, method))
    return found


def test_every_route_is_in_the_matrix(app) -> None:  # type: ignore[no-untyped-def]
    missing = sorted({name for name, _, _ in routes(app)} - set(ACCESS))
    assert missing == [], f"routes without an access rule: {missing}"


async def _world(db: AsyncSession, settings: Settings) -> dict[str, str]:
    owner = await make_user(db, settings, username="owner1")
    for role in ("member", "editor", "moderator", "admin"):
        await make_user(db, settings, username=f"as_{role}", role=role)
    category = await make_category(db)
    category.is_qa = True  # so that marking an answer is allowed to someone
    thread, posts = await make_thread(db, settings, owner, category)
    editor = await make_user(db, settings, username="editor_owner", role="editor")
    article = await publish(
        db, settings, editor, "An article title", "A summary of the article.", "Body"
    )
    item = await open_item(db, posts[0].id, ["USER_REPORTS"])
    other = await make_user(db, settings, username="owner2")
    conversation, message = await start_conversation(db, settings, owner, [other], "S", "Hi")
    messages = {"conversation_id": str(conversation.id), "message_id": str(message.id),
                "user_id": str(other.id)}  # fmt: skip
    lead = await make_user(db, settings, username="prog_lead", role="programme_lead")
    programme = await create_programme(
        db,
        settings,
        lead,
        ProgrammeForm(
            name="Pilot", purpose="Learn", evaluation="Surveys", training=str(article.id)
        ),
    )
    await acknowledge(db, settings, other, programme, article.id)
    (application,) = await apply_to(db, settings, other, programme, ApplicationForm(side="junior"))
    messages.update(programme_id=str(programme.id), application_id=str(application.id),
                    pair_id="999999", report_id="999999", meeting_id="999999")  # fmt: skip
    await db.commit()
    return {"thread_id": str(thread.id), "post_id": str(posts[0].id), "slug": category.slug,
            "category_id": str(category.id),
            "username": "owner1", "token": "not-a-token", "action": "lock", "item_id": str(item.id),
            "phrase_id": "999999", "article_id": str(article.id),
            "notification_id": "999999", "kind": "thanks", **messages}  # fmt: skip


def _path(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], template)


def denied(role: str, method: str, response: httpx.Response) -> bool:
    if response.status_code in (401, 403):
        return True
    return (
        role == "anonymous"
        and response.status_code == 303
        and "/login" in response.headers.get("location", "")
    )


@pytest.mark.parametrize("role", ROLES)
async def test_matrix(
    app, client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: str
) -> None:  # type: ignore[no-untyped-def]
    values = await _world(db, settings)
    if role != "anonymous":
        await login(client, f"as_{role}")
    token = CSRF_RE.search((await client.get("/login")).text)
    csrf = token.group(1) if token else ""
    failures = []
    for name, template, method in routes(app):
        if name == "logout":
            continue  # logging out would end this role's session mid-test
        path = _path(template, values)
        if method == "GET":
            response = await client.get(path)
        else:
            data = {"csrftoken": csrf, "body": "A fine body", "reason": "r", "version": "1",
                    "role": "member", "title": "A title", "summary": "A summary, long enough."}  # fmt: skip
            if name == "cue_check":
                response = await client.post(
                    path, json={"text": "x"}, headers={"x-csrftoken": csrf}
                )
            else:
                response = await client.post(path, data=data)
        assert response.status_code < 500, (name, method, response.status_code)
        allowed = role in ACCESS[name]
        if allowed == denied(role, method, response):
            failures.append((name, method, role, response.status_code))
    assert failures == []


async def test_members_cannot_act_on_each_others_objects(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    values = await _world(db, settings)
    await login(client, "as_member")
    token = CSRF_RE.search((await client.get("/")).text).group(1)  # type: ignore[union-attr]
    for path, data in [
        (f"/p/{values['post_id']}/edit", {"body": "mine now"}),
        (
            f"/articles/{values['article_id']}/edit",
            {"title": "x" * 5, "summary": "y" * 20, "body": "z"},
        ),
        ("/u/owner1/admin", {"role": "admin", "special_rank_id": ""}),
        (f"/t/{values['thread_id']}/delete", {"reason": "gone"}),
        (f"/p/{values['post_id']}/accept", {}),  # owner1's question, not this member's
    ]:
        r = await client.post(path, data={**data, "csrftoken": token})
        assert r.status_code == 403, path
