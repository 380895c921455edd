"""Links in mail follow the address `candor serve` serves (and the worker it starts), unless
CANDOR_BASE_URL says otherwise; never the request's Host header."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import forum.cli
from forum.app import create_app
from forum.cli import served_base_url
from forum.core.db import Database
from forum.core.outbox import OutboxMessage
from forum.core.settings import Settings
from tests.conftest import make_settings
from tests.helpers import make_user, post_form


def test_the_served_address_becomes_the_base_url() -> None:
    assert served_base_url("127.0.0.1", 8740) == "http://127.0.0.1:8740"
    assert served_base_url("localhost", 8000) == "http://localhost:8000"
    assert served_base_url("forum.example.org", 80) == "http://forum.example.org"
    assert served_base_url("::1", 8001) == "http://[::1]:8001"
    # Every interface: not an address a reader can open; this machine's name stands for it.
    host = socket.gethostname()
    assert served_base_url("0.0.0.0", 8740) == f"http://{host}:8740"
    assert served_base_url("::", 8740) == f"http://{host}:8740"


@pytest.fixture
def no_base_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CANDOR_BASE_URL", "unset-below")
    monkeypatch.delenv("CANDOR_BASE_URL")  # monkeypatch restores the original afterwards
    monkeypatch.chdir(os.path.dirname(__file__))  # no .env file here
    yield


def _serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, Any]:
    """Run `candor serve ARGS --with-worker` with uvicorn and the worker replaced by spies:
    what the web process (built from the environment, as forum.asgi does) and the worker see."""
    seen: dict[str, Any] = {}

    class Worker:
        def __init__(self, command: list[str], env: dict[str, str]) -> None:
            seen["worker_env"] = env

        def terminate(self) -> None: ...

        def wait(self, timeout: float) -> None: ...

    def run(app: str, **options: Any) -> None:
        seen["web_base_url"] = Settings(secret_key="x").base_url
        seen["options"] = options

    monkeypatch.setattr("subprocess.Popen", Worker)
    monkeypatch.setattr("uvicorn.run", run)
    result = CliRunner().invoke(forum.cli.app, ["serve", *args, "--with-worker"])
    assert result.exit_code == 0, result.output
    seen["output"] = result.output
    return seen


def test_serve_hands_its_address_to_the_web_processes_and_the_worker(
    monkeypatch: pytest.MonkeyPatch, no_base_url: None
) -> None:
    seen = _serve(monkeypatch, "--port", "8740")
    assert seen["options"]["port"] == 8740
    assert seen["web_base_url"] == "http://127.0.0.1:8740"
    assert seen["worker_env"]["CANDOR_BASE_URL"] == "http://127.0.0.1:8740"
    assert "links in mail: http://127.0.0.1:8740" in seen["output"]


def test_a_configured_base_url_wins(monkeypatch: pytest.MonkeyPatch, no_base_url: None) -> None:
    monkeypatch.setenv("CANDOR_BASE_URL", "https://forum.example.org")
    seen = _serve(monkeypatch, "--host", "0.0.0.0", "--port", "8740")
    assert seen["web_base_url"] == "https://forum.example.org"
    assert seen["worker_env"]["CANDOR_BASE_URL"] == "https://forum.example.org"


async def test_a_reset_link_uses_the_served_address_whatever_the_host_header(
    monkeypatch: pytest.MonkeyPatch, no_base_url: None, settings: Settings, database: Database
) -> None:
    seen = _serve(monkeypatch, "--port", "8740")
    served = make_settings(settings.database_url, base_url=seen["web_base_url"])
    app = create_app(served, database)
    async with database.sessionmaker() as db:
        await make_user(db, served, username="forgetful", email="forgetful@example.org")
        await db.commit()
        transport = httpx.ASGITransport(app=app)
        # A client names any host it likes: reset-link poisoning must not follow it.
        async with httpx.AsyncClient(
            transport=transport, base_url="http://attacker.example"
        ) as client:
            r = await post_form(
                client, "/password/forgot", {"email": "forgetful@example.org"}, "/password/forgot"
            )
            assert r.status_code == 200
        mail = await db.scalar(
            select(OutboxMessage).where(OutboxMessage.to_address == "forgetful@example.org")
        )
        assert mail is not None and mail.secret_body is not None
        assert re.search(r"http://127\.0\.0\.1:8740/password/reset/\S+", mail.secret_body)
        assert "attacker.example" not in mail.secret_body
