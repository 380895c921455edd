"""What the core knows of a member: an object with `id`, `is_moderator` and `is_admin` (the
accounts domain's `User`; the core never imports it).

It is typed as Any rather than as a Protocol: mypy 2.4 reports SQLAlchemy's `User` as not
matching such a Protocol in some modules of the whole-program check (though it does in
others), so the core relies on these three names only and the domains type their own
context as `Ctx[User]` (forum.accounts.web)."""

from __future__ import annotations

from typing import Any, TypeAlias

Member: TypeAlias = Any
