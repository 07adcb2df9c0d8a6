"""Handler modules; each exports a `router`. `build_root_router` fixes the order they are tried in."""

from __future__ import annotations

from bot.dispatcher import Router


def build_root_router() -> Router:
    """Commands and conversation follow-ups first, reports and progress, then the question fallback."""
    from handlers import core, questions, reports

    return Router("root").include(core.router, reports.router, questions.router, core.fallback)
