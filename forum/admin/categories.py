"""The board's categories, for administrators: listed as the home page shows them (top-level
categories with their sub-forums, in order, with their counts), added, edited, reordered and,
when empty, deleted. Every change is written to the audit log. Only two levels: a sub-forum's
parent is a top-level category, as the home page and the breadcrumbs show them.

The services here are also what `candor category ...` runs (forum.cli)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from forum.accounts.web import Ctx
from forum.board.categories import (
    category_tree,
    create_category,
    forget_categories,
    slugify,
)
from forum.board.models import Category, Thread
from forum.core.audit import audit
from forum.core.errors import DomainError, NotFound
from forum.core.members import Member
from forum.core.text import clean_line
from forum.core.web import field_str, view

NAME_MAX = 80  # categories.name
SLUG_MAX = 80  # categories.slug
DESCRIPTION_MAX = 300  # categories.description
POSITION_MAX = 1_000_000
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# forum.articles finds its discussions category by this address.
KEPT_SLUGS = ("article-discussions",)


class CategoryError(DomainError):
    """A category form that cannot be saved: `field` names the field at fault."""


@dataclass
class CategoryForm:
    """What an administrator typed, kept as typed (shown back when it is refused)."""

    name: str = ""
    slug: str = ""
    description: str = ""
    parent_id: str = ""
    position: str = ""
    is_qa: bool = False
    staff_only: bool = False

    @classmethod
    def read(cls, form: FormData) -> CategoryForm:
        return cls(
            name=field_str(form, "name", 2000),
            slug=field_str(form, "slug", 2000),
            description=field_str(form, "description", 5000),
            parent_id=field_str(form, "parent_id", 20).strip(),
            position=field_str(form, "position", 20).strip(),
            is_qa=bool(field_str(form, "is_qa", 10)),
            staff_only=bool(field_str(form, "staff_only", 10)),
        )

    @classmethod
    def of(cls, category: Category) -> CategoryForm:
        return cls(
            name=category.name,
            slug=category.slug,
            description=category.description,
            parent_id=str(category.parent_id or ""),
            position=str(category.position),
            is_qa=category.is_qa,
            staff_only=category.staff_only,
        )


@dataclass
class Checked:
    name: str
    slug: str | None  # None: made from the name
    description: str
    parent: Category | None
    position: int | None  # None: after its siblings
    is_qa: bool
    staff_only: bool
    changes: list[str] = field(default_factory=list)


def _whole(raw: str, name: str, message: str) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise CategoryError(name, message) from None
    return value


async def _check(session: AsyncSession, form: CategoryForm, category: Category | None) -> Checked:
    """The form's values, cleaned, or a CategoryError naming the first field at fault."""
    name = clean_line(form.name)
    if not name:
        raise CategoryError("name", "Give the category a name.")
    if len(name) > NAME_MAX:
        raise CategoryError(
            "name", f"Keep the name to {NAME_MAX} characters (this one has {len(name)})."
        )
    description = clean_line(form.description)
    if len(description) > DESCRIPTION_MAX:
        raise CategoryError(
            "description",
            f"Keep the description to {DESCRIPTION_MAX} characters (this one has "
            f"{len(description)}).",
        )
    parent_id = _whole(form.parent_id, "parent_id", "Choose a parent from the list.")
    parent: Category | None = None
    if parent_id is not None:
        if category is not None and parent_id == category.id:
            raise CategoryError("parent_id", "A category cannot be its own parent.")
        parent = await session.get(Category, parent_id) if 0 < parent_id < 2**31 else None
        if parent is None:
            raise CategoryError(
                "parent_id", "There is no such category: choose a parent from the list."
            )
        if parent.parent_id is not None:
            raise CategoryError(
                "parent_id",
                f"{parent.name} is itself a sub-forum: a parent must be a top-level category "
                "(the board has two levels).",
            )
        if category is not None and await _child_count(session, category) > 0:
            raise CategoryError(
                "parent_id",
                f"{category.name} has sub-forums of its own, so it stays at the top level "
                "(the board has two levels): move its sub-forums first.",
            )
    sibling = select(Category.id).where(
        func.lower(Category.name) == name.lower(),
        (Category.parent_id == parent.id) if parent else Category.parent_id.is_(None),
    )
    if category is not None:
        sibling = sibling.where(Category.id != category.id)
    if await session.scalar(sibling.limit(1)) is not None:
        where = f"under {parent.name}" if parent else "at the top level"
        raise CategoryError("name", f"There is already a category called {name} {where}.")
    slug: str | None = form.slug.strip().lower() or None
    if slug is None and category is not None:
        slug = category.slug  # an edit keeps the address unless a new one is typed
    if slug is not None:
        if len(slug) > SLUG_MAX or not SLUG_RE.fullmatch(slug):
            raise CategoryError(
                "slug",
                f"An address is lower-case letters a–z, digits and single hyphens between "
                f"them, at most {SLUG_MAX} characters (as in human-resources).",
            )
        if category is not None and category.slug in KEPT_SLUGS and slug != category.slug:
            raise CategoryError(
                "slug", f"The articles find this category by its address: keep {category.slug}."
            )
        taken = select(Category.name).where(Category.slug == slug)
        if category is not None:
            taken = taken.where(Category.id != category.id)
        other = await session.scalar(taken.limit(1))
        if other is not None:
            raise CategoryError(
                "slug", f"The address /c/{slug} is already used by {other}: choose another."
            )
    position = _whole(form.position, "position", "The position is a whole number.")
    if position is not None and not 0 <= position <= POSITION_MAX:
        raise CategoryError("position", f"The position is a number from 0 to {POSITION_MAX:,}.")
    # A sub-forum of a staff-only group is staff-only too: a probe's public sub-forum under
    # "Staff Room" was readable by anyone, its breadcrumb naming the group.
    staff_only = form.staff_only or (parent is not None and parent.staff_only)
    return Checked(name, slug, description, parent, position, form.is_qa, staff_only)


async def _child_count(session: AsyncSession, category: Category) -> int:
    count = await session.scalar(
        select(func.count(Category.id)).where(Category.parent_id == category.id)
    )
    return count or 0


async def _thread_count(session: AsyncSession, category: Category) -> int:
    """Every thread in the category, deleted and hidden ones too (they still belong to it)."""
    count = await session.scalar(
        select(func.count(Thread.id)).where(Thread.category_id == category.id)
    )
    return count or 0


async def _next_position(session: AsyncSession, parent_id: int | None) -> int:
    where = Category.parent_id == parent_id if parent_id else Category.parent_id.is_(None)
    last = await session.scalar(select(func.max(Category.position)).where(where))
    return 0 if last is None else last + 1


async def _flush(session: AsyncSession, slug: str) -> None:
    """Write the change; the address taken meanwhile by another administrator is refused as
    one taken before."""
    try:
        await session.flush()
    except IntegrityError:
        raise CategoryError(
            "slug", f"The address /c/{slug} was taken meanwhile: choose another.", status=409
        ) from None
    forget_categories()


def _place(category: Category, parent: Category | None) -> str:
    return f"{category.name} (under {parent.name})" if parent else f"{category.name} (top level)"


async def add_category(session: AsyncSession, actor: Member, form: CategoryForm) -> Category:
    """A new category from an administrator's form (the caller checked the role); audited."""
    checked = await _check(session, form, None)
    parent = checked.parent
    position = checked.position
    if position is None:
        position = await _next_position(session, parent.id if parent else None)
    category = await create_category(session, checked.name, parent, checked.description, position)
    if checked.slug is not None:
        category.slug = checked.slug
    category.is_qa, category.staff_only = checked.is_qa, checked.staff_only
    await _flush(session, category.slug)
    kinds = [k for k, on in (("Q&A", category.is_qa), ("staff only", category.staff_only)) if on]
    detail = _place(category, parent) + (f", {', '.join(kinds)}" if kinds else "")
    audit(session, actor, "category_add", "category", category.id, "", detail)
    return category


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


async def edit_category(
    session: AsyncSession, actor: Member, category: Category, form: CategoryForm
) -> list[str]:
    """Save an administrator's changes to a category; audited. Returns what changed, in
    words (nothing: nothing is logged)."""
    checked = await _check(session, form, category)
    old_parent = await session.get(Category, category.parent_id) if category.parent_id else None
    new_parent = checked.parent
    changes: list[str] = []
    if checked.name != category.name:
        changes.append(f"name: {category.name} -> {checked.name}")
    if checked.slug is not None and checked.slug != category.slug:
        changes.append(f"address: /c/{category.slug} -> /c/{checked.slug}")
    if checked.description != category.description:
        changes.append("description changed")
    moved = (new_parent.id if new_parent else None) != category.parent_id
    if moved:
        before = old_parent.name if old_parent else "top level"
        changes.append(f"parent: {before} -> {new_parent.name if new_parent else 'top level'}")
    position = checked.position
    if position is None or (moved and form.position == str(category.position)):
        # Moved to another parent with the old position untouched: last among its new siblings.
        position = (
            await _next_position(session, new_parent.id if new_parent else None)
            if moved
            else category.position
        )
    if position != category.position:
        changes.append(f"position: {category.position} -> {position}")
    if checked.is_qa != category.is_qa:
        changes.append(f"Q&A: {_yes_no(checked.is_qa)}")
    if checked.staff_only != category.staff_only:
        changes.append(f"staff only: {_yes_no(checked.staff_only)}")
    if not changes:
        return []
    category.name, category.description = checked.name, checked.description
    category.slug = checked.slug or category.slug
    category.parent_id = new_parent.id if new_parent else None
    category.position = position
    category.is_qa, category.staff_only = checked.is_qa, checked.staff_only
    if category.staff_only:
        # ... and so are its sub-forums, whatever each said.
        await session.execute(
            update(Category).where(Category.parent_id == category.id).values(staff_only=True)
        )
    await _flush(session, category.slug)
    audit(session, actor, "category_edit", "category", category.id, "",
          f"{category.name}: {'; '.join(changes)}")  # fmt: skip
    return changes


async def siblings(session: AsyncSession, category: Category) -> list[Category]:
    """The category and those beside it (the same parent), in the home page's order."""
    where = (
        Category.parent_id == category.parent_id
        if category.parent_id
        else Category.parent_id.is_(None)
    )
    found = await session.scalars(
        select(Category).where(where).order_by(Category.position, Category.name, Category.id)
    )
    return list(found.all())


async def move_category(
    session: AsyncSession, actor: Member, category: Category, direction: str
) -> bool:
    """Move a category one place up or down among its siblings (they are numbered 0, 1, 2 ...
    in their order first, so equal positions move too); audited. False when it is already
    first (up) or last (down)."""
    if direction not in ("up", "down"):
        raise CategoryError("direction", "Move a category up or down.")
    row = await siblings(session, category)
    at = next(i for i, c in enumerate(row) if c.id == category.id)
    to = at - 1 if direction == "up" else at + 1
    if not 0 <= to < len(row):
        return False
    row[at], row[to] = row[to], row[at]
    for number, sibling in enumerate(row):
        sibling.position = number
    await session.flush()
    forget_categories()
    audit(session, actor, "category_move", "category", category.id, "",
          f"{category.name}: {direction}, now {to + 1} of {len(row)}")  # fmt: skip
    return True


async def why_not_deleted(session: AsyncSession, category: Category) -> str | None:
    """Why the category cannot be deleted, if it cannot: only an empty one can (no threads,
    deleted ones included, and no sub-forums)."""
    children, threads = (
        await _child_count(session, category),
        await _thread_count(session, category),
    )
    if not children and not threads:
        return None
    held = []
    if threads:
        held.append(f"{threads} thread{'s' if threads != 1 else ''}")
    if children:
        held.append(f"{children} sub-forum{'s' if children != 1 else ''}")
    moves = []
    if threads:
        moves.append("move its threads elsewhere (Move, on each thread's page)")
    if children:
        moves.append("move or delete its sub-forums")
    gone = " Threads deleted by their authors or moderators still count." if threads else ""
    return (
        f"{category.name} still holds {' and '.join(held)}: only an empty category can be "
        f"deleted. First {' and '.join(moves)}.{gone}"
    )


async def delete_category(session: AsyncSession, actor: Member, category: Category) -> None:
    """Delete an empty category (drafts and watches of it go with it); audited."""
    reason = await why_not_deleted(session, category)
    if reason:
        raise CategoryError("delete", reason)
    parent = await session.get(Category, category.parent_id) if category.parent_id else None
    detail = _place(category, parent)
    category_id = category.id
    await session.delete(category)
    await session.flush()
    forget_categories()
    audit(session, actor, "category_delete", "category", category_id, "", detail)


async def find_parent(session: AsyncSession, name: str) -> Category:
    """A top-level category by its name or address (the CLI's --parent)."""
    found = await session.scalar(
        select(Category).where(
            Category.parent_id.is_(None),
            (func.lower(Category.name) == clean_line(name).lower())
            | (Category.slug == slugify(name)),
        )
    )
    if found is None:
        raise CategoryError("parent_id", f"There is no top-level category called {name}.")
    return found


# The pages.


async def _category_or_404(ctx: Ctx) -> Category:
    found = await ctx.db.get(Category, ctx.request.path_params["category_id"])
    if found is None:
        raise NotFound("There is no such category.")
    return found


async def _top_level(ctx: Ctx) -> list[Category]:
    found = await ctx.db.scalars(
        select(Category)
        .where(Category.parent_id.is_(None))
        .order_by(Category.position, Category.name, Category.id)
    )
    return list(found.all())


async def _list_page(
    ctx: Ctx,
    status: int = 200,
    form: CategoryForm | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    tree = await category_tree(ctx.db, ctx.user)
    return ctx.render(
        "admin/categories.html",
        {"tree": tree, "parents": await _top_level(ctx), "form": form or CategoryForm(),
         "errors": errors or {}},
        status,
    )  # fmt: skip


async def _edit_page(
    ctx: Ctx,
    category: Category,
    status: int = 200,
    form: CategoryForm | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    parents = [c for c in await _top_level(ctx) if c.id != category.id]
    return ctx.render(
        "admin/category_edit.html",
        {"category": category, "parents": parents, "form": form or CategoryForm.of(category),
         "errors": errors or {}, "children": await _child_count(ctx.db, category),
         "threads": await _thread_count(ctx.db, category),
         "why_not_deleted": await why_not_deleted(ctx.db, category)},
        status,
    )  # fmt: skip


@view(admin=True)
async def categories(ctx: Ctx) -> Response:
    """Every category, top-level ones with their sub-forums, and a form to add one."""
    if ctx.request.method == "GET":
        return await _list_page(ctx)
    assert ctx.user is not None
    form = CategoryForm.read(await ctx.form())
    try:
        category = await add_category(ctx.db, ctx.user, form)
    except CategoryError as exc:
        await ctx.rollback()
        return await _list_page(ctx, exc.status, form, {exc.field: exc.message})
    ctx.flash(f"Category {category.name} added at /c/{category.slug}.")
    return ctx.redirect(ctx.url("admin_categories") + f"#category-{category.id}")


@view(admin=True)
async def edit(ctx: Ctx) -> Response:
    category = await _category_or_404(ctx)
    if ctx.request.method == "GET":
        return await _edit_page(ctx, category)
    assert ctx.user is not None
    form = CategoryForm.read(await ctx.form())
    category_id = category.id
    try:
        changes = await edit_category(ctx.db, ctx.user, category, form)
    except CategoryError as exc:
        await ctx.rollback()
        category = await _category_or_404(ctx)
        return await _edit_page(ctx, category, exc.status, form, {exc.field: exc.message})
    ctx.flash(f"Category {category.name} saved." if changes else "Nothing was changed.")
    return ctx.redirect(ctx.url("admin_categories") + f"#category-{category_id}")


@view(admin=True)
async def move(ctx: Ctx) -> Response:
    category = await _category_or_404(ctx)
    assert ctx.user is not None
    direction = field_str(await ctx.form(), "direction", 10)
    if direction not in ("up", "down"):
        raise HTTPException(400, "Move a category up or down.")
    if not await move_category(ctx.db, ctx.user, category, direction):
        where = "first" if direction == "up" else "last"
        ctx.flash(f"{category.name} is already {where} in its list.")
    return ctx.redirect(ctx.url("admin_categories") + f"#category-{category.id}")


@view(admin=True)
async def delete(ctx: Ctx) -> Response:
    category = await _category_or_404(ctx)
    assert ctx.user is not None
    try:
        name = category.name
        await delete_category(ctx.db, ctx.user, category)
    except CategoryError as exc:
        await ctx.rollback()
        category = await _category_or_404(ctx)
        return await _edit_page(ctx, category, exc.status, errors={exc.field: exc.message})
    ctx.flash(f"Category {name} deleted.")
    return ctx.redirect(ctx.url("admin_categories"))


routes = [
    Route("/admin/categories", categories, methods=["GET", "POST"], name="admin_categories"),
    Route(
        "/admin/categories/{category_id:id}", edit, methods=["GET", "POST"], name="admin_category"
    ),
    Route(
        "/admin/categories/{category_id:id}/move", move, methods=["POST"],
        name="admin_category_move",
    ),
    Route(
        "/admin/categories/{category_id:id}/delete", delete, methods=["POST"],
        name="admin_category_delete",
    ),
]  # fmt: skip
