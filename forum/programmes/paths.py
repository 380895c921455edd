"""Paths of programme pages for what is written outside a request (notifications recorded
by the services, some of them in the worker): built from the routes, as templates build
them, so a link cannot drift from its page."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from starlette.routing import Router

from forum.core.urls import path_builder


@cache
def _builder() -> Callable[..., str]:
    # Imported here: the views import the services, which use these paths.
    from forum.messages import views as message_views
    from forum.programmes import views

    return path_builder(Router(routes=[*views.routes, *message_views.routes]))


def path(name: str, /, **params: object) -> str:
    return _builder()(name, **params)
