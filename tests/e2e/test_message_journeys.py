"""Private messages in a real browser at both widths (#17): a put-down in a message is nudged,
sent anyway, flagged by the worker, reported by its recipient, and reviewed by a moderator
from the review item (the view audited)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, logout, shot, unique

pytestmark = pytest.mark.e2e

# Written up the ladder, to a Director: the put-down is flagged (visible, reviewed), not held.
PUT_DOWN = "Come back when you have 20 years in. Leave the thinking to the grown-ups, kid."
# Senders whose rank no other journey changes, below the recipient's (written to a peer or
# down the ladder, the same put-down is held, and the recipient never sees it).
PAIRS = {"desktop": ("sam_chen", "margaret_hr"), "phone": ("noah_b", "margaret_hr")}


def _poll(page: Page, path: str, locator: str, *texts: str, seconds: float = 90) -> None:
    """Reload `path` until an element matching `locator` with every one of `texts` is there
    (the worker runs in its own process)."""
    deadline = time.time() + seconds
    while True:
        page.goto(path)
        found = page.locator(locator)
        for text in texts:
            found = found.filter(has_text=text)
        if found.count() or time.time() > deadline:
            return
        time.sleep(1)


def test_a_put_down_in_a_message_is_nudged_flagged_reported_and_reviewed(
    page: Page, viewport: str
) -> None:
    sender, recipient = PAIRS[viewport]
    subject = unique("Rota idea ")
    login(page, sender)
    page.goto("/messages")
    page.get_by_role("link", name="New conversation").click()
    page.get_by_label("To").fill(recipient)
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").type(PUT_DOWN)
    nudge = page.locator("[data-nudge]")
    expect(nudge).to_be_visible()  # the live check, as in the post composer
    expect(nudge).to_contain_text("may read as dismissive of junior colleagues")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("button", name="Send anyway")).to_be_visible()
    if viewport == "desktop":
        shot(page, "message-nudge")
    page.get_by_role("button", name="Send anyway").click()
    page.wait_for_url(re.compile(r"/messages/\d+"))
    conversation_url = page.url
    expect(page.get_by_text(PUT_DOWN)).to_be_visible()  # its sender sees it at once
    logout(page)

    login(page, recipient)
    # Listed at once, but unread (and readable) only once the worker has passed it.
    _poll(page, "/messages", "ul.conversations li", subject, "unread")
    row = page.locator("ul.conversations li", has_text=subject)
    expect(row).to_contain_text("1 unread")
    expect(page.locator("a.messages-link .badge")).to_be_visible()  # the header's count
    row.get_by_role("link").first.click()
    message = page.locator("article.post", has_text="grown-ups")
    expect(message).to_be_visible()
    message.get_by_role("link", name="Report").click()
    page.get_by_label("Harassment").check()
    page.get_by_label("Anything moderators should know?").fill("Talking down to me.")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_text("Thank you. Moderators will review the message.")).to_be_visible()
    logout(page)

    login(page, "morgan_mod")
    # Not from the conversation's address: moderators read it only through the item.
    assert page.goto(conversation_url).status == 404  # type: ignore[union-attr]
    _poll(page, "/mod", "table.listing tr", f"by {sender}", "private message")
    item = page.locator("table.listing tr", has_text=f"by {sender}").filter(
        has_text="private message"
    )
    expect(item.first).to_be_visible()
    item.first.get_by_role("link").first.click()
    expect(page.get_by_text("this view is recorded in the audit log")).to_be_visible()
    # The worker flagged it (and the recipient's report joined the same item).
    expect(page.locator("main")).to_contain_text("may read as dismissive of junior colleagues")
    expect(page.locator("main")).to_contain_text("was reported by members")
    expect(page.get_by_text("Talking down to me.")).to_be_visible()
    if viewport == "desktop":
        shot(page, "message-review")
    page.get_by_label("Remove the message").check()
    page.get_by_label("Reason", exact=False).fill("Please write to colleagues as equals.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Decision recorded: hidden.")).to_be_visible()
    page.goto("/mod/log")
    expect(page.locator("body")).to_contain_text("Read a private conversation under review")
    logout(page)

    login(page, recipient)
    page.goto(conversation_url)
    expect(page.get_by_text("grown-ups")).to_have_count(0)
