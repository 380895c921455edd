"""Unread, in real Chromium at both widths: a member reads part of a thread, another member
replies, and the first finds the thread in Unread and lands on the first post not yet read."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, login, logout, shot, unique

pytestmark = pytest.mark.e2e


def _start_long_thread(base: str, title: str, posts: int) -> str:
    """jordan_lee starts a thread of `posts` posts (over the web, as a browser would): its path."""
    with httpx.Client(base_url=base, timeout=30) as c:
        token = re.search(r'name="csrftoken" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
        c.post(
            "/login", data={"username": "jordan_lee", "password": DEMO_PASSWORD, "csrftoken": token}
        )
        token = re.search(r'name="csrftoken" value="([^"]+)"', c.get("/").text).group(1)  # type: ignore[union-attr]
        r = c.post("/c/mentoring/new", data={"title": title, "body": "Post number 1 of our notes.",
                                             "csrftoken": token})  # fmt: skip
        assert r.status_code == 303, r.text
        path = r.headers["location"]
        for n in range(2, posts + 1):
            r = c.post(
                f"{path}/reply", data={"body": f"Post number {n} of our notes.", "csrftoken": token}
            )
            assert r.status_code == 303, r.text
        return str(path)


def test_reader_lands_on_the_first_unread_post(page: Page, live_server: str, viewport: str) -> None:
    title = f"Notes from the pairing pilot {unique('')}"
    path = _start_long_thread(live_server, title, 21)  # page 1 holds 20 posts, page 2 one more
    login(page, "grace_w")
    page.goto(path)  # reads page 1 only: posts 1 to 20
    expect(page.locator("article.post")).to_have_count(20)
    # Post 21, on page 2, is not read yet. Read marks are written a few seconds after the
    # page (as view counts are): on a busy machine the list may need another look.
    row = page.locator("tr", has=page.get_by_role("link", name=title, exact=True))
    for _ in range(10):
        page.goto("/unread")
        if row.count() and "1 unread" in (row.first.text_content() or ""):
            break
        page.wait_for_timeout(1000)
    expect(row).to_contain_text("1 unread")
    logout(page)

    login(page, "margaret_hr")
    page.goto(f"{path}?page=last")
    page.get_by_label("Your reply").fill("@grace_w have a look at the last two notes.")
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("article.post").last).to_contain_text("have a look at the last two notes")
    logout(page)

    login(page, "grace_w")
    page.goto("/c/mentoring")  # the category's listing shows it too
    listed = page.locator("tr", has=page.get_by_role("link", name=title, exact=True))
    expect(listed).to_contain_text("2 unread")
    page.locator("header.site").get_by_role("link", name="Unread", exact=True).click()
    expect(page.get_by_role("heading", name="Unread")).to_be_visible()
    row = page.locator("tr", has=page.get_by_role("link", name=title, exact=True))
    expect(row).to_contain_text("2 unread")
    if viewport == "desktop":
        shot(page, "unread")
    else:
        shot(page, "unread-phone")
    row.get_by_role("link", name=title, exact=True).click()
    # Page 2, at post 21: the first one grace_w has not read (not margaret's reply after it).
    page.wait_for_url(re.compile(r"\?page=2#p\d+$"))
    anchor = page.url.rsplit("#", 1)[1]
    first_unread = page.locator(f"article#{anchor}")
    expect(first_unread).to_contain_text("Post number 21 of our notes.")
    expect(first_unread).to_be_in_viewport()
    # Read now: the thread leaves Unread.
    page.goto("/unread")
    expect(page.get_by_role("link", name=title, exact=True)).to_have_count(0)
    page.goto("/latest")
    expect(page.get_by_role("link", name=title, exact=True)).to_be_visible()
