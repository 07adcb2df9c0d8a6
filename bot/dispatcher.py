"""Routers and the dispatcher: a message walks a tree of routers; the first route whose filters pass handles it.

Filters are small callables `(msg, ctx) -> bool | dict | None`; a dict's values are passed to the
handler as keyword arguments. Checking (filters) has no side effects; handling does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import texts

if TYPE_CHECKING:
    from bot.context import HandlerContext
    from bot.messages import IncomingMessage

log = logging.getLogger(__name__)

Filter = Callable[["IncomingMessage", "HandlerContext"], "bool | dict[str, Any] | None"]
Handler = Callable[..., "str | None"]


@dataclass
class Route:
    handler: Handler
    filters: tuple[Filter, ...]
    name: str
    inline: bool = False  # no blocking I/O: may run on the server's event loop with in-process state

    def check(self, msg: IncomingMessage, ctx: HandlerContext) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        for flt in self.filters:
            result = flt(msg, ctx)
            if not result:
                return None
            if isinstance(result, dict):
                data.update(result)
        return data


@dataclass
class Router:
    """A named list of routes and sub-routers, tried in the order they were added."""

    name: str
    _entries: list[Route | Router] = field(default_factory=list)

    def route(self, *filters: Filter, name: str | None = None, inline: bool = False) -> Callable[[Handler], Handler]:
        """Register a handler; `inline=True` promises it does no blocking I/O (CPU and state store only)."""

        def register(handler: Handler) -> Handler:
            self._entries.append(Route(handler, filters, name or f"{self.name}.{handler.__name__}", inline))
            return handler

        return register

    def include(self, *routers: Router) -> Router:
        self._entries.extend(routers)
        return self

    def resolve(self, msg: IncomingMessage, ctx: HandlerContext) -> tuple[Route, dict[str, Any]] | None:
        for entry in self._entries:
            if isinstance(entry, Router):
                found = entry.resolve(msg, ctx)
                if found is not None:
                    return found
            else:
                data = entry.check(msg, ctx)
                if data is not None:
                    return entry, data
        return None


class Dispatcher:
    """Finds the route for a message and runs it; every handler error ends in one polite apology."""

    def __init__(self, root: Router) -> None:
        self.root = root

    def resolve(self, msg: IncomingMessage, ctx: HandlerContext) -> tuple[Route, dict[str, Any]] | None:
        return self.root.resolve(msg, ctx)

    def dispatch(self, msg: IncomingMessage, ctx: HandlerContext,
                 found: tuple[Route, dict[str, Any]] | None | object = None) -> str | None:
        """Run the message's route (`found` when already resolved); errors end in one apology."""
        try:
            if found is None:
                found = self.root.resolve(msg, ctx)
            if found is None:
                return None
            route, data = found  # type: ignore[misc]
            ctx.route = route.name
            return route.handler(msg, ctx, **data)
        except Exception:  # noqa: BLE001 - the one error path: log with context, apologise
            log.exception(
                "handler failed: route=%s user=%s type=%s key=%s",
                getattr(ctx, "route", None), msg.user, msg.type, msg.dedupe_key,
            )
            return texts.HANDLER_ERROR
