"""The administrators' Categories page (/admin/categories): categories listed as the home page
shows them, added, edited, reordered and (when empty) deleted; refusals keep what was typed and
say why; administrators only; every change in the audit log."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forum.board.models import Category
from forum.board.posting import delete_post
from forum.core.audit import AuditEntry
from forum.core.settings import Settings
from tests.helpers import login, make_category, make_thread, make_user, post_form

PAGE = "/admin/categories"


def errors(page: httpx.Response) -> list[str]:
    return re.findall(r'class="(?:field|form)-error"[^>]*>([^<]*)<', page.text)


async def as_admin(client: httpx.AsyncClient, db: AsyncSession, settings: Settings) -> None:
    await make_user(db, settings, username="cat_admin", role="admin")
    await db.commit()
    await login(client, "cat_admin")


async def by_name(db: AsyncSession, name: str) -> Category:
    found = await db.scalar(
        select(Category).where(Category.name == name).execution_options(populate_existing=True)
    )
    assert found is not None, name
    return found


async def fresh(db: AsyncSession, category_id: int) -> Category | None:
    return await db.get(Category, category_id, populate_existing=True)


async def entries(db: AsyncSession, action: str) -> list[AuditEntry]:
    return list(
        (
            await db.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        ).all()
    )


async def test_an_admin_adds_a_category_and_a_sub_forum_and_they_show_as_on_the_home_page(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await as_admin(client, db, settings)
    admin_home = await client.get("/admin")
    assert f'href="{PAGE}"' in admin_home.text
    empty_home = await client.get("/")
    assert "No categories yet" in empty_home.text and f'href="{PAGE}"' in empty_home.text
    r = await post_form(
        client, PAGE, {"name": "  Human   Resources ", "description": "People matters"}, PAGE
    )
    assert r.status_code == 303
    hr = await by_name(db, "Human Resources")
    assert (
        hr.slug == "human-resources" and hr.parent_id is None and hr.description == "People matters"
    )
    r = await post_form(
        client, PAGE,
        {"name": "Employee Relations", "parent_id": str(hr.id), "is_qa": "1",
         "description": "Disputes and grievances"},
        PAGE,
    )  # fmt: skip
    assert r.status_code == 303
    child = await by_name(db, "Employee Relations")
    assert child.parent_id == hr.id and child.is_qa and not child.staff_only
    r = await post_form(
        client, PAGE, {"name": "Staff room", "slug": "staff-room-2", "staff_only": "1"}, PAGE
    )
    assert r.status_code == 303
    staff = await by_name(db, "Staff room")
    assert staff.slug == "staff-room-2" and staff.staff_only
    assert staff.position > hr.position  # put after the other top-level categories
    listing = (await client.get(PAGE)).text
    at = [listing.index(f'id="category-{c.id}"') for c in (hr, child, staff)]
    assert at == sorted(at)
    home = (await client.get("/")).text
    assert "Employee Relations" in home and "No categories yet" not in home
    thread_page = await client.get(f"/c/{child.slug}")
    assert thread_page.status_code == 200 and "Human Resources" in thread_page.text
    added = await entries(db, "category_add")
    assert [e.target_id for e in added] == [hr.id, child.id, staff.id]
    assert added[1].detail == "Employee Relations (under Human Resources), Q&A"
    log = (await client.get("/mod/log")).text
    assert "Added a category" in log and f'href="/c/{child.slug}"' in log


async def test_a_made_slug_is_unique(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await as_admin(client, db, settings)
    await make_category(db, "Mentoring")  # /c/mentoring
    parent = await make_category(db, "Programmes")
    await db.commit()
    r = await post_form(client, PAGE, {"name": "Mentoring", "parent_id": str(parent.id)}, PAGE)
    assert r.status_code == 303  # the same name under another parent is allowed...
    made = (await db.scalars(select(Category).where(Category.parent_id == parent.id))).one()
    assert made.slug == "mentoring-2"  # ...at an address of its own


async def test_an_admin_edits_every_field_and_the_change_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await as_admin(client, db, settings)
    hr = await make_category(db, "Human Resources")
    tech = await make_category(db, "Technology")
    await db.commit()
    edit_page = await client.get(f"{PAGE}/{tech.id}")
    assert edit_page.status_code == 200 and 'value="Technology"' in edit_page.text
    r = await post_form(
        client, f"{PAGE}/{tech.id}",
        {"name": "Tech tools", "slug": "tools", "description": "Software", "parent_id": str(hr.id),
         "position": "", "is_qa": "1", "staff_only": "1"},
        PAGE,
    )  # fmt: skip
    assert r.status_code == 303
    tech = await by_name(db, "Tech tools")
    assert (tech.slug, tech.description, tech.parent_id, tech.is_qa, tech.staff_only) == (
        "tools", "Software", hr.id, True, True,
    )  # fmt: skip
    (entry,) = await entries(db, "category_edit")
    assert entry.target_type == "category" and entry.target_id == tech.id
    assert "name: Technology -> Tech tools" in entry.detail
    assert "parent: top level -> Human Resources" in entry.detail
    assert "address: /c/technology -> /c/tools" in entry.detail
    # Back to the top level, the address left as it is when the field is empty.
    r = await post_form(
        client, f"{PAGE}/{tech.id}", {"name": "Tech tools", "slug": "", "position": "7"}, PAGE
    )
    assert r.status_code == 303
    tech = await by_name(db, "Tech tools")
    assert (tech.parent_id, tech.slug, tech.position, tech.is_qa) == (None, "tools", 7, False)
    # Saving it unchanged logs nothing.
    r = await post_form(
        client, f"{PAGE}/{tech.id}", {"name": "Tech tools", "slug": "tools", "position": "7"}, PAGE
    )
    assert r.status_code == 303
    assert len(await entries(db, "category_edit")) == 2


async def test_an_admin_reorders_categories_up_and_down(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await as_admin(client, db, settings)
    parent = await make_category(db, "Parent")
    a = await make_category(db, "Alpha", parent)
    b = await make_category(db, "Beta", parent)
    c = await make_category(db, "Gamma", parent)  # all at position 0: by name
    await db.commit()
    r = await post_form(client, f"{PAGE}/{c.id}/move", {"direction": "up"}, PAGE)
    assert r.status_code == 303
    listing = (await client.get(PAGE)).text
    assert listing.index("Alpha") < listing.index("Gamma") < listing.index("Beta")
    home = (await client.get("/")).text
    assert home.index("Alpha") < home.index("Gamma") < home.index("Beta")
    r = await post_form(client, f"{PAGE}/{a.id}/move", {"direction": "down"}, PAGE)
    assert r.status_code == 303
    home = (await client.get("/")).text
    assert home.index("Gamma") < home.index("Alpha") < home.index("Beta")
    # Already first: nothing moves, and the admin is told.
    r = await post_form(client, f"{PAGE}/{c.id}/move", {"direction": "up"}, PAGE)
    assert r.status_code == 303
    assert "already first" in (await client.get(PAGE)).text
    moves = await entries(db, "category_move")
    assert [e.target_id for e in moves] == [c.id, a.id]
    assert moves[0].detail == "Gamma: up, now 2 of 3"
    bad = await post_form(client, f"{PAGE}/{b.id}/move", {"direction": "sideways"}, PAGE)
    assert bad.status_code == 400


async def test_an_empty_category_is_deleted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await as_admin(client, db, settings)
    spare = await make_category(db, "Spare")
    await db.commit()
    spare_id = spare.id
    page = await client.get(f"{PAGE}/{spare_id}")
    assert "Delete Spare" in page.text
    r = await post_form(client, f"{PAGE}/{spare_id}/delete", {}, PAGE)
    assert r.status_code == 303
    assert await fresh(db, spare_id) is None
    (entry,) = await entries(db, "category_delete")
    assert entry.target_id == spare_id and entry.detail == "Spare (top level)"
    assert "Deleted a category" in (await client.get("/mod/log")).text
    assert (await client.get(f"{PAGE}/{spare_id}")).status_code == 404


async def test_a_category_with_threads_or_sub_forums_is_not_deleted(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await as_admin(client, db, settings)
    author = await make_user(db, settings, username="cat_author")
    parent = await make_category(db, "Parent")
    child = await make_category(db, "Child", parent)
    busy = await make_category(db, "Busy")
    thread, posts = await make_thread(db, settings, author, busy)
    await delete_post(db, settings, author, posts[0], thread)  # deleted threads still belong to it
    await db.commit()
    for category, held in ((parent, "1 sub-forum"), (busy, "1 thread")):
        page = await client.get(f"{PAGE}/{category.id}")
        assert f"still holds {held}" in page.text and "Delete " + category.name not in page.text
        r = await post_form(client, f"{PAGE}/{category.id}/delete", {}, PAGE)
        assert r.status_code == 400
        assert any(f"still holds {held}: only an empty category" in e for e in errors(r))
    assert await fresh(db, busy.id) is not None
    assert await fresh(db, child.id) is not None
    assert await entries(db, "category_delete") == []


@pytest.mark.parametrize(
    "fields,field_error",
    [
        ({"name": "   "}, "Give the category a name."),
        ({"name": "x" * 81}, "Keep the name to 80 characters (this one has 81)."),
        ({"name": "Ok", "description": "d" * 301}, "Keep the description to 300 characters"),
        ({"name": "human resources"}, "There is already a category called human resources at the top level."),
        ({"name": "Other", "slug": "human-resources"}, "The address /c/human-resources is already used by Human Resources"),
        ({"name": "Other", "slug": "Not An Address!"}, "An address is lower-case letters"),
        ({"name": "Other", "parent_id": "{child}"}, "Employee Relations is itself a sub-forum"),
        ({"name": "Other", "parent_id": "999999"}, "There is no such category"),
        ({"name": "Other", "parent_id": "abc"}, "Choose a parent from the list."),
        ({"name": "Other", "position": "-3"}, "The position is a number from 0"),
        ({"name": "Other", "position": "soon"}, "The position is a whole number."),
    ],
)  # fmt: skip
async def test_a_refused_new_category_says_why_and_keeps_what_was_typed(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    fields: dict[str, str],
    field_error: str,
) -> None:
    await as_admin(client, db, settings)
    hr = await make_category(db, "Human Resources")
    child = await make_category(db, "Employee Relations", hr)
    await db.commit()
    before = len((await db.scalars(select(Category))).all())
    data = {k: v.replace("{child}", str(child.id)) for k, v in fields.items()}
    r = await post_form(client, PAGE, {"description": "Typed words", **data}, PAGE)
    assert r.status_code == 400
    assert any(e.startswith(field_error) for e in errors(r)), errors(r)
    assert 'aria-invalid="true"' in r.text
    if data["name"].strip():
        assert f'value="{data["name"]}"' in r.text  # what was typed is kept
    if "description" not in fields:
        assert 'value="Typed words"' in r.text
    assert len((await db.scalars(select(Category))).all()) == before
    assert await entries(db, "category_add") == []


async def test_a_refused_edit_says_why(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await as_admin(client, db, settings)
    hr = await make_category(db, "Human Resources")
    child = await make_category(db, "Employee Relations", hr)
    tech = await make_category(db, "Technology")
    await db.commit()
    cases = [
        (tech, {"name": "Technology", "parent_id": str(tech.id)}, "A category cannot be its own parent."),
        (tech, {"name": "Technology", "parent_id": str(child.id)}, "Employee Relations is itself a sub-forum"),
        (hr, {"name": "Human Resources", "parent_id": str(tech.id)}, "Human Resources has sub-forums of its own"),
        (tech, {"name": "Human Resources"}, "There is already a category called Human Resources"),
        (tech, {"name": "Technology", "slug": hr.slug}, "The address /c/human-resources is already used"),
        (tech, {"name": ""}, "Give the category a name."),
    ]  # fmt: skip
    for category, data, message in cases:
        r = await post_form(client, f"{PAGE}/{category.id}", {"description": "Kept", **data}, PAGE)
        assert r.status_code == 400, data
        assert any(e.startswith(message) for e in errors(r)), (data, errors(r))
        assert 'value="Kept"' in r.text
    assert (await fresh(db, tech.id)).name == "Technology"  # type: ignore[union-attr]
    assert (await fresh(db, hr.id)).parent_id is None  # type: ignore[union-attr]
    assert await entries(db, "category_edit") == []


async def test_unknown_categories_are_not_found(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await as_admin(client, db, settings)
    assert (await client.get(f"{PAGE}/999999")).status_code == 404
    assert (await client.get(f"{PAGE}/99999999999999999999")).status_code == 404
    for path, data in (
        (f"{PAGE}/999999", {"name": "X"}),
        (f"{PAGE}/999999/move", {"direction": "up"}),
        (f"{PAGE}/999999/delete", {}),
    ):
        assert (await post_form(client, path, data, PAGE)).status_code == 404, path


@pytest.mark.parametrize("role", ["anonymous", "member", "moderator", "editor"])
async def test_only_administrators_use_the_page(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, role: str
) -> None:
    category = await make_category(db, "Guarded")
    if role != "anonymous":
        await make_user(db, settings, username=f"cat_{role}", role=role)
    await db.commit()
    if role != "anonymous":
        await login(client, f"cat_{role}")
    page = await client.get(PAGE)
    if role == "anonymous":
        assert page.status_code == 303 and "/login" in page.headers["location"]
    else:
        assert page.status_code == 403
    assert (await client.get(f"{PAGE}/{category.id}")).status_code in (303, 403)
    for path, data in (
        (PAGE, {"name": "Mine"}),
        (f"{PAGE}/{category.id}", {"name": "Renamed"}),
        (f"{PAGE}/{category.id}/move", {"direction": "up"}),
        (f"{PAGE}/{category.id}/delete", {}),
    ):
        r = await post_form(client, path, data)
        assert r.status_code in (401, 403), (path, r.status_code)
    assert (await fresh(db, category.id)).name == "Guarded"  # type: ignore[union-attr]
    assert len((await db.scalars(select(Category))).all()) == 1
    home = (await client.get("/")).text
    assert f'href="{PAGE}"' not in home


async def test_forms_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    await as_admin(client, db, settings)
    spare = await make_category(db, "Spare")
    await db.commit()
    page = await client.get(PAGE)
    assert page.text.count('name="csrftoken"') >= 2  # the add form and the move buttons
    for path, data in (
        (PAGE, {"name": "Sneaky"}),
        (f"{PAGE}/{spare.id}", {"name": "Sneaky"}),
        (f"{PAGE}/{spare.id}/move", {"direction": "up"}),
        (f"{PAGE}/{spare.id}/delete", {}),
    ):
        r = await client.post(path, data=data)
        assert r.status_code == 403, path
        r = await client.post(path, data={**data, "csrftoken": "forged"})
        assert r.status_code == 403, path
    assert await fresh(db, spare.id) is not None
    assert await db.scalar(select(Category).where(Category.name == "Sneaky")) is None


async def test_the_article_discussions_keep_their_address(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    from forum.articles.services import discussions_category

    await as_admin(client, db, settings)
    discussions = await discussions_category(db)
    await db.commit()
    r = await post_form(
        client, f"{PAGE}/{discussions.id}",
        {"name": "Comments", "slug": "comments", "description": ""}, PAGE,
    )  # fmt: skip
    assert r.status_code == 400
    assert any("keep article-discussions" in e for e in errors(r))
    r = await post_form(client, f"{PAGE}/{discussions.id}", {"name": "Comments", "slug": ""}, PAGE)
    assert r.status_code == 303  # renamed, at the same address
    renamed = await by_name(db, "Comments")
    assert renamed.slug == "article-discussions"


async def test_a_staff_only_groups_sub_forums_are_staff_only(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    """A probe's public sub-forum under a staff-only group was readable by visitors (its page,
    its threads, Latest, search, feeds), the breadcrumb naming the group."""
    await as_admin(client, db, settings)
    public = await make_category(db, "Community")
    intro = await make_category(db, "Introductions", parent=public)
    await db.commit()
    r = await post_form(client, PAGE, {"name": "Staff Room", "staff_only": "1"}, PAGE)
    assert r.status_code == 303
    staff = await by_name(db, "Staff Room")
    r = await post_form(client, PAGE, {"name": "Leaky Sub", "parent_id": str(staff.id)}, PAGE)
    assert r.status_code == 303
    assert (await by_name(db, "Leaky Sub")).staff_only  # made staff-only with its group
    # Ticking staff-only on a group makes its sub-forums so.
    edit = await client.get(f"{PAGE}/{public.id}")
    assert edit.status_code == 200
    r = await post_form(client, f"{PAGE}/{public.id}",
                        {"name": "Community", "description": "", "slug": public.slug,
                         "position": str(public.position), "staff_only": "1"},
                        f"{PAGE}/{public.id}")  # fmt: skip
    assert r.status_code == 303
    assert (await fresh(db, intro.id)).staff_only  # type: ignore[union-attr]
    # Whatever the rows say, a visitor sees nothing under a staff-only group.
    legacy = await make_category(db, "Legacy sub", parent=staff)
    legacy.staff_only = False
    member = await make_user(db, settings, username="cat_member")
    thread, _ = await make_thread(db, settings, member, legacy, title="Under the staff room")
    await db.commit()
    client.cookies.clear()
    assert "Under the staff room" not in (await client.get("/latest")).text
    assert (await client.get(f"/t/{thread.id}")).status_code == 404
