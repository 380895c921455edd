"""Search journeys in real Chromium, at desktop and phone sizes: a misspelt query offers a
correction that runs, snippets read as text, and the category filter reads as the tree."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def test_a_typo_offers_a_correction_that_finds_posts(page: Page, viewport: str) -> None:
    page.goto("/search")
    page.get_by_label("Search threads, posts and articles").fill("revrse mentorng")
    page.locator("#main").get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("Nothing matched")).to_be_visible()
    suggestion = page.get_by_role("link", name="reverse mentoring")
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(page.get_by_label("Search threads, posts and articles")).to_have_value(
        "reverse mentoring"
    )
    hits = page.locator("article.hit")
    expect(hits.first).to_be_visible()
    expect(hits.first.locator("mark").first).to_be_visible()
    # Snippets are the rendered text: no Markdown markers, no table pipes.
    for text in page.locator("p.snippet").all_inner_texts():
        assert "**" not in text and " | " not in text and "](" not in text, text


def test_the_category_filter_reads_as_the_tree(page: Page, viewport: str) -> None:
    page.goto("/search")
    select = page.get_by_label("Category")
    labels = [label.strip("\u00a0 ") for label in select.locator("option").all_inner_texts()]
    parent = labels.index("Human Resources")
    assert labels[parent + 1 : parent + 6] == [
        "Employee Relations", "Mentoring", "Reverse Mentoring", "Coaching",
        "Learning & Development",
    ]  # fmt: skip
    assert labels.index("Community") + 1 == labels.index("Introductions")
    indented = select.locator("option", has_text="Reverse Mentoring").inner_text()
    assert indented.startswith("\u00a0")
    select.select_option(label=indented)
    page.get_by_label("Search threads, posts and articles").fill("pilot")
    page.locator("#main").get_by_role("button", name="Search", exact=True).click()
    hits = page.locator("article.hit")
    expect(hits.first).to_be_visible()
    for line in hits.locator("p.small").all_inner_texts():
        assert "in Reverse Mentoring" in line, line


def test_a_new_threads_title_brings_threads_that_may_answer_it(page: Page, viewport: str) -> None:
    """A newcomer asked what the board had answered twice already: as the title is typed,
    threads sharing its words are linked under it."""
    login(page, "grace_w")
    page.goto("/c/mentoring/new")
    page.get_by_label("Title").fill("How should a first mentoring meeting go?")
    box = page.locator(".similar-threads")
    expect(box).to_be_visible()
    expect(box.get_by_role("link").first).to_be_visible()
    assert "mentoring" in box.inner_text().lower()
    page.get_by_label("Title").fill("Hi there")
    expect(box).to_be_hidden()
