"""The web process's connection pool under a burst: requests beyond the pool wait for a pooled
connection instead of each opening (and, on return, closing) one of its own."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import event

from forum.app import create_app
from forum.core.db import connect
from tests.conftest import make_settings
from tests.helpers import make_category, make_thread, make_user


async def _connections_opened(url: str, clients: int, **settings: object) -> tuple[int, set[int]]:
    """Serve `clients` simultaneous thread-page requests; return how many database
    connections the app opened and the status codes it answered with."""
    config = make_settings(url, **settings)
    database = connect(url)
    async with database.sessionmaker() as s:
        author = await make_user(s, config)
        thread, _ = await make_thread(s, config, author, await make_category(s), replies=3)
        await s.commit()
    await database.dispose()

    app = create_app(config)  # owns its database, built from the settings
    opened = 0
    async with app.router.lifespan_context(app):

        @event.listens_for(app.state.database.engine.sync_engine, "connect")
        def _count(*_args: object) -> None:
            nonlocal opened
            opened += 1

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            responses = await asyncio.gather(*(c.get(f"/t/{thread.id}") for _ in range(clients)))
    return opened, {r.status_code for r in responses}


@pytest.mark.parametrize("pool_size", [2, 3])
async def test_a_burst_waits_for_pooled_connections(fresh_url: str, pool_size: int) -> None:
    opened, statuses = await _connections_opened(fresh_url, 24, database_pool_size=pool_size)
    assert statuses == {200}
    assert 1 <= opened <= pool_size


async def test_overflow_connections_are_opened_only_when_configured(fresh_url: str) -> None:
    # The contrast that shows the count above measures something: with overflow allowed,
    # the same burst opens connections past the pool.
    opened, statuses = await _connections_opened(
        fresh_url, 24, database_pool_size=2, database_max_overflow=10
    )
    assert statuses == {200}
    assert opened > 2
