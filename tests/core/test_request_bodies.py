"""A request's body is read in full, within a time limit, before it may take a transaction or
a lock: a slow sender gets 408 and holds nothing up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from starlette.applications import Starlette

from forum.app import create_app
from forum.core.db import Database
from forum.core.settings import Settings


async def _slow_post(app: Starlette, path: str, sent: bytes, declared: int) -> dict[str, Any]:
    """POST `path` declaring `declared` bytes, sending `sent`, then nothing more."""
    never = asyncio.Event()
    chunks = [{"type": "http.request", "body": sent, "more_body": True}]

    async def receive() -> dict[str, Any]:
        if chunks:
            return chunks.pop()
        await never.wait()  # the client stalls and never disconnects
        return {"type": "http.disconnect"}

    started: dict[str, Any] = {}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-length", str(declared).encode()),
                    (b"content-type", b"application/x-www-form-urlencoded")],
    }  # fmt: skip
    await app(scope, receive, send)
    return started


async def test_a_slow_body_gets_408_without_taking_a_transaction(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns: list[str] = []
    real_turn = Database.write_turn

    @asynccontextmanager
    async def counted_turn(self: Database) -> AsyncIterator[None]:
        turns.append("write turn")
        async with real_turn(self):
            yield

    monkeypatch.setattr(Database, "write_turn", counted_turn)
    app = create_app(settings.model_copy(update={"body_timeout_seconds": 0.3}), database)
    response = await asyncio.wait_for(_slow_post(app, "/login", b"username=a", 1000), 5)
    assert response["status"] == 408
    assert turns == []  # no writer's turn was taken, so no other writer waited
