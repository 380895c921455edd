"""Property-based fuzzing of every form (hypothesis): whatever is sent, no 5xx; a rejected
request stores nothing and changes nothing already stored."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from forum.accounts.models import EmailChange, User
from forum.admin.models import Guidelines
from forum.app import create_app
from forum.articles.models import Article
from forum.articles.services import publish
from forum.board.models import Category, Draft, Post, Thread
from forum.core.audit import AuditEntry
from forum.core.db import connect
from forum.messages.models import Block, Conversation, Message
from forum.messages.services import start_conversation
from forum.notifications.models import CategoryWatch, NotificationPreference, ThreadWatch
from forum.programmes.models import (
    Application,
    CheckinAnswer,
    CheckinQuestion,
    DismissiveReport,
    Pair,
    PairingJob,
    Programme,
)
from forum.programmes.services import (
    ApplicationForm,
    ProgrammeForm,
    acknowledge,
    create_programme,
)
from forum.programmes.services import apply as apply_to
from forum.review.models import Report, WatchedPhrase
from tests.conftest import TemplateDB, make_settings, run_in_thread
from tests.helpers import PASSWORD, make_category, make_thread, make_user

TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["", " ", "\x00", "\u202e", "a" * 151, "b" * 20_001, "<script>x</script>",
                     "-1", "99999999999999999999", "0", "member", "moderator", "../../etc"]),
)  # fmt: skip
FORMS: list[tuple[str, str, list[str]]] = [
    (
        "anonymous",
        "/register",
        ["username", "email", "location", "password", "password_confirm", "time_zone"],
    ),
    ("anonymous", "/login", ["username", "password", "next"]),
    ("anonymous", "/password/forgot", ["email"]),
    ("member", "/c/{slug}/new", ["title", "body", "post_anyway", "preview", "save_draft"]),
    ("member", "/t/{thread}/reply", ["body", "reply_to", "post_anyway", "preview", "save_draft"]),
    ("owner", "/p/{post}/edit", ["body", "title", "preview"]),
    ("member", "/t/{thread}/draft", ["body"]),
    ("member", "/c/{slug}/draft", ["title", "body"]),
    ("member", "/account/profile", ["location", "bio"]),
    ("member", "/account/time-zone", ["time_zone"]),
    ("member", "/account/password", ["current_password", "password", "password_confirm"]),
    ("member", "/p/{post}/report", ["reason", "note"]),
    ("member", "/u/fuzzowner/report", ["reason", "note"]),
    ("editor", "/articles/new", ["title", "summary", "body"]),
    ("moderator", "/mod/phrases", ["phrase"]),
    ("moderator", "/t/{thread}/move", ["category_id", "reason"]),
    ("moderator", "/t/{thread}/lock", ["reason"]),
    ("member", "/articles/{article}/comments", ["body"]),
    ("editor", "/articles/{article}/edit", ["title", "summary", "body"]),
    ("anonymous", "/password/reset/{token}", ["password", "password_confirm"]),
    ("member", "/u/fuzzowner/admin", ["role", "special_rank_id"]),
    ("moderator", "/u/fuzzowner/lift", ["restriction", "reason"]),
    ("moderator", "/u/fuzzowner/restrict", ["restriction", "reason", "duration"]),
    ("anonymous", "/register/confirm/{token}", ["csrftoken_extra"]),
    ("member", "/account/email", ["email", "current_password"]),
    ("member", "/account/delete", ["current_password"]),
    ("member", "/account/email/confirm/{token}", ["csrftoken_extra"]),
    ("member", "/account/rank-notice", ["next"]),
    ("admin", "/admin/guidelines", ["body", "action"]),
    # The board's categories: an empty one to add beside, edit and move; the fuzzed category
    # (it holds a thread) cannot be deleted.
    (
        "admin",
        "/admin/categories",
        ["name", "slug", "description", "parent_id", "position", "is_qa", "staff_only"],
    ),
    (
        "admin",
        "/admin/categories/{spare_category}",
        ["name", "slug", "description", "parent_id", "position", "is_qa", "staff_only"],
    ),
    ("admin", "/admin/categories/{spare_category}/move", ["direction"]),
    ("admin", "/admin/categories/{category}/delete", ["csrftoken_extra"]),
    (
        "member",
        "/notifications/preferences",
        [
            "kind_reply",
            "kind_mention",
            "kind_quote",
            "kind_post",
            "kind_reaction",
            "kind_message",
            "kind_moderation",
            "kind_rank",
            "kind_programme",
            "kind_checkin",
            "kind_programme_lead",
            "category_digest",
            "auto_track",
        ],
    ),
    ("member", "/notifications/read-all", ["csrftoken_extra"]),
    ("member", "/notifications/999999/open", ["csrftoken_extra"]),
    ("member", "/watch/t/{thread}", ["level", "next"]),
    ("member", "/watch/c/{slug}", ["level"]),
    ("member", "/p/{post}/react/thanks", ["undo"]),
    ("owner", "/p/{post}/accept", ["undo"]),
    ("admin", "/c/{slug}/qa", ["undo"]),
    ("member", "/messages/new", ["to", "subject", "body", "post_anyway"]),
    ("member", "/messages/{conversation}/reply", ["body", "reply_to", "post_anyway"]),
    ("member", "/messages/m/{message}/report", ["reason", "note"]),
    ("member", "/messages/blocks", ["username"]),
    ("member", "/messages/blocks/{owner}/remove", ["csrftoken_extra"]),
    ("owner", "/messages/{conversation_to_leave}/leave", ["csrftoken_extra"]),
    (
        "admin",
        "/programmes/new",
        [
            "name",
            "kind",
            "purpose",
            "junior_learns",
            "senior_learns",
            "evaluation",
            "starts_on",
            "ends_on",
            "pilot_size",
            "ground_rules",
            "training",
            "topics",
            "slots",
            "checkin_days",
        ],
    ),
    (
        "member",
        "/programmes/{programme}/apply",
        [
            "side",
            "job_title",
            "department",
            "seniority",
            "teaches",
            "learns",
            "free_text",
            "availability",
            "avoid",
            "reporting_line",
        ],
    ),
    ("admin", "/programmes/{programme}/applications/{application}", ["decision", "reason"]),
    ("admin", "/programmes/{programme}/open", ["confirm"]),
    ("admin", "/programmes/{programme}/settings", ["name", "kind", "purpose", "slots", "training"]),
    ("admin", "/programmes/{programme}/propose", ["csrftoken_extra"]),
    ("admin", "/programmes/{programme}/edit", ["action", "pair"]),
    (
        "admin",
        "/programmes/{programme}/criteria",
        ["overlap", "availability", "department", "gap", "gap_min", "gap_max"],
    ),
    ("admin", "/programmes/{programme}/publish", ["over_pilot"]),
    ("admin", "/programmes/{programme}/publish", ["confirm", "over_pilot"]),
    ("admin", "/programmes/{programme}/pairs/new", ["junior", "senior"]),
    ("admin", "/programmes/{programme}/edit", ["action", "junior", "senior"]),
    ("admin", "/programmes/{programme}/questions", ["prompt", "kind", "side", "when"]),
    ("owner", "/programmes/{programme}/checkin", ["side", "q1", "q2"]),
    ("owner", "/programmes/{programme}/closing", ["side", "q1", "q2"]),
    ("member", "/programmes/{programme}/withdraw", ["csrftoken_extra"]),
    ("member", "/programmes/{programme}/leave", ["confirm", "csrftoken_extra"]),
    ("admin", "/programmes/{programme}/reports/999999/follow-up", ["action", "note"]),
    ("admin", "/programmes/{programme}/close", ["csrftoken_extra"]),
    ("member", "/programmes/{programme}/pairs/999999/dismissive", ["confirm", "message_id"]),
    ("member", "/programmes/{programme}/pairs/999999/meeting", ["met_on"]),
    ("member", "/programmes/{programme}/pairs/999999/meetings/999999/remove", ["csrftoken_extra"]),
    ("admin", "/programmes/{programme}/questions/change", ["question", "action", "prompt"]),
    ("admin", "/programmes/{programme}/applications/accept", ["application"]),
]
COUNTED = (User, Thread, Post, Report, Article, WatchedPhrase, Guidelines, EmailChange, Draft,
           NotificationPreference, ThreadWatch, CategoryWatch, Conversation, Message, Block,
           Programme, Application, PairingJob, CheckinQuestion, CheckinAnswer, Pair,
           DismissiveReport, AuditEntry, Category)  # fmt: skip


@pytest.fixture(scope="module")
def world(template_db: TemplateDB) -> Iterator[dict[str, Any]]:
    url = template_db.copy()
    settings_ = make_settings(url, posts_max_per_minute=10**9, posts_max_per_minute_ip=10**9, login_max_failures_ip=10**9,
                              login_max_failures_account=10**9, register_max_per_ip_hour=10**9,
                              reports_max_per_hour=10**9, reports_max_per_hour_ip=10**9,
                              notify_changes_per_minute=10**9, reactions_max_per_hour=10**9,
                              messages_max_per_minute=10**9, messages_max_per_hour=10**9,
                              messages_new_account_max_per_hour=10**9,
                              conversations_max_per_day=10**9,
                              programme_writes_max_per_hour=10**9)  # fmt: skip

    async def seed() -> dict[str, Any]:
        database = connect(url)
        async with database.sessionmaker() as s:
            owner = await make_user(s, settings_, username="fuzzowner")
            for role in ("member", "editor", "moderator", "admin"):
                await make_user(s, settings_, username=f"fuzz_{role}", role=role)
            category = await make_category(s, "Fuzzing")
            category.is_qa = True  # answers can be marked (/p/{post}/accept)
            spare = await make_category(s, "Spare for fuzzing")
            thread, posts = await make_thread(s, settings_, owner, category, body="Original body.")
            editor = await s.scalar(select(User).where(User.username_key == "fuzz_editor"))
            assert editor is not None
            article = await publish(
                s, settings_, editor, "Fuzz article", "A summary for fuzzing.", "Body"
            )
            member = await s.scalar(select(User).where(User.username_key == "fuzz_member"))
            assert member is not None
            conversation, message = await start_conversation(
                s, settings_, owner, [member], "Fuzzing", "A message to report."
            )
            message.state = "clear"  # as if the worker had cleared it: the member sees it
            to_leave, _ = await start_conversation(s, settings_, owner, [member], "Leave", "Bye")
            admin = await s.scalar(select(User).where(User.username_key == "fuzz_admin"))
            assert admin is not None
            programme = await create_programme(s, settings_, admin, ProgrammeForm(
                name="Fuzz pilot", purpose="Learn", evaluation="Surveys", training=str(article.id),
                topics="AI tools", slots="mon-am"))  # fmt: skip
            applicant = await make_user(s, settings_, username="fuzz_applicant")
            await acknowledge(s, settings_, applicant, programme, article.id)
            (application,) = await apply_to(s, settings_, applicant, programme,
                                             ApplicationForm(side="junior"))  # fmt: skip
            await s.commit()
            ids = {
                "conversation": conversation.id,
                "message": message.id,
                "conversation_to_leave": to_leave.id,
                "slug": category.slug,
                "category": category.id,
                "spare_category": spare.id,
                "thread": thread.id,
                "post": posts[0].id,
                "owner": owner.id,
                "article": article.id,
                "token": "no-such-token",
                "programme": programme.id,
                "application": application.id,
            }
        await database.dispose()
        return ids

    ids = run_in_thread(seed)
    app = create_app(settings_)
    # One client (one event loop for the app's connection pool); each role is a cookie jar.
    with TestClient(app, base_url="http://testserver") as client:
        jars: dict[str, dict[str, str]] = {"anonymous": {}}
        for role, name in (("member", "fuzz_member"), ("owner", "fuzzowner"), ("editor", "fuzz_editor"),
                           ("moderator", "fuzz_moderator"), ("admin", "fuzz_admin")):  # fmt: skip
            client.cookies.clear()
            token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text).group(
                1
            )  # type: ignore[union-attr]
            assert client.post("/login", data={"username": name, "password": PASSWORD, "csrftoken": token},
                               follow_redirects=False).status_code == 303  # fmt: skip
            jars[role] = dict(client.cookies.items())
        snapshot = Snapshot(url)
        try:
            yield {"client": client, "jars": jars, "ids": ids, "snapshot": snapshot}
        finally:
            snapshot.close()


class Snapshot:
    """Every counted kind's row count, the first post's body and the first thread's title, in
    one query over a pool kept open on an event loop of its own (a new connection per read cost
    a quarter of a second, twice per example, on PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.database = connect(url)
        counts = [select(func.count()).select_from(m).scalar_subquery() for m in COUNTED]
        body = select(Post.body_source).order_by(Post.id).limit(1).scalar_subquery()
        title = select(Thread.title).order_by(Thread.id).limit(1).scalar_subquery()
        self.query = select(*counts, body, title)

    async def _read(self) -> tuple[Any, ...]:
        async with self.database.sessionmaker() as s:
            return tuple((await s.execute(self.query)).one())

    def __call__(self) -> tuple[Any, ...]:
        return asyncio.run_coroutine_threadsafe(self._read(), self.loop).result()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.database.dispose(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.mark.parametrize("role,template,fields", FORMS, ids=[f[1] for f in FORMS])
def test_form_fuzz(world: dict[str, Any], role: str, template: str, fields: list[str]) -> None:
    client: TestClient = world["client"]
    client.cookies.clear()
    for name, value in world["jars"][role].items():
        client.cookies.set(name, value)
    path = template.format(**world["ids"])
    token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    csrf = token.group(1)

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(st.fixed_dictionaries({}, optional={f: TEXT for f in fields}))
    def check(data: dict[str, str]) -> None:
        before = world["snapshot"]()
        response = client.post(path, data={**data, "csrftoken": csrf}, follow_redirects=False)
        assert response.status_code < 500, (path, data, response.status_code)
        if response.status_code >= 400:
            assert world["snapshot"]() == before, (path, data)

    check()


def _as_role(world: dict[str, Any], role: str) -> tuple[TestClient, str]:
    client: TestClient = world["client"]
    client.cookies.clear()
    for name, value in world["jars"][role].items():
        client.cookies.set(name, value)
    token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    return client, token.group(1)


MULTIPART = [f for f in FORMS if f[0] in ("anonymous", "member")]


@pytest.mark.parametrize("role,template,fields", MULTIPART, ids=[f[1] for f in MULTIPART])
def test_multipart_form_fuzz(
    world: dict[str, Any], role: str, template: str, fields: list[str]
) -> None:
    """The same forms sent as multipart/form-data (what `curl -F` sends)."""
    client, csrf = _as_role(world, role)
    path = template.format(**world["ids"])

    @settings(max_examples=8, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(st.fixed_dictionaries({}, optional={f: TEXT for f in fields}))
    def check(data: dict[str, str]) -> None:
        parts = {k: (None, v) for k, v in {**data, "csrftoken": csrf}.items()}
        response = client.post(path, files=parts, follow_redirects=False)
        assert response.status_code < 500, (path, data, response.status_code)

    check()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def test_json_body_fuzz(world: dict[str, Any]) -> None:
    client, csrf = _as_role(world, "member")

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(st.one_of(JSON, st.fixed_dictionaries({"text": JSON})), st.binary(max_size=64))
    def check(data: object, raw: bytes) -> None:
        headers = {"x-csrftoken": csrf}
        response = client.post("/api/cues", json=data, headers=headers)
        assert response.status_code < 500, (data, response.status_code)
        headers["content-type"] = "application/json"
        response = client.post("/api/cues", content=raw, headers=headers)
        assert response.status_code < 500, (raw, response.status_code)

    check()


QUERY_KEYS = ["page", "q", "category", "author", "from", "to", "status", "quote", "next"]


def test_query_string_fuzz_on_every_get_route(world: dict[str, Any]) -> None:
    """Every GET route, as a moderator (who reaches the most pages), with fuzzed queries."""
    from starlette.routing import Route

    client, _csrf = _as_role(world, "moderator")
    ids = {**world["ids"], "thread_id": world["ids"]["thread"], "post_id": world["ids"]["post"],
           "article_id": world["ids"]["article"], "item_id": 1, "username": "fuzzowner",
           "conversation_id": world["ids"]["conversation"], "message_id": world["ids"]["message"],
           "user_id": world["ids"]["owner"]}  # fmt: skip
    paths = [
        re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids.get(m.group(1), "x")), route.path)
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.methods and "GET" in route.methods
    ]
    assert len(paths) >= 20

    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(st.sampled_from(paths), st.dictionaries(st.sampled_from(QUERY_KEYS), TEXT, max_size=4))
    def check(path: str, query: dict[str, str]) -> None:
        response = client.get(path, params=query, follow_redirects=False)
        assert response.status_code < 500, (path, query, response.status_code)

    check()
