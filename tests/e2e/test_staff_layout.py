"""Staff pages in real Chromium at desktop and phone widths: the staff header (and a member's,
with Latest and Unread) is one row on a laptop, the moderation log never scrolls sideways on a
phone, and the rank table is edited in place (one row per rank), keeping validation and the
audit log."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import VIEWPORTS, login, unique
from tests.e2e.test_accessibility import violations

pytestmark = pytest.mark.e2e
# A reason with an unbroken address: on a phone it must wrap, not widen the page.
LONG_REASON = (
    "Duplicate of an older thread, see https://example.org/guidelines/community-standards/"
    "reverse-mentoring-and-feedback-upward-for-every-programme-participant"
)


def fits_sideways(page: Page) -> None:
    width = page.evaluate("window.innerWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide in a {width}px window"


def header_rows(page: Page) -> int:
    """How many rows the header's items (and the account links) take."""
    tops = page.evaluate(
        """() => [...document.querySelectorAll(
                'header.site .bar > :not(nav), header.site nav.account > *, header.site nav.sections > *')]
            .filter(e => e.getClientRects().length > 0)
            .map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; })"""
    )
    rows: list[float] = []
    for middle in sorted(tops):
        if not rows or middle - rows[-1] > 12:
            rows.append(middle)
    return len(rows)


@pytest.mark.parametrize("who", ["ada_admin", "morgan_mod"])
def test_the_staff_header_is_one_row_on_a_laptop(page: Page, viewport: str, who: str) -> None:
    login(page, who)
    for path in ("/", "/mod/log", "/mod", "/admin" if who == "ada_admin" else "/latest"):
        page.goto(path)
        if viewport == "desktop":
            assert header_rows(page) == 1, (who, path)
            assert page.evaluate("document.querySelector('header.site').offsetHeight") < 80
        fits_sideways(page)
    if viewport == "desktop":  # a wider window: the header is no wider than the page's column
        page.set_viewport_size({"width": 1920, "height": 1000})
        assert header_rows(page) == 1, who


@pytest.mark.parametrize("who", ["grace_w", "rosa_lead", "lena_editor"])
def test_a_members_header_has_latest_and_unread_in_one_row(
    page: Page, viewport: str, who: str
) -> None:
    """Members had Unread where visitors see Latest, and no Latest of their own: now both,
    and the header still one row on a laptop (on a phone it wraps, never sideways)."""
    login(page, who)
    page.goto("/")
    header = page.locator("header.site")
    for name, heading in (("Latest", "Latest"), ("Unread", "Unread")):
        link = header.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        link.click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        if viewport == "desktop":
            assert header_rows(page) == 1, (who, name)
            assert page.evaluate("document.querySelector('header.site').offsetHeight") < 80
        fits_sideways(page)
    # Notifications and Messages are icons now, still named for a screen reader.
    # (Named "Notifications 7 unread" while some are unread: earlier tests may leave some.)
    expect(header.get_by_role("link", name=re.compile(r"^Notifications\b"))).to_be_visible()
    expect(header.get_by_role("link", name=re.compile(r"^Messages\b"))).to_be_visible()


def test_a_visitors_header_is_one_row_on_a_laptop(page: Page, viewport: str) -> None:
    """A visitor's header has the tagline, Log in and Register: it wrapped to two rows on a
    laptop (Log in and Register alone on the second)."""
    for path in ("/", "/latest", "/login"):
        page.goto(path)
        header = page.locator("header.site")
        expect(header.get_by_role("link", name="Register", exact=True)).to_be_visible()
        if viewport == "desktop":
            expect(header.locator(".tagline")).to_be_visible()
            assert header_rows(page) == 1, path
            assert page.evaluate("document.querySelector('header.site').offsetHeight") < 80
        fits_sideways(page)


@pytest.mark.parametrize("who", [None, "grace_w", "morgan_mod", "ada_admin"])
def test_the_header_is_short_on_a_phone(page: Page, viewport: str, who: str | None) -> None:
    """On a phone the header took three rows (four for staff), 130-150 px of the screen:
    now the name and the account's links, then the sections with a search icon (staff's
    queue and Admin may take a third row)."""
    if viewport != "phone":
        pytest.skip("the phone's header")
    if who:
        login(page, who)
    page.goto("/latest")
    assert header_rows(page) <= (3 if who in ("morgan_mod", "ada_admin") else 2), who
    limit = 125 if who in ("morgan_mod", "ada_admin") else 95
    assert page.evaluate("document.querySelector('header.site').offsetHeight") < limit, who
    fits_sideways(page)
    page.locator("header.site").get_by_role("link", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="Search", level=1)).to_be_visible()
    expect(page.locator("main input[name=q]")).to_be_visible()


def test_staff_have_latest_programmes_and_an_admin_page(page: Page, viewport: str) -> None:
    """Administrators' Outbox and Ranks links made room for one Admin link (a page listing
    every staff page, and members by name), so staff have Latest in the header too; Settings
    became an icon (still named), which made room for Programmes (in the footer too)."""
    login(page, "ada_admin")
    page.goto("/mod")
    header = page.locator("header.site")
    for name in ("Latest", "Unread", "Programmes", "Settings"):
        expect(header.get_by_role("link", name=name, exact=True)).to_be_visible()
    # The queue's link says how many items wait ("Review queue 3 open").
    queue = header.get_by_role("link", name=re.compile(r"^Review queue( \d+ open)?$"))
    expect(queue).to_be_visible()
    expect(header.get_by_role("link", name="Outbox")).to_have_count(0)
    header.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Administration", level=1)).to_be_visible()
    page.get_by_label("Name or e-mail address").fill("grac")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("link", name="grace_w", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="margaret_hr")).to_have_count(0)
    if viewport == "desktop":
        assert header_rows(page) == 1
    fits_sideways(page)
    page.get_by_role("link", name="Outbox").click()
    expect(page.get_by_role("heading", name="Outbox", level=1)).to_be_visible()
    page.locator("footer.site").get_by_role("link", name="Programmes").click()
    expect(page.get_by_role("heading", name="Mentoring programmes", level=1)).to_be_visible()


def test_the_moderation_log_fits_a_phone(page: Page, viewport: str) -> None:
    login(page, "morgan_mod")
    page.goto("/c/mentoring")
    page.get_by_role("link", name="New thread").click()
    title = f"A thread to remove {unique('')}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Message").fill("Posted twice by mistake.")
    page.get_by_role("button", name="Start thread").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    page.locator("#delete-reason").fill(LONG_REASON)
    page.get_by_role("button", name="Delete thread").click()
    page.goto("/mod/log")
    row = page.locator("tr", has_text=LONG_REASON).first
    expect(row).to_be_visible()
    expect(row).to_contain_text("morgan_mod")
    fits_sideways(page)
    if viewport == "phone":
        # Every cell is within the window, and named by its column.
        box = row.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
        label = row.locator("td[data-label='Why']").evaluate(
            "td => getComputedStyle(td, '::before').content"
        )
        assert label == '"Why"'


def test_ranks_are_one_table_edited_in_place(page: Page, viewport: str) -> None:
    login(page, "ada_admin")
    page.goto("/admin/ranks")
    rows = page.locator("table.ranks tbody tr")
    before = rows.count()
    assert before >= 7  # the demo's five earned and two special ranks
    if viewport == "desktop":
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= 1.5 * VIEWPORTS["desktop"]["height"], height  # it was 2,650 px
    fits_sideways(page)

    name = unique("Programme Lead ")
    page.get_by_label("Name of a new rank").fill(name)
    page.get_by_label("Kind of the new rank").select_option("special")
    page.get_by_role("button", name="Add rank").click()
    expect(page.get_by_text(f"Rank {name} added.")).to_be_visible()
    expect(rows).to_have_count(before + 1)

    # Rename it in its row: the inputs sit outside the row's <form>, tied to it by form=.
    renamed = f"{name} Senior"
    row = page.locator("table.ranks tbody tr", has=page.get_by_label(f"Name of the rank {name}"))
    row.get_by_label(f"Name of the rank {name}").fill(renamed)
    row.get_by_role("button", name=f"Save {name}").click()
    expect(page.get_by_text(f"Rank {renamed} saved.")).to_be_visible()
    expect(page.get_by_label(f"Name of the rank {renamed}")).to_have_value(renamed)

    # A clash is refused beside the row, and what was typed is kept there.
    field = page.get_by_label(f"Name of the rank {renamed}")
    field.fill("Director")
    page.get_by_role("button", name=f"Save {renamed}").click()
    expect(page.get_by_text("There is already a rank called Director.")).to_be_visible()
    failed = page.locator("table.ranks tr.failed")
    expect(failed).to_have_count(1)
    expect(failed.locator("input[name=name]")).to_have_value("Director")
    expect(failed.locator("input[name=name]")).to_have_attribute("aria-invalid", "true")
    fits_sideways(page)

    page.goto("/admin/ranks")
    page.get_by_role("button", name=f"Remove {renamed}").click()
    expect(page.get_by_text(f"Rank {renamed} removed.")).to_be_visible()
    expect(rows).to_have_count(before)

    page.goto("/mod/log")
    expect(
        page.locator(
            "tr", has_text=re.compile(rf"{re.escape(name)}\b.* -> {re.escape(renamed)}")
        ).first
    ).to_be_visible()
    fits_sideways(page)


def test_staff_pages_with_records_pass_axe(browser, live_server: str, viewport: str) -> None:  # type: ignore[no-untyped-def]
    """The stacked rows and the rank table, with entries in the log (axe, as in
    test_accessibility.py)."""
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], base_url=live_server, bypass_csp=True
    )
    page = context.new_page()
    try:
        login(page, "ada_admin")
        page.goto("/admin/ranks")
        page.get_by_label("Name of a new rank").fill("Director")  # a refused add: errors shown
        page.get_by_role("button", name="Add rank").click()
        expect(page.get_by_text("There is already a rank called Director.")).to_be_visible()
        from axe_playwright_python.sync_playwright import Axe

        found = [f"refused add: {v['id']}" for v in Axe().run(page).response["violations"]]
        found += violations(page, "/admin/ranks") + violations(page, "/mod/log")
        assert found == []
    finally:
        context.close()


def test_one_long_word_in_a_title_widens_no_page(page: Page, viewport: str) -> None:
    """A newcomer probe's 121-letter title (one word, under the 150 limit) made the front page
    825 px wide on a phone, for every visitor, and the thread page scroll sideways on a laptop."""
    login(page, "noah_b")
    page.goto("/c/introductions/new")
    word = f"Supercalifragilistic{unique('')}".replace("-", "") * 5
    page.get_by_label("Title").fill(f"Hello {word}"[:150])
    page.get_by_label("Message", exact=False).fill("Hello everyone, glad to be here.")
    page.get_by_role("button", name="Start thread").click()
    page.wait_for_url(re.compile(r"/t/\d+"))
    thread = page.url
    for path in (thread, "/", "/c/introductions", "/latest", "/search?q=hello"):
        page.goto(path)
        fits_sideways(page)
    page.context.clear_cookies()  # a visitor's front page too
    page.goto("/")
    fits_sideways(page)
