"""Run the app under uvicorn (httptools + uvloop).

One worker by default. Several workers need REDIS_URL: dedupe keys, per-user locks and rate
limits must be shared between processes, and in-process state is not. Each worker process
builds its own services from the same configuration (config.yaml / BOT_CONFIG + environment).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import uvicorn

from bot.web.app import create_app

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from bot.config import Settings
    from bot.context import Services

log = logging.getLogger(__name__)

# Hooks other packages (e.g. the reminder scheduler) add: called with the services once the
# process starts; may return a stop function called at shutdown.
StartHook = Callable[["Services"], "Callable[[], None] | None"]


def build_app(settings: Settings, hooks: Iterable[StartHook] = ()) -> Starlette:
    """Services + app for this process; services are closed (message log flushed) at shutdown."""
    from app.services import build_services

    services = build_services(settings)
    stops: list[Callable[[], None]] = []

    def start() -> None:
        for hook in hooks:
            stop = hook(services)
            if stop is not None:
                stops.append(stop)

    def stop_all() -> None:
        for stop in reversed(stops):
            stop()
        services.close()

    from console.routes import admin_routes

    return create_app(services, extra_routes=admin_routes(services), on_startup=[start], on_shutdown=[stop_all])


HOOKS_ENV = "BOT_SERVE_HOOKS"  # comma-separated "module:function" hooks, handed to worker processes


def _resolve(hook: str | StartHook) -> StartHook:
    if callable(hook):
        return hook
    module, _, name = hook.partition(":")
    return getattr(importlib.import_module(module), name)


def worker_app() -> Starlette:
    """uvicorn factory for multi-worker mode: each worker process loads the same settings and hooks."""
    from bot.config import load_settings
    from bot.logs import configure_logging

    names = [h for h in os.environ.get(HOOKS_ENV, "").split(",") if h]
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)  # a spawned worker starts unconfigured
    return build_app(settings, [_resolve(h) for h in names])


def serve(settings: Settings, host: str, port: int, workers: int = 1, *,
          hooks: Iterable[str | StartHook] = ()) -> int:
    """Serve until interrupted; returns the exit status (2 for a configuration that cannot work).

    `hooks` are "module:function" strings (or, with one worker, callables) run with the services
    at start-up. With several workers every worker runs them, so a hook that must run once (the
    reminder scheduler) needs its own cross-process lock.
    """
    hooks = list(hooks)
    if workers < 1:
        print("serve: --workers must be at least 1", file=sys.stderr)
        return 2
    if workers > 1 and not settings.redis_url:
        print("serve: --workers > 1 needs REDIS_URL (dedupe and locks must be shared)", file=sys.stderr)
        return 2
    common = {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,  # one log line per callback is noise at thousands per second
        "log_level": settings.log_level.lower(),
        "timeout_keep_alive": 15,
        "backlog": 2048,
        "server_header": False,
        "proxy_headers": False,  # X-Forwarded-For is judged by console.security against trusted_proxies
    }
    if workers == 1:
        uvicorn.run(build_app(settings, [_resolve(h) for h in hooks]), **common)
        return 0
    if any(callable(h) for h in hooks):
        print("serve: with --workers > 1, hooks must be 'module:function' strings", file=sys.stderr)
        return 2
    os.environ[HOOKS_ENV] = ",".join(hooks)  # type: ignore[arg-type]
    uvicorn.run("app.serve:worker_app", factory=True, workers=workers, **common)
    return 0
