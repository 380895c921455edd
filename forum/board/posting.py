"""Writing to the board: new threads, replies and edits, with their rules.

A post is stored with `moderation_state = pending` (or `held` when its author is on
pre-moderation) and `needs_scoring`, so the worker finds it; the author's counters and
points move in the same transaction. The board then announces `PostCreated` or `PostEdited`
(forum.core.events): the review queue, which builds on the board, reacts to them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forum.accounts.models import User
from forum.accounts.services import (
    ROLE_LEVEL,
    awaits_check,
    award_points,
    is_suspended,
    on_premoderation,
)
from forum.board import mentions
from forum.board.events import PostCreated, PostEdited, ThreadKept
from forum.board.models import (
    HIDDEN_STATES,
    Category,
    ModerationState,
    Post,
    PostRevision,
    Thread,
    shown_to_all,
)
from forum.board.queries import PostView, ThreadView
from forum.board.threads import delete_thread
from forum.board.visibility import opening_post_visible
from forum.core import events, ratelimit, timezones
from forum.core.audit import audit
from forum.core.db import utcnow
from forum.core.errors import DomainError, Forbidden
from forum.core.settings import Settings
from forum.core.text import clean_block, clean_line, render_markdown, too_many_cells

PREMODERATION_NOTE = "Waiting for a moderator's approval before other members can see it."
CHECKING_NOTE = (
    "Other members see it once the automatic check has read it, usually within seconds "
    "(new accounts' posts wait for it)."
)


class BoardError(DomainError):
    """A rule about posting was broken; `field` names the form field at fault."""


def validate_title(settings: Settings, title: str) -> str:
    title = clean_line(title)
    if len(title) < 3:
        raise BoardError("title", "Give the thread a title of at least 3 characters.")
    if len(title) > settings.title_max:
        raise BoardError("title", f"Titles can have at most {settings.title_max} characters.")
    return title


def validate_body(settings: Settings, body: str) -> str:
    body = clean_block(body)
    if not body:
        raise BoardError("body", "The post is empty.")
    if len(body) > settings.body_max:
        raise BoardError(
            "body",
            f"Posts can have at most {settings.body_max:,} characters (this has {len(body):,}).",
        )
    tables = too_many_cells(body)
    if tables:
        raise BoardError("body", tables)
    return body


def form_problems(settings: Settings, title: str | None, body: str) -> dict[str, str]:
    """Every field's problem at once (a blank title and a blank body had been told one at a
    time: newcomer probe); empty when the title (if any) and the body may be posted."""
    problems: dict[str, str] = {}
    if title is not None:
        try:
            validate_title(settings, title)
        except BoardError as exc:
            problems["title"] = exc.message
    try:
        validate_body(settings, body)
    except BoardError as exc:
        problems["body"] = exc.message
    return problems


def preview_problems(settings: Settings, body: str, title: str | None = None) -> dict[str, str]:
    """Why Preview must not render a text, field by field: it could not be posted as it
    stands (too long, tables too big), so the form comes back with the reason and no
    rendering of it. A text merely unfinished (empty, a title still short) is previewed."""
    problems: dict[str, str] = {}
    if title is not None and len(clean_line(title)) > settings.title_max:
        problems["title"] = f"Titles can have at most {settings.title_max} characters."
    if clean_block(body):
        try:
            validate_body(settings, body)
        except BoardError as exc:
            problems["body"] = exc.message
    return problems


# A second click on "Post" (or a resent form) within this many seconds, with the same text in
# the same place, finds the first post instead of making another: a probe's double submit made
# two identical posts, which members cannot delete.
DOUBLE_SUBMIT_SECONDS = 120


async def just_posted(
    session: AsyncSession,
    author: User,
    body: str,
    thread_id: int | None = None,
    category_id: int | None = None,
    title: str = "",
) -> Post | None:
    """The author's post of this text made in the last DOUBLE_SUBMIT_SECONDS: in the thread
    (a reply), or opening a thread of this title in the category (a new thread)."""
    text = clean_block(body)
    if not text:
        return None
    since = utcnow() - timedelta(seconds=DOUBLE_SUBMIT_SECONDS)
    stmt = select(Post).where(
        Post.author_id == author.id, Post.body_source == text, Post.created_at >= since,
        Post.is_deleted.is_(False),
    )  # fmt: skip
    if thread_id is not None:
        stmt = stmt.where(Post.thread_id == thread_id)
    else:
        stmt = stmt.join(Thread, Thread.first_post_id == Post.id).where(
            Thread.category_id == category_id, Thread.title == clean_line(title),
            Thread.is_deleted.is_(False),
        )  # fmt: skip
    return await session.scalar(stmt.order_by(Post.id.desc()).limit(1))


def check_can_post(user: User) -> None:
    if is_suspended(user):
        until = timezones.when(user.suspended_until, user.time_zone)
        raise BoardError(
            "body", f"Your account is suspended{' until ' + until if until else ''}.", status=403
        )


async def check_post_rate(
    session: AsyncSession,
    settings: Settings,
    author: User,
    client: str,
    length: int,
    *,
    edit: bool = False,
) -> None:
    """Count a post (or an edit: `edit`) against its author's and its network's limits, and
    its `length` in characters against their hourly budgets for text (the worker scores every
    edit as it does a new post). Moderators have none."""
    if author.is_moderator:
        return
    limits = ratelimit.limits(settings)
    await ratelimit.hit(session, limits.post_account, author.id)
    if not edit and author.younger_than(timedelta(hours=settings.posts_new_account_hours)):
        await ratelimit.hit(session, limits.post_new_account, author.id)
    await ratelimit.hit(session, limits.post_ip, client)
    await ratelimit.written(session, settings, author.id, client, length)


async def _mention_links(
    session: AsyncSession,
    settings: Settings,
    author: User,
    body: str,
    previous: str = "",
    counted: bool = True,
) -> dict[str, str]:
    """The profile links of the members `body` @mentions (forum.board.mentions); too many
    mentions is a refusal of the post, like any other rule about its text."""
    try:
        return await mentions.mention_links(session, settings, author, body, previous, counted)
    except mentions.TooManyMentions as exc:
        raise BoardError("body", exc.message) from exc


async def _add_post(
    session: AsyncSession,
    settings: Settings,
    author: User,
    thread: Thread,
    body: str,
    reply_to_id: int | None,
    now: datetime | None = None,
    nudged: list[str] | None = None,
    published: bool = False,
    links: dict[str, str] | None = None,
    follows_id: int | None = None,
) -> Post:
    """`links`: the profile links of the members the post @mentions (`_mention_links`, called
    before anything is written, so a refusal leaves nothing behind)."""
    now = now or utcnow()
    # Pre-moderation: a new account's first posts, and posts by members a moderator placed
    # on pre-moderation, are seen only by their author and moderators until approved.
    premoderated = not published and on_premoderation(author, settings)
    # A fresh account's post waits, out of sight, for the worker's reading; so does one posted
    # after the composer's nudge named a phrase in it ("Post anyway"): the writer was told.
    checking = (
        not published and not premoderated and (awaits_check(author, settings) or bool(nudged))
    )
    if published:
        initial = ModerationState.clear
    elif premoderated:
        initial = ModerationState.held
    else:
        initial = ModerationState.checking if checking else ModerationState.pending
    post = Post(
        thread_id=thread.id,
        author_id=author.id,
        reply_to_id=reply_to_id,
        follows_id=follows_id,
        body_source=body,
        body_html=render_markdown(body, links),
        created_at=now,
        moderation_state=initial.value,
        moderation_note=PREMODERATION_NOTE if premoderated else (CHECKING_NOTE if checking else ""),
        needs_scoring=not published,
        mod_attempts=0,
        edit_count=0,
        is_deleted=False,
        nudge_phrases="\n".join(nudged or []),
    )
    session.add(post)
    await session.flush()
    await events.announce(session, PostCreated(post.id, thread.id, author.id, premoderated))
    # Counters move by atomic UPDATEs, never read-modify-write, so concurrent posts stay exact.
    # They count what everyone can see: a pre-moderated post counts once it is approved, and
    # only then becomes the thread's and category's "last post" (its author and time).
    # Rows are locked in one order everywhere (thread, category, then the author), so a reply
    # and a moderator deleting a thread in the same category cannot deadlock.
    # Points and the post count too: a pre-moderated post earns them once approved, one that
    # waits for its check once the check has shown it (set_post_state).
    if not premoderated and not checking:
        await _count_public_post(session, thread.id, thread.category_id, post.id, author.id, now)
        await award_points(
            session, author.id, settings.points_per_post, "post", post.id, post_delta=1, at=now,
            ranks_cache_seconds=settings.cache_seconds,
        )  # fmt: skip
    return post


async def _count_public_post(
    session: AsyncSession,
    thread_id: int,
    category_id: int,
    post_id: int,
    author_id: int,
    at: datetime,
) -> None:
    """A post everyone can see joins its thread's and category's counts and, if it is the
    newest, becomes their last post. (Ids are handed out before commit order is known: only
    a newer post moves "last post".)"""
    newer = or_(Thread.last_post_id.is_(None), Thread.last_post_id < post_id)
    await session.execute(
        update(Thread)
        .where(Thread.id == thread_id)
        .values(
            post_count=Thread.post_count + 1,
            last_post_at=case((newer, at), else_=Thread.last_post_at),
            last_post_id=case((newer, post_id), else_=Thread.last_post_id),
            last_poster_id=case((newer, author_id), else_=Thread.last_poster_id),
        )
    )
    later = or_(Category.last_post_at.is_(None), Category.last_post_at < at)
    await session.execute(
        update(Category)
        .where(Category.id == category_id)
        .values(
            # A thread whose opening post others cannot see is left out of its category's
            # counts, its replies with it.
            post_count=Category.post_count + case((_opening_public(thread_id), 1), else_=0),
            last_post_at=case((later, at), else_=Category.last_post_at),
        )
    )


def _opening_public(thread_id: int) -> ColumnElement[bool]:
    """Whether everyone may see the thread's opening post (as the database has it now)."""
    return exists(
        select(Thread.id).where(Thread.id == thread_id, opening_post_visible("anonymous"))
    )


def _thread_posts(thread_id: int) -> ScalarSelect[int]:
    return select(Thread.post_count).where(Thread.id == thread_id).scalar_subquery()


async def create_thread(
    session: AsyncSession,
    settings: Settings,
    author: User,
    category: Category,
    title: str,
    body: str,
    now: datetime | None = None,
    nudged: list[str] | None = None,
    published: bool = False,
) -> tuple[Thread, Post]:
    """A new thread and its opening post. `published` opens a thread for text published
    elsewhere on the board (an article's summary, for its comments): public at once and not
    scored as a post; everything members write in it is."""
    if not published:
        check_can_post(author)
    title = validate_title(settings, title)
    body = validate_body(settings, body)
    links = await _mention_links(session, settings, author, body, counted=not published)
    now = now or utcnow()
    thread = Thread(
        category_id=category.id,
        author_id=author.id,
        title=title,
        created_at=now,
        last_post_at=now,
        post_count=0,
        view_count=0,
        is_locked=False,
        is_pinned=False,
        is_deleted=False,
    )
    session.add(thread)
    await session.flush()
    post = await _add_post(
        session, settings, author, thread, body, None, now, nudged, published, links
    )
    thread.first_post_id = post.id
    await session.flush()
    if shown_to_everyone(post):  # a held opening post hides its thread: counted once shown
        await session.execute(
            update(Category)
            .where(Category.id == category.id)
            .values(thread_count=Category.thread_count + 1)
        )
    return thread, post


async def create_reply(
    session: AsyncSession,
    settings: Settings,
    author: User,
    thread: Thread,
    body: str,
    reply_to_id: int | None = None,
    now: datetime | None = None,
    nudged: list[str] | None = None,
    follows_id: int | None = None,
) -> Post:
    """`reply_to_id`: the post the reply quotes or answers (its author is told); `follows_id`:
    the post the quick reply was written under (moderation's context only)."""
    check_can_post(author)
    if thread.is_deleted:
        raise BoardError("body", "This thread has been deleted.", status=403)
    if thread.is_locked and not author.is_moderator:
        raise BoardError("body", "This thread is locked; no new replies.", status=403)
    body = validate_body(settings, body)
    # Only a post of this thread that the author may see: anything else is ignored, not
    # trusted (moderation reads the answered post as the reply's context).
    reply_to_id = await _answerable(session, author, thread, reply_to_id)
    follows_id = None if reply_to_id else await _answerable(session, author, thread, follows_id)
    links = await _mention_links(session, settings, author, body)
    return await _add_post(
        session, settings, author, thread, body, reply_to_id, now, nudged, links=links,
        follows_id=follows_id,
    )  # fmt: skip


async def _answerable(
    session: AsyncSession, author: User, thread: Thread, post_id: int | None
) -> int | None:
    """`post_id` if it is a post of `thread` that `author` may see, else None."""
    if post_id is None:
        return None
    return await session.scalar(
        select(Post.id).where(
            Post.id == post_id, Post.thread_id == thread.id, Post.is_deleted.is_(False),
            or_(shown_to_all(Post.moderation_state), Post.author_id == author.id),
        )
    )  # fmt: skip


def moderated_text(body: str, title: str | None = None) -> str:
    """What the moderation pipeline scores for a post: an opening post with its thread's title
    (members write both), so evidence offsets point into this text."""
    return f"{title}\n\n{body}" if title else body


def shown_to_everyone(post: Post) -> bool:
    return not post.is_deleted and post.moderation_state not in HIDDEN_STATES


async def set_post_state(
    session: AsyncSession,
    post: Post,
    state: ModerationState,
    note: str = "",
    *,
    points: int | None = None,
) -> None:
    """The one way a post's moderation state changes once it is written (by the worker's
    verdict, members' reports or a moderator's decision). Who may see a post in each state
    is forum.board.visibility's rule; `note` tells the author why it is not public.

    The thread's and category's counters count what everyone can see, so they move when a
    post is hidden or shown again (and the category's thread count with an opening post).
    So do its author's points and post count (`points`, the board's points per post; None
    only where no author's totals are kept, as in tests of visibility alone): a held or
    hidden post earns nothing, so neither rank nor the weight of a member's reports can be
    farmed with posts nobody sees."""
    was_shown = shown_to_everyone(post)
    post.moderation_state = state.value
    post.moderation_note = note
    shown = shown_to_everyone(post)
    if shown == was_shown or post.is_deleted:
        return
    if not shown:
        # (An edit waiting for its check is out of view for a moment, not held by anyone.)
        hidden_as = "post_checking" if state is ModerationState.checking else "post_hidden"
        await _leave_public_view(session, post, points, hidden_as)
        return
    if points is not None:
        await award_points(session, post.author_id, points, "post_shown", post.id, post_delta=1)
    thread = await session.get(Thread, post.thread_id)
    if thread is None or thread.is_deleted:
        return
    opening = 1 if post.id == thread.first_post_id else 0
    await session.flush()  # the counts below read the post's new state
    await _count_public_post(
        session, thread.id, thread.category_id, post.id, post.author_id, post.created_at
    )
    # An opening post shown again brings its thread, and the replies already public in it,
    # back into the category's counts.
    replies = _thread_posts(thread.id) - 1 if opening else 0
    await session.execute(
        update(Category)
        .where(Category.id == thread.category_id)
        .values(
            thread_count=Category.thread_count + opening, post_count=Category.post_count + replies
        )
    )


async def _leave_public_view(
    session: AsyncSession, post: Post, points: int | None, reason: str
) -> None:
    """A post everyone could see no longer is (hidden, held, waiting for its check, or
    deleted; already so marked): its author's points and post count, and its thread's and
    category's counts and last post, no longer count it. `reason`: the points ledger's."""
    thread = await session.get(Thread, post.thread_id)
    if thread is not None and not thread.is_deleted:
        await _uncount(session, post, thread)
    # The author's row last, as posting takes them (thread, category, author): a member's
    # delete beside their own new post cannot deadlock.
    if points is not None:
        await award_points(session, post.author_id, -points, reason, post.id, post_delta=-1)


async def _uncount(session: AsyncSession, post: Post, thread: Thread) -> None:
    """The thread's and category's counts and last post without `post` (already out of view)."""
    opening = 1 if post.id == thread.first_post_id else 0
    await session.flush()  # the counts below read the post's new state
    await session.execute(
        update(Thread).where(Thread.id == thread.id).values(post_count=Thread.post_count - 1)
    )
    # An opening post hidden takes its thread and every public post in it out of the
    # category's counts; a reply counts there only while its thread's opening post is public.
    if opening:
        gone: Any = 1 + _thread_posts(thread.id)
    else:
        gone = case((_opening_public(thread.id), 1), else_=0)
    await session.execute(
        update(Category)
        .where(Category.id == thread.category_id)
        .values(post_count=Category.post_count - gone, thread_count=Category.thread_count - opening)
    )
    await session.refresh(thread, ["last_post_id"])
    if thread.last_post_id == post.id:
        await _recompute_last_post(session, thread)


async def _recompute_last_post(session: AsyncSession, thread: Thread) -> None:
    """The thread's last post (and its category's time) after its last one left public view:
    the newest post everyone can still see."""
    row = (
        await session.execute(
            select(Post.id, Post.author_id, Post.created_at)
            .where(
                Post.thread_id == thread.id, Post.is_deleted.is_(False),
                shown_to_all(Post.moderation_state),
            )
            .order_by(Post.id.desc())
            .limit(1)
        )
    ).first()  # fmt: skip
    await session.execute(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(
            last_post_id=row[0] if row else None,
            last_poster_id=row[1] if row else None,
            last_post_at=row[2] if row else thread.created_at,
        )
    )
    latest = (
        select(func.max(Thread.last_post_at))
        .where(Thread.category_id == thread.category_id, Thread.is_deleted.is_(False))
        .scalar_subquery()
    )
    await session.execute(
        update(Category).where(Category.id == thread.category_id).values(last_post_at=latest)
    )


def can_edit(
    user: User | None,
    post: Post | PostView,
    thread: Thread | ThreadView,
    author_role: str | None = None,
) -> bool:
    """Whether `user` may edit `post`: its author while the thread is open and they are not
    suspended; staff, not suspended, always their own, and others' only below them (nobody
    rewrites a peer's or a superior's words). `author_role`: the author's role (None: not
    known here, the staff check is left to `edit_post`)."""
    if user is None or post.is_deleted:
        return False
    if user.is_moderator:
        if is_suspended(user):
            return False  # staff powers wait for a suspension's end (forum.core.web too)
        if post.author_id == user.id or author_role is None:
            return True
        return ROLE_LEVEL.get(user.role, 0) > ROLE_LEVEL.get(author_role, 0)
    return post.author_id == user.id and not thread.is_locked and not is_suspended(user)


async def edit_post(
    session: AsyncSession,
    settings: Settings,
    editor: User,
    post: Post,
    thread: Thread,
    body: str,
    title: str | None = None,
    nudged: list[str] | None = None,
) -> Post:
    """`nudged`: the phrases the composer's nudge showed the author before they saved anyway
    (recorded with the post's next moderation result, as for a new post)."""
    author = await session.get(User, post.author_id) if editor.id != post.author_id else editor
    if not can_edit(editor, post, thread, author.role if author is not None else None):
        raise Forbidden(
            "You can only edit your own posts."
            if not editor.is_moderator
            else "A moderator's or an administrator's post is for an administrator to edit."
        )
    body = validate_body(settings, body)
    is_first = post.id == thread.first_post_id
    new_title = validate_title(settings, title) if title is not None and is_first else None
    retitled = new_title is not None and new_title != thread.title
    if body == post.body_source and not retitled:
        return post
    if (
        nudged
        and editor.id == post.author_id
        and is_first
        and awaits_check(editor, settings)
        and await others_wrote(session, thread.id, post.author_id)
    ):
        # Its edit would stay on view while it is read (others' replies keep the thread up),
        # and a probe's fresh account edited its answered thread into a put-down, on view in
        # the lists for as long as the worker took. Such an edit, with phrases the composer
        # named, is not saved; a reply, which waits for its check, can say it.
        raise BoardError(
            "body",
            "Others have answered this thread, and your account is new: an edit of its "
            "opening post with the phrases shown cannot be saved. Rephrase them, or say it "
            "in a reply.",
        )
    links = await _mention_links(session, settings, editor, body, previous=post.body_source)
    if is_first:
        thread.needs_related = True  # the opening post is what related threads are found by
    # A new title is written by members too: kept in the revision and scored with the body.
    session.add(
        PostRevision(
            post_id=post.id, editor_id=editor.id, body_source=post.body_source,
            title=thread.title if retitled else None,
        )
    )  # fmt: skip
    if new_title is not None:
        thread.title = new_title
    post.body_source = body
    post.body_html = render_markdown(body, links)
    post.edited_at = utcnow()
    post.edit_count += 1
    # Edited posts go through the moderation pipeline again. A held or hidden post stays out
    # of sight until a moderator decides; a public one stays public while it is re-scored.
    # A fresh account's edit of a reply waits out of sight for its check, as its new posts do,
    # and so does its edit of an opening post nobody else has answered yet; anyone's edit
    # saved after the composer's nudge named a phrase in it waits too. Not of one others
    # have answered: that would take the thread, and their replies, off the board each time
    # its author edited it (a reply being sent is refused and shown back to its writer).
    public = [ModerationState.clear.value, ModerationState.flagged.value]
    if nudged and editor.id == post.author_id:
        public.append(ModerationState.pending.value)  # (not yet read: waits all the same)
    if post.moderation_state in public:
        own = editor.id == post.author_id
        answered = is_first and await others_wrote(session, thread.id, post.author_id)
        if own and not answered and (awaits_check(editor, settings) or bool(nudged)):
            await set_post_state(
                session, post, ModerationState.checking, CHECKING_NOTE,
                points=settings.points_per_post,
            )  # fmt: skip
        else:
            await set_post_state(
                session, post, ModerationState.pending, points=settings.points_per_post
            )
    # An author on pre-moderation cannot get new text past it by editing an approved post.
    premoderated = editor.id == post.author_id and on_premoderation(editor, settings)
    if premoderated and shown_to_everyone(post):
        await set_post_state(
            session, post, ModerationState.held, PREMODERATION_NOTE, points=settings.points_per_post
        )
    post.nudge_phrases = "\n".join(nudged or [])
    post.needs_scoring = True
    post.mod_attempts = 0
    post.mod_lease_until = None
    post.mod_claim = None
    await events.announce(session, PostEdited(post.id, thread.id, editor.id, premoderated))
    return post


async def others_wrote(session: AsyncSession, thread_id: int, author_id: int) -> bool:
    """Whether anyone but `author_id` has a post in the thread (held or hidden ones too)."""
    return bool(
        await session.scalar(
            select(Post.id).where(
                Post.thread_id == thread_id, Post.author_id != author_id,
                Post.is_deleted.is_(False),
            ).limit(1)
        )
    )  # fmt: skip


THREAD_DELETED_BY_AUTHOR = "Deleted by its author."


async def deletion_refused(
    session: AsyncSession, member: User, post: Post, thread: Thread
) -> BoardError | None:
    """Why `member` may not delete `post` (with the refusal's status), or None if they may. A
    member deletes their own posts only, while they may still edit them (not in a locked
    thread, not while suspended). A reply may go at any time; an opening post only while
    nobody else has written in the thread (it takes the thread with it: others' replies would
    lose their thread), and not when another domain keeps the thread (an article's
    discussion)."""
    if post.author_id != member.id:
        return BoardError("delete", "You can only delete your own posts.", status=403)
    if post.is_deleted or thread.is_deleted:
        return BoardError("delete", "This post has already been deleted.", status=404)
    if not can_edit(member, post, thread):
        if thread.is_locked:
            reason = "This thread is locked; its posts can no longer be deleted."
        else:
            reason = "Your account is suspended: you cannot delete posts now."
        return BoardError("delete", reason, status=403)
    if post.id != thread.first_post_id:
        return None
    if await others_wrote(session, thread.id, member.id):
        return BoardError(
            "delete",
            "This thread has replies (some may not be on view yet), so its opening post "
            "stays: you can edit it, or ask a moderator (in a private message) to remove the "
            "thread.",
            status=409,
        )
    kept = [reason for reason in await events.ask(session, ThreadKept(thread.id)) if reason]
    return BoardError("delete", kept[0], status=409) if kept else None


async def delete_post(
    session: AsyncSession, settings: Settings, member: User, post: Post, thread: Thread
) -> bool:
    """The member deletes a post of their own (`deletion_refused` says when they may; a refusal
    is raised). It leaves every page of the board, moderators' included, but a review item it
    has keeps its text for moderators, so a put-down deleted once the worker read it can still
    be acted on (its author warned or suspended). Its points and counts go as a hidden post's
    do; an accepted answer is unmarked. An opening post takes its thread (and the author's own
    replies in it) with it. True when the thread went too.

    The post's row is locked and read again first (as a moderator's decision and the worker's
    verdict lock it): two deletes at once, or a delete beside a decision, must not take its
    counts off twice."""
    locked = await session.get(Post, post.id, with_for_update=True, populate_existing=True)
    fresh = await session.get(Thread, thread.id, populate_existing=True)
    if locked is None or fresh is None:
        raise BoardError("delete", "This post has already been deleted.", status=404)
    post, thread = locked, fresh
    refused = await deletion_refused(session, member, post, thread)
    if refused is not None:
        raise refused
    if post.id == thread.first_post_id:
        await delete_thread(session, settings, member, thread, THREAD_DELETED_BY_AUTHOR)
        return True
    was_shown = shown_to_everyone(post)
    post.is_deleted = True
    if thread.accepted_post_id == post.id:
        thread.accepted_post_id = None
    if was_shown:
        await _leave_public_view(session, post, settings.points_per_post, "post_deleted")
    audit(session, member, "delete", "post", post.id, "by its author")
    return False
