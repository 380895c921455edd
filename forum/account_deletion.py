"""What deleting an account does in the domains built on accounts.

The accounts domain anonymises the account itself (forum.accounts.services.delete_account) and
announces AccountDeleting first; it may not import the domains above it, so this module, which
sits above them like forum.app, answers in the same transaction:

- programmes: a running pair ends and live applications are withdrawn through the programmes'
  own services (`leave`, `withdraw`), which tell the partner and the lead as they always do,
  and the profile each application carried (job, department, skills, availability) is cleared;
- board: the member's drafts and read marks go, and other posts' @mentions of the member stop
  linking (they stay as the text written: the old name's page is nobody's now);
- messages: blocks, the member's and of the member, go (conversations stay with the others);
- notifications: the member's notifications (and those waiting to be made), watches and
  choices go, and every kind is set to off, so that nothing is made for the anonymised account
  nor mailed to it when others reply to its posts or write in its conversations.

Posts, reactions, private messages, reports and the points ledger stay. A member who leads a
programme not yet closed is refused (nobody would run it)."""

from __future__ import annotations

import re

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.events import AccountDeleting
from forum.accounts.models import User
from forum.board.mentions import profile_path
from forum.board.models import Draft, Post
from forum.board.reading import ThreadRead
from forum.core import events
from forum.core.settings import Settings
from forum.messages.models import Block
from forum.notifications.models import (
    CategoryWatch,
    Delivery,
    Kind,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationWork,
    ThreadWatch,
)
from forum.programmes import lifecycle
from forum.programmes.models import (
    Application,
    ApplicationStatus,
    Pair,
    PairStatus,
    Programme,
    ProgrammeStatus,
)
from forum.programmes.services import ProgrammeError, my_pair


async def _programmes(session: AsyncSession, settings: Settings, user: User) -> None:
    uid = user.id
    applied = select(Application.programme_id).where(
        Application.user_id == uid, Application.status.in_(lifecycle.LIVE)
    )
    paired = select(Pair.programme_id).where(
        or_(Pair.junior_id == uid, Pair.senior_id == uid), Pair.status == PairStatus.active.value
    )
    ids = set(await session.scalars(applied)) | set(await session.scalars(paired))
    for programme_id in sorted(ids):
        programme = await session.get(Programme, programme_id)
        if programme is None or programme.status == ProgrammeStatus.closed.value:
            continue  # a closed programme's applications and pairs are its record
        if programme.status == ProgrammeStatus.published.value and await my_pair(
            session, programme, uid, active=True
        ):
            await lifecycle.leave(session, settings, user, programme)
        elif await lifecycle.may_withdraw(session, programme, uid):
            await lifecycle.withdraw(session, settings, user, programme)
    # What neither could take: an accepted application whose pair ended when the partner
    # left (`withdraw` refuses it: "ask the lead for a new partner"). The lead must not pair
    # the deleted account again.
    open_programmes = select(Programme.id).where(Programme.status != ProgrammeStatus.closed.value)
    await session.execute(
        update(Application)
        .where(
            Application.user_id == uid,
            Application.status.in_(lifecycle.LIVE),
            Application.programme_id.in_(open_programmes),
        )
        .values(status=ApplicationStatus.withdrawn.value)
        .execution_options(synchronize_session="fetch")
    )
    # The profile each application carried is the member's too: it goes, the row (side and
    # status, the lead's record of who applied) stays.
    await session.execute(
        update(Application)
        .where(Application.user_id == uid)
        .values(
            job_title="",
            department="",
            seniority=0,
            teaches="",
            learns="",
            free_text="",
            availability="",
            avoid="",
            reporting_line="",
        )  # fmt: skip
        .execution_options(synchronize_session="fetch")
    )


async def _board(session: AsyncSession, user: User) -> None:
    await session.execute(delete(Draft).where(Draft.user_id == user.id))
    await session.execute(delete(ThreadRead).where(ThreadRead.user_id == user.id))
    await _unlink_mentions(session, user.username)


async def _unlink_mentions(session: AsyncSession, username: str) -> None:
    """Posts' links to `username`'s page become the @name they show: after the deletion the
    page is nobody's (a probe followed such links to "There is no member by that name").
    Stored HTML is changed, as rendering made it; the Markdown source keeps the @name."""
    href = f'href="{profile_path(username)}"'
    anchor = re.compile(r"<a " + re.escape(href) + r"[^>]*>(@[^<]*)</a>")
    rows = await session.execute(
        select(Post.id, Post.body_html).where(Post.body_html.contains(href, autoescape=True))
    )
    changed = [{"id": post_id, "body_html": anchor.sub(r"\1", html)} for post_id, html in rows]
    if changed:  # one executemany by primary key, not a statement a post
        await session.execute(update(Post), changed)


async def _messages(session: AsyncSession, uid: int) -> None:
    either = or_(Block.blocker_id == uid, Block.blocked_id == uid)
    await session.execute(delete(Block).where(either))


async def _notifications(session: AsyncSession, uid: int) -> None:
    await session.execute(delete(Notification).where(Notification.recipient_id == uid))
    # Notices recorded for the member and not yet made (those naming them as the actor, such
    # as a programme's "… left", are for others and stay).
    await session.execute(delete(NotificationWork).where(NotificationWork.recipient_id == uid))
    for kind in (ThreadWatch, CategoryWatch, NotificationSettings, NotificationPreference):
        await session.execute(delete(kind).where(kind.user_id == uid))
    session.add_all(
        NotificationPreference(user_id=uid, kind=kind.value, delivery=Delivery.off.value)
        for kind in Kind
    )


async def on_account_deleting(session: AsyncSession, event: AccountDeleting) -> None:
    user = await session.get(User, event.user_id)
    assert user is not None
    # A lead's running programmes would be left with nobody to decide applications, read
    # check-ins or follow up reports (a probe's lead deleted theirs and left two open).
    led = (
        await session.scalars(
            select(Programme.name).where(
                Programme.lead_id == user.id, Programme.status != ProgrammeStatus.closed.value
            )
        )
    ).all()
    if led:
        names = ", ".join(f"“{name}”" for name in led[:3]) + (" …" if len(led) > 3 else "")
        raise ProgrammeError(
            "programme",
            f"You lead {names}: close {'it' if len(led) == 1 else 'them'} from the "
            "programme's dashboard before you delete your account (nobody else would run "
            f"{'it' if len(led) == 1 else 'them'}). Nothing has been deleted.",
        )
    # Programmes first: leaving records notices for the partner and the lead (kept below).
    await _programmes(session, event.settings, user)
    await _board(session, user)
    await _messages(session, user.id)
    await _notifications(session, user.id)


def subscribe() -> None:
    events.subscribe(AccountDeleting, on_account_deleting)
