"""Events a domain announces so that the domains built on it can react, without the lower
domain importing them (the board announces a post was created; the review queue, which
builds on the board, opens an item for it). Questions work the same way for reads: a page
of a lower domain asks, and the domains above answer (the thread page asks what is related
to the thread; the related domain answers).

Subscribers run in the announcing request's transaction, in the order they subscribed, so
what they write commits or rolls back with it. Subscriptions are made once at start-up
(forum.app.wire), by every process that writes: the web app, the worker and the CLI."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

E = TypeVar("E")
Handler = Callable[[AsyncSession, Any], Awaitable[None]]

_handlers: defaultdict[type, list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


async def announce(session: AsyncSession, event: object) -> None:
    for handler in _handlers.get(type(event), ()):
        await handler(session, event)


def subscribers(event_type: type) -> list[Handler]:
    return list(_handlers.get(event_type, ()))


Answerer = Callable[[AsyncSession, Any], Awaitable[Any]]
_answerers: defaultdict[type, list[Answerer]] = defaultdict(list)


def answer(question_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[Any]]) -> None:
    if handler not in _answerers[question_type]:
        _answerers[question_type].append(handler)


async def ask(session: AsyncSession, question: object) -> list[Any]:
    """Every subscribed domain's answer to `question`, in the order they subscribed."""
    return [await handler(session, question) for handler in _answerers.get(type(question), ())]
