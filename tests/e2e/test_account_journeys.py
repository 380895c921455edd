"""Journeys through accounts: changing one's e-mail address by a mailed link, a bio in
Markdown, points history and the rank-up notice, and the guidelines (linked from registration
and the composer's nudge; edited by an administrator). Desktop and phone sizes."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LOGS, login, logout, unique
from tests.e2e.test_journeys import PUT_DOWN

pytestmark = pytest.mark.e2e
# Different demo members per width: the journeys run twice on one board.
MOVER = {"desktop": "david_okafor", "phone": "tomasz_k"}
CLIMBER = {"desktop": "aisha_m", "phone": "jordan_lee"}


def mailed_link(address: str, path: str) -> str:
    """The link in the newest mail to `address`, from the worker's log (no mail server here).
    These journeys may run first, while the worker is still loading its models: wait longer."""
    deadline = time.time() + 120
    while time.time() < deadline:
        mails = LOGS["worker"].read_text().split("mail to ")[1:]
        mine = [m for m in mails if m.startswith(f"{address} ")]
        found = re.search(rf"({re.escape(path)}[\w-]+)", mine[-1]) if mine else None
        if found:
            return found.group(1)
        time.sleep(0.5)
    raise AssertionError(f"the worker never handled the mail to {address}")


def test_change_email_by_the_link_sent_to_the_new_address(page: Page, viewport: str) -> None:
    name = MOVER[viewport]
    login(page, name)
    page.goto(f"/u/{name}")
    page.get_by_role("link", name="Edit profile").click()
    page.get_by_role("link", name="Change e-mail address").click()
    new = f"{unique('moved')}@example.org"
    page.get_by_label("New e-mail address").fill(new)
    page.get_by_label("Current password").fill("candor-demo")
    page.get_by_role("button", name="Send the confirmation link").click()
    expect(page.get_by_text("Check your e-mail")).to_be_visible()
    page.goto(mailed_link(new, "/account/email/confirm/"))
    expect(page.get_by_text(new)).to_be_visible()
    page.get_by_role("button", name="Use this address").click()
    expect(page.get_by_text(f"Your e-mail address is now {new}.")).to_be_visible()
    logout(page)
    login(page, new)  # signing in by the new address
    expect(page.get_by_text(f"Welcome back, {name}.")).to_be_visible()


def test_bio_markdown_points_history_and_rank_up_notice(page: Page, viewport: str) -> None:
    name = CLIMBER[viewport]
    login(page, name)
    page.goto("/account/profile")
    page.get_by_label("About you").fill("I coordinate **reverse mentoring**.\n\n- pilots\n- pairs")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator(".bio strong")).to_have_text("reverse mentoring")
    expect(page.locator(".bio li")).to_have_count(2)
    history = page.locator("#points")
    expect(history.get_by_role("heading", name="Points history")).to_be_visible()
    expect(history.locator("tbody tr").first).to_contain_text("A post in")

    page.goto("/c/introductions")
    page.get_by_role("link", name=re.compile("Introduce yourself")).click()
    notice = page.locator(".rank-notice")
    for n in range(12):  # 5 points a post: a demo newcomer reaches Associate (50) within 8
        if notice.count():
            break
        page.get_by_label("Your reply").fill(f"Another note on our pilot, number {n + 1}.")
        page.get_by_role("button", name="Post reply").click()
        page.wait_for_url(re.compile(r"/t/\d+"))
    expect(notice).to_contain_text("you have reached the rank of Associate")
    notice.get_by_role("link", name="See your points history").click()
    expect(page.locator("#points .ranks-reached")).to_contain_text("Associate")
    page.locator(".rank-notice").get_by_role("button", name="Dismiss").click()
    expect(page.locator(".rank-notice")).to_have_count(0)
    page.goto("/")
    expect(page.locator(".rank-notice")).to_have_count(0)


def test_guidelines_from_registration_and_from_the_nudge(page: Page, viewport: str) -> None:
    page.goto("/register")
    page.get_by_role("link", name="community guidelines").click()
    expect(page.get_by_role("heading", name="Community guidelines")).to_be_visible()
    expect(page.locator("h2#juniors")).to_have_text("No condescension toward juniors")
    login(page, "grace_w")
    page.goto("/c/introductions")
    page.get_by_role("link", name=re.compile("Introduce yourself")).click()
    page.get_by_label("Your reply").fill(f"{PUT_DOWN} ({viewport}, unsent)")
    page.get_by_role("button", name="Post reply").click()
    expect(page.get_by_role("button", name="Post anyway")).to_be_visible()
    page.get_by_role("link", name="guidelines on speaking to juniors").click()
    page.wait_for_url(re.compile(r"/guidelines#juniors$"))
    expect(page.locator("h2#juniors")).to_be_in_viewport()


def test_an_admin_previews_and_saves_the_guidelines(page: Page, viewport: str) -> None:
    login(page, "ada_admin")
    page.goto("/guidelines")
    page.get_by_role("link", name="Edit the guidelines").click()
    body = page.get_by_label("Guidelines")
    marker = unique("Reviewed by the programme board ")
    body.fill(body.input_value() + f"\n\n*{marker}*")
    page.get_by_role("button", name="Preview").click()
    # (The other width's run added its own line before.)
    expect(page.locator("section.guidelines em", has_text=marker)).to_be_visible()
    page.get_by_role("button", name="Save the guidelines").click()
    expect(page.get_by_text("The guidelines have been saved.")).to_be_visible()
    expect(page.locator("article.guidelines em", has_text=marker)).to_be_visible()
    expect(page.locator("h2#juniors")).to_be_visible()  # the anchors survive the edit
