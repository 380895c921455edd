"""The lead's fixes never break a member's constraint (an outside tester's report: fixing a
pair one side asked to avoid answered "Changed" and listed the fix, but the pair never showed
and nothing said why). Such a fix is refused with the reason, the lead's choice kept; a fix an
application's later change makes impossible is listed on the proposal page with its reason."""

from __future__ import annotations

import json
import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.audit import AuditEntry
from forum.core.settings import Settings
from forum.programmes import lifecycle as life
from forum.programmes import pairing
from forum.programmes import services as svc
from forum.programmes.models import PairingJob, Programme
from tests.helpers import login, make_user, post_form
from tests.programmes.test_programmes import make_programme


async def _apply(
    db: AsyncSession, settings: Settings, lead: User, programme: Programme, user: User,
    side: str, avoid: str = "", reporting_line: str = "",
) -> None:  # fmt: skip
    form = svc.ApplicationForm(side=side, seniority="2" if side == "junior" else "20",
                               teaches=["AI tools"], learns=["Budgeting"], availability=["mon-am"],
                               avoid=avoid, reporting_line=reporting_line)  # fmt: skip
    for application in await svc.apply(db, settings, user, programme, form):
        await svc.decide(db, settings, lead, programme, application.id, True)


async def _group(
    db: AsyncSession, settings: Settings, avoid: dict[str, str] | None = None, tag: str = ""
) -> tuple[Programme, dict[str, int]]:
    """newbie1 and newbie2 (juniors), atk1 and atk2 (seniors), with the avoid wishes given,
    and a first proposal run (`tag` ends every username, for a second group in one test)."""
    lead = await make_user(db, settings, username=f"rosa_lead{tag}", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ids = {}
    for name in ("newbie1", "newbie2", "atk1", "atk2"):
        ids[name] = (await make_user(db, settings, username=f"{name}{tag}")).id
    for name in ("newbie1", "newbie2", "atk1", "atk2"):
        user = await db.get(User, ids[name])
        assert user is not None
        side = "junior" if name.startswith("newbie") else "senior"
        wish = (avoid or {}).get(name, "")
        await _apply(db, settings, lead, programme, user, side, f"{wish}{tag}" if wish else "")
    job = await svc.request_proposal(db, settings, lead, programme)
    await svc.run_job(db, job, pairing)
    await db.commit()
    return programme, ids


async def _queued(db: AsyncSession, programme: Programme) -> int:
    return await db.scalar(
        select(func.count(PairingJob.id)).where(
            PairingJob.programme_id == programme.id, PairingJob.status == "queued"
        )
    ) or 0  # fmt: skip


async def test_fixing_a_pair_one_side_asked_to_avoid_is_refused_with_the_reason(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    programme, ids = await _group(db, settings, {"newbie1": "atk1"})
    page = f"/programmes/{programme.id}/proposal"
    proposal = svc.proposal_of(await svc.latest_job(db, programme))
    assert proposal is not None
    assert (ids["newbie1"], ids["atk1"]) not in {
        (p["junior_id"], p["senior_id"]) for p in proposal["pairs"]
    }
    await login(client, "rosa_lead")
    history_before = await db.scalar(select(func.count(AuditEntry.id)))
    refused = await post_form(client, f"/programmes/{programme.id}/edit",
                              {"pair": f"{ids['newbie1']}-{ids['atk1']}", "action": "fix"},
                              page)  # fmt: skip
    assert refused.status_code == 400
    assert (
        "newbie1 with atk1 cannot be fixed: newbie1 asked not to be paired with atk1. "
        "Members&#39; constraints are never broken; choose another pair."
    ) in refused.text
    assert "Changed." not in refused.text and "<h1>Pairing</h1>" in refused.text
    # Nothing changed: no edit stored, no proposal queued, nothing in the History.
    await db.refresh(programme)
    assert svc.edits_of(programme) == {"fixed": [], "forbidden": []}
    assert await _queued(db, programme) == 0
    assert await db.scalar(select(func.count(AuditEntry.id))) == history_before
    after = await client.get(page)
    assert "Your edits" not in after.text and "fixed newbie1" not in after.text


async def test_the_senior_side_wish_and_a_swap_into_it_are_refused_too(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    programme, ids = await _group(db, settings, {"atk1": "newbie1"})
    page = f"/programmes/{programme.id}/proposal"
    proposal = svc.proposal_of(await svc.latest_job(db, programme))
    assert proposal is not None
    chosen = [f"{p['junior_id']}-{p['senior_id']}" for p in proposal["pairs"]]
    assert len(chosen) == 2  # newbie1-atk2 and newbie2-atk1: swapping gives newbie1-atk1
    await login(client, "rosa_lead")
    fix = await post_form(client, f"/programmes/{programme.id}/edit",
                          {"pair": f"{ids['newbie1']}-{ids['atk1']}", "action": "fix"}, page)  # fmt: skip
    assert fix.status_code == 400 and "atk1 asked not to be paired with newbie1" in fix.text
    both: dict[str, str | list[str]] = {"pair": chosen, "action": "swap"}
    swap = await post_form(client, f"/programmes/{programme.id}/edit", both, page)  # type: ignore[arg-type]
    assert swap.status_code == 400 and "atk1 asked not to be paired with newbie1" in swap.text
    for value in chosen:  # the lead's choice is kept
        assert re.search(rf'value="{value}" id="pair-\d+" checked', swap.text)
    await db.refresh(programme)
    assert svc.edits_of(programme) == {"fixed": [], "forbidden": []}
    assert await _queued(db, programme) == 0


async def test_a_pair_the_lead_forbade_may_still_be_fixed(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    # The lead's own "forbid" is the lead's to undo; a member's wish is not.
    programme, ids = await _group(db, settings)
    page = f"/programmes/{programme.id}/proposal"
    pair = f"{ids['newbie1']}-{ids['atk1']}"
    await login(client, "rosa_lead")
    for action in ("forbid", "fix"):
        done = await post_form(client, f"/programmes/{programme.id}/edit",
                               {"pair": pair, "action": action}, page)  # fmt: skip
        assert done.status_code == 303
    await db.refresh(programme)
    assert svc.edits_of(programme) == {"fixed": [[ids["newbie1"], ids["atk1"]]], "forbidden": []}
    assert await svc.run_queued(db, pairing) == 1
    proposal = svc.proposal_of(await svc.latest_job(db, programme))
    assert proposal is not None and proposal["refused_fixed"] == []
    assert {"junior_id": ids["newbie1"], "senior_id": ids["atk1"]}.items() <= next(
        p for p in proposal["pairs"] if p["fixed"]
    ).items()


async def test_a_fix_a_later_application_rules_out_is_listed_with_its_reason(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    programme, ids = await _group(db, settings)
    lead = await db.get(User, programme.lead_id)
    atk1 = await db.get(User, ids["atk1"])
    assert lead is not None and atk1 is not None
    await svc.edit_pairs(db, settings, lead, programme, "fix", [(ids["newbie1"], ids["atk1"])])
    # atk1 withdraws and applies again, now asking not to be paired with newbie1.
    await life.withdraw(db, settings, atk1, programme)
    await _apply(db, settings, lead, programme, atk1, "senior", avoid="newbie1")
    assert await svc.run_queued(db, pairing) == 1
    job = await svc.latest_job(db, programme)
    assert job is not None
    result = json.loads(job.result)
    assert result["refused_fixed"] == [
        {"junior_id": ids["newbie1"], "senior_id": ids["atk1"],
         "reason": "the senior asked not to be paired with the junior"}
    ]  # fmt: skip
    assert (ids["newbie1"], ids["atk1"]) not in {
        (p["junior_id"], p["senior_id"]) for p in result["pairs"]
    }
    await db.commit()
    await login(client, "rosa_lead")
    page = (await client.get(f"/programmes/{programme.id}/proposal")).text
    assert "Fixed pairs left out" in page
    assert "newbie1 with atk1: the senior asked not to be paired with the junior" in page
    # Fixing it again is refused with the reason.
    again = await post_form(client, f"/programmes/{programme.id}/edit",
                            {"pair": f"{ids['newbie1']}-{ids['atk1']}", "action": "fix"},
                            f"/programmes/{programme.id}/proposal")  # fmt: skip
    assert again.status_code == 400 and "atk1 asked not to be paired with newbie1" in again.text


async def test_the_web_check_agrees_with_the_pairing_engine(
    db: AsyncSession, settings: Settings
) -> None:
    """`svc.unfixable` (the web side, no numpy) refuses exactly what `pairing.refusal` does,
    bar the lead's own forbid, which a fix replaces."""
    cases = [({}, None), ({"newbie1": "atk1"}, "junior asked"), ({"atk1": "newbie1"},
             "senior asked")]  # fmt: skip
    for n, (avoid, engine) in enumerate(cases):
        programme, ids = await _group(db, settings, avoid, tag=f"_{n}")
        juniors, seniors = await svc._people(db, programme, pairing)
        junior = next(p for p in juniors if p.id == ids["newbie1"])
        senior = next(p for p in seniors if p.id == ids["atk1"])
        why = pairing.refusal(junior, senior, pairing.Edits())
        assert (why is None) == (engine is None) and (engine or "") in (why or "")
        web = await svc.unfixable(db, programme, [(ids["newbie1"], ids["atk1"])])
        assert (web is None) == (why is None)


async def test_a_reporting_line_fix_and_a_peer_member_with_themselves_are_refused(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="rosa_lead", role="programme_lead")
    programme = await make_programme(db, settings, lead, kind="peer")
    boss = await make_user(db, settings, username="boss")
    report = await make_user(db, settings, username="report")
    await _apply(db, settings, lead, programme, boss, "both")
    await _apply(db, settings, lead, programme, report, "both", reporting_line="boss")
    line = await svc.unfixable(db, programme, [(boss.id, report.id)])
    assert line is not None and "boss and report are in the same reporting line" in line
    line = await svc.unfixable(db, programme, [(report.id, boss.id)])
    assert line is not None and "same reporting line" in line
    self_pair = await svc.unfixable(db, programme, [(boss.id, boss.id)])
    assert self_pair is not None and "boss cannot be paired with themselves" in self_pair
    try:
        await svc.edit_pairs(db, settings, lead, programme, "fix", [(boss.id, boss.id)])
    except svc.ProgrammeError as exc:
        assert exc.status == 400 and "themselves" in exc.message
    else:
        raise AssertionError("a member was fixed with themselves")
