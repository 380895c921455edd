"""/metrics: who may read it, and what it says after some activity (scraped and parsed with
prometheus_client's own parser). Process counters are shared by every app in the test session,
so they are checked as differences between two scrapes; database figures are absolute."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from forum.app import create_app
from forum.board.models import Post
from forum.core.db import Database, utcnow
from forum.core.outbox import MailStatus, OutboxMessage, queue_mail
from forum.core.settings import Settings
from forum.review.models import STAGE_SECONDS, ModerationResult
from forum.review.queue import open_item
from moderation.pipeline import CueStage, Pipeline
from moderation.signals import PostInput
from tests.helpers import make_category, make_thread, make_user, post_form

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> tuple[Samples, str]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text), response.text


def client_for(app, client_host: str = "127.0.0.1") -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=(client_host, 4321))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _results(
    db: AsyncSession,
    post_id: int,
    verdicts: list[str],
    cue_ms: list[float],
    age: timedelta = timedelta(minutes=5),
) -> None:
    for verdict, ms in zip(verdicts, cue_ms, strict=True):
        db.add(ModerationResult(post_id=post_id, verdict=verdict, reasons=[], scores={},
                                evidence=[], models={}, failed_stages={}, complete=True,
                                nudge_phrases=[], created_at=utcnow() - age,
                                context={STAGE_SECONDS: {"cues": ms / 1000, "dismissive": 0.5}}))  # fmt: skip
    await db.flush()


async def test_metrics_after_activity(
    database: Database, db: AsyncSession, settings: Settings
) -> None:
    settings = settings.model_copy(
        update={"metrics_cache_seconds": 0, "login_max_failures_account": 2}
    )
    app = create_app(settings, database)
    author = await make_user(db, settings, username="writer")
    thread, posts = await make_thread(db, settings, author, await make_category(db), replies=2)
    # The review queue: two open items (the oldest opened an hour ago), one closed.
    old = await open_item(db, posts[0].id, ["USER_REPORTS"])
    old.opened_at = utcnow() - timedelta(hours=1)
    await open_item(db, posts[1].id, ["USER_REPORTS"])
    closed = await open_item(db, posts[2].id, ["USER_REPORTS"])
    closed.status = "closed"
    # Verdicts and stage timings (cues: 1..10 ms per post), as the worker stores them.
    await _results(db, posts[0].id, ["clear"] * 7 + ["flag", "flag", "hold"],
                   [float(ms) for ms in range(1, 11)])  # fmt: skip
    # Two posts still wait for the worker (the third was scored).
    await db.execute(update(Post).where(Post.id == posts[2].id).values(needs_scoring=False))
    # Outbox: two queued, one failed, one sent.
    for to in ("a@example.org", "b@example.org"):
        queue_mail(db, to, "Hello", "Body")
    failed, sent = (
        queue_mail(db, "c@example.org", "x", "y"),
        queue_mail(db, "d@example.org", "x", "y"),
    )
    failed.status, sent.status = MailStatus.failed.value, MailStatus.sent.value
    await db.flush()
    await db.execute(update(OutboxMessage).where(OutboxMessage.to_address == "a@example.org")
                     .values(created_at=utcnow() - timedelta(minutes=10)))  # fmt: skip
    await db.commit()

    async with client_for(app) as client:
        before, _ = await scrape(client)
        for _ in range(3):
            assert (await client.get("/")).status_code == 200
        assert (await client.get(f"/t/{thread.id}")).status_code == 200
        assert (await client.get("/no/such/page?token=s3cr3t")).status_code == 404
        assert (await client.get("/password/reset/tok-SECRET-123")).status_code < 500
        for _ in range(3):  # two wrong passwords, then the account's limit refuses the third
            r = await post_form(client, "/login", {"username": "writer", "password": "wrong"})
            assert r.status_code in (400, 429)
        after, text = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("candor_http_requests_total", route="home", method="GET", status="2xx") == 3
    assert delta("candor_http_requests_total", route="thread", method="GET", status="2xx") == 1
    assert delta("candor_http_requests_total", route="unmatched", method="GET", status="4xx") == 1
    assert delta("candor_http_requests_total", route="login", method="POST", status="4xx") == 3
    assert delta("candor_http_request_duration_seconds_count", route="home", method="GET") == 3
    assert (
        delta("candor_http_request_duration_seconds_bucket", route="home", method="GET", le="+Inf")
        == 3
    )
    assert delta("candor_http_request_duration_seconds_sum", route="home", method="GET") > 0
    # Labels are route names: no raw path or token ever becomes one.
    assert "SECRET" not in text and "s3cr3t" not in text and "/no/such" not in text
    assert delta("candor_login_failures_total") == 2
    assert delta("candor_rate_limit_refusals_total", limit="login:account") == 1

    assert value(after, "candor_review_queue_depth") == 2
    assert 3590 < value(after, "candor_review_queue_oldest_age_seconds") < 3700
    assert value(after, "candor_moderation_verdicts_total", verdict="clear") == 7
    assert value(after, "candor_moderation_verdicts_total", verdict="flag") == 2
    assert value(after, "candor_moderation_verdicts_total", verdict="hold") == 1
    assert value(after, "candor_moderation_verdicts_total", verdict="unscored") == 0
    assert value(after, "candor_moderation_backlog") == 2
    assert value(
        after, "candor_moderation_stage_seconds", stage="cues", quantile="0.5"
    ) == pytest.approx(0.005)
    assert value(
        after, "candor_moderation_stage_seconds", stage="cues", quantile="0.95"
    ) == pytest.approx(0.010)
    assert value(
        after, "candor_moderation_stage_seconds", stage="cues", quantile="1.0"
    ) == pytest.approx(0.010)
    assert value(
        after, "candor_moderation_stage_seconds", stage="dismissive", quantile="0.5"
    ) == pytest.approx(0.5)
    assert value(after, "candor_moderation_stage_samples", stage="cues") == 10
    assert value(after, "candor_outbox_messages", status="queued") == 2
    assert value(after, "candor_outbox_messages", status="failed") == 1
    assert ("candor_outbox_messages", frozenset({("status", "sent")})) not in after  # not read
    assert 590 < value(after, "candor_outbox_oldest_queued_age_seconds") < 700


async def test_only_allowed_addresses_may_read_metrics(
    database: Database, settings: Settings
) -> None:
    default = create_app(settings, database)
    async with client_for(default) as c:
        assert (await c.get("/metrics")).status_code == 200
        # Forwarded by a proxy no one said to trust: the real client is unknown.
        assert (
            await c.get("/metrics", headers={"x-forwarded-for": "127.0.0.1"})
        ).status_code == 404
        assert (await c.get("/metrics", headers={"forwarded": "for=127.0.0.1"})).status_code == 404
    async with client_for(default, "203.0.113.7") as c:
        refused = await c.get("/metrics")
        assert refused.status_code == 404 and "candor_" not in refused.text
    async with client_for(default, "::1") as c:
        assert (await c.get("/metrics")).status_code == 200

    closed = create_app(settings.model_copy(update={"metrics_allow": ""}), database)
    async with client_for(closed) as c:
        assert (await c.get("/metrics")).status_code == 404

    # Behind a trusted proxy, the address it forwards is the client's (as `candor serve` does
    # with CANDOR_TRUSTED_PROXIES).
    proxied = settings.model_copy(
        update={"metrics_allow": "10.0.0.0/8", "trusted_proxies": "127.0.0.1"}
    )
    app = ProxyHeadersMiddleware(create_app(proxied, database), trusted_hosts=["127.0.0.1"])
    async with client_for(app) as c:
        assert (await c.get("/metrics")).status_code == 404  # the proxy itself is not allowed
        ok = await c.get("/metrics", headers={"x-forwarded-for": "10.1.2.3"})
        assert ok.status_code == 200 and "candor_review_queue_depth" in ok.text
        outside = await c.get("/metrics", headers={"x-forwarded-for": "198.51.100.4"})
        assert outside.status_code == 404


async def test_database_figures_are_read_per_scrape_not_per_request(
    database: Database, settings: Settings, queries
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"metrics_cache_seconds": 60}), database)
    async with client_for(app) as client:
        queries.start()
        assert (await client.get("/")).status_code == 200
        queries.stop()
        page = " ".join(queries.statements).lower()
        assert "outbox" not in page and "moderation_results" not in page
        queries.start()
        await scrape(client)
        first = queries.stop()
        queries.start()
        await scrape(client)
        second = queries.stop()
    assert 1 <= first <= 6  # a handful of small queries
    assert second == 0  # reused within CANDOR_METRICS_CACHE_SECONDS


async def test_verdicts_are_counted_once_each_from_the_rows_added_since_the_last_scrape(
    database: Database, db: AsyncSession, settings: Settings
) -> None:
    app = create_app(settings.model_copy(update={"metrics_cache_seconds": 0}), database)
    author = await make_user(db, settings)
    _, posts = await make_thread(db, settings, author, await make_category(db))
    await _results(db, posts[0].id, ["clear", "flag"], [1.0, 1.0])
    await db.commit()

    async def verdicts() -> tuple[float, float]:
        samples, _ = await scrape(client)
        return (value(samples, "candor_moderation_verdicts_total", verdict="clear"),
                value(samples, "candor_moderation_verdicts_total", verdict="flag"))  # fmt: skip

    async with client_for(app) as client:
        assert await verdicts() == (1, 1)
        assert await verdicts() == (1, 1)  # not counted twice
        # Just written: counted once settled (a result committed late with a lower id is
        # not skipped).
        await _results(db, posts[0].id, ["clear"], [1.0], age=timedelta(0))
        await db.commit()
        assert await verdicts() == (1, 1)
        await db.execute(
            update(ModerationResult).values(created_at=utcnow() - timedelta(minutes=1))
        )
        await _results(db, posts[0].id, ["flag"], [1.0])
        await db.commit()
        assert await verdicts() == (2, 2)
        assert app.state.verdict_counts.last_id == max(
            (await db.scalars(select(ModerationResult.id))).all()
        )


def test_the_pipeline_times_each_stage_per_post() -> None:
    class Slow(CueStage):
        name = "slow"

        def score(self, posts: list[PostInput]) -> list:  # type: ignore[type-arg]
            import time

            time.sleep(0.02 * len(posts))
            return super().score(posts)

    pipeline = Pipeline(Settings(secret_key="x"), [CueStage(), Slow()])  # type: ignore[arg-type]
    pipeline.load()
    outcomes = pipeline.run([PostInput(post_id=i, text="Thanks, useful.") for i in (1, 2)])
    for outcome in outcomes:
        assert set(outcome.seconds) == {"cues", "slow"}
        assert 0.019 < outcome.seconds["slow"] < 0.2  # the batch's time over its two posts
        assert outcome.seconds["cues"] < outcome.seconds["slow"]


async def test_the_worker_stores_stage_timings(fresh_database: Database, fresh_url: str) -> None:
    from moderation.worker import Worker
    from tests.conftest import make_settings

    settings = make_settings(fresh_url)
    async with fresh_database.sessionmaker() as session:
        author = await make_user(session, settings)
        _, posts = await make_thread(session, settings, author, await make_category(session))
    pipeline = Pipeline(settings, [CueStage()])
    pipeline.load()
    assert await Worker(settings, fresh_database, pipeline).run_once() == 1
    async with fresh_database.sessionmaker() as session:
        stored = await session.scalar(
            select(ModerationResult).where(ModerationResult.post_id == posts[0].id)
        )
    assert stored is not None
    timing = stored.context[STAGE_SECONDS]
    assert set(timing) == {"cues"} and 0 <= timing["cues"] < 1


def test_several_web_processes_are_summed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`candor serve --workers N` gives its processes a shared PROMETHEUS_MULTIPROC_DIR: a
    scrape answered by any one of them counts them all."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = "from forum.core.metrics import LOGIN_FAILURES; LOGIN_FAILURES.inc()"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    show = "import sys; from forum.core.metrics import exposition; sys.stdout.write(exposition().decode())"
    out = subprocess.run([sys.executable, "-c", show], env=env, check=True, timeout=60,
                         capture_output=True, text=True).stdout  # fmt: skip
    assert value(parse(out), "candor_login_failures_total") == 2


def test_a_malformed_allow_list_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="metrics_allow"):
        Settings(secret_key="x", metrics_allow="127.0.0.1,localhost")
    assert Settings(secret_key="x", metrics_allow=" 10.0.0.0/8 , ::1 ").metrics_allow
