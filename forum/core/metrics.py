"""What each web process counts for /metrics (Prometheus), and the middleware that times every
request, counts it and writes its one log line.

Requests are labelled by their route's NAME (e.g. `thread`), never by the raw path: the set of
labels is bounded, and no path (a reset or confirmation link carries a token in it) or query
string is ever stored or logged. Figures that live in the database (the review queue, the
outbox, the worker's verdicts and timings) are read at scrape time instead (forum.app).

With several processes (`candor serve --workers N`), PROMETHEUS_MULTIPROC_DIR makes every
process write its counts to a shared folder and a scrape sums them (prometheus_client's
multiprocess mode); `candor serve` sets it up."""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forum.core.outbox import MailStatus, OutboxMessage

log = logging.getLogger("candor.access")

REGISTRY = CollectorRegistry(auto_describe=True)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "unmatched"  # no route: a 404 for an address that does not exist

REQUESTS = Counter(
    "candor_http_requests",
    "Requests answered, by route name, method and status class (2xx, 3xx, 4xx, 5xx).",
    ["route", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "candor_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route name and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    "candor_login_failures",
    "Sign-ins refused for a wrong username or password (refusals past the limit count as "
    "rate-limit refusals instead).",
    registry=REGISTRY,
)
RATE_LIMIT_REFUSALS = Counter(
    "candor_rate_limit_refusals",
    "Requests refused by a rate limit, by the limit's name (login:ip, post:account, ...).",
    ["limit"],
    registry=REGISTRY,
)


# (route, method, status class) -> its counter and histogram: labels() takes a lock each call.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def exposition() -> bytes:
    """This process's metrics in Prometheus's text format (every process's, summed, in
    multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


async def outbox_metrics(session: AsyncSession, now: datetime) -> list[Metric]:
    """The mail outbox's backlog and failures, read at scrape time (one query on its status
    index; delivered mail, the bulk of the table, is not read)."""
    waiting = (MailStatus.queued.value, MailStatus.failed.value)
    rows = (
        await session.execute(
            select(
                OutboxMessage.status,
                func.count(OutboxMessage.id),
                func.min(OutboxMessage.created_at),
            )
            .where(OutboxMessage.status.in_(waiting))
            .group_by(OutboxMessage.status)
        )
    ).all()
    by_status = {status: (n, oldest) for status, n, oldest in rows}
    messages = GaugeMetricFamily(
        "candor_outbox_messages",
        "Mail in the outbox that is queued (the backlog, waiting for the worker) or failed "
        "(given up after CANDOR_MAIL_MAX_ATTEMPTS tries).",
        labels=["status"],
    )
    for status in waiting:
        messages.add_metric([status], by_status.get(status, (0, None))[0])
    oldest = by_status.get(MailStatus.queued.value, (0, None))[1]
    age = GaugeMetricFamily(
        "candor_outbox_oldest_queued_age_seconds",
        "Age of the oldest message still waiting to be delivered (0 when none is).",
    )
    age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    return [messages, age]


def render_families(families: Iterable[Metric]) -> bytes:
    """Metric families made at scrape time, in the text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(list(families)))
    return generate_latest(registry)


class _Families:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def allowed_networks(
    setting: str,
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CANDOR_METRICS_ALLOW parsed: addresses and networks, comma-separated."""
    return [ipaddress.ip_network(p.strip(), strict=False) for p in setting.split(",") if p.strip()]


def address_allowed(
    host: str | None, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in networks)


def route_of(scope: Scope) -> tuple[str, str]:
    """The matched route's name and path template (e.g. `reset_password`,
    `/password/reset/{token}`): what logs and metrics name a request by."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED, "-"
    name = getattr(route, "name", None) or UNMATCHED
    path = getattr(route, "path", None) or "-"
    return str(name), str(path)


class RequestMetrics:
    """Outermost middleware: times each HTTP request, counts it by route name, method and
    status class, and logs one line (route, method, status, milliseconds)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.observe(scope, status, time.perf_counter() - started)

    @staticmethod
    def observe(scope: Scope, status: int, seconds: float) -> None:
        name, path = route_of(scope)
        method = scope.get("method", "GET")
        method = method if method in METHODS else "other"
        key = (name, method, status // 100)
        children = _CHILDREN.get(key)
        if children is None:  # looked up once per route, method and status class
            children = _CHILDREN[key] = (
                REQUESTS.labels(name, method, f"{status // 100}xx"),
                LATENCY.labels(name, method),
            )
        children[0].inc()
        children[1].observe(seconds)
        ms = round(seconds * 1000, 1)
        log.info(
            "%s %s %s %d %.1fms", method, name, path, status, ms,
            extra={"route": name, "path": path, "method": method, "status": status, "ms": ms},
        )  # fmt: skip
