"""Request logs: one line per request naming the route (never the path, whose reset and
confirmation links carry tokens, nor the query string), the method, the status and the time;
JSON lines with CANDOR_LOG_FORMAT=json, from `candor serve` itself."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.load import free_port
from forum.core.db import Database
from forum.core.logs import JsonFormatter, log_config
from forum.core.settings import Settings
from tests.helpers import post_form

LINE = re.compile(r"^(GET|POST) ([a-z_]+) (\S+) (\d{3}) (\d+\.\d)ms$")
TOKEN = "tok-SECRET-4f2a"


async def test_one_line_per_request(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="candor.access")
    await client.get("/")
    await client.get(f"/password/reset/{TOKEN}?token={TOKEN}")
    await client.get(f"/register/confirm/{TOKEN}")
    await post_form(client, "/login", {"username": "nobody", "password": "wrong"})
    await client.get(f"/nowhere?next={TOKEN}")
    lines = [r for r in caplog.records if r.name == "candor.access"]
    messages = [r.getMessage() for r in lines]
    # home, reset, confirm, the login page (for its token), the failed login, a 404
    assert len(lines) == 6, messages
    parsed = [LINE.match(m) for m in messages]
    assert all(parsed), messages
    assert [(m[1], m[2], m[4]) for m in parsed if m] == [
        ("GET", "home", "200"),
        ("GET", "reset_password", "400"),  # no such link
        ("GET", "confirm_email", "400"),  # no such link
        ("GET", "login", "200"),
        ("POST", "login", "400"),
        ("GET", "unmatched", "404"),
    ]
    assert parsed[1] and parsed[1][3] == "/password/reset/{token}"
    for record in lines:
        assert TOKEN not in record.getMessage() and "?" not in record.getMessage()
        assert TOKEN not in json.dumps({k: str(v) for k, v in vars(record).items()})
        fields = vars(record)
        assert isinstance(fields["ms"], float) and fields["ms"] >= 0
        assert fields["status"] in (200, 400, 404) and fields["method"] in ("GET", "POST")


def test_json_lines() -> None:
    record = logging.LogRecord(
        "candor.access", logging.INFO, __file__, 1, "%s %s", ("GET", "home"), None
    )
    record.__dict__.update(route="home", method="GET", status=200, ms=1.5, path="/")
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "GET home" and entry["level"] == "INFO"
    assert entry["logger"] == "candor.access" and entry["time"].endswith("+00:00")
    assert (entry["route"], entry["method"], entry["status"], entry["ms"]) == (
        "home",
        "GET",
        200,
        1.5,
    )
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("candor", logging.ERROR, __file__, 1, "bad", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(failed))["exception"]
    assert log_config("json")["formatters"]["candor"] == {"()": "forum.core.logs.JsonFormatter"}
    assert "format" in log_config("text")["formatters"]["candor"]


def test_settings_refuse_an_unknown_log_format() -> None:
    with pytest.raises(ValueError):
        Settings(secret_key="x", log_format="xml")  # type: ignore[arg-type]


def test_candor_serve_writes_json_request_lines(fresh_url: str, fresh_database: Database) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": fresh_url, "CANDOR_SECRET_KEY": "k",
           "CANDOR_LOG_FORMAT": "json", "CANDOR_DETOXIFY_MODEL": "off"}  # fmt: skip
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [sys.executable, "-m", "forum.cli", "serve", "--port", str(port)],
        env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.2)
        assert httpx.get(f"{base}/password/reset/{TOKEN}?token={TOKEN}").status_code < 500
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # all JSON
    requests = [e for e in entries if e["logger"] == "candor.access"]
    assert {"route": "reset_password", "path": "/password/reset/{token}", "method": "GET",
            "status": 400} in [{k: e[k] for k in ("route", "path", "method", "status")}
                               for e in requests]  # fmt: skip
    assert any(e["route"] == "healthz" and isinstance(e["ms"], float) for e in requests)
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # uvicorn's lines too
    assert TOKEN not in stderr


async def test_an_unhandled_error_is_logged_without_the_path(
    settings: Settings, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    from starlette.requests import Request
    from starlette.routing import Route

    from forum.app import create_app

    async def boom(request: Request) -> None:
        raise RuntimeError("a bug")

    caplog.set_level(logging.INFO, logger="candor.access")
    app = create_app(settings, database)
    app.router.routes.append(Route("/boom/{token}", boom, name="boom"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get(f"/boom/{TOKEN}?t={TOKEN}")).status_code == 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("unhandled error on GET boom (/boom/{token})" in r.getMessage() for r in errors)
    requests = [r.getMessage() for r in caplog.records if r.name == "candor.access"]
    assert requests == ["GET boom /boom/{token} 500 " + requests[0].split()[-1]]
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
