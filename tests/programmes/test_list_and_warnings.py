"""A usability probe's findings: the programmes list put closed programmes among the open ones
and said nothing of their dates or purpose; a pair with no time slot in common was proposed
and published without a warning."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.settings import Settings
from forum.programmes import lifecycle, pairing
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


# --- a pair with no time slot in common ---------------------------------------------------------


async def test_a_pair_with_no_time_slot_in_common_is_marked_in_the_proposal_and_at_publishing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's pair had "availability: 0.0 — no time slot in common" and was proposed and
    published without a word: both pages now warn of it (publishing it stays the lead's call)."""
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    # Whichever way the two pairs are made, tue_sen shares no slot with their junior.
    for name, side, slot in (("jun_a", "junior", "mon-am"), ("jun_b", "junior", "mon-am"),
                             ("mon_sen", "senior", "mon-am"), ("tue_sen", "senior", "tue-pm")):  # fmt: skip
        member = await make_user(db, settings, username=name)
        form = svc.ApplicationForm(side=side, department="Sales",
                                   seniority="2" if side == "junior" else "20",
                                   teaches=["AI tools"], learns=["Budgeting"], availability=[slot])  # fmt: skip
        for application in await svc.apply(db, settings, member, programme, form):
            await svc.decide(db, settings, lead, programme, application.id, True)
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    proposal = svc.proposal_of(job)
    assert proposal is not None
    (slotless,) = [p for p in proposal["pairs"] if svc.no_common_slot(p)]
    names = {u.id: u.username for u in await db.scalars(select(User))}
    assert names[slotless["senior_id"]] == "tue_sen"
    junior = names[slotless["junior_id"]]
    await db.commit()
    await login(client, "leader")
    warning = "No time slot in common: they will have to find one."
    page = (await client.get(f"/programmes/{programme.id}/proposal")).text
    assert page.count(warning) == 1 and "1 pair has no time slot in common" in page
    row = page[page.index(f'value="{slotless["junior_id"]}-{slotless["senior_id"]}"') :]
    assert warning in row.split("</tr>")[0]
    confirm = await client.get(f"/programmes/{programme.id}/publish")
    assert confirm.status_code == 200 and warning in confirm.text
    assert f"1 pair shares no time slot: {junior} with tue_sen." in confirm.text
    # A proposal whose pairs all share a slot says nothing of it.
    assert not svc.no_common_slot({"notes": {"availability": "both free Monday morning"}})
    assert not svc.no_common_slot({"junior_id": 1, "senior_id": 2})
