"""Reactions, accepted answers and @mentions in real Chromium, at both widths: a junior asks in
the Q&A category, a senior answers with an @mention picked from the typeahead (a link to the
junior's page); the junior thanks the senior, marks the answer, and sees it under the question
and "Answered" in the listing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, logout, shot, unique

pytestmark = pytest.mark.e2e


def test_react_mention_and_accept_an_answer(page: Page, viewport: str) -> None:
    login(page, "noah_b")
    page.goto("/c/mentoring")
    page.get_by_role("link", name="New thread").click()
    title = f"How long should a first meeting last {unique('')}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Message").fill("My first meeting with my mentor is next week. How long?")
    page.get_by_role("button", name="Start thread").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    thread_url = page.url
    logout(page)

    login(page, "priya_s")
    page.goto(thread_url)
    reply = page.get_by_label("Your reply")
    reply.click()
    reply.press_sequentially("An hour is plenty, @noa")
    option = page.get_by_role("option", name="noah_b")
    expect(option).to_be_visible()
    # Drawn just under the message box, over what follows it.
    box, listed = reply.bounding_box(), page.get_by_role("listbox").bounding_box()
    assert box and listed
    assert box["y"] + box["height"] - 2 <= listed["y"] <= box["y"] + box["height"] + 40
    assert box["x"] - 2 <= listed["x"] <= box["x"] + box["width"] / 2
    # Said aloud as well: a screen reader heard nothing when suggestions came.
    expect(page.get_by_role("status").filter(has_text="to mention")).to_have_text(
        re.compile(r"^\d+ members? to mention: arrow keys to choose, Enter to pick\.$")
    )
    reply.press("Enter")  # picks the highlighted member
    expect(reply).to_have_value("An hour is plenty, @noah_b ")
    reply.press_sequentially("- agree two goals first.")
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("article.post")).to_have_count(2)
    answer = page.locator("article.post").nth(1)
    mention = answer.locator(".post-body").get_by_role("link", name="@noah_b")
    expect(mention).to_have_attribute("href", "/u/noah_b")
    # No reactions to one's own post.
    expect(answer.get_by_role("button", name=re.compile("^Thanks"))).to_have_count(0)
    logout(page)

    login(page, "noah_b")
    page.goto(thread_url)
    answer = page.locator("article.post").nth(1)
    answer.get_by_role("button", name="Thanks 0").click()
    answer = page.locator("article.post").nth(1)
    thanks = answer.get_by_role("button", name="Thanks 1")
    expect(thanks).to_have_attribute("aria-pressed", "true")
    answer.get_by_role("button", name="Mark as the answer").click()
    expect(page.get_by_text("Marked as the answer.")).to_be_visible()
    accepted = page.get_by_role("region", name="Accepted answer")
    expect(accepted).to_contain_text("agree two goals first")
    # Under the question: after the opening post, before the replies.
    first_box = page.locator("article.post").first.bounding_box()
    accepted_box = accepted.bounding_box()
    reply_box = page.locator("article.post").nth(1).bounding_box()
    assert first_box and accepted_box and reply_box
    assert first_box["y"] < accepted_box["y"] < reply_box["y"]
    shot(page, f"accepted-answer-{viewport}")
    page.goto("/c/mentoring")
    row = page.get_by_role("row").filter(has_text=title)
    expect(row.get_by_text("Answered")).to_be_visible()
    # Who reacted.
    page.goto(thread_url)
    page.locator("article.post").nth(1).get_by_role("link", name="Who reacted").click()
    expect(page.get_by_role("heading", name="Thanks (1)")).to_be_visible()
    expect(page.get_by_role("link", name="noah_b", exact=True).first).to_be_visible()


def test_typing_before_the_composer_script_runs_is_kept(page: Page, viewport: str) -> None:
    """A member who clicks into the message box and types while the page's script is still
    loading keeps focus and every keystroke when the script sets up the typeahead."""
    login(page, "noah_b")

    def hold(route) -> None:  # type: ignore[no-untyped-def]
        # The script as served, wrapped so the test decides when it runs.
        source = route.fetch().text()
        route.fulfill(
            body=f"window.candorComposer = function () {{ {source} }};",
            content_type="application/javascript",
        )

    page.route("**/composer.js", hold)
    page.goto("/c/mentoring/new")
    body = page.get_by_label("Message")
    body.fill("")  # a draft left by an earlier run of this journey
    body.click()
    tag = unique("")
    page.keyboard.type(f"Before the script {tag}, ")
    page.evaluate("window.candorComposer()")
    page.keyboard.type("and after it.")
    expect(body).to_be_focused()
    expect(body).to_have_value(f"Before the script {tag}, and after it.")
