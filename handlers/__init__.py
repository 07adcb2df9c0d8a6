"""Handler modules; each exports a `router`. `build_root_router` fixes the order they are tried in."""

from __future__ import annotations

import importlib

from bot.dispatcher import Router

# Order matters: conversation follow-ups and commands first, the question fallback last.
ROUTER_MODULES = (
    "handlers.core",
    "handlers.reports",
    "handlers.questions",
)


def build_root_router() -> Router:
    from handlers import core

    root = Router("root")
    root.include(core.router)
    for name in ROUTER_MODULES[1:]:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue
        root.include(module.router)
    root.include(core.fallback)
    return root
