"""Every check-in asks, by default, "Anything you would like the programme's lead to know?":
a participant's place to say something in their own words. It is optional, and its answers
reach the lead under the rule every written answer does: once the round is over, only when
five participants wrote one, never by name, never to the partner."""

from __future__ import annotations

import csv
import io

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core.settings import Settings
from forum.programmes import dashboard as dash
from forum.programmes import lifecycle as life
from forum.programmes import services as svc
from forum.programmes.models import CheckinAnswer, CheckinQuestion, Programme
from tests.helpers import login, make_user, post_form
from tests.programmes.test_programmes import _published, end_round, make_programme

NOTE_HTML = svc.NOTE.replace("'", "&#39;")  # as the pages write it


async def _note(db: AsyncSession, programme: Programme) -> CheckinQuestion:
    (note,) = [q for q in await svc.questions(db, programme, closing=None) if svc.is_note(q)]
    return note


async def _frank(db: AsyncSession, programme: Programme) -> CheckinQuestion:
    (frank,) = [q for q in await svc.questions(db, programme) if q.frankness]
    return frank


async def test_a_new_programme_asks_it_last_in_every_check_in_not_in_the_closing_survey(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    await svc.add_question(db, settings, lead, programme, "Was it useful?", "scale", "both")
    await svc.add_question(db, settings, lead, programme, "What did you learn?", "text", "both",
                           closing=True)  # fmt: skip
    note = await _note(db, programme)
    assert (note.prompt, note.kind, note.side) == (svc.NOTE, "text", "both")
    assert not note.frankness and not note.closing
    for side in ("junior", "senior"):
        asked = await svc.questions(db, programme, side)
        assert [q.prompt for q in asked] == [svc.FRANKNESS, "Was it useful?", svc.NOTE]
        closing = await svc.questions(db, programme, side, closing=True)
        assert [q.prompt for q in closing] == [svc.FRANKNESS, "What did you learn?"]
    await db.commit()
    await login(client, "leader")
    # The questions have a page of their own (they were under "Pairing").
    page = (await client.get(f"/programmes/{programme.id}/questions")).text
    assert "<h1>Check-in questions</h1>" in page
    assert f'">{NOTE_HTML} <span' in page
    assert "which they may leave empty" in page


async def test_a_copy_asks_it_once_even_of_a_programme_made_before_it(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    copy = await svc.copy_programme(db, settings, lead, programme)
    assert [q.prompt for q in await svc.questions(db, copy, closing=None)] == [
        svc.FRANKNESS,
        svc.NOTE,
    ]
    # A programme closed before the question existed (migration 0030 left it as it was).
    old = await make_programme(db, settings, lead, name="Old pilot")
    await db.execute(delete(CheckinQuestion).where(CheckinQuestion.id == (await _note(db, old)).id))
    old.status = "closed"
    copy = await svc.copy_programme(db, settings, lead, old)
    assert [q.prompt for q in await svc.questions(db, copy, closing=None)] == [
        svc.FRANKNESS,
        svc.NOTE,
    ]


async def test_a_participant_sends_it_empty_or_written_and_too_long_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    ((junior, senior),) = await _published(db, settings, lead, programme, 1)
    frank, note = await _frank(db, programme), await _note(db, programme)
    await db.commit()
    page = f"/programmes/{programme.id}/checkin"
    await login(client, junior.username)
    shown = (await client.get(page)).text
    label = f'<label for="q{note.id}">{NOTE_HTML} '
    assert label + '<span class="muted small">(optional)</span></label>' in shown
    assert "without your name" in shown and "at least 5 participants" in shown

    async def stored() -> list[str]:
        return list(await db.scalars(
            select(CheckinAnswer.text).where(CheckinAnswer.question_id == note.id,
                                             CheckinAnswer.user_id == junior.id)
            .execution_options(populate_existing=True)))  # fmt: skip

    # Left empty (or not sent at all): the check-in is taken.
    sent = await post_form(client, page, {"side": "junior", f"q{frank.id}": "4",
                                          f"q{note.id}": "  "}, page)  # fmt: skip
    assert sent.status_code == 303 and await stored() == [""]
    sent = await post_form(client, page, {"side": "junior", f"q{frank.id}": "4"}, page)
    assert sent.status_code == 303 and await stored() == [""]
    # Written: kept, and shown back to its writer in the form.
    words = "My manager wants me to skip our meetings."
    sent = await post_form(client, page, {"side": "junior", f"q{frank.id}": "3",
                                          f"q{note.id}": words}, page)  # fmt: skip
    assert sent.status_code == 303 and await stored() == [words]
    assert f">{words}</textarea>" in (await client.get(page)).text
    # Too long: refused in words, what was typed kept, the stored answer unchanged.
    long = "x" * (svc.TEXT_MAX + 1)
    refused = await post_form(client, page, {"side": "junior", f"q{frank.id}": "3",
                                             f"q{note.id}": long}, page)  # fmt: skip
    assert refused.status_code == 400
    assert f"at most {svc.TEXT_MAX} characters" in refused.text and long in refused.text
    assert await stored() == [words]
    # The partner reads it nowhere: not on their pages, nor on the lead's.
    client.cookies.clear()
    await login(client, senior.username)
    (pair,) = await svc.pairs_of(db, programme)
    for path in (page, f"/programmes/{programme.id}",
                 f"/programmes/{programme.id}/pairs/{pair.id}", f"/messages/{pair.conversation_id}"):  # fmt: skip
        read = await client.get(path)
        assert read.status_code == 200 and words not in read.text, path
    for path in (f"/programmes/{programme.id}/dashboard", f"/programmes/{programme.id}/dashboard.csv"):  # fmt: skip
        assert (await client.get(path)).status_code == 403


async def test_the_lead_reads_it_as_every_written_answer_once_five_wrote_one(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 6)
    frank, note = await _frank(db, programme), await _note(db, programme)

    async def answer(side: str, user: User, text: str) -> None:
        await svc.answer_checkin(db, settings, user, programme, side,
                                 {frank.id: "3", note.id: text})  # fmt: skip

    # Round 1: four write one, the others leave it empty.
    few = [f"Round one note {n}" for n in range(4)]
    for (junior, senior), text in zip(people, few + ["", ""], strict=True):
        await answer("junior", junior, text)
        await answer("senior", senior, "")
    board = await dash.build(db, programme)
    assert board.texts_open == [svc.NOTE] and board.texts == [] and not board.texts_withheld
    end_round(programme)
    # Round 2: five write one, juniors and seniors (in the order the names would give away).
    many = ["Zebra crossing", "Apples", "Mangoes", "Kiwis", "Bananas"]
    for n, text in enumerate(many):
        junior, senior = people[n // 2]
        await answer("junior" if n % 2 == 0 else "senior", junior if n % 2 == 0 else senior, text)
    board = await dash.build(db, programme)
    assert board.texts_withheld == [(1, svc.NOTE)] and board.texts == []
    assert board.texts_open == [svc.NOTE]
    end_round(programme)
    board = await dash.build(db, programme)
    assert board.texts_withheld == [(1, svc.NOTE)]
    assert board.texts == [(2, svc.NOTE, text) for text in sorted(many)]
    await db.commit()
    await login(client, "leader")
    shown = (await client.get(f"/programmes/{programme.id}/dashboard")).text
    written = shown[shown.index("<h2>Written answers</h2>") :]
    written = written[: written.index("</ul>")]
    assert [line for line in written.split("<li>")[1:]] == [
        f"Round 2, “{NOTE_HTML}”: {text}</li>" for text in sorted(many)
    ]
    assert not any(text in shown for text in few)
    assert "Withheld until 5 participants have written an answer: round 1" in shown
    # Nobody's name goes with a note, nor does any note go into the export.
    for junior, senior in people:
        assert junior.username not in written and senior.username not in written
    exported = (await client.get(f"/programmes/{programme.id}/dashboard.csv")).text
    assert not any(text in exported for text in few + many)
    assert not [row for row in csv.reader(io.StringIO(exported)) if svc.NOTE in row]
    # The partners of those who wrote read none of it.
    client.cookies.clear()
    await login(client, people[0][1].username)
    for path in (f"/programmes/{programme.id}", f"/programmes/{programme.id}/checkin"):
        text = (await client.get(path)).text
        assert not any(note_text in text for note_text in few + many[:1] + many[2:])
    assert (await client.get(f"/programmes/{programme.id}/dashboard")).status_code == 403


async def test_the_closing_survey_neither_asks_it_nor_shows_its_check_in_answers(
    db: AsyncSession, settings: Settings
) -> None:
    lead = await make_user(db, settings, username="leader", role="programme_lead")
    programme = await make_programme(db, settings, lead)
    people = await _published(db, settings, lead, programme, 5)
    frank, note = await _frank(db, programme), await _note(db, programme)
    for n, (junior, _) in enumerate(people):
        await svc.answer_checkin(db, settings, junior, programme, "junior",
                                 {frank.id: "4", note.id: f"Check-in note {n}"})  # fmt: skip
    await life.close(db, settings, lead, programme)
    for junior, _ in people:
        # Sent with the note's field too: it is not the closing survey's, so not stored.
        await life.answer_closing(db, settings, junior, programme, "junior",
                                  {frank.id: "4", note.id: "Closing words"})  # fmt: skip
    closing_texts = await db.scalars(
        select(CheckinAnswer.text).where(CheckinAnswer.round == 0, CheckinAnswer.text != "")
    )
    assert list(closing_texts) == []
    board = await dash.build(db, programme)
    assert board.closing is not None and board.closing.texts == []
    # The check-in's notes show as round 1's (closing the programme ended that round).
    assert board.texts == [(1, svc.NOTE, f"Check-in note {n}") for n in range(5)]
