"""Paths by route name for the worker, which has no web app: the board's, private messages'
and ours."""

from __future__ import annotations

from collections.abc import Callable

from starlette.routing import Router

from forum.board import views as board_views
from forum.core.urls import path_builder
from forum.messages import views as message_views
from forum.notifications import views


def worker_paths() -> Callable[..., str]:
    return path_builder(Router(routes=[*board_views.routes, *message_views.routes, *views.routes]))
