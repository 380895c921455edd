"""The request context as the domains' views use it: the core's `Ctx` with a `User`."""

from __future__ import annotations

from typing import TypeAlias

from forum.accounts.models import User
from forum.core.web import Ctx as CoreCtx

Ctx: TypeAlias = CoreCtx[User]
