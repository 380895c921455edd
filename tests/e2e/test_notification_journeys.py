"""Notifications in real Chromium, at desktop and phone sizes: a junior posts, a senior
replies mentioning them, the junior sees the bell's count, opens the notification and lands
on the post; watching a thread brings its new posts, muting it stops them (mentions too).
The live server's worker decides each post and then fans it out."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, logout, unique

pytestmark = pytest.mark.e2e


def _start_thread(page: Page, category: str, title: str, body: str) -> str:
    page.goto(f"/c/{category}")
    page.get_by_role("link", name="New thread").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Start thread").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.url.split("?")[0].split("#")[0]


def _reply(page: Page, thread_url: str, body: str) -> None:
    page.goto(thread_url)
    page.get_by_label("Your reply").fill(body)
    page.get_by_role("button", name="Post reply").click()
    expect(page.get_by_text(body)).to_be_visible()


def _wait_for_notification(page: Page, text: re.Pattern[str], seconds: float = 120) -> None:
    """The worker decides the post, then fans it out: reload until it is listed."""
    deadline = time.time() + seconds
    while True:
        page.goto("/notifications")
        if page.get_by_role("link", name=text).count():
            return
        assert time.time() < deadline, f"no notification matching {text.pattern}"
        time.sleep(1)


def test_a_mention_reaches_the_junior_through_the_bell(page: Page, viewport: str) -> None:
    title = f"First month as a mentee {unique('')}"
    login(page, "noah_b")
    thread_url = _start_thread(
        page, "mentoring", title, "How often should I meet my mentor in the first month?"
    )
    logout(page)
    login(page, "margaret_hr")
    answer = (
        f"@noah_b Every fortnight worked well for us; bring one question each time. {unique('')}"
    )
    _reply(page, thread_url, answer)
    logout(page)
    login(page, "noah_b")
    mentioned = re.compile(rf"margaret_hr mentioned you in “{re.escape(title)}”")
    _wait_for_notification(page, mentioned)
    # The bell in the header shows the unread count, on every page.
    page.goto("/")
    bell = page.get_by_role("link", name=re.compile(r"^Notifications \d+ unread$"))
    expect(bell).to_be_visible()
    bell.click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    # A link to the post (it opens in a new tab too); following it also marks it read.
    link = page.get_by_role("link", name=mentioned).first
    assert (link.get_attribute("href") or "").startswith("/p/")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/open")):
        link.click()
    # Landed on the reply itself: its anchor, on the thread's page.
    page.wait_for_url(re.compile(r"/t/\d+\?page=\d+#p\d+$"))
    anchor = page.url.rsplit("#", 1)[1]
    expect(page.locator(f"#{anchor}")).to_contain_text("Every fortnight worked well")
    # Opened: no longer bold/new in the list.
    page.goto("/notifications")
    expect(page.locator("li.notification.unread").filter(has_text=title)).to_have_count(0)


def test_watching_brings_new_posts_and_muting_stops_them(page: Page, viewport: str) -> None:
    title = f"Reverse mentoring pilot notes {unique('')}"
    login(page, "priya_s")
    thread_url = _start_thread(
        page, "reverse-mentoring", title, "Notes from our pilot so far, @david_okafor."
    )
    logout(page)
    login(page, "david_okafor")
    # Once the opening post has been handled (its mention arrived), watch the thread.
    in_title = re.compile(rf"priya_s mentioned you in “{re.escape(title)}”")
    _wait_for_notification(page, in_title)
    page.goto(thread_url)
    page.get_by_label("Notifications").select_option("watching")
    page.get_by_role("button", name="Set").click()
    expect(
        page.get_by_text("You are watching this thread: every new post will notify you.")
    ).to_be_visible()
    logout(page)
    login(page, "priya_s")
    _reply(page, thread_url, f"Week two: the seniors asked better questions. {unique('')}")
    logout(page)
    login(page, "david_okafor")
    posted = re.compile(rf"priya_s posted in “{re.escape(title)}”")
    _wait_for_notification(page, posted)
    expect(page.get_by_role("link", name=posted)).to_have_count(1)
    page.goto(thread_url)
    page.get_by_label("Notifications").select_option("muted")
    page.get_by_role("button", name="Set").click()
    expect(page.get_by_text("This thread is muted: nothing in it will notify you.")).to_be_visible()
    logout(page)
    # Muted: neither the new post nor a mention in it reaches them; a mention elsewhere does,
    # and as the worker takes posts in order, by then the muted one was handled.
    login(page, "priya_s")
    _reply(page, thread_url, f"@david_okafor week three was quieter. {unique('')}")
    other = f"Another question {unique('')}"
    _start_thread(page, "mentoring", other, "@david_okafor what did you think of week three?")
    logout(page)
    login(page, "david_okafor")
    _wait_for_notification(page, re.compile(rf"priya_s mentioned you in “{re.escape(other)}”"))
    expect(page.get_by_role("link", name=posted)).to_have_count(1)
    expect(page.get_by_role("link", name=in_title)).to_have_count(1)  # the opening post's
