"""Private messages (#17): conversations only their participants see, unread counts, quoting,
leaving, blocks, rate limits, scoring by the worker, reports and the audited moderator view."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.core import events
from forum.core.audit import AuditEntry
from forum.core.db import Database, utcnow
from forum.core.ratelimit import RateLimited
from forum.core.settings import Settings
from forum.messages import services as pm
from forum.messages.events import MessageVisible
from forum.messages.models import Conversation, Message, Participant
from forum.notifications.fanout import Notifier
from forum.notifications.models import Notification
from forum.notifications.paths import worker_paths
from forum.review.models import ModerationResult, Report, ReviewItem
from forum.review.services import decide, report_message
from tests.helpers import login, make_category, make_thread, make_user, post_form, url
from tests.moderation.test_worker import worker_for

PUT_DOWN = "Honestly, know your place. Come back when you have 20 years in."
FRIENDLY = "Could we pair up on the rota review next week?"


async def _old(user: User) -> User:
    """An established account (the stricter limits for new accounts do not apply)."""
    user.joined_at = utcnow().replace(year=utcnow().year - 1)
    return user


async def _conversation(
    db: AsyncSession, settings: Settings, sender: User, *to: User, body: str = FRIENDLY
) -> tuple[int, int]:
    conversation, message = await pm.start_conversation(
        db, settings, sender, list(to), "Rota review", body
    )
    ids = conversation.id, message.id
    await db.commit()
    return ids


async def _score(database: Database, settings: Settings) -> int:
    return await worker_for(settings, database).score_messages()


async def test_a_message_reaches_its_recipient_once_scored_with_unread_counts(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    await _old(await make_user(db, settings, username="pmjunior"))
    senior = await _old(await make_user(db, settings, username="pmsenior"))
    await login(client, "pmjunior")
    sent = await post_form(client, url("new_conversation"),
                           {"to": "pmsenior", "subject": "Rota review", "body": FRIENDLY},
                           url("new_conversation"))  # fmt: skip
    assert sent.status_code == 303, sent.text
    conversation_id = int(sent.headers["location"].rsplit("/", 1)[1])
    own = (await client.get(sent.headers["location"])).text
    assert FRIENDLY in own and "Rota review" in own  # the sender sees it, subject and all
    # Not scored yet: the recipient neither sees it nor counts it.
    assert await pm.unread_count(db, senior.id) == 0
    await login(client, "pmsenior")
    page = await client.get(url("conversation", conversation_id=conversation_id))
    assert page.status_code == 404 and FRIENDLY not in page.text
    # Nor its subject, which is moderated with it (a put-down for a subject showed while held),
    # nor who wrote it, nor that it exists: a held message's sender was named in the inbox.
    assert "Rota review" not in page.text
    inbox = await client.get(url("messages"))
    for hidden in ("Rota review", pm.SUBJECT_WAITING, "pmjunior"):
        assert hidden not in inbox.text
    assert await _score(database, settings) == 1
    assert await pm.unread_count(db, senior.id) == 1
    inbox = await client.get(url("messages"))
    assert "Rota review" in inbox.text and "1 unread" in inbox.text
    assert '<span class="label">Messages</span> <span class="badge">1<' in inbox.text
    page = await client.get(url("conversation", conversation_id=conversation_id))
    assert FRIENDLY in page.text and 'id="unread"' in page.text
    # Reading it marks it read.
    assert await pm.unread_count(db, senior.id) == 0
    assert "1 unread" not in (await client.get(url("messages"))).text


async def test_opening_a_conversation_clears_the_bell_for_it(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    """A member who read a message from the inbox kept the bell's "sent you a private
    message" unread: opening the conversation now marks those notifications read (and only
    those), as opening the notification does."""
    sender = await _old(await make_user(db, settings, username="pmsender"))
    reader = await _old(await make_user(db, settings, username="pmreader"))
    first, _ = await _conversation(db, settings, sender, reader)
    second, _ = await _conversation(db, settings, sender, reader)
    assert await _score(database, settings) == 2
    notifier = Notifier(settings, database, worker_paths())
    while await notifier.fan_out():
        pass

    async def unread() -> list[int | None]:
        rows = await db.scalars(
            select(Notification.conversation_id)
            .where(Notification.recipient_id == reader.id, Notification.read_at.is_(None))
            .execution_options(populate_existing=True)
        )
        return sorted(rows)

    assert await unread() == [first, second]
    await login(client, "pmreader")
    assert (
        '<span class="label">Notifications</span> <span class="badge">2<'
        in (await client.get(url("messages"))).text
    )
    page = await client.get(url("conversation", conversation_id=first))
    assert page.status_code == 200 and FRIENDLY in page.text
    assert await unread() == [second]
    assert (
        '<span class="label">Notifications</span> <span class="badge">1<'
        in (await client.get(url("messages"))).text
    )
    # The sender opening the conversation marks nothing of the reader's.
    client.cookies.clear()
    await login(client, "pmsender")
    await client.get(url("conversation", conversation_id=second))
    assert await unread() == [second]


async def test_only_participants_see_a_conversation_anywhere(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    a = await _old(await make_user(db, settings, username="pmalice"))
    b = await _old(await make_user(db, settings, username="pmbob"))
    await make_user(db, settings, username="pmeve")
    await make_user(db, settings, username="pmmod", role="moderator")
    secret = "Zanzibarquux salary details"
    conversation_id, message_id = await _conversation(db, settings, a, b, body=secret)
    await _score(database, settings)
    for outsider in ("pmeve", "pmmod"):
        await login(client, outsider)
        token_page = url("new_conversation")
        for method, path in [
            ("GET", url("conversation", conversation_id=conversation_id)),
            ("POST", url("conversation_reply", conversation_id=conversation_id)),
            ("POST", url("leave_conversation", conversation_id=conversation_id)),
            ("GET", url("report_message", message_id=message_id)),
            ("POST", url("report_message", message_id=message_id)),
        ]:
            if method == "GET":
                response = await client.get(path)
            else:
                response = await post_form(client, path, {"body": "hi", "reason": "spam"},
                                           token_page)  # fmt: skip
            assert response.status_code == 404, (outsider, path)
            assert secret not in response.text
        assert "Rota review" not in (await client.get(url("messages"))).text
        # Never in search, the home page or profiles.
        for path in (
            url("search") + "?q=Zanzibarquux",
            url("home"),
            url("profile", username="pmalice"),
        ):
            assert secret not in (await client.get(path)).text
    assert await db.scalar(select(func.count(Report.id))) == 0


async def test_a_conversation_is_not_there_for_its_recipient_before_its_message_is(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    a = await _old(await make_user(db, settings, username="pmearly"))
    leaver = await _old(await make_user(db, settings, username="pmleaver"))
    conversation_id, message_id = await _conversation(db, settings, a, leaver)
    await login(client, "pmleaver")
    # Not yet scored: no page, no reply, no leaving, no report (each says nothing of it).
    for path, data in (
        (url("conversation_reply", conversation_id=conversation_id), {"body": "hi"}),
        (url("leave_conversation", conversation_id=conversation_id), {}),
    ):
        refused = await post_form(client, path, data, url("messages"))
        assert refused.status_code == 404 and "Rota review" not in refused.text
    assert (await client.get(url("report_message", message_id=message_id))).status_code == 404
    # Scored and on view, it is there, and leaving names its subject.
    await _score(database, settings)
    left = await post_form(client, url("leave_conversation", conversation_id=conversation_id),
                           {}, url("messages"))  # fmt: skip
    assert left.status_code == 303
    assert "You left “Rota review”." in (await client.get(left.headers["location"])).text
    # Its writer sees why there is nothing to report rather than a form.
    await login(client, "pmearly")
    own = await client.get(url("report_message", message_id=message_id))
    assert own.status_code == 400 and "You cannot report your own message." in own.text
    assert 'name="reason"' not in own.text


async def test_reply_with_a_quote_and_leaving(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    a = await _old(await make_user(db, settings, username="pmquoter"))
    b = await _old(await make_user(db, settings, username="pmquoted"))
    conversation_id, message_id = await _conversation(db, settings, b, a)
    await _score(database, settings)
    await login(client, "pmquoter")
    page = await client.get(
        url("conversation", conversation_id=conversation_id) + f"?quote={message_id}"
    )
    assert "&gt; **pmquoted** wrote:" in page.text
    sent = await post_form(client, url("conversation_reply", conversation_id=conversation_id),
                           {"body": "> **pmquoted** wrote:\n> rota\n\nYes, Tuesday.",
                            "reply_to": str(message_id)},
                           url("conversation", conversation_id=conversation_id))  # fmt: skip
    assert sent.status_code == 303
    reply = await db.scalar(select(Message).where(Message.sender_id == a.id))
    assert reply is not None and reply.reply_to_id == message_id and reply.state == "pending"
    # Bad input keeps what was typed and says why.
    empty = await post_form(client, url("conversation_reply", conversation_id=conversation_id),
                            {"body": "   "}, url("messages"))  # fmt: skip
    assert empty.status_code == 400 and "The message is empty." in empty.text
    left = await post_form(client, url("leave_conversation", conversation_id=conversation_id),
                           {}, url("messages"))  # fmt: skip
    assert left.status_code == 303
    assert (
        await client.get(url("conversation", conversation_id=conversation_id))
    ).status_code == 404
    assert "Rota review" not in (await client.get(url("messages"))).text
    # With everyone else gone, the other member cannot write into the void.
    await login(client, "pmquoted")
    alone = await post_form(client, url("conversation_reply", conversation_id=conversation_id),
                            {"body": "Anyone?"}, url("messages"))  # fmt: skip
    assert alone.status_code == 400 and "Anyone?" in alone.text


async def test_a_blocked_member_cannot_write_to_the_blocker(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    blocker = await _old(await make_user(db, settings, username="pmblocker"))
    pest = await _old(await make_user(db, settings, username="pmpest"))
    third = await _old(await make_user(db, settings, username="pmthird"))
    conversation_id, _ = await _conversation(db, settings, pest, blocker, third)
    await login(client, "pmblocker")
    assert "You have not blocked anyone" in (await client.get(url("blocks"))).text
    blocked = await post_form(client, url("blocks"), {"username": "pmpest"}, url("blocks"))
    assert blocked.status_code == 303
    assert await pm.blocked(db, blocker.id, pest.id) and not await pm.blocked(
        db, pest.id, blocker.id
    )
    assert "pmpest" in (await client.get(url("blocks"))).text
    self_block = await post_form(client, url("blocks"), {"username": "pmblocker"}, url("blocks"))
    assert self_block.status_code == 400
    await login(client, "pmpest")
    start = await post_form(client, url("new_conversation"),
                            {"to": "pmblocker", "subject": "Hello", "body": "Hi there"},
                            url("new_conversation"))  # fmt: skip
    assert start.status_code == 403 and "You cannot write to pmblocker." in start.text
    assert "Hi there" in start.text  # nothing typed is lost
    again = await post_form(client, url("conversation_reply", conversation_id=conversation_id),
                            {"body": "Still here"}, url("messages"))  # fmt: skip
    # Refused without saying who blocked whom.
    assert again.status_code == 403 and pm.CANNOT_WRITE in again.text
    assert "pmblocker" not in again.text.split("Between")[0]
    await login(client, "pmblocker")
    # Nor does the blocker start a conversation the blocked member could never answer.
    own = await post_form(client, url("new_conversation"),
                          {"to": "pmpest, pmthird", "subject": "Hi", "body": "Hello both"},
                          url("new_conversation"))  # fmt: skip
    assert own.status_code == 403 and "You have blocked pmpest: unblock them first" in own.text
    await post_form(client, url("unblock", user_id=pest.id), {}, url("blocks"))
    assert not await pm.blocked(db, blocker.id, pest.id)


async def test_recipients_must_exist_and_be_few(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await _old(await make_user(db, settings, username="pmasker"))
    await db.commit()
    await login(client, "pmasker")
    for to, error in [("nobodyhere", "There is no member called"), ("pmasker", "yourself"),
                      ("", "Name at least one member")]:  # fmt: skip
        page = await post_form(client, url("new_conversation"),
                               {"to": to, "subject": "S", "body": "B"}, url("new_conversation"))  # fmt: skip
        assert page.status_code == 400 and error in page.text


async def test_a_new_account_writes_to_a_few_members_at_once(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A fresh account started three conversations of ten recipients each: thirty e-mails in
    minutes. For its first week it may name three members; the form keeps what was typed."""
    names = [f"pmto{i}" for i in range(5)]
    for name in names:
        await _old(await make_user(db, settings, username=name))
    await make_user(db, settings, username="pmfresh")
    await _old(await make_user(db, settings, username="pmsettled"))
    await db.commit()
    await login(client, "pmfresh")
    form = {"to": ", ".join(names[:4]), "subject": "Hello all", "body": "Typed with care."}
    page = await post_form(client, url("new_conversation"), form, url("new_conversation"))
    assert page.status_code == 400 and "New accounts can write to at most 3 members" in page.text
    assert "Typed with care." in page.text
    form["to"] = ", ".join(names[:3])
    ok = await post_form(client, url("new_conversation"), form, url("new_conversation"))
    assert ok.status_code == 303
    client.cookies.clear()
    await login(client, "pmsettled")
    form["to"] = ", ".join(names)
    ok = await post_form(client, url("new_conversation"), form, url("new_conversation"))
    assert ok.status_code == 303


@pytest.mark.parametrize("new_account", [True, False])
async def test_rate_limits_are_stricter_for_new_accounts(
    db: AsyncSession, settings: Settings, new_account: bool
) -> None:
    strict = settings.model_copy(update={"messages_new_account_max_per_hour": 2,
                                         "messages_max_per_minute": 4})  # fmt: skip
    sender = await make_user(db, settings)
    if not new_account:
        await _old(sender)
    other = await make_user(db, settings)
    conversation, _ = await pm.start_conversation(db, strict, sender, [other], "S", "one")
    await pm.reply(db, strict, sender, conversation, "two")
    if new_account:
        with pytest.raises(RateLimited):
            await pm.reply(db, strict, sender, conversation, "three")
    else:
        await pm.reply(db, strict, sender, conversation, "three")
        await pm.reply(db, strict, sender, conversation, "four")
        with pytest.raises(RateLimited):
            await pm.reply(db, strict, sender, conversation, "five")


async def test_characters_of_messages_count_against_the_hourly_budget(
    db: AsyncSession, settings: Settings
) -> None:
    strict = settings.model_copy(update={"text_max_chars_per_hour": 3_000})
    sender = await _old(await make_user(db, settings))
    other = await make_user(db, settings)
    conversation, _ = await pm.start_conversation(db, strict, sender, [other], "S", "x" * 2_000)
    await pm.reply(db, strict, sender, conversation, "y" * 900)
    with pytest.raises(RateLimited, match="characters an hour"):
        await pm.reply(db, strict, sender, conversation, "z" * 200)


async def test_new_conversations_per_day_are_limited(db: AsyncSession, settings: Settings) -> None:
    strict = settings.model_copy(update={"conversations_max_per_day": 1})
    sender = await _old(await make_user(db, settings))
    other = await make_user(db, settings)
    await pm.start_conversation(db, strict, sender, [other], "S", "one")
    with pytest.raises(RateLimited):
        await pm.start_conversation(db, strict, sender, [other], "S2", "two")


async def test_the_composer_nudges_and_the_worker_holds_with_context(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    senior = await _old(await make_user(db, settings, username="pmnudged", role="moderator"))
    junior = await _old(await make_user(db, settings, username="pmjr"))
    await db.commit()
    await login(client, "pmnudged")
    form = {"to": "pmjr", "subject": "Your idea", "body": PUT_DOWN}
    nudged = await post_form(client, url("new_conversation"), form, url("new_conversation"))
    assert nudged.status_code == 200 and "know your place" in nudged.text.lower()
    assert 'name="post_anyway"' in nudged.text and PUT_DOWN in nudged.text
    assert await db.scalar(select(func.count(Message.id))) == 0
    sent = await post_form(client, url("new_conversation"), {**form, "post_anyway": "1"},
                           url("new_conversation"))  # fmt: skip
    assert sent.status_code == 303
    message = await db.scalar(select(Message))
    assert message is not None and "know your place" in message.nudge_phrases.lower()
    seen: list[MessageVisible] = []

    async def capture(session: AsyncSession, event: MessageVisible) -> None:
        seen.append(event)

    events.subscribe(MessageVisible, capture)
    try:
        assert await _score(database, settings) == 1
        await db.refresh(message)
        # Held: a senior's put-down to a junior never reaches them unreviewed.
        assert message.state == "held" and seen == []
        assert await pm.unread_count(db, junior.id) == 0
        result = await db.scalar(
            select(ModerationResult).where(ModerationResult.message_id == message.id)
        )
        assert result is not None and result.verdict == "hold" and result.nudge_phrases
        item = await db.scalar(select(ReviewItem).where(ReviewItem.message_id == message.id))
        assert item is not None and item.status == "open"
        # A moderator (not the sender) approves it: now it is visible, and announced.
        admin = await make_user(db, settings, role="admin")
        await decide(db, settings, admin, item.id, item.version, "approve", url=url)
        await db.commit()
        await db.refresh(message)
        assert message.state == "clear"
        assert seen == [
            MessageVisible(message.id, message.conversation_id, senior.id, (junior.id,))
        ]
        assert await pm.unread_count(db, junior.id) == 1
    finally:
        events._handlers[MessageVisible].remove(capture)


async def test_a_friendly_message_is_cleared_and_announced(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    a = await _old(await make_user(db, settings))
    b = await make_user(db, settings)
    c = await make_user(db, settings)
    conversation_id, message_id = await _conversation(db, settings, a, b, c)
    seen: list[MessageVisible] = []

    async def capture(session: AsyncSession, event: MessageVisible) -> None:
        seen.append(event)

    events.subscribe(MessageVisible, capture)
    try:
        assert await _score(database, settings) == 1
        assert await _score(database, settings) == 0
    finally:
        events._handlers[MessageVisible].remove(capture)
    assert seen == [MessageVisible(message_id, conversation_id, a.id, tuple(sorted((b.id, c.id))))]


async def test_a_report_opens_an_item_and_the_moderator_view_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    sender = await _old(await make_user(db, settings, username="pmrude"))
    recipient = await _old(await make_user(db, settings, username="pmreporter"))
    await make_user(db, settings, username="pmmoderator", role="moderator")
    conversation_id, message_id = await _conversation(db, settings, sender, recipient,
                                                      body="Your rota plan is lazy.")  # fmt: skip
    await _score(database, settings)
    await login(client, "pmmoderator")
    # Nothing reported: the moderator has no way in.
    assert (
        await client.get(url("conversation", conversation_id=conversation_id))
    ).status_code == 404
    await login(client, "pmreporter")
    form_page = await client.get(url("report_message", message_id=message_id))
    assert form_page.status_code == 200 and "lazy" in form_page.text
    sent = await post_form(client, url("report_message", message_id=message_id),
                           {"reason": "harassment", "note": "Not the first time."},
                           url("report_message", message_id=message_id))  # fmt: skip
    assert sent.status_code == 303
    item = await db.scalar(select(ReviewItem).where(ReviewItem.message_id == message_id))
    assert item is not None and item.reasons == ["USER_REPORTS"]
    twice = await post_form(client, url("report_message", message_id=message_id),
                            {"reason": "harassment"}, url("messages"))  # fmt: skip
    assert twice.status_code == 400
    # The conversation says so where the link was (the sender's view does not).
    shown = (await client.get(url("conversation", conversation_id=conversation_id))).text
    assert "You reported this message" in shown
    assert url("report_message", message_id=message_id) not in shown
    await login(client, "pmrude")
    shown = (await client.get(url("conversation", conversation_id=conversation_id))).text
    assert "lazy" in shown and "You reported this message" not in shown
    await login(client, "pmmoderator")
    queue = await client.get(url("review_queue"))
    assert "private message" in queue.text and url("review_item", item_id=item.id) in queue.text
    before = await db.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "view_conversation")
    )
    page = await client.get(url("review_item", item_id=item.id))
    assert page.status_code == 200 and "lazy" in page.text and "Not the first time." in page.text
    views = (
        await db.scalars(select(AuditEntry).where(AuditEntry.action == "view_conversation"))
    ).all()
    assert len(views) == (before or 0) + 1 and views[-1].target_id == conversation_id
    # Opened again within minutes: the reading is logged once.
    assert (await client.get(url("review_item", item_id=item.id))).status_code == 200
    again = await db.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "view_conversation")
    )
    assert again == len(views)
    decided = await post_form(client, url("review_item", item_id=item.id),
                              {"action": "hide", "reason": "Personal attack.",
                               "version": str(item.version)}, url("review_item", item_id=item.id))  # fmt: skip
    assert decided.status_code == 303
    message = await db.get(Message, message_id, populate_existing=True)
    assert message is not None and message.state == "hidden"
    report = await db.scalar(select(Report).where(Report.message_id == message_id))
    assert report is not None and report.upheld is True
    # The moderation log names whose message it was, and the conversation's members, each
    # linked to the review item.
    log = (await client.get(url("audit_log"))).text
    link = url("review_item", item_id=item.id)
    assert f'<a href="{link}">pmrude\'s private message</a>' in log.replace("&#39;", "'")
    assert re.search(rf'<a href="{link}">the conversation of pmreporter and pmrude</a>', log)
    await login(client, "pmreporter")
    assert (
        "lazy" not in (await client.get(url("conversation", conversation_id=conversation_id))).text
    )
    await login(client, "pmrude")
    own = await client.get(url("conversation", conversation_id=conversation_id))
    assert "lazy" in own.text and "Removed by a moderator" in own.text
    # The reporter hears back, as a post's reporter does (a junior who reported a senior's
    # message in a pair space heard nothing: the newcomer probe); the sender's notice is theirs.
    notifier = Notifier(settings, database, worker_paths())
    while await notifier.fan_out():
        pass
    await login(client, "pmreporter")
    told = (await client.get(url("notifications"))).text
    assert "A moderator decided on a private message you reported: acted on" in told
    await login(client, "pmrude")
    sender_told = (await client.get(url("notifications"))).text
    assert "A moderator decided on your private message: removed" in sender_told
    assert "you reported" not in sender_told


async def test_a_participant_cannot_report_their_own_or_an_unseen_message(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient
) -> None:
    sender = await _old(await make_user(db, settings, username="pmown"))
    other = await _old(await make_user(db, settings, username="pmother"))
    _, message_id = await _conversation(db, settings, sender, other)
    await login(client, "pmother")  # not scored yet: the recipient cannot see it
    assert (await client.get(url("report_message", message_id=message_id))).status_code == 404
    message = await db.get(Message, message_id)
    assert message is not None
    from forum.review.queue import ReviewError

    with pytest.raises(ReviewError):
        await report_message(db, settings, sender, message, "spam", "")
    participant = await db.scalar(select(Participant).where(Participant.user_id == other.id))
    assert participant is not None and participant.last_read_id == 0


async def test_an_unreported_flag_shows_the_moderator_only_the_message_and_its_context(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    from forum.review.queue import open_item

    a = await _old(await make_user(db, settings, username="pmflagged"))
    b = await _old(await make_user(db, settings, username="pmflaggedto"))
    await make_user(db, settings, username="pmflagmod", role="moderator")
    conversation, _ = await pm.start_conversation(db, settings, a, [b], "S", "Earliest words")
    await pm.reply(db, settings, b, conversation, "Middle words")
    flagged = await pm.reply(db, settings, a, conversation, "Latest words")
    await db.commit()
    await _score(database, settings)
    item = await open_item(
        db, None, ["DISMISSIVE_OF_JUNIORS"], message_id=flagged.id, verdict="flag"
    )
    item_id = item.id
    await db.commit()
    await login(client, "pmflagmod")
    page = await client.get(url("review_item", item_id=item_id))
    assert "Latest words" in page.text and "Middle words" in page.text
    assert "Earliest words" not in page.text and "was not reported" in page.text
    await report_message(db, settings, b, flagged, "harassment", "")
    await db.commit()
    page = await client.get(url("review_item", item_id=item_id))
    assert "Earliest words" in page.text


async def test_reports_can_hide_a_message_and_approval_does_not_announce_it_again(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    touchy = settings.model_copy(update={"report_hide_weight": 0.01})
    sender = await _old(await make_user(db, settings))
    recipient = await _old(await make_user(db, settings))
    admin = await make_user(db, settings, role="admin")
    _, message_id = await _conversation(db, settings, sender, recipient)
    seen: list[MessageVisible] = []

    async def capture(session: AsyncSession, event: MessageVisible) -> None:
        seen.append(event)

    events.subscribe(MessageVisible, capture)
    try:
        await _score(database, settings)
        assert len(seen) == 1
        message = await db.get(Message, message_id, populate_existing=True)
        assert message is not None and message.state == "clear"
        await report_message(db, touchy, recipient, message, "harassment", "")
        assert message.state == "held"
        assert await pm.message_for_participant(db, message_id, recipient.id) is None
        item = await db.scalar(select(ReviewItem).where(ReviewItem.message_id == message_id))
        assert item is not None
        await decide(db, settings, admin, item.id, item.version, "approve", url=url)
        assert message.state == "clear" and len(seen) == 1
        report = await db.scalar(select(Report).where(Report.message_id == message_id))
        assert report is not None and report.upheld is False
    finally:
        events._handlers[MessageVisible].remove(capture)


async def _premoderated_sender(db: AsyncSession, settings: Settings) -> tuple[User, User, User]:
    """A sender on pre-moderation, a recipient and a moderator."""
    sender = await _old(await make_user(db, settings))
    sender.premoderated = True
    recipient = await _old(await make_user(db, settings))
    return sender, recipient, await make_user(db, settings, role="moderator")


async def test_a_member_on_pre_moderation_waits_for_approval_to_deliver_a_message(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    sender, recipient, mod = await _premoderated_sender(db, settings)
    conversation_id, message_id = await _conversation(db, settings, sender, recipient)
    conversation = await db.get(Conversation, conversation_id)
    message = await db.get(Message, message_id, populate_existing=True)
    assert conversation is not None and message is not None and message.state == "held"
    assert "approval" in message.state_note
    item = await db.scalar(select(ReviewItem).where(ReviewItem.message_id == message_id))
    assert item is not None and item.reasons == ["PREMODERATION"]
    # Scoring leaves it waiting (a friendly message too), and the recipient sees nothing of it.
    await _score(database, settings)
    await db.refresh(message)
    assert message.state == "held"
    assert await pm.message_for_participant(db, message_id, recipient.id) is None
    subjects = await pm.shown_subjects(db, [conversation], recipient.id)
    assert subjects[conversation.id] == pm.SUBJECT_WAITING
    await db.refresh(item)
    await decide(db, settings, mod, item.id, item.version, "approve", url=url)
    assert message.state == "clear"
    assert await pm.message_for_participant(db, message_id, recipient.id) is not None
    # A member not on pre-moderation is delivered once scored, as before.
    sender.premoderated = False
    reply = await pm.reply(db, settings, sender, conversation, "Thanks for your time.")
    assert reply.state == "pending"


async def test_the_sender_of_a_message_a_moderator_decided_on_is_told_in_the_list(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    from forum.notifications.fanout import describe, target_path
    from forum.notifications.models import Notification
    from tests.notifications.test_fanout import settle

    sender, recipient, mod = await _premoderated_sender(db, settings)
    kept, kept_id = await _conversation(db, settings, sender, recipient)
    removed, removed_id = await _conversation(db, settings, sender, recipient)
    for message_id, action in ((kept_id, "approve"), (removed_id, "hide")):
        item = await db.scalar(select(ReviewItem).where(ReviewItem.message_id == message_id))
        assert item is not None
        await decide(db, settings, mod, item.id, item.version, action, "Rude to a colleague.",
                     url=url)  # fmt: skip
    await db.commit()
    await settle(settings, database)
    told = list(await db.scalars(select(Notification).where(Notification.recipient_id == sender.id)
                                 .order_by(Notification.id)))  # fmt: skip
    assert [(n.kind, n.conversation_id) for n in told] == [
        ("moderation", kept),
        ("moderation", removed),
    ]
    lines = [describe(n.kind, mod.username, "", n.detail) for n in told]
    assert lines == ["A moderator decided on your private message: approved",
                     "A moderator decided on your private message: removed"]  # fmt: skip
    assert target_path(url, told[1].kind, None, None, told[1].detail, removed) == (
        f"/messages/{removed}"
    )
    # Approving a message already on view tells its sender nothing (in a conversation of two,
    # it would say the other reported it).
    sender.premoderated = False
    await db.commit()
    _, visible_id = await _conversation(db, settings, sender, recipient)
    visible = await db.get(Message, visible_id)
    assert visible is not None and visible.state != "held"
    await report_message(db, settings, recipient, visible, "harassment", "")
    await db.commit()
    item = await db.scalar(select(ReviewItem).where(ReviewItem.message_id == visible_id))
    assert item is not None
    await decide(db, settings, mod, item.id, item.version, "approve", url=url)
    await db.commit()
    await settle(settings, database)
    count = await db.scalar(select(func.count(Notification.id)).where(
        Notification.recipient_id == sender.id))  # fmt: skip
    assert count == 2


async def test_a_held_message_neither_moves_nor_renames_a_conversation(
    db: AsyncSession, settings: Settings, database: Database
) -> None:
    sender = await _old(await make_user(db, settings, username="pmmover"))
    recipient = await _old(await make_user(db, settings, username="pmstill"))
    first, _ = await _conversation(db, settings, sender, recipient)
    second, _ = await _conversation(db, settings, sender, recipient)
    await _score(database, settings)
    conversation = await db.get(Conversation, first)
    assert conversation is not None
    order = [r.conversation.id for r in await pm.inbox(db, recipient)]
    assert order == [second, first]
    await pm.reply(db, settings, sender, conversation, PUT_DOWN, None)
    await db.commit()
    await _score(database, settings)  # held: the recipient is told nothing, order included
    assert [r.conversation.id for r in await pm.inbox(db, recipient)] == [second, first]
    await pm.reply(db, settings, sender, conversation, FRIENDLY + " Also Tuesday?", None)
    await db.commit()
    await _score(database, settings)
    assert [r.conversation.id for r in await pm.inbox(db, recipient)] == [first, second]
    # A programme pair's space keeps its name while its first message is held.
    space = Conversation(subject="Pilot: pmstill and pmmover", created_by=None)
    db.add(space)
    await db.flush()
    for member in (sender, recipient):
        db.add(Participant(conversation_id=space.id, user_id=member.id, last_read_id=0))
    await db.commit()
    await pm.reply(db, settings, sender, space, PUT_DOWN, None)
    await db.commit()
    await _score(database, settings)
    for viewer in (recipient, sender):
        shown = await pm.shown_subjects(db, [space], viewer.id)
        assert shown[space.id] == "Pilot: pmstill and pmmover"


async def test_a_suspended_member_is_told_why_and_can_write_only_to_moderators(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The newcomer probe's suspended member saw no reason on the site and had no way to
    reach a moderator."""
    from forum.accounts.services import impose_restriction

    member = await _old(await make_user(db, settings, username="benched"))
    friend = await _old(await make_user(db, settings, username="benchfriend"))
    moderator = await _old(await make_user(db, settings, username="benchmod", role="moderator"))
    await impose_restriction(db, moderator, member, "suspension", "Repeated put-downs of interns.",
                             "24h")  # fmt: skip
    await db.commit()
    await login(client, "benched")
    home = (await client.get("/")).text
    assert "suspended until" in home and "“Repeated put-downs of interns.”" in home
    thread, _ = await make_thread(db, settings, friend, await make_category(db))
    await db.commit()
    page = (await client.get(f"/t/{thread.id}")).text
    assert "you can read this thread, not reply" in page and 'id="quick-body"' not in page
    to_friend = await post_form(client, url("new_conversation"),
                                {"to": "benchfriend", "subject": "Hi", "body": "Hello there"},
                                url("new_conversation"))  # fmt: skip
    assert to_friend.status_code == 403 and "only to moderators" in to_friend.text
    to_mod = await post_form(client, url("new_conversation"),
                             {"to": "benchmod", "subject": "My suspension",
                              "body": "Could you tell me more?"},
                             url("new_conversation"))  # fmt: skip
    assert to_mod.status_code == 303
    written = await db.scalar(select(func.count()).select_from(Participant).where(
        Participant.user_id == friend.id))  # fmt: skip
    assert written == 0


async def test_a_blocked_member_sees_why_in_place_of_the_composer(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """The newcomer probe's blocked member typed a reply and learnt only on sending."""
    blocker = await _old(await make_user(db, settings, username="composer_blocker"))
    pest = await _old(await make_user(db, settings, username="composer_pest"))
    conversation_id, _ = await _conversation(db, settings, pest, blocker)
    await login(client, "composer_pest")
    page = f"/messages/{conversation_id}"
    assert 'id="body"' in (await client.get(page)).text  # can write
    await pm.block(db, blocker, pest)
    await db.commit()
    shown = (await client.get(page)).text
    assert pm.CANNOT_WRITE in shown and 'id="body"' not in shown
    # The blocker's own page keeps its composer (their reply is refused elsewhere: they are
    # told to unblock first).
    client.cookies.clear()
    await login(client, "composer_blocker")
    assert pm.CANNOT_WRITE not in (await client.get(page)).text


async def test_a_fresh_accounts_report_of_a_message_to_it_ranks_with_standing(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, database: Database
) -> None:
    """A junior who joined for a programme reported a senior's message in their pair space;
    their new account's report ranked below the model's false alarms (the newcomer probe). In
    a pair space (made by a programme's lead) it ranks as one with standing; elsewhere as its
    reporter's standing (two fresh accounts writing to each other, one reporting every
    message, flooded the queue: an attacker probe). The list says where it was sent."""
    sender = await _old(await make_user(db, settings, username="pmsenior"))
    fresh = await make_user(db, settings, username="pmfresh")
    await make_user(db, settings, username="pmqueue", role="moderator")
    _plain, plain_message_id = await _conversation(db, settings, sender, fresh,
                                                     body="Some of us have real work.")  # fmt: skip
    conversation_id, message_id = await _conversation(db, settings, sender, fresh,
                                                      body="Some of us have real work.")  # fmt: skip
    space = await db.get(Conversation, conversation_id)
    assert space is not None
    space.leave_via = "/programmes/1"  # (how a programme's pair space is told apart)
    for mid in (plain_message_id, message_id):
        message = await db.get(Message, mid)
        assert message is not None
        report = await report_message(db, settings, fresh, message, "dismissive of juniors", "")
        assert report.weight < 0.3  # a new account's standing
    plain = await db.scalar(select(ReviewItem).where(ReviewItem.message_id == plain_message_id))
    assert plain is not None and plain.priority < 20.0  # below the model's flags
    item = await db.scalar(select(ReviewItem).where(ReviewItem.message_id == message_id))
    assert item is not None and item.priority >= 30.0
    await db.commit()
    await login(client, "pmqueue")
    queue = (await client.get(url("review_queue"))).text
    assert "reporters' standing 0." in queue and "(new accounts)" in queue
    # Kept as it is: the reporter is told so; the sender, who saw nothing change, is not.
    moderator = await db.scalar(select(User).where(User.username == "pmqueue"))
    assert moderator is not None
    await decide(db, settings, moderator, item.id, item.version, "approve", url=url)
    await db.commit()
    notifier = Notifier(settings, database, worker_paths())
    while await notifier.fan_out():
        pass
    told = {
        n.recipient_id: n.detail
        for n in await db.scalars(select(Notification).where(Notification.kind == "moderation"))
    }
    assert told == {fresh.id: "message report: kept"}
