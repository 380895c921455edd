"""Accessibility basics checked by axe-core (bundled in axe-playwright-python) on the main pages,
at desktop and phone sizes: labels, heading order, contrast, landmarks, names of controls. On
the same pages, every form that posts carries its CSRF token (a page whose form lacked one
could not be used: the server refuses it)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import VIEWPORTS, login

pytestmark = pytest.mark.e2e

PAGES = ["/", "/c/reverse-mentoring", "/t/3", "/login", "/register", "/password/forgot",
         "/c/human-resources", "/search?q=mentoring", "/search?q=mentorng", "/articles", "/articles/1", "/u/margaret_hr",
         "/register/confirm/a-token", "/register/sent", "/guidelines", "/latest", "/c/mentoring", "/p/2/reactions",
         "/programmes", "/programmes/1", "/programmes/3"]  # fmt: skip
MEMBER_PAGES = ["/t/3/reply", "/c/mentoring/new", "/account/profile", "/account/password",
                "/account/delete",
                "/u/margaret_hr/report", "/account/email", "/u/grace_w",
                "/notifications", "/notifications/preferences", "/notifications/watching",
                "/new", "/unread",
                "/t/1", "/p/1/reactions", "/programmes/1", "/programmes/1/checkin",
                "/programmes/2", "/programmes/2/closing", "/programmes/1/leave", "/programmes/3",
                "/logout", "/p/46/delete"]  # fmt: skip
MODERATOR_PAGES = ["/mod", "/mod/status", "/mod/phrases", "/mod/log"]
ADMIN_PAGES = ["/admin", "/admin/ranks", "/admin/outbox", "/admin/guidelines", "/c/mentoring", "/t/2",
               "/admin/categories", "/admin/categories/1",
               "/account/delete",
               "/programmes/new", "/programmes/1/applications", "/programmes/1/proposal",
               "/programmes/1/dashboard", "/programmes/1/history", "/programmes/2/dashboard",
               "/programmes/2/proposal", "/programmes/2/history", "/programmes/3/close",
               "/programmes/1/questions", "/programmes/1/settings", "/programmes/3/settings",
               "/u/grace_w"]  # fmt: skip


def violations(page: Page, path: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    page.goto(path)
    results = Axe().run(page)
    untokened = page.evaluate(
        """() => [...document.querySelectorAll('form')]
            .filter(f => f.method === 'post' && !(f.elements.csrftoken || {}).value)
            .map(f => f.getAttribute('action'))"""
    )
    return [
        f"{path}: {v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} element(s)"
        for v in results.response["violations"]
    ] + [f"{path}: a form posting to {action} has no CSRF token" for action in untokened]


@pytest.fixture
def axe_page(browser, live_server: str, viewport: str):  # type: ignore[no-untyped-def]
    # axe injects its script: CSP is bypassed for the checker only, never in other tests.
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], base_url=live_server, bypass_csp=True
    )
    page = context.new_page()
    yield page
    context.close()


def test_public_pages(axe_page: Page) -> None:
    found = [v for path in PAGES for v in violations(axe_page, path)]
    assert found == []


def test_member_moderator_and_admin_pages(axe_page: Page) -> None:
    login(axe_page, "grace_w")
    found = [v for path in MEMBER_PAGES for v in violations(axe_page, path)]
    axe_page.context.clear_cookies()
    login(axe_page, "morgan_mod")
    found += [v for path in MODERATOR_PAGES for v in violations(axe_page, path)]
    axe_page.context.clear_cookies()
    login(axe_page, "ada_admin")
    found += [v for path in ADMIN_PAGES for v in violations(axe_page, path)]
    axe_page.context.clear_cookies()
    login(axe_page, "kofi_a")  # applied to the demo's open cohort: its withdrawal page
    found += violations(axe_page, "/programmes/3/withdraw")
    assert found == []


def _wait_for(page: Page, path: str, text: str, seconds: float = 90) -> None:
    """Reload `path` until `text` shows (the worker scores messages in its own process)."""
    import time

    deadline = time.time() + seconds
    while True:
        page.goto(path)
        if page.get_by_text(text).count() or time.time() > deadline:
            return
        time.sleep(1)


def test_private_message_pages(axe_page: Page) -> None:
    """The inbox, composer, blocks, a conversation, the report form and the review item of a
    reported message (each run starts a conversation of its own)."""
    import re
    from urllib.parse import urlparse

    page = axe_page
    login(page, "priya_s")
    page.goto("/messages/new?to=tomasz_k")
    page.get_by_label("Subject").fill("Accessibility check")
    page.get_by_label("Message").fill("Could we meet on Tuesday about the pilot?")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url(re.compile(r"/messages/\d+$"))
    conversation = urlparse(page.url).path
    found = [v for path in ["/messages", "/messages/new", "/messages/blocks", conversation,
                            f"{conversation}/leave"]
             for v in violations(page, path)]  # fmt: skip
    page.context.clear_cookies()
    login(page, "tomasz_k")
    _wait_for(page, conversation, "meet on Tuesday")
    found += violations(page, conversation)
    page.get_by_role("link", name="Report").last.click()
    report = urlparse(page.url).path
    found += violations(page, report)
    page.get_by_label("Spam").check()
    page.get_by_role("button", name="Send report").click()
    page.context.clear_cookies()
    login(page, "morgan_mod")
    page.goto("/mod")
    link = page.locator("table.listing tr", has_text="private message").first.get_by_role("link")
    item = link.first.get_attribute("href")
    assert item
    found += violations(page, item)
    assert found == []
