"""The console's routes under /admin, bound to one process's services (see console.web for sign-in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from console import pages_knowledge, pages_progress, pages_reports, pages_roster, pages_session, pages_tasks
from console.web import HERE, Console

if TYPE_CHECKING:
    from bot.context import Services


def admin_routes(services: Services) -> list[BaseRoute]:
    """The /admin/… routes."""
    console = Console(services)
    inner: list[BaseRoute] = [Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static")]
    for module in (pages_session, pages_progress, pages_reports, pages_roster, pages_tasks, pages_knowledge):
        inner.extend(module.routes(console))

    async def root(request: Request) -> Response:
        return RedirectResponse("/admin/")

    return [Mount("/admin", routes=inner), Route("/admin", root)]
