"""A real Candor for browser tests: `candor serve` and `candor worker` on a free local port,
on a PostgreSQL database of their own with the demo board, driven by the system's Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.load import free_port
from tests.conftest import pg_admin_async, pg_url, run_in_thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCRATCH = Path(tempfile.gettempdir()) / "candor-screenshots"
DEMO_PASSWORD = "candor-demo"
# Where the live server's processes write their logs (the worker logs mail it cannot send).
LOGS: dict[str, Path] = {}


def _admin(statement: str) -> None:
    # Playwright's sync API keeps an event loop on the main thread: run asyncio elsewhere.
    run_in_thread(pg_admin_async, statement)


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("CANDOR_TEST_SKIP_PG") == "1":
        pytest.skip("browser journeys run on PostgreSQL, skipped with CANDOR_TEST_SKIP_PG=1")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package.")
    name = f"candor_e2e_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _admin(f'CREATE DATABASE "{name}"')
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": pg_url(name),
        "CANDOR_SECRET_KEY": "e2e-secret",
        "CANDOR_BASE_URL": base,
        "CANDOR_ARGON2_TIME_COST": "1",
        "CANDOR_ARGON2_MEMORY_COST": "1024",
        "CANDOR_WORKER_POLL_SECONDS": "0.5",
        "CANDOR_DETOXIFY_MODEL": "off",
        "CANDOR_LOGIN_MAX_FAILURES_IP": "1000",
        "CANDOR_REGISTER_MAX_PER_IP_HOUR": "1000",
        "CANDOR_POSTS_MAX_PER_MINUTE": "10000",
        "CANDOR_POSTS_MAX_PER_MINUTE_IP": "10000",
        "CANDOR_REPORTS_MAX_PER_HOUR": "10000",
        "CANDOR_REPORTS_MAX_PER_HOUR_IP": "10000",
        "CANDOR_MESSAGES_MAX_PER_MINUTE": "10000",
        "CANDOR_MESSAGES_MAX_PER_HOUR": "10000",
        "CANDOR_CONVERSATIONS_MAX_PER_DAY": "10000",
    }
    candor = [sys.executable, "-m", "forum.cli"]
    logs = tmp_path_factory.mktemp("e2e")
    LOGS["worker"] = logs / "worker.log"
    subprocess.run(
        [*candor, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120
    )
    subprocess.run([*candor, "demo"], env=env, check=True, capture_output=True, timeout=120)
    with (
        (logs / "server.log").open("w") as server_log,
        (logs / "worker.log").open("w") as worker_log,
    ):
        server = subprocess.Popen([*candor, "serve", "--port", str(port)], env=env,
                                  stdout=server_log, stderr=subprocess.STDOUT)  # fmt: skip
        worker = subprocess.Popen(
            [*candor, "worker"], env=env, stdout=worker_log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError((logs / "server.log").read_text()[-3000:])
                time.sleep(0.3)
            yield base
        finally:
            for proc in (server, worker):
                proc.terminate()
            for proc in (server, worker):
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=20)
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="package")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(browser, live_server: str, viewport: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=live_server)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A full-page screenshot. The tracked ones in docs/screenshots are rewritten only when
    asked (`CANDOR_SCREENSHOTS=1 make test`); otherwise they go to a scratch folder."""
    folder = SCREENSHOTS if os.environ.get("CANDOR_SCREENSHOTS") == "1" else SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
