"""Handler modules; each exports a `router`. `build_root_router` fixes the order they are tried in."""

from __future__ import annotations

from bot.dispatcher import Router


def build_root_router() -> Router:
    """Card clicks and commands first, reports and progress, then the question fallback."""
    from handlers import cards, core, questions, reports

    return Router("root").include(cards.router, core.router, reports.router, questions.router, core.fallback)
