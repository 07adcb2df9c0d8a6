"""The console's routes under /admin, bound to one process's services (sign-in: console.web;
throttle, lockout, CSRF and headers: console.security)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles

from console import pages_knowledge, pages_progress, pages_reports, pages_roster, pages_session, pages_tasks
from console.security import AdminSecurity
from console.web import HERE, Console

if TYPE_CHECKING:
    from bot.context import Services


def admin_routes(services: Services, security: AdminSecurity | None = None) -> list[BaseRoute]:
    """The /admin/… routes; every response (refusals and 404s included) carries the security headers."""
    console = Console(services, security)
    guard = console.security
    inner: list[BaseRoute] = [Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static")]
    for module in (pages_session, pages_progress, pages_reports, pages_roster, pages_tasks, pages_knowledge):
        inner.extend(module.routes(console))

    async def not_found(request: Request) -> Response:
        return PlainTextResponse("not found", status_code=404)

    async def root(request: Request) -> Response:
        return guard.apply_headers(RedirectResponse("/admin/"))

    inner.append(Route("/{rest:path}", not_found, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]))
    return [Mount("/admin", app=guard.headers(Router(routes=inner))), Route("/admin", root)]
