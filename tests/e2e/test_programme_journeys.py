"""A mentoring programme in a real browser at both widths (#18): the lead creates it, eight
juniors and eight seniors apply, the lead accepts them, runs the pairing (the worker computes
it), swaps one pair and publishes; a junior writes in the pair space and answers a check-in;
the lead sees the answer counted on the dashboard."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PG_ADMIN_DSN, pg_url, run_in_thread
from tests.e2e.conftest import login, logout, shot, unique

pytestmark = pytest.mark.e2e

JUNIORS = ["jordan_lee", "aisha_m", "noah_b", "grace_w", "sam_chen", "kofi_a", "mei_l", "ravi_p"]
SENIORS = ["margaret_hr", "david_okafor", "priya_s", "tomasz_k", "elena_ruiz", "helen_d",
           "georg_s", "carlos_v"]  # fmt: skip


def _poll(page: Page, path: str, text: str, seconds: float = 90) -> None:
    """Reload `path` until `text` shows (the worker runs the pairing in its own process)."""
    deadline = time.time() + seconds
    while True:
        page.goto(path)
        if page.get_by_text(text).count() or time.time() > deadline:
            return
        time.sleep(1)


def published_days_ago(programme_id: int, days: int) -> None:
    """Date the programme's publication `days` back in the live server's database (its clock
    cannot be moved): as if its pairs had been meeting that long. The first check-in opens
    one interval after the start."""

    async def run() -> None:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            names = [r["datname"] for r in await admin.fetch("SELECT datname FROM pg_database")]
        finally:
            await admin.close()
        # The live server's database, made by this process (tests/e2e/conftest.py).
        (name,) = [n for n in names if n.startswith(f"candor_e2e_{os.getpid()}_")]
        conn = await asyncpg.connect(pg_url(name).replace("+asyncpg", ""))
        try:
            await conn.execute(
                "UPDATE programmes SET published_at = published_at - make_interval(days => $1) "
                "WHERE id = $2",
                days, programme_id,
            )  # fmt: skip
        finally:
            await conn.close()

    run_in_thread(run)


def first_checkin_said(days: int = 14) -> re.Pattern[str]:
    """The sentence saying when the first check-in opens, for pairs published now (either
    date, should the day turn while the test runs)."""
    dates = {f"{datetime.now(UTC) + timedelta(days=days, seconds=s):%d %B %Y}" for s in (0, 600)}
    return re.compile("The first check-in opens on (" + "|".join(sorted(dates)) + ")")


def test_lead_runs_a_programme_from_creation_to_dashboard(page: Page, viewport: str) -> None:
    name = unique("Pilot ")
    login(page, "rosa_lead")
    page.goto("/programmes")
    page.get_by_role("link", name="Start a programme").click()
    expect(page.get_by_text("six to twelve pairs")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Purpose").fill("Directors learn from our newest colleagues.")
    page.get_by_label("How results will be evaluated").fill("Frankness every two weeks.")
    page.get_by_label("Topics members can teach and learn").fill("AI tools\nStrategy")
    page.get_by_label("Monday morning").check()
    page.get_by_label("Tuesday afternoon").check()
    page.get_by_role("button", name="Create programme").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    programme = page.url.split("?")[0]
    path = re.sub(r"^https?://[^/]+", "", programme)
    # A new programme is a draft until the lead opens it for applications.
    page.goto(path)
    page.get_by_role("link", name="Open for applications…").click()
    page.get_by_role("button", name="Yes, open it for applications").click()
    logout(page)

    for side, members in (("junior", JUNIORS), ("senior", SENIORS)):
        for member in members:
            login(page, member)
            page.goto(path)
            page.get_by_label("Junior mentor" if side == "junior" else "Senior mentee").check()
            page.get_by_label("Department").fill("Sales" if side == "junior" else "Finance")
            page.get_by_label("Seniority (years)").fill("2" if side == "junior" else "20")
            teaches, learns = (
                ("AI tools", "Strategy") if side == "junior" else ("Strategy", "AI tools")
            )
            page.locator("fieldset", has_text="I can teach").get_by_label(teaches).check()
            page.locator("fieldset", has_text="I want to learn").get_by_label(learns).check()
            page.get_by_label("Monday morning").check()
            page.get_by_role("button", name="Apply").click()
            expect(
                page.get_by_text(f"You applied on the {side} side", exact=False)
            ).to_contain_text("waiting for the lead's decision")
            logout(page)

    login(page, "rosa_lead")
    page.goto(path)
    # (exact: the page's lead panel links "16 applications wait for your decision" too)
    page.get_by_role("link", name="Applications", exact=True).click()
    for member in JUNIORS + SENIORS:
        side = "junior" if member in JUNIORS else "senior"
        page.get_by_role("button", name=f"Accept {member} ({side})").click()
        expect(page.get_by_text(f"Accepted: {member}'s application ({side} side).")).to_be_visible()
    page.goto(path)
    page.get_by_role("link", name="Pairing", exact=True).click()
    proposal = page.url
    page.get_by_role("button", name="Propose pairs").click()
    _poll(page, proposal, "over 8 pairs")
    expect(page.get_by_text("over 8 pairs")).to_be_visible()
    boxes = page.locator("input[name=pair]")
    first, second = boxes.nth(0).get_attribute("value"), boxes.nth(1).get_attribute("value")
    assert first and second
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Swap partners of the two chosen pairs").click()
    (j1, s1), (j2, s2) = first.split("-"), second.split("-")
    _poll(page, proposal, "(fixed)")
    values = page.locator("input[name=pair]").evaluate_all("els => els.map(e => e.value)")
    assert f"{j1}-{s2}" in values and f"{j2}-{s1}" in values
    if viewport == "desktop":
        shot(page, "programme-proposal")
    page.get_by_role("link", name="Publish these pairs…").click()
    page.get_by_role("button", name="Yes, publish 8 pairs").click()
    expect(page.get_by_text("Published 8 pairs")).to_be_visible()
    logout(page)

    login(page, "jordan_lee")
    page.goto(path)
    page.get_by_role("link", name="Your private space").click()
    page.wait_for_url(re.compile(r"/messages/\d+"))
    note = unique("Shall we meet on Monday? ")
    page.get_by_label("Your message").fill(note)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text(note)).to_be_visible()
    # The first check-in opens one interval (14 days) after the start: the pair meets first.
    page.goto(path)
    expect(page.get_by_text(first_checkin_said()).first).to_be_visible()
    expect(page.get_by_role("link", name="Answer the check-in")).to_have_count(0)
    page.goto(f"{path}/checkin")
    expect(page.get_by_text(first_checkin_said()).first).to_be_visible()
    expect(page.get_by_role("button", name="Send check-in")).to_have_count(0)
    # Fourteen days on, check-in 1 is open.
    published_days_ago(int(path.rsplit("/", 1)[1]), 14)
    page.goto(path)
    page.get_by_role("link", name="Answer the check-in").click()
    page.locator("fieldset", has_text="Did you feel able to speak frankly?").get_by_label(
        "4"
    ).check()
    page.get_by_role("button", name="Send check-in").click()
    expect(page.get_by_text("Only the programme's lead reads your answers.")).to_be_visible()
    logout(page)

    login(page, "rosa_lead")
    page.goto(path)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_text("Pairs active: 8")).to_be_visible()
    expect(page.get_by_role("cell", name="1 of 16")).to_be_visible()
    # The frankness chart waits for a round to be over (the demo pilot's has two below).
    expect(page.get_by_text("No check-in round is over yet")).to_be_visible()
    # (The README's dashboard is the demo pilot's: test_the_demo_pilot_as_its_lead_sees_it.)


def test_the_demo_pilot_as_its_lead_sees_it(page: Page, viewport: str) -> None:
    """The demo's running pilot (the README's dashboard): its pairs, and two rounds of
    check-in answers charted per side."""
    login(page, "rosa_lead")
    page.goto("/programmes")
    # From the list of all programmes (it is under "Your programmes" too, which she leads).
    page.locator("ul.programmes").get_by_role(
        "link", name="Leadership reverse-mentoring pilot"
    ).click()
    path = re.sub(r"^https?://[^/]+", "", page.url.split("?")[0])
    page.goto(f"{path}/dashboard")
    expect(page.get_by_text("Pairs active: 8")).to_be_visible()
    # Rounds with at least five answers a side are drawn as points, not withheld.
    assert page.locator("svg.chart circle").count() >= 4
    if viewport == "desktop":
        shot(page, "programme-dashboard")
