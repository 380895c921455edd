"""Reading and writing on the board in real Chromium, at desktop and phone sizes: the home
page's last posts, a parent category, Preview, drafts that survive leaving the page, bare
URLs made links, and the site's icon."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, shot, unique
from tests.e2e.test_xss import PAYLOADS

pytestmark = pytest.mark.e2e


def test_home_last_posts_and_a_parent_category(page: Page, viewport: str) -> None:
    page.goto("/")
    group = page.locator("section.category-group", has_text="Human Resources")
    row = group.locator("tr", has=page.get_by_role("link", name="Reverse Mentoring", exact=True))
    # The last post: its thread (a link to its last page) and its member.
    latest = row.locator(".last-post" if viewport == "desktop" else ".latest-inline")
    expect(latest).to_be_visible()
    expect(latest.locator('a[href*="/t/"]')).to_have_attribute("href", re.compile(r"page=last"))
    expect(latest.locator('a[href^="/u/"]')).to_be_visible()
    shot(page, "home" if viewport == "desktop" else "home-phone")
    page.get_by_role("link", name="Human Resources", exact=True).first.click()
    expect(page.get_by_role("heading", name="Human Resources", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Sub-forums")).to_be_visible()
    expect(page.get_by_text("No threads here yet")).to_have_count(0)
    expect(page.get_by_role("link", name="Log in to start a thread")).to_have_count(0)
    for name in ("Employee Relations", "Mentoring", "Reverse Mentoring", "Coaching"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    mentoring = page.locator("tr", has=page.get_by_role("link", name="Mentoring", exact=True))
    expect(mentoring.locator("td.num").first).not_to_have_text("0")
    shot(page, "parent-category" if viewport == "desktop" else "parent-category-phone")
    page.get_by_role("link", name="Coaching", exact=True).click()
    expect(page.get_by_role("heading", name="Coaching", level=1)).to_be_visible()


def test_preview_and_a_draft_that_survives_leaving_the_page(page: Page, viewport: str) -> None:
    login(page, "grace_w")
    page.goto("/c/coaching")
    page.locator("a.title").first.click()
    thread_url = page.url.split("?")[0].split("#")[0]
    text = f"Half-typed thought {unique('')}: see https://example.org/guide and **this**."
    page.get_by_label("Your reply").fill(text)
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("section.preview")
    expect(preview.locator("strong")).to_have_text("this")
    link = preview.get_by_role("link", name="https://example.org/guide")
    expect(link).to_have_attribute("rel", "nofollow noopener ugc")
    expect(page.get_by_label("Your reply")).to_have_value(text)  # kept in the form
    expect(page.get_by_text("Draft saved.")).to_be_visible()  # Preview keeps the draft
    # Leaving the page and coming back: the draft is in the quick reply.
    page.goto("/")
    page.goto(thread_url)
    expect(page.get_by_label("Your reply")).to_have_value(text)
    # With JavaScript, what is typed afterwards is saved when the page is left.
    more = text + " And one more line."
    page.get_by_label("Your reply").fill(more)
    page.goto("/")
    # The page sent it as it was left (a keepalive request): it may land a moment later.
    deadline = time.time() + 10
    while True:
        page.goto(thread_url)
        if page.get_by_label("Your reply").input_value() == more or time.time() > deadline:
            break
        page.wait_for_timeout(250)
    expect(page.get_by_label("Your reply")).to_have_value(more)
    page.get_by_role("button", name="Post reply").click()
    page.wait_for_url(re.compile(r"page=last"))
    posted = page.locator("article.post").last
    expect(posted.locator(".post-body strong")).to_have_text("this")
    expect(posted.get_by_role("link", name="https://example.org/guide")).to_have_attribute(
        "rel", "nofollow noopener ugc"
    )
    page.goto(thread_url)
    expect(page.get_by_label("Your reply")).to_have_value("")  # posting deleted the draft


def test_preview_and_drafts_without_javascript(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    login(page, "noah_b")
    page.goto("/c/introductions/new")
    body = f"Hello from *Dublin* {unique('')}"
    page.get_by_label("Message", exact=False).fill(body)
    page.get_by_role("button", name="Preview").click()  # rendered by the server
    expect(page.locator("section.preview em")).to_have_text("Dublin")
    expect(page.get_by_label("Message", exact=False)).to_have_value(body)
    page.get_by_label("Message", exact=False).fill(body + " More.")
    page.get_by_role("button", name="Save draft").click()  # no title yet: saved all the same
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    page.goto("/c/introductions/new")
    expect(page.get_by_label("Message", exact=False)).to_have_value(body + " More.")
    page.get_by_label("Title").fill(f"Hello {unique('')}")
    page.get_by_role("button", name="Start thread").click()
    expect(page.locator("article.post")).to_have_count(1)
    page.goto("/c/introductions/new")
    expect(page.get_by_label("Message", exact=False)).to_have_value("")
    context.close()


def test_the_site_icon(page: Page) -> None:
    response = page.request.get("/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] == "image/x-icon"
    page.goto("/")
    href = page.locator('link[rel="icon"]').get_attribute("href")
    assert href == "/favicon.ico"


def test_preview_and_latest_activity_run_no_script(page: Page, viewport: str) -> None:
    """The filter-evasion payloads of test_xss.py, previewed (rendered back at once from what
    was typed) and as thread titles shown as a category's latest activity."""
    if viewport != "desktop":
        pytest.skip("one viewport is enough for script execution")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, "jordan_lee")
    page.goto("/c/learning-development/new")
    for payload in PAYLOADS:
        page.get_by_label("Title").fill(f"Preview {payload}"[:150])
        page.get_by_label("Message", exact=False).fill(f"{payload}\n\nhttps://x.example/{payload}")
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("section.preview")).to_be_visible()
        page.wait_for_timeout(50)
        assert page.evaluate("window.__pwned === undefined"), payload
    page.get_by_role("button", name="Post anyway").or_(
        page.get_by_role("button", name="Start thread")
    ).first.click()
    page.wait_for_url(re.compile(r"/t/\d+"))
    for path in ("/", "/c/human-resources"):
        page.goto(path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(150)
        assert page.evaluate("window.__pwned === undefined"), path
    assert dialogs == []


def test_a_quote_opens_the_reply_ready_to_type_under_it(page: Page, viewport: str) -> None:
    """A probe's keyboard user pressed Quote and found the focus elsewhere and the caret
    before the quoted text."""
    login(page, "grace_w")
    page.goto("/t/1")
    page.locator("article.post").first.get_by_role("link", name="Quote").click()
    page.wait_for_url(re.compile(r"/reply\?quote="))
    box = page.locator("textarea#body")
    expect(box).to_be_focused()
    page.keyboard.type("My answer")
    value = box.input_value()
    assert value.startswith("> ") and value.rstrip().endswith("My answer"), value


def test_a_text_past_the_limit_is_kept_whole_and_counted(page: Page, viewport: str) -> None:
    """Pasting past 20,000 characters was cut short by the textarea without a word (newcomer
    probe): the text stays whole, a line counts it, and the server's refusal keeps it."""
    if viewport != "desktop":
        pytest.skip("one viewport is enough")
    login(page, "noah_b")
    page.goto("/c/introductions/new")
    body = page.get_by_label("Message", exact=False)
    body.fill("word " * 4_010)  # 20,050 characters
    assert len(body.input_value()) == 20_050
    expect(page.locator("#body-length")).to_have_text(
        "20,050 of 20,000 characters: 50 too many to send"
    )
    page.get_by_label("Title").fill(f"Long {unique('')}")
    page.get_by_role("button", name="Start thread").click()
    expect(page.locator("#body-error")).to_contain_text("at most 20,000 characters")
    assert len(page.get_by_label("Message", exact=False).input_value()) == 20_050
