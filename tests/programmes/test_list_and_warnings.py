"""A usability probe's findings: the programmes list put closed programmes among the open ones
and said nothing of their dates or purpose."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from forum.core.settings import Settings
from forum.programmes import lifecycle
from forum.programmes import services as svc
from tests.helpers import login, make_user
from tests.programmes.test_programmes import make_programme, programme_form
from tests.programmes.test_schedule_and_meetings import publish_pairs

LONG_PURPOSE = (
    "Seniors learn <b>AI tools</b> from juniors,\n\nand juniors learn how decisions are made "
    "in the firm: budgets, hiring, the board's agenda and the quarterly plan. After that "
    "SECRET-TAIL is never on the list."
)


async def test_the_list_puts_open_then_running_then_drafts_then_closed_with_dates_and_purpose(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    # Made oldest first: the closed one, then the running, the open and the draft.
    closed = await make_programme(db, settings, lead, name="Closed pilot")
    await lifecycle.close(db, settings, lead, closed)
    running = await make_programme(db, settings, lead, name="Running pilot")
    await publish_pairs(db, settings, lead, running)
    await make_programme(db, settings, lead, name="Open pilot", purpose=LONG_PURPOSE,
                        starts_on="2027-03-01", ends_on="2027-05-31")  # fmt: skip
    await svc.create_programme(db, settings, lead, programme_form(name="Draft pilot"),
                               draft=True)  # fmt: skip
    await make_programme(db, settings, lead, name="Second open pilot")
    await db.commit()

    def order(page: str) -> list[str]:
        listed = page.split("All programmes")[-1]
        names = ["Second open pilot", "Open pilot", "Running pilot", "Draft pilot",
                 "Closed pilot"]  # fmt: skip
        found = [n for n in names if f">{n}</a>" in listed]
        return sorted(found, key=lambda n: listed.index(f">{n}</a>"))

    visitor = (await client.get("/programmes")).text
    # Open (newest first), then running, then closed; a visitor sees no draft.
    assert order(visitor) == ["Second open pilot", "Open pilot", "Running pilot", "Closed pilot"]
    entry = visitor[visitor.index(">Open pilot</a>") :].split("</li>")[0]
    assert "Dates: 01 March 2027 to 31 May 2027" in entry
    # The purpose's first 140 characters or so, on one line, as plain text (escaped).
    line = svc.purpose_line(LONG_PURPOSE)
    assert len(line) <= 141 and line.endswith("…") and "\n" not in line
    assert line.startswith("Seniors learn <b>AI tools</b> from juniors, and juniors")
    assert "Seniors learn &lt;b&gt;AI tools&lt;/b&gt; from juniors, and juniors" in entry
    assert "<b>" not in entry and "SECRET-TAIL" not in visitor
    assert "Dates: no dates set" in visitor[visitor.index(">Running pilot</a>") :]
    await login(client, "leader")
    # The lead sees their draft, after the running programmes and before the closed ones.
    assert order((await client.get("/programmes")).text) == [
        "Second open pilot", "Open pilot", "Running pilot", "Draft pilot", "Closed pilot"
    ]  # fmt: skip


def test_a_short_purpose_is_listed_whole() -> None:
    assert svc.purpose_line("  Seniors learn\nfrom juniors.  ") == "Seniors learn from juniors."
    assert svc.purpose_line("") == ""
    assert svc.purpose_line("x" * 300) == "x" * 140 + "…"
